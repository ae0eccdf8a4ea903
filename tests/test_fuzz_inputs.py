"""Fuzzing the files a user hands to redline: scenario, config and policy files.

Malformed input of every kind (invalid YAML, binary, bad UTF-8, wrong types, missing or
unknown fields, values out of range or huge, deep nesting) must end in a clear error naming
the file and exit code 2, never a traceback or redline's "internal error" (exit 70). The CLI
runs in-process through `redline.cli.main`, which maps errors to messages and exit codes
exactly as the installed `redline` command does.
"""

from __future__ import annotations

import io
import json
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import yaml
from hypothesis import HealthCheck, Phase, assume, example, given, settings
from hypothesis import strategies as st

from redline.cli import main

# derandomized so CI sees the same examples every run; no shrinking, which can take minutes
# on a deeply nested file: the failing example is printed as found
SETTINGS = settings(max_examples=60, deadline=None, derandomize=True,
                    phases=[Phase.explicit, Phase.reuse, Phase.generate],
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])

VALID_SCENARIO: dict[str, Any] = {
    "id": "fuzz-base", "version": 1, "title": "fuzz base", "objective": "a valid scenario",
    "category": "prompt_injection", "tags": {"owasp": ["LLM01"]}, "severity": "high",
    "author": "tests", "inputs": ["hello"], "mutators": [["identity"]],
    "detectors": [{"marker": {"markers": ["MARK-1"]}}], "expected": "refuse",
    "remediation": "fix it", "rollback": "roll back",
}
REQUIRED = ["id", "version", "title", "objective", "category", "tags", "severity", "author",
            "detectors", "expected", "remediation", "rollback"]
CONFIG_KEYS = {"target", "suite", "seed", "concurrency", "rate_limit", "timeout_s", "retries",
               "max_error_rate", "out", "db", "judge"}
POLICY_KEYS = {"version", "name", "defaults", "rules", "statistics", "coverage",
               "benign_categories", "sla_days", "severity_weights", "rollback_to",
               "feature_flag"}


