"""All SQL lives behind the store interface: the gate, the risk register and the reports
call store methods only, so a second backend does not touch them."""

from __future__ import annotations

import ast
from pathlib import Path

import redline

PACKAGE = Path(redline.__file__).parent
CLIENTS = [*sorted((PACKAGE / "gate").glob("*.py")), *sorted((PACKAGE / "report").glob("*.py"))]


def sql_calls(path: Path, chained_only: bool = False) -> list[str]:
    """`<anything>.db` (with `chained_only`: `<anything>.db.<method>`, a store's raw
    connection, not a config field) and SQL keywords in string constants."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if chained_only and isinstance(node, ast.Attribute) and \
                isinstance(node.value, ast.Attribute) and node.value.attr == "db":
            found.append(f"{path.name}:{node.lineno}: .db.{node.attr}")
        elif not chained_only and isinstance(node, ast.Attribute) and node.attr == "db":
            found.append(f"{path.name}:{node.lineno}: .db")
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and any(
                kw in node.value for kw in ("SELECT ", "INSERT ", "UPDATE ", "DELETE FROM")):
            found.append(f"{path.name}:{node.lineno}: SQL text")
    return found


def test_gate_and_reports_hold_no_sql() -> None:
    assert len(CLIENTS) > 10
    assert [hit for path in CLIENTS for hit in sql_calls(path)] == []


def test_no_module_outside_the_store_runs_sql() -> None:
    """Review, evidence, scan, replay...: every module but redline.store goes through the
    interface, so each works the same on every backend."""
    outside = [p for p in sorted(PACKAGE.rglob("*.py")) if "store" not in p.relative_to(
        PACKAGE).parts[:1]]
    assert PACKAGE / "evidence" / "review.py" in outside and len(outside) > 50
    assert [hit for path in outside for hit in sql_calls(path, True)] == []
