"""What each page shows, read through the store's methods: plain dicts for the templates."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from redline.core.errors import UsageError
from redline.store import RunInfo, Store
from redline.store.queries import ResultFilter
from redline.view.cache import StoreCache

OUTCOMES = ("pass", "fail", "error", "unclear")
SEVERITIES = ("critical", "high", "medium", "low", "info")
PAGE_SIZE = 50
RUNS_PAGE_SIZE = 50
MAX_QUERY_CHARS = 200


@dataclass
class Tally:
    """Outcome counts of one scenario or category."""

    attempts: int = 0
    passes: int = 0
    failures: int = 0
    errors: int = 0
    unclear: int = 0

    def add(self, outcome: str, n: int) -> None:
        self.attempts += n
        field = {"pass": "passes", "fail": "failures", "error": "errors"}.get(outcome,
                                                                              "unclear")
        setattr(self, field, getattr(self, field) + n)

    @property
    def failure_rate(self) -> float:
        judged = self.passes + self.failures
        return self.failures / judged if judged else 0.0


def pretty(value: Any) -> str:
    """JSON for people to read; the template escapes it like any other text."""
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def _int(params: Mapping[str, str], name: str) -> int | None:
    value = params.get(name)
    if value in (None, ""):
        return None
    try:
        return int(value)
    except ValueError:
        raise UsageError(f"query parameter {name!r} must be a whole number, not "
                         f"{value[:40]!r}") from None


def _choice(params: Mapping[str, str], name: str, allowed: tuple[str, ...]) -> str | None:
    value = params.get(name) or None
    if value is not None and value not in allowed:
        raise UsageError(f"query parameter {name!r} must be one of {', '.join(allowed)}")
    return value


def text_param(params: Mapping[str, str], name: str) -> str | None:
    value = (params.get(name) or "").strip()
    return value[:MAX_QUERY_CHARS] or None


def run_row(run: RunInfo) -> dict[str, Any]:
    total = (run.summary or {}).get("total", {})
    return {"id": run.id, "created_at": run.created_at, "status": run.status,
            "target": run.target, "suite": run.suite, "seed": run.seed, "planned": run.planned,
            "attempts": total.get("attempts"), "failures": total.get("failures"),
            "errors": total.get("errors"), "unclear": total.get("unclear"),
            "exit_code": (run.summary or {}).get("exit_code")}


def runs_page(store: Store, params: Mapping[str, str]) -> dict[str, Any]:
    offset = max(0, _int(params, "offset") or 0)
    text = text_param(params, "q")
    status = text_param(params, "status")
    ids, total = store.run_ids_page(offset, RUNS_PAGE_SIZE, text, status)
    return {"runs": [run_row(store.get_run(i)) for i in ids], "total": total,
            "offset": offset, "size": RUNS_PAGE_SIZE, "q": text or "", "status": status or "",
            "next": offset + RUNS_PAGE_SIZE if offset + RUNS_PAGE_SIZE < total else None,
            "prev": max(0, offset - RUNS_PAGE_SIZE) if offset else None}


Groups = list[tuple[str, str, str, str, int]]


def tallies(groups: Groups) -> tuple[dict[str, Tally], dict[str, dict[str, Any]]]:
    """Per category and per scenario (with its category and severity)."""
    categories: dict[str, Tally] = defaultdict(Tally)
    scenarios: dict[str, dict[str, Any]] = {}
    for sid, category, severity, outcome, n in groups:
        categories[category].add(outcome, n)
        entry = scenarios.setdefault(sid, {"category": category, "severity": severity,
                                           "tally": Tally()})
        entry["tally"].add(outcome, n)
    return dict(sorted(categories.items())), dict(sorted(scenarios.items()))


def result_filter(params: Mapping[str, str]) -> ResultFilter:
    return ResultFilter(outcome=_choice(params, "outcome", OUTCOMES),
                        category=text_param(params, "category"),
                        scenario=text_param(params, "scenario"),
                        severity=_choice(params, "severity", SEVERITIES),
                        text=text_param(params, "q"))


def matched(groups: Groups, found: ResultFilter) -> int:
    """How many results the filter matches, from the outcome groups (no text search)."""
    return sum(n for sid, category, severity, outcome, n in groups
               if found.outcome in (None, outcome) and found.category in (None, category)
               and found.scenario in (None, sid) and found.severity in (None, severity))


def run_page(store: Store, cache: StoreCache, ref: str,
             params: Mapping[str, str]) -> dict[str, Any]:
    run = store.get_run(ref)
    found = result_filter(params)
    groups = cache.get(("groups", run.id), lambda: list(store.outcome_groups(run.id)))
    labels = cache.get(("labels", run.id), lambda: store.labels(run.id))
    if found.text:
        count = cache.get(("count", run.id, found),
                          lambda: store.result_count(run.id, found))
    else:
        count = matched(groups, found)
    after, before = _int(params, "after"), _int(params, "before")
    rows = cache.get(("page", run.id, found, after, before), lambda: store.result_page(
        run.id, found, after=after, before=before, limit=PAGE_SIZE + 1))
    more = len(rows) > PAGE_SIZE  # one row past the page says whether another page follows
    rows = rows[1:] if before is not None and more else rows[:PAGE_SIZE]
    rows = [{**row, "label": labels.get(row["attempt_id"])} for row in rows]
    categories, scenarios = tallies(groups)
    first, last = (rows[0]["seq"], rows[-1]["seq"]) if rows else (None, None)
    paging_on = after is not None or before is not None
    return {
        "run": run_row(run), "manifest": pretty(run.manifest), "config": pretty(run.config),
        "categories": categories, "scenarios": scenarios, "rows": rows,
        "matched": count, "filter": found,
        "next": last if rows and (more or before is not None) else None,
        "prev": first if rows and paging_on and (more or after is not None) else None,
        "outcomes": OUTCOMES, "severities": SEVERITIES, "reviewed": len(labels),
        "other_runs": [r.id for r in store.runs(50) if r.id != run.id],
    }


def _decoded(record: dict[str, Any]) -> dict[str, Any]:
    for key in ("chain", "attempt", "transcript", "responses", "verdicts"):
        record[key] = json.loads(record[key])
    return record


def attempt_page(store: Store, cache: StoreCache, ref: str,
                 attempt_id: str) -> dict[str, Any] | None:
    run = store.get_run(ref)
    record = store.result_record(run.id, attempt_id)
    if record is None:
        return None
    rec = _decoded(record)
    for v in rec["verdicts"]:
        v["evidence_json"] = pretty(v.get("evidence"))
    for r in rec["responses"]:
        if "payload" in r:
            r["payload_json"] = pretty(r["payload"])
    rec["attempt_json"] = pretty(rec["attempt"])
    labels = cache.get(("labels", run.id), lambda: store.labels(run.id))
    return {"run": run_row(run), "r": rec, "label": labels.get(attempt_id)}