def run_cli(*args: str) -> tuple[int, str]:
    """`redline ARGS` in-process: (exit code, stdout + stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err), \
            mock.patch.object(sys, "argv", ["redline", *args]):
        try:
            main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    return code, out.getvalue() + err.getvalue()


def assert_clear_usage_error(code: int, text: str, path: Path) -> None:
    assert "Traceback" not in text and "internal error" not in text, text[-2000:]
    assert code == 2, text[-2000:]
    assert "error" in text and path.name in text, text[-2000:]


# --- strategies -------------------------------------------------------------------------------

def nested(depth: int, leaf: Any = 1) -> Any:
    value = leaf
    for i in range(depth):
        value = [value] if i % 2 else {"k": value}
    return value


text_values = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]),
                      max_size=40)
junk = st.one_of(
    st.lists(st.integers(), min_size=1, max_size=3),
    st.dictionaries(st.text(min_size=1, max_size=5), st.integers(), min_size=1, max_size=2),
    st.sampled_from([-(10**30), 10**30, -1, 1.5e308, -1e-9]),
    st.integers(min_value=2, max_value=8).map(lambda d: nested(d)),
)
not_a_number = st.one_of(
    st.text(alphabet="abcxyz !?", min_size=1, max_size=10),
    st.lists(st.integers(), min_size=1, max_size=3),
    st.dictionaries(st.text(min_size=1, max_size=5), st.integers(), min_size=1, max_size=2),
)

BROKEN_YAML = [
    "key: [unclosed\n", "a: b: c\n", "key:\n\t- tab\n", "key: 'unterminated\n", "- a\nb: c\n",
    "{a: 1", "? [\n", "&anchor\n*other\n", "key: !!python/object:os.system x\n",
    "%BAD directive\n---\na: 1\n", "a: *undefined_alias\n", "]]]\n",
]


@st.composite
def raw_file(draw: st.DrawFn) -> bytes:
    """Bytes that no loader should accept as any of the three file kinds."""
    kind = draw(st.sampled_from(["broken_yaml", "binary", "not_utf8", "control", "empty",
                                 "scalar", "list", "deep"]))
    if kind == "broken_yaml":
        prefix = draw(st.sampled_from(["", "seed: 1\n", "title: x\n", "name: p\n"]))
        return (prefix + draw(st.sampled_from(BROKEN_YAML))).encode()
    if kind == "binary":
        data = draw(st.binary(max_size=200))
        return data[: len(data) // 2] + b"\x00" + data[len(data) // 2 :]
    if kind == "not_utf8":
        return b"name: " + draw(st.sampled_from([b"\xff\xfe", b"\xc3\x28", b"\x80abc"])) + b"\n"
    if kind == "control":
        char = draw(st.sampled_from(["\x01", "\x07", "\x1b", "\x7f", "\ufffe"]))
        return f"name: a{char}b\n".encode()
    if kind == "empty":
        return draw(st.sampled_from([b"", b"\n\n", b"# only a comment\n", b"---\n"]))
    if kind == "scalar":
        return draw(st.sampled_from([b"42\n", b"just text\n", b"null\n", b"~\n", b"true\n"]))
    if kind == "list":
        return yaml.safe_dump(draw(st.lists(st.integers(), max_size=4))).encode()
    depth = draw(st.integers(min_value=200, max_value=5000))
    style = draw(st.sampled_from(["flow_list", "flow_map", "block"]))
    if style == "flow_list":
        return b"name: " + b"[" * depth + b"]" * depth + b"\n"
    if style == "flow_map":
        return b"name: " + b"{a: " * depth + b"1" + b"}" * depth + b"\n"
    return b"name:\n" + b"".join(b" " * i + b"- \n" for i in range(1, min(depth, 1500)))


def config_corruption(draw: st.DrawFn) -> Any:
    field = draw(st.sampled_from(sorted(CONFIG_KEYS | {"unknown"})))
    bad: dict[str, st.SearchStrategy[Any]] = {
        "seed": st.one_of(not_a_number, st.sampled_from([-1, 2**64, 1.5])),
        "concurrency": st.one_of(not_a_number, st.sampled_from([0, -5, 5000, 10**100])),
        "rate_limit": st.one_of(not_a_number, st.sampled_from([0, -1.0, 1e7, 1e308])),
        "timeout_s": st.one_of(not_a_number, st.sampled_from([0, -1, 3601, 1e308])),
        "retries": st.one_of(not_a_number, st.sampled_from([-1, 21, 10**9])),
        "max_error_rate": st.one_of(not_a_number, st.sampled_from([-0.1, 1.5, 100])),
        "out": junk, "db": junk, "suite": junk,
        "target": st.one_of(junk, st.just({"kind": "nope"}), st.just({"kind": "openai"}),
                            st.just({"kind": "http", "url": "http://x", "extra": 1}),
                            st.just({"kind": "http", "url": "http://x",
                                     "timeout_s": -1})),
        "judge": st.one_of(junk, st.just({"base_url": "http://x"}), st.just({"model": 1})),
        "unknown": junk,
    }
    data: dict[str, Any] = {"seed": 3}
    key = draw(text_values.filter(lambda k: k and k not in CONFIG_KEYS)) \
        if field == "unknown" else field
    data[key] = draw(bad[field])
    return data


@st.composite
def config_file(draw: st.DrawFn) -> bytes:
    if draw(st.booleans()):
        return draw(raw_file())
    return yaml.safe_dump(config_corruption(draw), allow_unicode=True).encode()


@st.composite
def scenario_file(draw: st.DrawFn) -> bytes:
    if draw(st.integers(0, 3)) == 0:
        return draw(raw_file())
    doc = json.loads(json.dumps(VALID_SCENARIO))
    how = draw(st.sampled_from(["missing", "wrong_type", "unknown", "bad_enum", "too_long",
                                "bad_plugin", "both_sources", "deep"]))
    if how == "missing":
        del doc[draw(st.sampled_from(REQUIRED))]
    elif how == "wrong_type":
        field = draw(st.sampled_from(["version", "tags", "detectors", "mutators", "inputs",
                                      "success", "canaries", "documents"]))
        doc[field] = draw(st.one_of(not_a_number, st.just(-3))) if field != "version" \
            else draw(st.one_of(not_a_number, st.sampled_from([0, -1, 1.5])))
        if field == "inputs" and isinstance(doc[field], list):
            doc[field] = [nested(3)]
    elif how == "unknown":
        doc[draw(text_values.filter(lambda k: k and k not in VALID_SCENARIO))] = draw(junk)
    elif how == "bad_enum":
        field = draw(st.sampled_from(["category", "severity", "expected"]))
        doc[field] = draw(text_values.filter(lambda v: v not in {
            "prompt_injection", "high", "refuse"} and v.strip() != ""))
        doc[field] = doc[field] + "-not-a-value"
    elif how == "too_long":
        field, limit = draw(st.sampled_from([("title", 200), ("id", 81)]))
        doc[field] = "a" * draw(st.integers(min_value=limit + 1, max_value=100_000))
    elif how == "bad_plugin":
        where = draw(st.sampled_from(["detectors", "mutators", "generator"]))
        name = "no_such_" + draw(st.text(alphabet="abc", min_size=1, max_size=5))
        if where == "detectors":
            doc["detectors"] = [name]
        elif where == "mutators":
            doc["mutators"] = [[name]]
        else:
            doc.pop("inputs")
            doc["generator"] = draw(st.sampled_from([{"name": name},
                                                     {"name": "long_text",
                                                      "params": {"nope": 1}}]))
    elif how == "both_sources":
        doc["generator"] = {"name": "empty"}
        if draw(st.booleans()):
            doc.pop("inputs"), doc.pop("generator")
    else:
        doc["tags"] = {"owasp": ["LLM01"], "atlas": nested(draw(st.integers(50, 400)))}
    return yaml.safe_dump(doc, allow_unicode=True, width=10**9).encode()


@st.composite
def policy_file(draw: st.DrawFn) -> bytes:
    if draw(st.booleans()):
        return draw(raw_file())
    doc: dict[str, Any] = {"version": 1}
    how = draw(st.sampled_from(["version", "defaults", "rules", "rule_match", "action",
                                "unknown", "stats", "range"]))
    if how == "version":
        doc["version"] = draw(st.one_of(not_a_number, st.sampled_from([0, 2, 99])))
    elif how == "defaults":
        doc["defaults"] = draw(st.one_of(not_a_number.filter(lambda v: v != {}),
                                         st.just({"nope": 1})))
    elif how == "rules":
        doc["rules"] = draw(st.one_of(st.text(min_size=1, max_size=5), st.integers(),
                                      st.just([{"owner": "x"}]), st.just([1, 2])))
    elif how == "rule_match":
        doc["rules"] = [{"match": draw(st.sampled_from([{}, {"category": "nope"},
                                                        {"severity": 5}])),
                         "on_breach": "block"}]
    elif how == "action":
        doc["defaults"] = {"on_breach": draw(st.one_of(
            st.text(alphabet="xyz", min_size=1, max_size=6),
            st.just({"block": "x"}), st.just({"hold": 5}), st.just(7)))}
    elif how == "unknown":
        doc[draw(text_values.filter(lambda k: k and k not in POLICY_KEYS))] = draw(junk)
    elif how == "stats":
        doc["statistics"] = draw(st.sampled_from([{"confidence": 2}, {"alpha": 0.9},
                                                  {"interval": "bayes"}, [1]]))
    else:
        doc["defaults"] = draw(st.sampled_from([{"max_error_rate": 1.5},
                                                {"max_failure_rate": -0.5},
                                                {"min_attempts": -1},
                                                {"max_ci_width": 0}]))
    return yaml.safe_dump(doc, allow_unicode=True).encode()


# --- the properties ---------------------------------------------------------------------------

@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


@SETTINGS
@given(data=scenario_file())
@example(data=b"id: x\n" + b"a" * 5_000_001)  # over the size limit
def test_catalog_validate_rejects_malformed_scenarios(workdir: Path, data: bytes) -> None:
    path = workdir / "scenario.yaml"
    path.write_bytes(data)
    code, text = run_cli("catalog", "validate", str(path))
    assert_clear_usage_error(code, text, path)


@SETTINGS
@given(data=config_file())
def test_scan_rejects_malformed_configs(workdir: Path, data: bytes) -> None:
    path = workdir / "config.yaml"
    path.write_bytes(data)
    # overrides keep an accidentally valid file from scanning anything heavy
    code, text = run_cli("scan", "--config", str(path), "-t",
                         "python:redline.plugins.targets.toys:echo",
                         "--db", str(workdir / "r.db"), "--out", str(workdir / "out"),
                         "--no-progress")
    assert_clear_usage_error(code, text, path)


@SETTINGS
@given(data=policy_file())
def test_gate_rejects_malformed_policies(workdir: Path, data: bytes) -> None:
    path = workdir / "policy.yaml"
    path.write_bytes(data)
    code, text = run_cli("gate", "latest", "--policy", str(path), "--db",
                         str(workdir / "none.db"))
    assert_clear_usage_error(code, text, path)


@SETTINGS
@given(text=st.text(max_size=200))
def test_any_text_as_a_config_is_a_clear_error_or_a_valid_config(workdir: Path,
                                                                 text: str) -> None:
    try:
        parsed = yaml.safe_load(text)
    except yaml.YAMLError:
        parsed = None
    assume(not (isinstance(parsed, dict) and set(parsed) <= CONFIG_KEYS))
    path = workdir / "config.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    code, out = run_cli("scan", "--config", str(path), "-t",
                         "python:redline.plugins.targets.toys:echo",
                        "--db", str(workdir / "r.db"), "--no-progress")
    assert_clear_usage_error(code, out, path)


def test_a_missing_file_is_a_clear_error(workdir: Path) -> None:
    path = workdir / "nope.yaml"
    for args in (("catalog", "validate", str(path)), ("scan", "--config", str(path)),
                 ("gate", "latest", "--policy", str(path))):
        code, text = run_cli(*args)
        assert_clear_usage_error(code, text, path)


def test_a_directory_instead_of_a_file_is_a_clear_error(workdir: Path) -> None:
    path = workdir / "dir.yaml"
    path.mkdir()
    for args in (("scan", "--config", str(path)), ("gate", "latest", "--policy", str(path))):
        code, text = run_cli(*args)
        assert_clear_usage_error(code, text, path)
