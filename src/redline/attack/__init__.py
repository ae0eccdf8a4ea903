"""Adaptive attacks: an attacker model reads each target reply and tries again.

A scenario of kind `attack` (`redline.attack.schema`) names an objective per input, an
attack strategy (`pair`, `best_of_n`, ...: `strategy` plugins in `redline.attack.strategies`),
the attacker's system prompt (a versioned catalog file under `catalog/attackers/`) and a
budget. The run's attacker (`attacker:` in the config, `--attacker SPEC`; default: the
bundled local model) is any target kind. Every attacker call, every target turn and every
judge call is recorded in the attempt's `attack` verdict, so `redline replay RUN` rebuilds
the whole tree with neither the target nor the attacker reachable (`RecordedCalls`).
"""
