"""Triggers: drift or a recurrence -> re-run a suite, gate it, report it, then cool down.

A triggers file (YAML, `redline monitor --triggers FILE`):

    webhook: http://127.0.0.1:9000/hooks/redline   # optional: every action is POSTed here
    state: .redline/monitor-state.json              # when each trigger last fired
    triggers:
      - name: guardrails
        when: [drift, recurrence]   # drift (any column, or only `columns`), recurrence,
        columns: [refused, hit:pii] #   unsafe (a recurrence whose reply was flagged)
        min_recurrences: 1
        suite: jailbreak            # re-run this suite ...
        target: demo                # ... against this target, on this seed
        seed: 0
        policy: [org.yaml]          # gate policy files (default: the bundled one)
        cooldown_s: 3600            # a trigger that fired waits this long before it fires again

When a trigger fires, the suite runs (a normal stored scan), and the run is gated against the
last approved run of the same target and suite (the latest run whose recorded gate decision
approved it), or alone when there is none; the decision is recorded like `redline gate`'s.
Each action is in the monitor's JSON report and POSTed to the webhook with the project's HTTP
client. The cool-down is kept in the state file, so cron runs of `--once` share it: a signal
that flaps fires at most once per cool-down.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator

from redline.catalog.schema import Strict
from redline.core.errors import InputFileError, Problem
from redline.core.yamlfile import load_yaml, validate_node

Signal = Literal["drift", "recurrence", "unsafe"]


class TriggerRule(Strict):
    name: str = Field(min_length=1)
    when: list[Signal] = Field(default_factory=lambda: ["drift", "recurrence"], min_length=1)
    columns: list[str] = Field(default_factory=list)
    min_recurrences: int = Field(1, ge=1)
    suite: str = Field(min_length=1)
    target: str = Field(min_length=1)
    seed: int = 0
    policy: list[Path] = Field(default_factory=list)
    cooldown_s: float = Field(3600.0, ge=0)


class TriggerFile(Strict):
    webhook: str | None = None
    webhook_timeout_s: float = Field(10.0, gt=0)
    state: Path = Path(".redline") / "monitor-state.json"
    triggers: list[TriggerRule] = Field(min_length=1)

    @field_validator("webhook")
    @classmethod
    def _http(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith(("http://", "https://")):
            raise ValueError("webhook must be an http:// or https:// URL")
        return v


def load_triggers(path: Path) -> TriggerFile:
    data, node = load_yaml(path)
    spec = validate_node(TriggerFile, data, node, str(path))
    names = [t.name for t in spec.triggers]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise InputFileError([Problem(str(path), None, "triggers",
                                      f"trigger names repeat: {dupes}")])
    return spec


@dataclass
class Signals:
    """What the monitor saw since the triggers were last evaluated."""

    drifted: list[str] = field(default_factory=list)
    recurrences: int = 0
    unsafe: int = 0
    scenarios: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def reason(rule: TriggerRule, s: Signals) -> str | None:
    """Why `rule` fires on these signals, or None."""
    if "drift" in rule.when:
        cols = [c for c in s.drifted if not rule.columns or c in rule.columns]
        if cols:
            return f"drift in {', '.join(cols)}"
    if "recurrence" in rule.when and s.recurrences >= rule.min_recurrences:
        return f"{s.recurrences} recurrences ({', '.join(s.scenarios)})"
    if "unsafe" in rule.when and s.unsafe >= rule.min_recurrences:
        return f"{s.unsafe} recurrences with an unsafe reply"
    return None


def read_state(path: Path) -> dict[str, float]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise InputFileError([Problem(str(path), None, None,
                                      f"not a monitor state file: {exc}")]) from exc
    fired = data.get("fired", {}) if isinstance(data, dict) else {}
    return {str(k): float(v) for k, v in fired.items() if isinstance(v, int | float)}


def write_state(path: Path, fired: dict[str, float]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps({"fired": fired}, indent=1), encoding="utf-8")
    tmp.replace(path)


@dataclass
class Action:
    trigger: str
    reason: str
    status: str  # ran | cooling_down | failed
    signals: dict[str, Any]
    run: str | None = None
    baseline: str | None = None
    verdict: str | None = None
    gate_exit_code: int | None = None
    reasons: list[str] = field(default_factory=list)
    until: float | None = None
    error: str | None = None
    webhook: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @property
    def blocked(self) -> bool:
        return self.status == "failed" or (self.status == "ran" and self.gate_exit_code != 0)


Runner = Callable[[TriggerRule], dict[str, Any]]


def scan_and_gate(db: Path, out: Path) -> Runner:
    """The real action: a stored scan of the rule's suite and target, gated against the last
    approved run of that target and suite, the decision recorded."""

    def run(rule: TriggerRule) -> dict[str, Any]:
        from redline.core.config import load_config
        from redline.core.scan import scan
        from redline.gate.policy import load_policy
        from redline.gate.runner import evaluate
        from redline.store import Store

        config = load_config(None, {"target": rule.target, "suite": rule.suite,
                                    "seed": rule.seed, "db": str(db), "out": str(out)})
        rules = load_policy(rule.policy)
        result = scan(config)
        store = Store(db)
        try:
            baseline = store.last_approved_run(result.run.target, result.run.suite,
                                               exclude=result.run.id)
            decision = evaluate(store, result.run.id, baseline, rules).decision
            store.record_decision(result.run.id, decision.to_dict())
        finally:
            store.close()
        return {"run": result.run.id, "baseline": baseline, "verdict": decision.verdict,
                "gate_exit_code": decision.exit_code,
                "reasons": [str(getattr(r, "message", r)) for r in decision.reasons][:20]}

    return run


async def _post(url: str, body: dict[str, Any], timeout_s: float) -> str:
    from redline.plugins.targets.http_client import HttpClient, HTTPError

    client = HttpClient(timeout_s=timeout_s, max_connections=1)
    try:
        resp = await client.request("POST", url, json=body)
    except HTTPError as exc:
        return f"error: {exc}"
    except OSError as exc:
        return f"error: {type(exc).__name__}: {exc}"
    finally:
        await client.aclose()
    code = resp.status_code
    return f"{code}" if code < 400 else f"error: HTTP {code}"


def post_webhook(url: str, body: dict[str, Any], timeout_s: float) -> str:
    """POST the JSON body; the status code, or why it failed (never raises)."""
    return asyncio.run(_post(url, body, timeout_s))


@dataclass
class Triggers:
    spec: TriggerFile
    runner: Runner
    clock: Callable[[], float] = time.time
    actions: list[Action] = field(default_factory=list)

    def evaluate(self, signals: Signals) -> list[Action]:
        fired = read_state(self.spec.state)
        now = self.clock()
        new: list[Action] = []
        for rule in self.spec.triggers:
            why = reason(rule, signals)
            if why is None:
                continue
            last = fired.get(rule.name)
            if last is not None and now - last < rule.cooldown_s:
                new.append(Action(rule.name, why, "cooling_down", signals.to_dict(),
                                  until=last + rule.cooldown_s))
                continue
            fired[rule.name] = now
            write_state(self.spec.state, fired)  # before the run: a crash still cools down
            action = Action(rule.name, why, "ran", signals.to_dict())
            try:
                for k, v in self.runner(rule).items():
                    setattr(action, k, v)
            except Exception as exc:  # the re-run failed: that is the report, never a pass
                action.status, action.error = "failed", f"{type(exc).__name__}: {exc}"
            if self.spec.webhook:
                body = {"event": "redline.monitor.trigger", **action.to_dict()}
                action.webhook = post_webhook(self.spec.webhook, body,
                                              self.spec.webhook_timeout_s)
            new.append(action)
        self.actions.extend(new)
        return new

    def exit_code(self) -> int | None:
        """4 when a re-run did not pass its gate (or failed), 3 when a webhook failed."""
        ran = [a for a in self.actions if a.status != "cooling_down"]
        if any(a.blocked for a in ran):
            return 4
        if any((a.webhook or "").startswith("error") for a in ran):
            return 3
        return None


@dataclass
class SignalMark:
    """Where the signals stood when the triggers last looked, so each look sees what is new."""

    recurrences: int = 0
    unsafe: int = 0
    scenarios: dict[str, int] = field(default_factory=dict)

    def since(self, drifted: list[str], hits: Any) -> Signals:
        new = {s: n - self.scenarios.get(s, 0) for s, n in hits.by_scenario.items()}
        signals = Signals(sorted(set(drifted)), hits.count - self.recurrences,
                          hits.unsafe - self.unsafe, sorted(s for s, n in new.items() if n > 0))
        self.recurrences, self.unsafe = hits.count, hits.unsafe
        self.scenarios = dict(hits.by_scenario)
        return signals
