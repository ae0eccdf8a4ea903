"""The read queries behind the gate, the risk register and the reports: every SQL statement
they need lives here, on the store, so another backend implements these methods and the
gate and the reports stay as they are."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from redline.store.access import SqlAccess


class Queries(SqlAccess):
    """Aggregations and lookups over stored results; mixed into `Store`."""

    def _json_field(self, column: str, field: str) -> str:
        """SQL for one top-level field of a JSON text column (a dialect hook)."""
        raise NotImplementedError

    def outcome_groups(self, run_id: str) -> Iterator[tuple[str, str, str, str, int]]:
        """(scenario, category, severity, outcome, count), one GROUP BY over the run."""
        yield from self._rows(
            "SELECT scenario_id, category, severity, outcome, count(*) FROM results"
            " WHERE run_id = ? GROUP BY scenario_id, category, severity, outcome", (run_id,))

    def scenario_verdicts(self, run_id: str, scenario_id: str) -> Iterator[tuple[str, str]]:
        """(stored outcome, verdicts JSON) of each attempt of one scenario, in plan order."""
        yield from self._stream(
            "SELECT outcome, verdicts FROM results WHERE run_id = ? AND scenario_id = ?"
            " ORDER BY seq", (run_id, scenario_id))

    def result_outcome(self, run_id: str, attempt_id: str) -> tuple[str, str] | None:
        """(scenario, stored outcome) of one attempt, or None."""
        row = self._row("SELECT scenario_id, outcome FROM results WHERE run_id = ? AND"
                        " attempt_id = ?", (run_id, attempt_id))
        return (row[0], row[1]) if row else None

    def attempts_with_outcome(self, run_id: str, outcome: str) -> Iterator[tuple[str, str]]:
        """(scenario, attempt id) of every attempt with this stored outcome, in plan order."""
        yield from self._stream(
            "SELECT scenario_id, attempt_id FROM results WHERE run_id = ? AND outcome = ?"
            " ORDER BY seq", (run_id, outcome))

    def reach_rows(self, run_id: str) -> Iterator[tuple[str, int, int, int, int]]:
        """Per scenario: distinct inputs, distinct chains, and how many of each failed."""
        yield from self._rows(
            "SELECT scenario_id, count(DISTINCT idx), count(DISTINCT chain),"
            " count(DISTINCT CASE WHEN outcome = 'fail' THEN idx END),"
            " count(DISTINCT CASE WHEN outcome = 'fail' THEN chain END)"
            " FROM (SELECT scenario_id, chain, outcome,"
            f"       {self._json_field('attempt', 'input_index')} AS idx FROM results"
            " WHERE run_id = ?) AS x"
            " GROUP BY scenario_id", (run_id,))

    def paired_groups(self, base_id: str, cand_id: str
                      ) -> Iterator[tuple[str, str, str, int]]:
        """(scenario, baseline outcome, candidate outcome, count) over shared attempt ids."""
        yield from self._rows(
            "SELECT c.scenario_id, b.outcome, c.outcome, count(*) FROM results c"
            " JOIN results b ON b.run_id = ? AND b.attempt_id = c.attempt_id"
            " WHERE c.run_id = ? GROUP BY c.scenario_id, b.outcome, c.outcome",
            (base_id, cand_id))

    def paired_outcome(self, base_id: str, cand_id: str, attempt_id: str
                       ) -> tuple[str, str, str] | None:
        """(scenario, baseline outcome, candidate outcome) of one shared attempt, or None."""
        row = self._row(
            "SELECT c.scenario_id, b.outcome, c.outcome FROM results c JOIN results b"
            " ON b.run_id = ? AND b.attempt_id = c.attempt_id WHERE c.run_id = ? AND"
            " c.attempt_id = ?", (base_id, cand_id, attempt_id))
        return (row[0], row[1], row[2]) if row else None

    def transitions(self, base_id: str, cand_id: str, base_outcome: str, cand_outcome: str
                    ) -> Iterator[tuple[str, str]]:
        """(scenario, attempt id) of shared attempts that went base -> cand, in plan order."""
        yield from self._stream(
            "SELECT c.scenario_id, c.attempt_id FROM results c"
            " JOIN results b ON b.run_id = ? AND b.attempt_id = c.attempt_id"
            " WHERE c.run_id = ? AND b.outcome = ? AND c.outcome = ? ORDER BY c.seq",
            (base_id, cand_id, base_outcome, cand_outcome))

    def outcome_history(self, target: str | None
                        ) -> Iterator[tuple[str, str, str, str, int]]:
        """(run, created_at, scenario, outcome, count) over every finished run (of a target)."""
        where, args = "WHERE r.status != 'running'", ()
        if target is not None:
            where += " AND r.target = ?"
            args = (target,)
        yield from self._rows(
            "SELECT x.run_id, r.created_at, x.scenario_id, x.outcome, count(*) FROM results x"
            f" JOIN runs r ON r.id = x.run_id {where}"
            " GROUP BY x.run_id, r.created_at, x.scenario_id, x.outcome", args)

    def all_scenario_definitions(self) -> Iterator[tuple[str, str, str]]:
        """(run, scenario, definition JSON) for every stored run."""
        yield from self._rows("SELECT run_id, scenario_id, definition FROM scenarios")

    def outcome_seqs(self, run_id: str, outcome: str, also: Sequence[str] = ()
                     ) -> Iterator[tuple[int, str, str]]:
        """(seq, scenario, attempt id) with this stored outcome, or among `also`, in order."""
        among = f" OR attempt_id IN ({','.join('?' * len(also))})" if also else ""
        yield from self._stream(
            "SELECT seq, scenario_id, attempt_id FROM results WHERE run_id = ? AND (outcome = ?"
            f"{among}) ORDER BY seq", (run_id, outcome, *also))

    def results_at(self, run_id: str, seqs: Sequence[int], columns: Sequence[str]
                   ) -> Iterator[dict[str, Any]]:
        """The given columns of the results at these plan positions, in order (raw JSON)."""
        names = list(columns)
        if not all(n.isidentifier() for n in names):
            raise ValueError(f"not column names: {names}")
        for i in range(0, len(seqs), 500):
            chunk = list(seqs[i : i + 500])
            marks = ",".join("?" * len(chunk))
            rows = self._rows(
                f"SELECT {', '.join(names)} FROM results WHERE run_id = ? AND seq IN ({marks})"
                " ORDER BY seq", (run_id, *chunk))
            for row in rows:
                yield dict(zip(names, row, strict=True))

    # --- production hits (redline monitor) ---------------------------------------------

    def production_hit_count(self) -> int:
        row = self._row("SELECT count(*) FROM production_hits")
        return int(row[0]) if row else 0

    def production_hit_stats(self) -> dict[str, dict[str, Any]]:
        """scenario -> {recurrences, unsafe, first_seen, last_seen} over the stored hits."""
        if not self._has_table("production_hits"):  # type: ignore[attr-defined]
            return {}
        seen = "coalesce(logged_at, recorded_at)"
        return {sid: {"recurrences": int(n), "unsafe": int(u or 0), "first_seen": first,
                      "last_seen": last}
                for sid, n, u, first, last in self._rows(
                    f"SELECT scenario_id, count(*), sum(unsafe), min({seen}), max({seen})"
                    " FROM production_hits WHERE scenario_id IS NOT NULL GROUP BY scenario_id")}

    def failing_attempts(self) -> Iterator[tuple[str, int, str, str, str, str, str]]:
        """(scenario, version, category, severity, expected, run, attempt JSON) of every
        stored failing attempt: the attack signatures of past findings."""
        expected = self._json_field("s.definition", "expected")
        yield from self._stream(
            "SELECT x.scenario_id, x.scenario_version, x.category, x.severity,"
            f" coalesce({expected}, 'refuse'), x.run_id, x.attempt FROM results x"
            " JOIN scenarios s ON s.run_id = x.run_id AND s.scenario_id = x.scenario_id"
            " WHERE x.outcome = 'fail'")

    def first_failing_runs(self) -> dict[str, str]:
        """scenario -> the earliest run (by start time) in which it failed."""
        first: dict[str, tuple[str, str]] = {}
        for sid, run_id, created in self._rows(
                "SELECT DISTINCT x.scenario_id, r.id, r.created_at FROM results x"
                " JOIN runs r ON r.id = x.run_id WHERE x.outcome = 'fail'"):
            if sid not in first or (created, run_id) < first[sid]:
                first[sid] = (created, run_id)
        return {sid: run_id for sid, (_, run_id) in first.items()}

    def last_approved_run(self, target: str, suite: str, exclude: str | None = None
                          ) -> str | None:
        """The latest run of this target and suite whose recorded gate decision approved it
        (the baseline a monitor trigger's re-run is gated against)."""
        row = self._row(
            "SELECT r.id FROM decisions d JOIN runs r ON r.id = d.run_id"
            " WHERE r.target = ? AND r.suite = ? AND r.id != ?"
            " AND d.verdict IN ('approve', 'approve-with-warnings')"
            " ORDER BY d.created_at DESC, d.id DESC LIMIT 1", (target, suite, exclude or ""))
        return str(row[0]) if row else None


def contains(needle: str, columns: Sequence[str]) -> tuple[str, tuple[str, ...]]:
    """` AND (...)`: any of these columns, lower-cased, contains `needle` (LIKE, escaped)."""
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    cond = " OR ".join(f"lower({c}) LIKE ? ESCAPE '\\'" for c in columns)
    return f" AND ({cond})", (f"%{escaped}%",) * len(columns)


@dataclass(frozen=True)
class ResultFilter:
    """Which of a run's results a listing shows: exact fields, and `text`, a case-insensitive
    substring of the attempt id, scenario id, transcript, replies or error."""

    outcome: str | None = None
    category: str | None = None
    scenario: str | None = None
    severity: str | None = None
    text: str | None = None

    def where(self) -> tuple[str, tuple[Any, ...]]:
        """SQL conditions (ANDed after `run_id = ?`) and their arguments."""
        parts, args = [], []
        for column, value in (("outcome", self.outcome), ("category", self.category),
                              ("scenario_id", self.scenario), ("severity", self.severity)):
            if value:
                parts.append(f" AND {column} = ?")
                args.append(value)
        if self.text:
            # JSON columns hold the text JSON-escaped: search for it as it is stored
            needle = json.dumps(self.text.lower(), ensure_ascii=False)[1:-1]
            cond, more = contains(needle, ("attempt_id", "scenario_id", "transcript",
                                           "responses", "error"))
            parts.append(cond)
            args += more
        return "".join(parts), tuple(args)


LISTED_COLUMNS = ("seq", "attempt_id", "scenario_id", "category", "severity", "chain",
                  "outcome", "error", "tries", "latency_ms")


class ViewQueries(SqlAccess):
    """Paged reads behind `redline view`: a page costs the same in a run of any size."""

    def result_page(self, run_id: str, found: ResultFilter, after: int | None = None,
                    before: int | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """Up to `limit` listed columns of the matching results in plan order, those after
        plan position `after` (or, with `before`, the last ones before it)."""
        where, args = found.where()
        if before is not None:
            where, args, order = where + " AND seq < ?", (*args, before), "DESC"
        else:
            where, args, order = where + " AND seq > ?", (*args, -1 if after is None
                                                            else after), "ASC"
        cur = self._rows(
            f"SELECT {', '.join(LISTED_COLUMNS)} FROM results WHERE run_id = ?{where}"
            f" ORDER BY seq {order} LIMIT ?", (run_id, *args, int(limit)))
        rows = [dict(zip(LISTED_COLUMNS, row, strict=True)) for row in cur]
        for row in rows:
            row["chain"] = json.loads(row["chain"])
        return rows[::-1] if before is not None else rows

    def result_count(self, run_id: str, found: ResultFilter) -> int:
        where, args = found.where()
        row = self._row(f"SELECT count(*) FROM results WHERE run_id = ?{where}",
                        (run_id, *args))
        return int(row[0]) if row else 0

    def run_ids_page(self, offset: int, limit: int, text: str | None = None,
                     status: str | None = None) -> tuple[list[str], int]:
        """Run ids newest first, those whose id, target or suite contain `text` (and with
        this status), one page of them, and how many match in all."""
        where, args = " WHERE 1 = 1", ()
        if status:
            where, args = where + " AND status = ?", (status,)
        if text:
            cond, more = contains(text.lower(), ("id", "target", "suite"))
            where, args = where + cond, args + more
        total = self._row(f"SELECT count(*) FROM runs{where}", args)
        cur = self._rows(f"SELECT id FROM runs{where} ORDER BY created_at DESC, id DESC"
                         " LIMIT ? OFFSET ?", (*args, int(limit), int(offset)))
        return [r[0] for r in cur], int(total[0]) if total else 0

    def change_token(self) -> str | None:
        """A token that any committed write to the store moves, by this connection or any
        other (redline's own writes and an edit behind its back alike), read through this
        connection; None where the backend cannot tell. What was read at one token holds
        while it stays the same (the viewer's cache, redline.view.pages.StoreCache)."""
        raise NotImplementedError
