"""Reading runs and their records back: what reports, replay, resume and review ask of a
store. Rows come back as plain tuples and dicts, whatever the backend."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from redline.core.errors import RedlineError
from redline.store.access import SqlAccess
from redline.store.records import (
    RESULT_COLUMNS,
    RESULT_NAMES,
    RUN_COLUMNS,
    RUN_FIXED,
    RunInfo,
    decode_result,
)

_RUN_SELECT = f"SELECT {', '.join(RUN_COLUMNS)} FROM runs"


def like_prefix(ref: str) -> str:
    """A LIKE pattern matching ids that start with `ref` (its wildcards dropped)."""
    return ref.replace("%", "").replace("_", "") + "%"


class Reads(SqlAccess):
    def run_record(self, run_id: str) -> dict[str, Any] | None:
        """The run's fixed columns and scenarios, as hashed into its first chain link."""
        row = self._row(f"SELECT {', '.join(RUN_FIXED)} FROM runs WHERE id = ?", (run_id,))
        if row is None:
            return None
        record = dict(zip(RUN_FIXED, row, strict=True))
        record["scenarios"] = [list(r) for r in self._rows(
            "SELECT scenario_id, version, definition FROM scenarios WHERE run_id = ?"
            " ORDER BY scenario_id", (run_id,))]
        return record

    def result_record(self, run_id: str, attempt_id: str) -> dict[str, Any] | None:
        row = self._row(f"SELECT {RESULT_COLUMNS} FROM results WHERE run_id = ? AND "
                        "attempt_id = ?", (run_id, attempt_id))
        return dict(zip(RESULT_NAMES, row, strict=True)) if row else None

    def result_records(self, run_id: str, attempt_ids: list[str]) -> dict[str, dict[str, Any]]:
        """attempt id -> its results row as stored (as result_record), for these attempts."""
        out: dict[str, dict[str, Any]] = {}
        for i in range(0, len(attempt_ids), 500):
            chunk = attempt_ids[i : i + 500]
            rows = self._rows(f"SELECT {RESULT_COLUMNS} FROM results WHERE run_id = ? AND"
                              f" attempt_id IN ({','.join('?' * len(chunk))})",
                              (run_id, *chunk))
            for row in rows:
                record = dict(zip(RESULT_NAMES, row, strict=True))
                out[record["attempt_id"]] = record
        return out

    def decision_records(self, run_id: str) -> dict[str, dict[str, Any]]:
        """decision id -> the stored decisions row (as chained)."""
        out = {}
        for record in self._dict_rows("SELECT * FROM decisions WHERE run_id = ? ORDER BY id",
                                      (run_id,)):
            out[str(record.get("id", len(out)))] = record
        return out

    def _dict_rows(self, sql: str, args: tuple[Any, ...]) -> Iterator[dict[str, Any]]:
        """Rows as dicts keyed by column name (for `SELECT *`)."""
        raise NotImplementedError

    def signatures(self, run_id: str) -> list[dict[str, Any]]:
        rows = self._rows("SELECT seq, hash, key_id, public_key, signature, signed_at FROM"
                          " signatures WHERE run_id = ? ORDER BY seq, key_id", (run_id,))
        names = ("seq", "hash", "key_id", "public_key", "signature", "signed_at")
        return [dict(zip(names, row, strict=True)) for row in rows]

    def timestamps(self, run_id: str) -> list[dict[str, Any]]:
        rows = self._rows("SELECT seq, hash, tsa, token, gen_time FROM timestamps WHERE"
                          " run_id = ? ORDER BY seq, tsa", (run_id,))
        names = ("seq", "hash", "tsa", "token", "gen_time")
        return [dict(zip(names, row, strict=True)) for row in rows]

    def runs(self, limit: int = 50) -> list[RunInfo]:
        rows = self._rows(f"{_RUN_SELECT} ORDER BY created_at DESC, id DESC LIMIT ?", (limit,))
        return [RunInfo.from_row(r) for r in rows]

    def get_run(self, ref: str) -> RunInfo:
        """A run by id, unique id prefix, or `latest`."""
        if ref == "latest":
            rows = list(self._rows(f"{_RUN_SELECT} ORDER BY created_at DESC, id DESC LIMIT 1"))
        else:
            rows = list(self._rows(f"{_RUN_SELECT} WHERE id LIKE ? ORDER BY id LIMIT 2",
                                   (like_prefix(ref),)))
        if not rows:
            raise RedlineError(f"no run {ref!r} in {self.location}")
        if len(rows) > 1:
            raise RedlineError(f"run id prefix {ref!r} is ambiguous in {self.location}")
        return RunInfo.from_row(rows[0])

    def attempt_ids_like(self, run_id: str, prefix: str, limit: int = 2) -> list[str]:
        """Up to `limit` attempt ids of the run that start with `prefix`."""
        return [aid for (aid,) in self._rows(
            "SELECT attempt_id FROM results WHERE run_id = ? AND attempt_id LIKE ?"
            " ORDER BY attempt_id LIMIT ?", (run_id, like_prefix(prefix), limit))]

    def scenario_definitions(self, run_id: str) -> dict[str, dict[str, Any]]:
        rows = self._rows("SELECT scenario_id, definition FROM scenarios WHERE run_id = ?",
                          (run_id,))
        return {sid: json.loads(defn) for sid, defn in rows}

    def results(self, run_id: str, outcome: str | None = None) -> Iterator[dict[str, Any]]:
        """Stream a run's results in plan order; JSON columns decoded."""
        sql = f"SELECT {RESULT_COLUMNS} FROM results WHERE run_id = ?"
        args: tuple[Any, ...] = (run_id,)
        if outcome:
            sql += " AND outcome = ?"
            args += (outcome,)
        for row in self._stream(sql + " ORDER BY seq", args):
            yield decode_result(row)

    def results_for(self, run_id: str, attempt_ids: list[str]) -> Iterator[dict[str, Any]]:
        """The results of these attempts, in plan order; JSON columns decoded."""
        for i in range(0, len(attempt_ids), 500):
            chunk = attempt_ids[i : i + 500]
            marks = ",".join("?" * len(chunk))
            for row in self._rows(f"SELECT {RESULT_COLUMNS} FROM results WHERE run_id = ? AND"
                                  f" attempt_id IN ({marks}) ORDER BY seq", (run_id, *chunk)):
                yield decode_result(row)

    def outcome_rows(self, run_id: str, reviewed: bool = True
                     ) -> Iterator[tuple[str, str, str, str, float, int | None]]:
        """Just what a summary needs: scenario, category, severity, outcome, latency, tokens.

        With `reviewed`, a person's label (see labels()) replaces the detectors' outcome."""
        labels = self.labels(run_id) if reviewed else {}
        rows = self._stream(
            "SELECT scenario_id, category, severity, outcome, latency_ms, tokens, attempt_id"
            " FROM results WHERE run_id = ? ORDER BY seq", (run_id,),
        )
        for sid, category, severity, outcome, latency, tokens, attempt_id in rows:
            if labels and attempt_id in labels:
                outcome = labels[attempt_id]["label"]
            yield sid, category, severity, outcome, latency, tokens

    def attempt_outcomes(self, run_id: str) -> Iterator[tuple[str, str]]:
        """(attempt id, stored outcome) in plan order."""
        yield from self._stream("SELECT attempt_id, outcome FROM results WHERE run_id = ?"
                                " ORDER BY seq", (run_id,))

    def labels(self, run_id: str) -> dict[str, dict[str, Any]]:
        """attempt id -> the latest reviewed label (chained `label` events: evidence.review)."""
        rows = self._rows("SELECT payload FROM chain WHERE run_id = ? AND kind = 'label'"
                          " ORDER BY seq", (run_id,))
        out: dict[str, dict[str, Any]] = {}
        for (payload,) in rows:
            record = json.loads(payload)
            out[record["attempt_id"]] = record
        return out

    def verdict_rows(self, run_id: str) -> Iterator[tuple[str, str, str]]:
        """(attempt id, outcome, verdicts as stored JSON) in plan order."""
        yield from self._stream(
            "SELECT attempt_id, outcome, verdicts FROM results WHERE run_id = ? ORDER BY seq",
            (run_id,))

    def recorded_responses(self, run_id: str) -> dict[str, list[dict[str, Any]]]:
        """The cassette: each attempt's recorded responses, turn by turn."""
        rows = self._stream("SELECT attempt_id, responses FROM results WHERE run_id = ?",
                            (run_id,))
        return {attempt_id: json.loads(responses) for attempt_id, responses in rows}

    def plan_ids(self, run_id: str) -> Iterator[str]:
        """The run's planned attempt ids in plan order (none for runs made without a plan)."""
        for (attempt_id,) in self._stream(
                "SELECT attempt_id FROM plan WHERE run_id = ? ORDER BY seq", (run_id,)):
            yield attempt_id

    def done_attempt_ids(self, run_id: str) -> set[str]:
        rows = self._stream("SELECT attempt_id FROM results WHERE run_id = ?", (run_id,))
        return {r[0] for r in rows}
