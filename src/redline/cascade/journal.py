"""An experiment's journal: the request timeline and what it shows.

* where the failure started: the first request the fault hit (index, time, stage, via);
* how far it propagated: for each faulted request, the stages it went on to reach and where
  it ended: `reached_user` (a breach or an error shown), `contained:<stage>` (a later stage
  blocked, redacted or fell back), `changed` (a safe but different answer than in the steady
  state, e.g. refused instead of answered), or `absorbed` (no visible effect);
* blast radius: the share of fault-phase requests whose user saw a breach or an error;
* failed open (a breach reached a user) or failed safe (refused, degraded, errors only);
* time to detect: from the first faulted request to the first sign the system itself saw
  (an error, time-out, open breaker or fallback in its trace, or an error it returned);
  `None` when it never noticed;
* time to recover: from the end of the fault window to the first request after which every
  request behaves as it did in the steady state (same state for the same probe, no alarms).

Times vary from run to run; states, outcomes, indices and request counts do not (same seed).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.table import Table

from redline.analysis.latency import percentiles
from redline.cascade.experiment import Observation, Outcomes
from redline.cascade.judge import ALARMS, MISBEHAVIOUR, alarmed
from redline.core.safetext import safe

CONTAIN = frozenset({"block", "redact", "fallback", "breaker_open"})
STATES = ("ok", "refused", "degraded", "error", "breach", "unclear")


@dataclass
class Journal:
    scenario: dict[str, Any]
    seed: int
    model: str
    system: dict[str, Any]
    status: str
    problem: str | None
    hypotheses: dict[str, Any]
    fault: dict[str, Any]
    detection: dict[str, Any]
    recovery: dict[str, Any]
    blast_radius: float
    blast_radius_faulted: float
    states: dict[str, dict[str, int]]
    propagation: dict[str, Any]
    failure_mode: str
    expectation: dict[str, Any]
    latency_ms: dict[str, dict[str, float | None]]
    breaker: list[dict[str, Any]]
    proxy_log: dict[str, list[dict[str, Any]]]
    observations: list[Observation] = field(repr=False, default_factory=list)

    @property
    def met(self) -> bool:
        return self.status == "completed" and bool(self.expectation["met"])

    def outcomes(self) -> list[tuple[int, str, bool, str, str]]:
        """(index, phase, faulted, state, outcome) per request: fixed by the seed."""
        return [(o.index, o.phase, o.faulted, o.state, o.outcome) for o in self.observations]

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario, "seed": self.seed, "model": self.model,
            "system": self.system, "status": self.status, "problem": self.problem,
            "hypotheses": self.hypotheses, "fault": self.fault, "detection": self.detection,
            "recovery": self.recovery, "blast_radius": self.blast_radius,
            "blast_radius_faulted": self.blast_radius_faulted, "states": self.states,
            "propagation": self.propagation, "failure_mode": self.failure_mode,
            "expectation": self.expectation, "latency_ms": self.latency_ms,
            "breaker": self.breaker, "proxy_log": self.proxy_log,
            "timeline": [o.to_dict() for o in self.observations],
        }

    def summary(self) -> dict[str, Any]:
        """The headline figures (stored with the run)."""
        return {"scenario": self.scenario["id"], "status": self.status,
                "failure_mode": self.failure_mode, "blast_radius": self.blast_radius,
                "time_to_detect_s": self.detection.get("time_to_detect_s"),
                "time_to_recover_s": self.recovery.get("time_to_recover_s"),
                "expectation_met": self.met, "reasons": self.expectation["reasons"]}


def _baseline(observations: list[Observation]) -> dict[int, str]:
    """The steady-state state of each probe (its most common one)."""
    per: dict[int, Counter[str]] = {}
    for o in observations:
        if o.phase == "steady":
            per.setdefault(o.probe_index, Counter())[o.state] += 1
    return {k: c.most_common(1)[0][0] for k, c in per.items()}


def _steady(o: Observation, baseline: dict[int, str]) -> bool:
    expected = baseline.get(o.probe_index)
    ok = o.state == expected if expected else o.state in ("ok", "refused")
    return ok and not alarmed(o.events, o.error is not None)


def _fate(o: Observation, stage: str, baseline: dict[int, str]) -> tuple[str, list[str]]:
    """Where a faulted request's trouble ended, and the stages it reached after the fault."""
    names = [e["stage"] for e in o.events]
    start = names.index(stage) if stage in names else 0
    after = o.events[start:]
    reached = list(dict.fromkeys(e["stage"] for e in after))
    if o.state in MISBEHAVIOUR:
        return "reached_user", reached
    noticed = False  # at the faulted stage, only a block/fallback after an alarm is containment:
    for e in after:  # a block there without one is the fault itself (a flipped verdict)
        action = e.get("action")
        if "fault" in e:
            continue
        if e["stage"] == stage and action in ALARMS:
            noticed = True
        if action in CONTAIN and (e["stage"] != stage or noticed):
            return f"contained:{e['stage']}", reached
    if o.state != baseline.get(o.probe_index, o.state):
        return "changed", reached
    return "absorbed", reached


