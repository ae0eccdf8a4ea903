"""A Decision as files: JSON, JUnit XML, SARIF 2.1.0 and Markdown (for a PR comment)."""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path
from typing import Any

from redline import __version__
from redline.gate.markdown import render_markdown
from redline.gate.verdict import Decision, Reason
from redline.report.junit import xml_safe
from redline.store import dumps

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
FILES = {"json": "gate.json", "junit": "gate-junit.xml", "sarif": "gate.sarif",
         "markdown": "gate.md"}


def render_json(decision: Decision) -> str:
    return dumps(decision.to_dict())


def render_junit(decision: Decision) -> bytes:
    """One test case per scenario plus one per run- or category-level reason; blocking
    reasons are failures, warnings pass with the warning in system-out."""
    by_subject: dict[tuple[str, str], list[Reason]] = defaultdict(list)
    for r in decision.reasons:
        by_subject[(r.level, r.subject)].append(r)
    root = ET.Element("testsuites", name=f"redline gate {decision.run['id']}")
    suite = ET.SubElement(root, "testsuite", name="redline.gate")
    cases = [("scenario", s.id, f"redline.gate.{s.category}") for s in decision.scenarios]
    seen = {(level, subject) for level, subject, _ in cases}
    cases += [(level, subject, f"redline.gate.{level}")
              for level, subject in by_subject if (level, subject) not in seen]
    n_fail = 0
    for level, subject, classname in cases:
        case = ET.SubElement(suite, "testcase", classname=classname, name=subject)
        reasons = by_subject.get((level, subject), [])
        blocking = [r for r in reasons if r.action.kind != "warn"]
        warnings = [r for r in reasons if r.action.kind == "warn"]
        if blocking:
            n_fail += 1
            failure = ET.SubElement(case, "failure", type=blocking[0].action.kind,
                                    message=xml_safe(blocking[0].message))
            failure.text = xml_safe("\n".join(
                f"[{r.action.describe()}] {r.kind}: {r.message} (rule {r.rule})"
                for r in blocking))
        if warnings:
            ET.SubElement(case, "system-out").text = xml_safe("\n".join(
                f"WARNING {r.kind}: {r.message} (rule {r.rule})" for r in warnings))
    suite.set("tests", str(len(cases)))
    suite.set("failures", str(n_fail))
    suite.set("errors", "0")
    props = ET.SubElement(suite, "properties")
    for name, value in (("verdict", decision.verdict), ("exit_code", str(decision.exit_code)),
                        ("run", decision.run["id"]),
                        ("baseline", (decision.baseline or {}).get("id", ""))):
        ET.SubElement(props, "property", name=name, value=value)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _rule_id(r: Reason) -> str:
    return f"redline/{r.kind}"


_RULE_TEXT = {
    "breach": "Failure rate over the policy threshold",
    "error_rate": "Error rate over the policy maximum",
    "regression": "Significant regression against the baseline",
    "inconclusive": "Too little evidence to decide",
    "missing": "Required coverage did not run",
    "incomplete": "Run incomplete",
}


def _location(r: Reason) -> dict[str, Any]:
    """Code scanning wants a repository path: point at the policy rule that decided."""
    path, _, line = r.rule.rpartition(":")
    if not path or not line.isdigit():
        path, line = r.rule, "1"
    loc: dict[str, Any] = {"physicalLocation": {
        "artifactLocation": {"uri": Path(path).as_posix()},
        "region": {"startLine": int(line)}}}
    loc["logicalLocations"] = [{"name": r.subject, "kind": r.level}]
    return loc


def render_sarif(decision: Decision) -> dict[str, Any]:
    kinds = sorted({r.kind for r in decision.reasons})
    rules = [{"id": f"redline/{k}", "name": k,
              "shortDescription": {"text": _RULE_TEXT.get(k, k)}} for k in kinds]
    index = {f"redline/{k}": i for i, k in enumerate(kinds)}
    results = []
    for r in decision.reasons:
        fingerprint = hashlib.sha256(f"{r.kind}|{r.level}|{r.subject}".encode()).hexdigest()
        results.append({
            "ruleId": _rule_id(r), "ruleIndex": index[_rule_id(r)],
            "level": "warning" if r.action.kind == "warn" else "error",
            "message": {"text": f"[{r.action.describe()}] {r.message}"},
            "locations": [_location(r)],
            "partialFingerprints": {"redlineReason/v1": fingerprint},
            "properties": {"action": r.action.kind, "action_target": r.action.target,
                           "severity": r.severity, "evidence": r.evidence},
        })
    return {
        "$schema": SARIF_SCHEMA, "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "redline", "version": __version__,
                                "rules": rules}},
            "automationDetails": {"id": f"redline-gate/{decision.run['id']}"},
            "invocations": [{"executionSuccessful": True,
                             "exitCode": decision.exit_code,
                             "properties": {"verdict": decision.verdict}}],
            "results": results,
        }],
    }


def write_reports(decision: Decision, out_dir: Path) -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {k: out_dir / name for k, name in FILES.items()}
    paths["json"].write_text(render_json(decision), encoding="utf-8", errors="backslashreplace")
    paths["junit"].write_bytes(render_junit(decision))
    paths["sarif"].write_text(dumps(render_sarif(decision)), encoding="utf-8",
                              errors="backslashreplace")
    paths["markdown"].write_text(render_markdown(decision), encoding="utf-8",
                                 errors="backslashreplace")
    return paths
