"""The machine-readable report."""

from __future__ import annotations

from typing import Any

from redline import __version__
from redline.analysis.summary import Summary
from redline.store import RunInfo


def build_json(run: RunInfo, summary: Summary, failed: list[Any], errored: list[Any],
               code: int, unclear: list[Any] | None = None) -> dict[str, Any]:
    unclear = unclear or []
    return {
        "redline_version": __version__,
        "run": {
            "id": run.id, "target": run.target, "suite": run.suite, "seed": run.seed,
            "status": run.status, "created_at": run.created_at, "finished_at": run.finished_at,
        },
        "manifest": run.manifest,
        "exit_code": code,
        "summary": summary.to_dict(),
        "failures": [f.to_dict() for f in failed],
        "errors": [f.to_dict() for f in errored],
        # the detectors could not decide these: not passes, not failures (see `redline review`)
        "unclear": [f.to_dict() for f in unclear],
        # reports list the first findings of each scenario; summary.total counts them all
        "shown": {"failures": len(failed), "errors": len(errored), "unclear": len(unclear),
                  "of_failures": summary.total.failures, "of_errors": summary.total.errors,
                  "of_unclear": summary.total.unclear},
    }
