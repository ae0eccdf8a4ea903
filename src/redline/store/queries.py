"""The read queries behind the gate, the risk register and the reports: every SQL statement
they need lives here, on the store, so another backend implements these methods and the
gate and the reports stay as they are."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
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
        yield from self._rows(
            "SELECT outcome, verdicts FROM results WHERE run_id = ? AND scenario_id = ?"
            " ORDER BY seq", (run_id, scenario_id))

    def result_outcome(self, run_id: str, attempt_id: str) -> tuple[str, str] | None:
        """(scenario, stored outcome) of one attempt, or None."""
        row = self._row("SELECT scenario_id, outcome FROM results WHERE run_id = ? AND"
                        " attempt_id = ?", (run_id, attempt_id))
        return (row[0], row[1]) if row else None

    def attempts_with_outcome(self, run_id: str, outcome: str) -> Iterator[tuple[str, str]]:
        """(scenario, attempt id) of every attempt with this stored outcome, in plan order."""
        yield from self._rows(
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
        yield from self._rows(
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
            " GROUP BY x.run_id, x.scenario_id, x.outcome", args)

    def all_scenario_definitions(self) -> Iterator[tuple[str, str, str]]:
        """(run, scenario, definition JSON) for every stored run."""
        yield from self._rows("SELECT run_id, scenario_id, definition FROM scenarios")

    def outcome_seqs(self, run_id: str, outcome: str, also: Sequence[str] = ()
                     ) -> Iterator[tuple[int, str, str]]:
        """(seq, scenario, attempt id) with this stored outcome, or among `also`, in order."""
        among = f" OR attempt_id IN ({','.join('?' * len(also))})" if also else ""
        yield from self._rows(
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
