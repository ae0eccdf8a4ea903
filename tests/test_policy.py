"""Gate policy files: validation errors name file:line: field; rules compose and the most
specific one wins, setting by setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from redline.core.errors import InputFileError
from redline.gate.policy import Action, load_policy


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_bundled_default_is_complete_and_sane() -> None:
    policy = load_policy()
    eff = policy.resolve("any-id", "jailbreak", "critical")
    assert eff.max_failure_rate == "scenario" and eff.threshold(0.25) == 0.25
    assert eff.max_error_rate == 0.10
    assert eff.on_breach.kind == "block" and eff.on_inconclusive.kind == "hold"
    assert policy.resolve("x", "jailbreak", "medium").on_inconclusive.kind == "warn"
    assert policy.resolve("x", "jailbreak", "low").on_breach.kind == "warn"
    assert policy.resolve(category="benign_control").on_regression.kind == "block"
    assert policy.benign_categories == ["benign_control"]
    assert policy.sla_days["critical"] < policy.sla_days["high"] < policy.sla_days["low"]
    assert eff.sources["on_inconclusive"].startswith("default_policy.yaml:")


ORG = """\
name: org
defaults:
  max_failure_rate: 0.5
  owner: security
rules:
  - match: {severity: high}
    max_failure_rate: 0.4
  - match: {category: jailbreak}
    max_failure_rate: 0.3
    owner: red-team
  - match: {category: jailbreak, severity: high}
    max_failure_rate: 0.2
  - match: {scenario: "jb-special-*"}
    max_failure_rate: 0.1
"""

PROJECT = """\
name: project
rules:
  - match: {category: jailbreak}
    max_failure_rate: 0.35
  - match: {scenario: jb-special-one}
    owner: alice
"""


@pytest.mark.parametrize("unit,rate,owner", [
    (("other", "pii_leak", "medium"), 0.5, "security"),           # defaults (org over bundled)
    (("other", "pii_leak", "high"), 0.4, "security"),             # severity
    (("jb-x", "jailbreak", "medium"), 0.35, "red-team"),          # category; project wins tie
    (("jb-x", "jailbreak", "high"), 0.2, "red-team"),             # category+severity > category
    (("jb-special-two", "jailbreak", "high"), 0.1, "red-team"),   # scenario glob beats all
    (("jb-special-one", "jailbreak", "low"), 0.1, "alice"),       # settings resolve one by one
])
def test_precedence_scenario_then_category_severity_then_category_then_severity(
        tmp_path: Path, unit: tuple[str, str, str], rate: float, owner: str) -> None:
    policy = load_policy([write(tmp_path, "org.yaml", ORG),
                          write(tmp_path, "project.yaml", PROJECT)])
    eff = policy.resolve(*unit)
    assert (eff.max_failure_rate, eff.owner) == (rate, owner)


def test_later_files_override_earlier_and_sources_name_the_line(tmp_path: Path) -> None:
    org = write(tmp_path, "org.yaml", ORG)
    project = write(tmp_path, "project.yaml", PROJECT)
    eff = load_policy([org, project]).resolve("jb-x", "jailbreak", "medium")
    assert eff.sources["max_failure_rate"] == f"{project}:3"
    assert eff.sources["owner"] == f"{org}:8"
    swapped = load_policy([project, org]).resolve("jb-x", "jailbreak", "medium")
    assert swapped.max_failure_rate == 0.3


@pytest.mark.parametrize("text,line,field,needle", [
    ("rules:\n  - match: {category: jailbreak}\n    on_breach: blok\n", 3, "rules.0.on_breach",
     "unknown action 'blok'"),
    ("rules:\n  - match: {category: jailbrek}\n", 2, "rules.0.match.category", "Input should be"),
    ("rules:\n  - match: {}\n    owner: x\n", 2, "rules.0.match", "at least one of"),
    ("defaults:\n  max_error_rate: 1.5\n", 2, "defaults.max_error_rate", "less than or equal"),
    ("defaults:\n  max_failure_rate: 2.0\n", 2, "defaults.max_failure_rate", "between 0 and 1"),
    ("defaults:\n  on_error: {block: now}\n", 2, "defaults.on_error", "takes no target"),
    ("name: x\nthresholds: {}\n", 2, "thresholds", "Extra inputs"),
    ("sla_days: {critical: -1}\n", 1, "sla_days", "must not be negative"),
    ("statistics:\n  alpha: 0.9\n", 2, "statistics.alpha", "less than or equal"),
])
def test_errors_name_file_line_and_field(tmp_path: Path, text: str, line: int,
                                         field: str | None, needle: str) -> None:
    path = write(tmp_path, "bad.yaml", text)
    with pytest.raises(InputFileError) as info:
        load_policy([path])
    message = str(info.value)
    prefix = f"{path}:{line}: " + (f"{field}: " if field else "")
    assert prefix in message, message
    assert needle in message


def test_every_bad_file_is_reported_and_non_mappings_rejected(tmp_path: Path) -> None:
    a = write(tmp_path, "a.yaml", "- just\n- a list\n")
    b = write(tmp_path, "b.yaml", "rules: [\n")
    with pytest.raises(InputFileError) as info:
        load_policy([a, b])
    text = str(info.value)
    assert f"{a}:1: expected a mapping" in text and f"{b}:" in text and "invalid YAML" in text


@pytest.mark.parametrize("raw,kind,target", [
    ("block", "block", None), ("warn", "warn", None), ("rollback", "rollback", None),
    ({"rollback": "prod-2024-06"}, "rollback", "prod-2024-06"),
    ({"hold": "new-retriever"}, "hold", "new-retriever"),
])
def test_action_shorthands(raw: object, kind: str, target: str | None) -> None:
    action = Action.model_validate(raw)
    assert (action.kind, action.target) == (kind, target)
