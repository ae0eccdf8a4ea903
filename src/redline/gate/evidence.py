"""Read a stored run as the gate needs it: outcome counts per scenario, aggregated in SQL
so that memory does not grow with the number of attempts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from redline.analysis.summary import Tally as Counts  # one tally: one failure-rate definition
from redline.store import RunInfo, Store

if TYPE_CHECKING:
    from redline.evidence.verify import Report

Verifier = Callable[[Store, str], "Report"]  # verify_run's shape: a run's evidence checked

EXAMPLES = 5  # attempt ids kept per scenario as evidence


@dataclass(frozen=True)
class ScenarioMeta:
    """A scenario as it was defined when the run was made."""

    id: str
    title: str
    category: str
    severity: str
    max_failure_rate: float
    remediation: str
    rollback: str
    detectors: tuple[str, ...] = ()

    @classmethod
    def from_definition(cls, sid: str, d: dict[str, Any]) -> ScenarioMeta:
        names = []
        for spec in d.get("detectors") or []:
            name = spec.get("name") if isinstance(spec, dict) else spec
            if isinstance(name, str):
                names.append(name)
        return cls(
            id=sid, title=str(d.get("title", sid)), category=str(d.get("category", "?")),
            severity=str(d.get("severity", "high")),
            max_failure_rate=float((d.get("success") or {}).get("max_failure_rate", 0.0)),
            remediation=str(d.get("remediation", "")), rollback=str(d.get("rollback", "")),
            detectors=tuple(names),
        )


@dataclass(frozen=True)
class Integrity:
    """What `verify` says about a run, as the gate weighs it."""

    problems: tuple[str, ...]  # a broken chain: never evidence
    signed: bool
    unsigned: tuple[str, ...]  # evidence records after the signed head

    @classmethod
    def of(cls, store: Store, run_id: str, verify: Verifier | None = None) -> Integrity:
        """From `verify` (default: redline.evidence.verify.verify_run, re-checking the run now)."""
        if verify is None:
            from redline.evidence.verify import verify_run as verify
        report = verify(store, run_id)
        return cls(tuple(str(p) for p in report.chain.problems), report.signed,
                   tuple(str(p) for p in report.unsigned))


@dataclass
class RunEvidence:
    run: RunInfo
    scenarios: dict[str, ScenarioMeta]
    counts: dict[str, Counts]  # only scenarios with at least one stored result
    failing_examples: dict[str, list[str]] = field(default_factory=dict)
    reviews: dict[str, dict[str, Any]] = field(default_factory=dict)  # attempt id -> label
    integrity: Integrity | None = None

    @property
    def total(self) -> Counts:
        total = Counts()
        for c in self.counts.values():
            total += c
        return total

    def categories(self) -> dict[str, Counts]:
        out: dict[str, Counts] = defaultdict(Counts)
        for sid, c in self.counts.items():
            out[self.scenarios[sid].category] += c
        return dict(sorted(out.items()))


def outcome_counts(store: Store, run_id: str) -> dict[str, tuple[str, str, Counts]]:
    """scenario id -> (category, severity, counts), one GROUP BY over the run."""
    out: dict[str, tuple[str, str, Counts]] = {}
    cur = store.outcome_groups(run_id)
    for sid, category, severity, outcome, n in cur:
        out.setdefault(sid, (category, severity, Counts()))[2].add(outcome, n)
    for sid, stored, label in _relabelled(store, run_id):
        out[sid][2].add(stored, -1)
        out[sid][2].add(label, 1)
    return out


def _relabelled(store: Store, run_id: str) -> list[tuple[str, str, str]]:
    """(scenario id, stored outcome, reviewed label) for each attempt a person relabelled:
    a reviewed label overrides the detectors in the gate. Labels are few: read per attempt."""
    out = []
    for attempt_id, record in store.labels(run_id).items():
        row = store.result_outcome(run_id, attempt_id)
        if row is not None and row[1] != record["label"]:
            out.append((row[0], row[1], record["label"]))
    return out


def reviewed_outcomes(store: Store, run_id: str) -> dict[str, str]:
    """attempt id -> reviewed label (pass or fail) of every reviewed attempt."""
    return {aid: rec["label"] for aid, rec in store.labels(run_id).items()}


def examples(store: Store, run_id: str, outcome: str = "fail",
             limit: int = EXAMPLES) -> dict[str, list[str]]:
    """The first few attempt ids per scenario with the given outcome, in plan order."""
    out: dict[str, list[str]] = defaultdict(list)
    labels = reviewed_outcomes(store, run_id)
    cur = store.attempts_with_outcome(run_id, outcome)
    for sid, aid in cur:
        if len(out[sid]) < limit and labels.get(aid, outcome) == outcome:
            out[sid].append(aid)
    for aid, label in labels.items():
        if label != outcome:
            continue
        row = store.result_outcome(run_id, aid)
        if row is not None and aid not in out[row[0]] and len(out[row[0]]) < limit:
            out[row[0]].append(aid)
    return dict(out)


def load_run(store: Store, ref: str, verify: Verifier | None = None) -> RunEvidence:
    """A stored run (id, prefix or `latest`) with its per-scenario outcome counts and what
    `verify` says of its chain (see Integrity.of)."""
    run = store.get_run(ref)
    metas = {sid: ScenarioMeta.from_definition(sid, d)
             for sid, d in store.scenario_definitions(run.id).items()}
    counts: dict[str, Counts] = {}
    for sid, (category, severity, c) in outcome_counts(store, run.id).items():
        counts[sid] = c
        if sid not in metas:  # results without a stored definition: keep what they say
            metas[sid] = ScenarioMeta(sid, sid, category, severity, 0.0, "", "")
    return RunEvidence(run, metas, dict(sorted(counts.items())), examples(store, run.id),
                       store.labels(run.id), Integrity.of(store, run.id, verify))


@dataclass
class Reach:
    inputs: int
    inputs_failing: int
    chains: int
    chains_failing: int

    @property
    def value(self) -> float:
        """Mean share of distinct inputs and of distinct mutator chains that failed at least
        once: how broad a weakness is along the two axes an attacker controls."""
        if not self.inputs or not self.chains:
            return 0.0
        return (self.inputs_failing / self.inputs + self.chains_failing / self.chains) / 2

    def to_dict(self) -> dict[str, Any]:
        return {"value": round(self.value, 4), "inputs": self.inputs,
                "inputs_failing": self.inputs_failing, "chains": self.chains,
                "chains_failing": self.chains_failing}


def reach(store: Store, run_id: str) -> dict[str, Reach]:
    """Per scenario of a run: distinct inputs and chains, and how many of each failed."""
    cur = store.reach_rows(run_id)
    return {sid: Reach(n_in, f_in, n_ch, f_ch) for sid, n_in, n_ch, f_in, f_ch in cur}


@dataclass
class PairCounts:
    """Outcomes of the attempts two runs share (same attempt id), as a transition table."""

    table: dict[tuple[str, str], int] = field(default_factory=dict)

    def get(self, base: str, cand: str) -> int:
        return self.table.get((base, cand), 0)

    @property
    def shared(self) -> int:
        return sum(self.table.values())

    def __iadd__(self, other: PairCounts) -> PairCounts:
        for key, n in other.table.items():
            self.table[key] = self.table.get(key, 0) + n
        return self


def paired_counts(store: Store, base_id: str, cand_id: str) -> dict[str, PairCounts]:
    """scenario id -> transitions over the attempts both runs made (joined on attempt id)."""
    out: dict[str, PairCounts] = defaultdict(PairCounts)
    cur = store.paired_groups(base_id, cand_id)
    for sid, b, c, n in cur:
        out[sid].table[(b, c)] = n
    base_labels, cand_labels = reviewed_outcomes(store, base_id), reviewed_outcomes(store,
                                                                                   cand_id)
    for aid in base_labels.keys() | cand_labels.keys():
        row = store.paired_outcome(base_id, cand_id, aid)
        if row is None:
            continue
        sid, b, c = row
        table = out[sid].table
        table[(b, c)] -= 1
        key = (base_labels.get(aid, b), cand_labels.get(aid, c))
        table[key] = table.get(key, 0) + 1
    return dict(out)


def transition_examples(store: Store, base_id: str, cand_id: str, base_outcome: str,
                        cand_outcome: str, limit: int = EXAMPLES) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    cur = store.transitions(base_id, cand_id, base_outcome, cand_outcome)
    for sid, aid in cur:
        if len(out[sid]) < limit:
            out[sid].append(aid)
    return dict(out)
