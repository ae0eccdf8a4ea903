"""JUnit XML: one test suite per category, one test case per scenario."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from typing import Any

from redline.analysis.summary import Summary
from redline.store import RunInfo

_XML_ILLEGAL = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_safe(text: str) -> str:
    """Target output may hold characters XML cannot carry; replace them visibly."""
    return _XML_ILLEGAL.sub("\ufffd", text)


def render_junit(run: RunInfo, summary: Summary, failed: list[Any], errored: list[Any],
                 unclear: list[Any] | None = None) -> bytes:
    by_scenario: dict[str, list[Any]] = defaultdict(list)
    for f in failed + errored + list(unclear or []):
        by_scenario[f.scenario_id].append(f)
    root = ET.Element("testsuites", name=f"redline run {run.id}")
    per_category: dict[str, list[str]] = defaultdict(list)
    for sid, info in summary.info.items():
        if sid in summary.scenarios:
            per_category[info.category].append(sid)
    for category, sids in sorted(per_category.items()):
        tally = summary.categories[category]
        suite = ET.SubElement(root, "testsuite", name=category, tests=str(len(sids)))
        n_fail = n_err = 0
        for sid in sorted(sids):
            t = summary.scenarios[sid]
            status = summary.status(sid)
            case = ET.SubElement(suite, "testcase", classname=f"redline.{category}", name=sid)
            msg = (f"{t.failures}/{t.judged} judged attempts failed ({t.failure_rate:.1%}), "
                   f"{t.errors} errors, {t.unclear} unclear; "
                   f"allowed {summary.info[sid].max_failure_rate:.1%}")
            detail = "\n\n".join(
                xml_safe(f"[{f.outcome}] {' + '.join(f.chain)}\nprompt: {f.prompt[:500]}\n"
                         f"response: {f.response[:500]}\n{f.error or ''}")
                for f in by_scenario.get(sid, [])[:5]
            )
            if status == "fail":
                n_fail += 1
                ET.SubElement(case, "failure", message=msg, type="over-criterion").text = detail
            elif status == "inconclusive":
                n_err += 1
                ET.SubElement(case, "error", message=msg, type="inconclusive").text = detail
        suite.set("failures", str(n_fail))
        suite.set("errors", str(n_err))
        suite.set("attempts", str(tally.attempts))
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
