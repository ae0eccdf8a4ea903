"""Binds attack strategies to a run: one driver per attack scenario, made by the scan.

A driver is the engine's strategy for its scenario's attempts: it makes each attempt's
`AttackSession`, runs the scenario's attack strategy over it, and, once the engine has
judged the attempt, hands back the `attack` verdict (`report`), with an error when the
attacker broke. The attacker is the run's (`attacker:` config; default the local model),
or on a replay the recorded calls.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from redline.attack.attacker import Attacker, recorded_calls
from redline.attack.schema import AttackScenario
from redline.attack.session import AttackerBroken, AttackSession, JudgeReply
from redline.core import registry
from redline.core.halting import Prices
from redline.core.models import Attempt, Verdict
from redline.core.strategies import Conversation, StrategyReport


@dataclass
class AttackDriver:
    fn: Callable[..., Conversation]
    name: str
    params: Mapping[str, Any]
    scenario: AttackScenario
    attacker: Attacker | None
    judge_reply: JudgeReply
    prices: Prices = field(default_factory=Prices)
    sessions: dict[str, tuple[AttackSession, list[str]]] = field(default_factory=dict)

    def __call__(self, attempt: Attempt) -> Conversation:
        session = AttackSession(attempt, self.scenario, self.attacker, self.judge_reply,
                                prices=self.prices)
        problems: list[str] = []
        self.sessions[attempt.id] = (session, problems)
        return self._drive(session, problems)

    async def _drive(self, session: AttackSession, problems: list[str]) -> Conversation:
        attack = self.fn(session, **self.params)
        try:
            request = await anext(attack)
            while session.queries < session.budget.max_queries:
                reply = yield request
                request = await attack.asend(reply)
            session.stopped = "budget: queries"
        except StopAsyncIteration:
            pass
        except AttackerBroken as exc:
            session.stopped = "attacker broken"
            problems.append(f"attacker broken: {exc}")
        finally:
            await attack.aclose()
        if getattr(self.fn, "free_turns", False):
            session.require_objective()
        if session.queries == 0 and session.broken and not problems:
            problems.append(f"attacker broken: none of {len(session.calls)} attacker calls gave "
                            f"a usable prompt; last: {session.broken[-1]['reason']}")

    def report(self, attempt_id: str) -> StrategyReport | None:
        found = self.sessions.pop(attempt_id, None)
        if found is None:
            return None
        session, problems = found
        error = problems[0] if problems else None
        return StrategyReport(session.verdict(self.name, error), error)


def needs_attacker(scenarios: Sequence[Any]) -> bool:
    return any(isinstance(s, AttackScenario) and s.attacker is not None for s in scenarios)


def drivers(scenarios: Sequence[Any], attacker: Attacker | None, judge_reply: JudgeReply,
            prices: Prices | None = None) -> dict[str, AttackDriver]:
    """One driver per attack scenario, by scenario id."""
    out = {}
    for s in scenarios:
        if isinstance(s, AttackScenario) and s.strategy is not None:
            fn = registry.get("strategy", s.strategy.name).obj
            out[s.id] = AttackDriver(fn, s.strategy.name, dict(s.strategy.params), s,
                                     attacker, judge_reply, prices or Prices())
    return out


def recorded_attacker(verdict_lists: Any, run_seed: int) -> Attacker:
    """The attacker of a replay: the recorded calls, nothing reachable."""
    return Attacker(recorded_calls(verdict_lists), run_seed,
                    describe={"kind": "recorded"})


# the offline default: the bundled model, sampling (seeded from the run seed and the prompt)
DEFAULT_ATTACKER = {"kind": "local", "temperature": 0.8, "max_tokens": 160}


def live_attacker(config: Any, scenarios: Sequence[Any], run_seed: int) -> Attacker | None:
    """The run's attacker (a target config; None: the bundled local model), built only when
    some scenario needs one."""
    if not needs_attacker(scenarios):
        return None
    from pydantic import TypeAdapter

    from redline.plugins.targets.spec import TargetConfig, build_target

    if config is None:
        config = TypeAdapter(TargetConfig).validate_python(DEFAULT_ATTACKER)
    client = build_target(config, seed=run_seed)
    return Attacker(client, run_seed, seeded=getattr(config, "kind", None) == "openai",
                    describe=client.describe())


__all__ = ["AttackDriver", "Verdict", "drivers", "live_attacker", "needs_attacker",
           "recorded_attacker"]
