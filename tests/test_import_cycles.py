"""tools/import_cycles.py: no import cycle in redline, deferred imports included, and the tool
finds one."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _tool():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("redline_cycles_tool",
                                                  ROOT / "tools" / "import_cycles.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _package(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / "pkg" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_redline_has_no_import_cycle(capsys) -> None:  # type: ignore[no-untyped-def]
    tool = _tool()
    assert tool.main(["--src", str(ROOT / "src")]) == 0
    assert " 0 cycle(s)" in capsys.readouterr().out
    # imports inside functions too: a cycle deferred is still two modules that need each other
    assert tool.main(["--src", str(ROOT / "src"), "--deferred"]) == 0
    assert " 0 cycle(s)" in capsys.readouterr().out


def test_a_planted_cycle_is_found_and_deferred_imports_only_count_when_asked(
    tmp_path: Path, capsys  # type: ignore[no-untyped-def]
) -> None:
    tool = _tool()
    src = _package(tmp_path, {
        "__init__.py": "",
        "a.py": "from pkg.sub import b\n",
        "sub/__init__.py": "",
        "sub/b.py": "from .. import c\n",
        "c.py": "import pkg.a\n",
        "d.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pkg.e\n"
                "def f():\n    import pkg.e\n",
        "e.py": "try:\n    import pkg.d\nexcept ImportError:\n    pass\n",
    })
    edges = tool.graph(src, "pkg", deferred=False)
    assert edges["pkg.a"] == {"pkg.sub.b"} and edges["pkg.sub.b"] == {"pkg.c"}
    assert edges["pkg.d"] == set() and edges["pkg.e"] == {"pkg.d"}
    assert tool.components(edges) == [["pkg.a", "pkg.c", "pkg.sub.b"]]
    assert tool.one_cycle(edges, ["pkg.a", "pkg.c", "pkg.sub.b"]) == [
        "pkg.a", "pkg.sub.b", "pkg.c", "pkg.a"]
    assert tool.main(["--src", str(src), "--package", "pkg"]) == 1
    assert "1 cycle(s)" in capsys.readouterr().out
    deferred = tool.graph(src, "pkg", deferred=True)
    assert tool.components(deferred) == [["pkg.a", "pkg.c", "pkg.sub.b"], ["pkg.d", "pkg.e"]]
