"""The audit chain as the store keeps it: appending links (inside the writer's transaction,
after the run's chain is locked), and `verify`, which re-hashes every record of a run and
walks its chain (redline.store.audit holds the hashing and the walk itself)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from redline.store.access import SqlAccess
from redline.store.audit import (
    Link,
    Problem,
    Verification,
    chained_state,
    make_link,
    plan_digest,
    record_digest,
    state_problems,
    verify_links,
)
from redline.store.records import LINK_COLUMNS, dumps, utc_now

PREFETCH = 500  # result records read per query while verifying


class Chain(SqlAccess):
    # --- appending -------------------------------------------------------------------

    def _head(self, run_id: str) -> tuple[int, str] | None:
        """The run's chain head as this transaction sees it (cached until it ends)."""
        if run_id not in self._heads:
            self._lock_chain(run_id)
            row = self._row(
                "SELECT seq, hash FROM chain WHERE run_id = ? ORDER BY seq DESC LIMIT 1",
                (run_id,))
            self._heads[run_id] = (int(row[0]), row[1]) if row else None
        return self._heads[run_id]

    def _next_link(self, run_id: str, kind: str, ref: str, record_sha: str) -> Link:
        link = make_link(self._head(run_id), run_id, kind, ref, utc_now(), record_sha)
        self._heads[run_id] = (link.seq, link.hash)
        return link

    def _insert_links(self, links: list[Link], payloads: list[str | None] | None = None) -> None:
        self._many(
            f"INSERT INTO chain ({LINK_COLUMNS}, payload) VALUES (?,?,?,?,?,?,?,?,?)",
            [(ln.run_id, ln.seq, ln.kind, ln.ref, ln.ts, ln.record_sha256, ln.prev, ln.hash,
              (payloads or [None] * len(links))[i]) for i, ln in enumerate(links)],
        )

    def _append(self, run_id: str, kind: str, ref: str, record_sha: str,
                payload: str | None = None) -> Link:
        """Chain one record; call inside the transaction that writes the record."""
        link = self._next_link(run_id, kind, ref, record_sha)
        self._insert_links([link], [payload])
        return link

    def append_event(self, run_id: str, kind: str, fields: dict[str, Any]) -> Link:
        """Chain an event whose content lives in the chain entry itself."""
        with self.transaction():
            head = self._head(run_id)
            ref = f"{kind}-{head[0] + 1 if head else 0}"
            return self._append(run_id, kind, ref, record_digest(fields), dumps(fields))

    def chain_record(self, run_id: str, kind: str, ref: str, fields: dict[str, Any]) -> Link:
        """Chain a record stored elsewhere (e.g. a gate decision); inside its transaction."""
        with self.transaction():
            return self._append(run_id, kind, ref, record_digest(fields))

    # --- reading and verifying -------------------------------------------------------

    def links(self, run_id: str) -> list[Link]:
        rows = self._stream(f"SELECT {LINK_COLUMNS} FROM chain WHERE run_id = ? ORDER BY seq",
                            (run_id,))
        return [Link(*row) for row in rows]

    def event_payloads(self, run_id: str) -> dict[str, dict[str, Any]]:
        rows = self._rows("SELECT ref, payload FROM chain WHERE run_id = ? AND payload IS NOT"
                          " NULL", (run_id,))
        return {ref: json.loads(payload) for ref, payload in rows}

    def verify(self, run_id: str) -> Verification:
        """Re-hash every record of a run and walk its chain."""
        events = self.event_payloads(run_id)
        decisions = self.decision_records(run_id)

        links = self.links(run_id)
        results = self._result_prefetch(run_id, [ln.ref for ln in links if ln.kind == "result"])

        def lookup(kind: str, ref: str) -> tuple[dict[str, Any], dict[str, str]] | None:
            if kind == "result":
                found = results(ref)
            elif kind == "run":
                found = self.run_record(ref) if ref == run_id else None
            elif kind == "decision":
                found = decisions.get(ref)
            else:
                found = events.get(ref)
            return (found, {}) if found is not None else None

        done = self.done_attempt_ids(run_id)
        present = {"result": done, "run": {run_id}, "decision": set(decisions)}
        found = verify_links(run_id, links, lookup, present)
        extra = self._run_problems(run_id, links, events, len(done))
        return Verification(run_id, found.links, found.head, found.problems + tuple(extra))

    def _result_prefetch(self, run_id: str, refs: list[str]
                         ) -> Callable[[str], dict[str, Any] | None]:
        """A lookup of result records for a walk that asks for `refs` in this order: each
        miss reads the records of the next PREFETCH refs in one query, so a run's results
        are read in a few hundred queries, never all held at once."""
        buffer: dict[str, dict[str, Any]] = {}
        asked = 0

        def lookup(ref: str) -> dict[str, Any] | None:
            nonlocal buffer, asked
            if ref not in buffer:
                buffer = self.result_records(run_id, refs[asked : asked + PREFETCH])
            asked += 1
            return buffer.get(ref)
        return lookup

    def _run_problems(self, run_id: str, links: list[Link], events: dict[str, dict[str, Any]],
                      results: int) -> list[Problem]:
        """The run row against its chain, and its results against its committed plan."""
        row = self._row("SELECT status, finished_at, summary, planned, manifest FROM runs"
                        " WHERE id = ?", (run_id,))
        if row is None:
            return []
        stored = {"status": row[0], "finished_at": row[1], "summary": row[2]}
        state, problems = chained_state(links, events)
        problems += state_problems(run_id, stored, state, int(row[3]), results)
        try:
            committed = json.loads(row[4]).get("plan")
        except (ValueError, AttributeError):
            committed = None
        if isinstance(committed, dict):
            problems += self._plan_problems(run_id, committed)
        return problems + self._deleted_decisions(run_id)

    def _deleted_decisions(self, run_id: str) -> list[Problem]:
        """Decision ids only grow: the newest one deleted, with its chain entry, still leaves
        its number behind in the id sequence."""
        issued = self._issued_decision_id()
        if issued is None:
            return []
        newest = self._row("SELECT max(id) FROM decisions")
        newest_id = newest[0] if newest else None
        if (newest_id or 0) >= issued:
            return []
        return [Problem(None, "decision", str(issued),
                        f"the store issued decision ids up to {issued} but the newest left "
                        f"is {newest_id or 'none'}: decisions were deleted (perhaps of run "
                        f"{run_id})")]

    def _issued_decision_id(self) -> int | None:
        """The highest decision id the store ever handed out (a backend's sequence)."""
        raise NotImplementedError

    def _raise_issued_decision_id(self, issued: int) -> None:
        """Make the id sequence at least `issued` (after copying decisions in)."""
        raise NotImplementedError

    def _plan_problems(self, run_id: str, committed: dict[str, Any]) -> list[Problem]:
        count, digest = plan_digest(self.plan_ids(run_id))
        problems = []
        if (count, digest) != (committed.get("attempts"), committed.get("sha256")):
            problems.append(Problem(None, "plan", run_id,
                                    "the stored plan differs from the one committed in the "
                                    "run record (edited)"))
        rows = self._rows(
            "SELECT r.attempt_id FROM results r LEFT JOIN plan p ON p.run_id = r.run_id"
            " AND p.seq = r.seq WHERE r.run_id = ? AND (p.attempt_id IS NULL"
            " OR p.attempt_id != r.attempt_id) ORDER BY r.seq", (run_id,))
        problems += [Problem(None, "result", aid, "is not an attempt of the run's plan")
                     for (aid,) in rows]
        return problems
