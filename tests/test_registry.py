"""One registry for every pluggable kind, extendable through the `redline.plugins` entry point."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from pydantic import BaseModel, Field, ValidationError

from redline.core import registry
from redline.core.config import ScanConfig
from redline.core.registry import Params

ROOT = Path(__file__).resolve().parents[1]


def test_builtin_kinds_are_registered_with_descriptions() -> None:
    by_kind = {k: {p.name for p in registry.available(k)} for k in registry.KINDS}
    assert {"openai", "http", "python", "local", "demo"} <= by_kind["target"]
    assert {"marker", "canary_leak", "pii", "refusal", "llm_judge"} <= by_kind["detector"]
    assert {"identity", "base64", "many_shot", "repeat"} <= by_kind["mutator"]
    assert {"long_text", "control_chars", "empty"} <= by_kind["generator"]
    missing = [f"{p.kind}:{p.name}" for p in registry.available() if not p.description]
    assert missing == []


def test_plugin_decorator_get_and_validate_params() -> None:
    registry.add_kind("testkind")

    class Knobs(BaseModel):  # extra="forbid" is added by the registry
        level: int = Field(1, ge=1, le=3)

    @registry.plugin("testkind", "alpha", params=Knobs)
    def alpha() -> str:
        """First line is the description.

        More text that is not."""
        return "a"

    entry = registry.get("testkind", "alpha")
    assert entry.obj is alpha and entry.description == "First line is the description."
    assert registry.validate_params("testkind", "alpha", {"level": 2}).level == 2  # type: ignore[attr-defined]
    with pytest.raises(ValidationError, match="Extra inputs"):
        registry.validate_params("testkind", "alpha", {"levle": 2})
    with pytest.raises(ValidationError):
        registry.validate_params("testkind", "alpha", {"level": 9})
    with pytest.raises(registry.UnknownPlugin, match="known: alpha"):
        registry.get("testkind", "beta")
    with pytest.raises(registry.PluginError, match="already registered"):
        registry.register("testkind", "alpha", lambda: "other")
    with pytest.raises(registry.UnknownPlugin, match="unknown plugin kind"):
        registry.get("nokind", "x")


def test_plugin_without_params_takes_none() -> None:
    with pytest.raises(ValidationError, match="Extra inputs"):
        registry.validate_params("mutator", "identity", {"rate": 1})


def test_unknown_target_kind_lists_the_registered_ones() -> None:
    with pytest.raises(ValidationError,
                       match="known: classifier, demo, demo-classifier, http, local, openai, "
                       "python"):
        ScanConfig.model_validate({"target": {"kind": "grpc", "url": "x"}})
    cfg = ScanConfig.model_validate({"target": {"kind": "http", "url": "http://127.0.0.1:1/"}})
    assert cfg.model_dump()["target"]["url"] == "http://127.0.0.1:1/"


PLUGIN_MODULE = '''
"""A third-party plugin package: one mutator and one target kind."""
from redline.core.registry import Params, plugin


class ShoutParams(Params):
    times: int = 1


@plugin("mutator", "shout", params=ShoutParams)
def shout(text, rng, times=1):
    """Upper-case the input and add exclamation marks."""
    return text.upper() + "!" * times
'''


def _dist(root: Path, name: str, entry_points: str) -> None:
    info = root / f"{name}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[redline.plugins]\n{entry_points}\n")


def _run(code: str, path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(path), str(ROOT / "src")])}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, text=True,
                          capture_output=True, timeout=120)


def test_entry_point_plugin_from_an_installed_dist(tmp_path: Path) -> None:
    (tmp_path / "shout_plugin.py").write_text(PLUGIN_MODULE)
    _dist(tmp_path, "shout_plugin", "shout = shout_plugin")
    scenario = tmp_path / "s.yaml"
    scenario.write_text(textwrap.dedent("""\
        id: plugin-shout
        version: 1
        title: uses a plugin mutator
        objective: check plugins
        category: prompt_injection
        tags: {owasp: [LLM01]}
        severity: low
        author: tests
        inputs: [hello]
        mutators: [[{shout: {times: 3}}]]
        detectors: [refusal]
        expected: comply
        remediation: none needed
        rollback: none needed
        """))
    out = _run(f"""
        from pathlib import Path
        from redline.core import registry
        from redline.core.attempts import expand
        from redline.catalog import load_suite
        p = registry.get("mutator", "shout")
        print(p.description)
        (attempt,) = expand(load_suite({str(scenario)!r}), 0)
        print(attempt.messages[-1].content)
        """, tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["Upper-case the input and add exclamation marks.",
                                       "HELLO!!!"]


def test_broken_plugin_is_a_clear_error_not_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "broken_plugin.py").write_text("import no_such_module_anywhere\n")
    _dist(tmp_path, "broken_plugin", "broken = broken_plugin")
    out = _run("""
        from redline.core import registry
        assert registry.get("mutator", "identity")  # built-ins still work
        try:
            registry.get("mutator", "broken")
        except registry.UnknownPlugin as exc:
            print(exc)
        """, tmp_path)
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stdout + out.stderr
    assert "plugin 'broken' (broken_plugin, from broken_plugin 1.0) failed to load: " \
           "ModuleNotFoundError: No module named 'no_such_module_anywhere'" in out.stdout


def test_plugin_cannot_silently_replace_a_builtin(tmp_path: Path) -> None:
    (tmp_path / "evil_plugin.py").write_text(textwrap.dedent('''
        from redline.core.registry import plugin

        @plugin("detector", "marker")
        def marker(text, ctx, **params):
            """Never detects."""
        '''))
    _dist(tmp_path, "evil_plugin", "evil = evil_plugin")
    out = _run("""
        from redline.core import registry
        import redline.plugins.detectors.leak as leak
        assert registry.get("detector", "marker").obj is leak.marker
        print(registry.LOAD_ERRORS)
        """, tmp_path)
    assert out.returncode == 0, out.stderr
    assert "'marker' is already registered by redline.plugins.detectors.leak" in out.stdout


def test_params_base_forbids_unknown_fields() -> None:
    class P(Params):
        a: int = 0

    with pytest.raises(ValidationError):
        P.model_validate({"b": 1})


def _redline(args: list[str], path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(path), str(ROOT / "src")])}
    return subprocess.run([sys.executable, "-m", "redline", *args], env=env, text=True,
                          capture_output=True, timeout=120, cwd=path)


def test_plugins_command_lists_descriptions_and_parameters(tmp_path: Path) -> None:
    out = _redline(["plugins", "mutator"], tmp_path)
    assert out.returncode == 0, out.stderr
    assert "mutator many_shot  Prefix fake dialogue turns" in out.stdout
    assert "    shots: int 1..1024 = 32" in out.stdout
    assert "detector" not in out.stdout
    listing = _redline(["plugins", "--json"], tmp_path)
    import json

    rows = json.loads(listing.stdout)
    assert {r["kind"] for r in rows} >= {"target", "detector", "mutator", "generator",
                                         "category"}
    http = next(r for r in rows if r["kind"] == "target" and r["name"] == "http")
    assert {"name": "url", "type": "str", "default": "required"} in http["params"]
    bad = _redline(["plugins", "bogus"], tmp_path)
    assert bad.returncode == 2 and "unknown plugin kind 'bogus'" in bad.stderr


def test_plugins_command_reports_a_broken_plugin_with_exit_2(tmp_path: Path) -> None:
    (tmp_path / "broken_plugin.py").write_text("raise RuntimeError('half installed')\n")
    _dist(tmp_path, "broken_plugin", "broken = broken_plugin")
    out = _redline(["plugins", "detector"], tmp_path)
    assert out.returncode == 2
    assert "detector marker" in out.stdout
    assert "failed to load: RuntimeError: half installed" in out.stderr
    assert "Traceback" not in out.stderr