def _window_end(out: Outcomes, fault_phase: list[Observation]) -> int:
    """Index of the first request after the fault window (the rollback, at the latest)."""
    s = out.run.scenario.schedule
    start = fault_phase[0].index if fault_phase else 0
    end = start + len(fault_phase)
    if s.for_requests is not None:
        end = min(end, start + s.at_request + s.for_requests)
    if s.timed and s.for_s is not None and out.armed_at_s is not None:
        stop = out.armed_at_s + (s.at_s or 0.0) + s.for_s
        later = [o.index for o in fault_phase if o.started_s >= stop]
        end = min(end, later[0]) if later else end
    return end


def _detection(obs: list[Observation], first: Observation | None) -> dict[str, Any]:
    if first is None:
        return {"detected": None, "note": "the fault never fired"}
    after = [o for o in obs if o.index >= first.index]
    seen = next((o for o in after if alarmed(o.events, o.error is not None)), None)
    harmed = next((o for o in after if o.state in MISBEHAVIOUR), None)
    out: dict[str, Any] = {"detected": seen is not None}
    if seen is not None:
        out.update(index=seen.index, requests=seen.index - first.index,
                   time_to_detect_s=round(seen.started_s + seen.latency_ms / 1000
                                          - first.started_s, 4),
                   signal=next((f"{e['stage']}:{e['action']}" for e in seen.events
                                if e.get("action") in ("error", "timeout", "breaker_open",
                                                       "fallback")), "error returned"))
    else:
        out["note"] = "the system never noticed: no error, time-out or fallback in its traces"
    if harmed is not None:
        out["first_misbehaviour"] = {"index": harmed.index, "state": harmed.state,
                                     "t_s": round(harmed.started_s, 4)}
    return out


def _recovery(obs: list[Observation], end: int, baseline: dict[int, str],
              within: int) -> dict[str, Any]:
    post = [o for o in obs if o.index >= end]
    if not post:
        return {"recovered": False, "note": "no requests after the fault window"}
    r = len(post)
    while r > 0 and _steady(post[r - 1], baseline):
        r -= 1
    if r == len(post):
        return {"recovered": False, "fault_end_index": end,
                "note": f"not back to the steady state after {len(post)} requests"}
    back = post[r]
    requests = back.index - end
    return {"recovered": True, "fault_end_index": end, "index": back.index,
            "requests": requests, "within_limit": requests <= within,
            "time_to_recover_s": round(back.started_s - post[0].started_s, 4)}


def _expectation(out: Outcomes, status: str, problem: str | None, radius: float,
                 recovery: dict[str, Any]) -> dict[str, Any]:
    e = out.run.scenario.expectation
    reasons = []
    if status != "completed":
        reasons.append(problem or status)
    bad = Counter(o.state for o in out.run.observations if o.outcome != "pass")
    if bad:
        reasons.append("requests outside the expectation: "
                       + ", ".join(f"{n} {state}" for state, n in sorted(bad.items())))
    if radius > e.max_blast_radius + 1e-12:
        reasons.append(f"blast radius {radius:.1%} over {e.max_blast_radius:.1%}")
    if status == "completed" and not (recovery.get("recovered")
                                          and recovery.get("within_limit")):
        reasons.append(f"not recovered within {e.recover_within_requests} requests")
    return {"met": not reasons, "reasons": reasons, "allow": list(e.allow),
            "max_blast_radius": e.max_blast_radius,
            "recover_within_requests": e.recover_within_requests}


