"""Expand scenarios into attempts, deterministically from the run seed.

An attempt's id is a digest of the scenario id and version, the mutator chain, the
input and the run seed; its random draws come from a generator seeded by that digest.
So the same config always yields the same attempts, in any order of execution.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

from redline.catalog.schema import Conversation, MutatorSpec, Scenario
from redline.core.models import Attempt, Message
from redline.plugins.generators import generate
from redline.plugins.mutators import apply_chain, describe

T = TypeVar("T")

DOCUMENT_FRAME = (
    "Use the following retrieved context to answer.\n"
    "<context>\n{documents}\n</context>\n\n{question}"
)


def digest(*parts: object) -> str:
    blob = json.dumps(parts, ensure_ascii=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode("ascii")).hexdigest()


def seeded_rng(*parts: object) -> random.Random:
    return random.Random(int(digest(*parts)[:16], 16))


def scenario_inputs(scenario: Scenario, run_seed: int) -> list[str | Conversation]:
    if scenario.generator is None:
        return list(scenario.inputs)
    rng = seeded_rng("generator", scenario.key, run_seed)
    made = generate(scenario.generator.name, scenario.generator.params, rng)
    # an input made twice would give two attempts one id: keep the first
    return list(dict.fromkeys(made))


def _frame(text: str, documents: list[str]) -> str:
    if not documents:
        return text
    docs = "\n---\n".join(documents)
    return DOCUMENT_FRAME.format(documents=docs, question=text)


def _chain(chain: list[MutatorSpec]) -> list[tuple[str, dict]]:
    return [(m.name, dict(m.params)) for m in chain]


def _labels(chain: list[MutatorSpec]) -> tuple[str, ...]:
    return tuple(describe(m.name, m.params) for m in chain) or ("identity",)


def attempt_id(scenario: Scenario, item: str | Conversation, labels: tuple[str, ...],
               run_seed: int) -> str:
    """What names an attempt: its scenario and version, the input, the mutator chain (as
    labelled), the run's seed and a strategy the file names; never the mutated text."""
    raw = item if isinstance(item, str) else item.model_dump(mode="json")
    # a strategy the file names is part of what the attempt is (none named: ids as before)
    chosen = () if scenario.strategy is None else (
        ("strategy", scenario.strategy.name, scenario.strategy.params),)
    return digest(scenario.id, scenario.version, labels, raw, run_seed, *chosen)[:24]


def build_attempt(scenario: Scenario, item: str | Conversation, input_index: int,
                  chain: list[MutatorSpec], run_seed: int, seq: int) -> Attempt:
    labels = _labels(chain)
    attempt_id_ = attempt_id(scenario, item, labels, run_seed)
    rng = seeded_rng("attempt", attempt_id_)
    steps = _chain(chain)
    messages: list[Message] = []
    if scenario.system:
        messages.append(Message("system", scenario.system))
    if isinstance(item, str):
        original = item
        messages.append(Message("user", _frame(apply_chain(item, steps, rng), scenario.documents)))
        followups: tuple[str, ...] = ()
    else:
        original = item.messages[-1].content
        *head, last = item.messages
        messages.extend(Message(m.role, m.content) for m in head)
        mutated = apply_chain(last.content, steps, rng)
        messages.append(Message("user", _frame(mutated, scenario.documents)))
        followups = tuple(item.followups)
    return Attempt(
        id=attempt_id_,
        seq=seq,
        scenario_id=scenario.id,
        scenario_version=scenario.version,
        category=scenario.category,
        severity=scenario.severity,
        input_index=input_index,
        chain=labels,
        messages=tuple(messages),
        followups=followups,
        canaries=tuple(scenario.canaries),
        original=original,
    )


def _walk(scenarios: Iterable[Scenario], run_seed: int,
          make: Callable[[Scenario, str | Conversation, int, list[MutatorSpec], int], T],
          own_item: Callable[[Attempt], T]) -> Iterator[T]:
    """The suite's attempts in their stable order: every input of a scenario under each of its
    mutator chains (`make(scenario, item, input_index, chain, seq)`), or the attempts a kind
    plans itself (`own_item(attempt)`)."""
    seq = 0
    for scenario in scenarios:
        own = getattr(scenario, "make_attempts", None)  # a kind that plans its own attempts
        if own is not None:
            for attempt in own(run_seed, seq):
                yield own_item(attempt)
                seq += 1
            continue
        for i, item in enumerate(scenario_inputs(scenario, run_seed)):
            for chain in scenario.mutators:
                yield make(scenario, item, i, chain, seq)
                seq += 1


def expand(scenarios: Iterable[Scenario], run_seed: int) -> Iterator[Attempt]:
    """Yield every attempt of a suite lazily, in a stable order."""
    return _walk(scenarios, run_seed,
                 lambda s, item, i, chain, seq: build_attempt(s, item, i, chain, run_seed, seq),
                 lambda attempt: attempt)


def plan_ids(scenarios: Iterable[Scenario], run_seed: int) -> Iterator[str]:
    """The ids `expand` yields, in its order, without mutating or framing any input (what a
    run's stored plan needs); kinds that plan their own attempts are expanded."""
    return _walk(scenarios, run_seed,
                 lambda s, item, _i, chain, _seq: attempt_id(s, item, _labels(chain), run_seed),
                 lambda attempt: attempt.id)


def count_attempts(scenarios: Iterable[Scenario], run_seed: int) -> int:
    return sum(s.attempt_count(run_seed) if hasattr(s, "attempt_count")
               else len(scenario_inputs(s, run_seed)) * len(s.mutators) for s in scenarios)