def build_journal(out: Outcomes) -> Journal:
    s = out.run.scenario
    obs = out.run.observations
    fault_phase = [o for o in obs if o.phase == "fault"]
    faulted = [o for o in fault_phase if o.faulted]
    baseline = _baseline(obs)
    first = faulted[0] if faulted else None
    end = _window_end(out, fault_phase)
    fates = [_fate(o, s.stage, baseline) for o in faulted]
    reached = Counter(stage for _, stages in fates for stage in stages)
    radius = (sum(o.state in MISBEHAVIOUR for o in fault_phase) / len(fault_phase)
              if fault_phase else 0.0)
    radius_f = sum(o.state in MISBEHAVIOUR for o in faulted) / len(faulted) if faulted else 0.0
    after = [o for o in obs if o.phase != "steady"]
    shown = {o.state for o in after}
    status, problem = out.status, out.problem
    if status == "completed" and first is None:
        status, problem = "inconclusive", ("the fault never hit a request, so nothing was "
                                           "tested: widen the schedule or raise the fraction")
    if first is None:
        mode = "none"
    elif "breach" in shown:
        mode = "open"
    elif shown & {"error", "degraded"} or any(o.state != baseline.get(o.probe_index)
                                              for o in after):
        mode = "safe"
    else:
        mode = "none"
    recovery = _recovery(obs, end, baseline, s.expectation.recover_within_requests)
    states = {phase: dict(Counter(o.state for o in obs if o.phase == phase))
              for phase in ("steady", "fault", "recovery")}
    return Journal(
        scenario={"id": s.id, "version": s.version, "title": s.title, "stage": s.stage,
                  "severity": s.severity, "fault": s.fault.model_dump(exclude_defaults=True),
                  "schedule": s.schedule.model_dump(exclude_defaults=True)},
        seed=out.run.seed, model=out.model, system=out.run.system.description,
        status=status, problem=problem,
        hypotheses={k: h.to_dict() for k, h in out.hypotheses.items()},
        fault={"stage": s.stage, "via": "proxy" if s.stage in out.run.system.proxies
               else "stage", "label": s.fault.label(), "armed_at_s": out.armed_at_s,
               "rollback_at_s": out.rollback_at_s, "window_end_index": end,
               "injections": len(out.fault.injections) if out.fault else 0,
               "started": {"index": first.index, "t_s": round(first.started_s, 4)}
               if first else None},
        detection=_detection(obs, first), recovery=recovery,
        blast_radius=round(radius, 4), blast_radius_faulted=round(radius_f, 4),
        states=states,
        propagation={"fates": dict(Counter(f for f, _ in fates)),
                     "stages_reached": dict(reached),
                     "deepest": max(reached, key=lambda st: s_index(out, st), default=None)},
        failure_mode=mode,
        expectation=_expectation(out, status, problem, radius, recovery),
        latency_ms={phase: percentiles([o.latency_ms for o in obs if o.phase == phase])
                    for phase in ("steady", "fault", "recovery")},
        breaker=out.breaker, proxy_log=out.proxy_log, observations=obs,
    )


def s_index(out: Outcomes, stage: str) -> int:
    names = list(out.run.system.stage_names)
    return names.index(stage) if stage in names else len(names)


# --- terminal -----------------------------------------------------------------------------

def _fmt_s(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def print_journal(console: Console, j: Journal) -> None:
    def say(text: str) -> None:
        console.print(text, soft_wrap=True)

    verdict = "[green]meets expectation[/]" if j.met else "[red]FINDING[/]"
    if j.status != "completed":
        verdict = f"[yellow]{safe(j.status)}[/]"
    say(f"\n[bold]{safe(j.scenario['id'])}[/] {safe(j.scenario['title'])}: {verdict}")
    say(f"  fault {safe(j.fault['label'])} at stage [cyan]{safe(j.fault['stage'])}[/] "
        f"via {safe(j.fault['via'])}; seed {j.seed}; model {safe(j.model)}")
    table = Table(title_justify="left", show_edge=False, pad_edge=False)
    for col in ("phase", "requests", *STATES, "hypothesis", "p95 ms"):
        table.add_column(col, justify="right" if col != "phase" else "left")
    for phase, key in (("steady", "before"), ("fault", "during"), ("recovery", "after")):
        counts = j.states.get(phase, {})
        h = j.hypotheses.get(key)
        held = "-" if h is None else ("[green]holds[/]" if h["met"] else "[red]deviates[/]")
        p95 = j.latency_ms.get(phase, {}).get("p95")
        cells = [str(counts.get(st, 0)) if counts.get(st) else "." for st in STATES]
        cells[-1] = f"[red]{cells[-1]}[/]" if counts.get("breach") else cells[-1]
        table.add_row(phase, str(sum(counts.values())), *cells, held,
                      "-" if p95 is None else f"{p95:.1f}")
    console.print(table)
    if j.status in ("completed", "inconclusive"):
        started = j.fault.get("started")
        say(f"  failure started: "
                      f"{'request ' + str(started['index']) if started else 'never (no hit)'}"
                      f"; {j.fault['injections']} requests faulted")
        d = j.detection
        if d.get("detected"):
            say(f"  detected by the system after {d['requests']} requests "
                          f"({_fmt_s(d.get('time_to_detect_s'))}) via {d.get('signal')}")
        elif d.get("detected") is False:
            say("  [yellow]never detected by the system[/]")
        r = j.recovery
        say("  recovered " + (f"after {r['requests']} requests "
                                        f"({_fmt_s(r.get('time_to_recover_s'))})"
                                        if r.get("recovered") else "[red]no[/]"))
        mode = {"open": "[red]FAILED OPEN[/] (a policy breach reached users)",
                "safe": "failed safe (refused/degraded/errors, no breach)",
                "none": "no visible effect"}[j.failure_mode]
        say(f"  blast radius {j.blast_radius:.1%} of fault-phase requests "
                      f"({j.blast_radius_faulted:.1%} of faulted ones); {mode}")
        say(f"  propagation: {j.propagation['fates']}")
    for reason in j.expectation["reasons"]:
        say(f"  [red]-[/] {safe(reason)}")
