"""All SQL lives behind the store interface: the gate, the risk register and the reports
call store methods only, so a second backend does not touch them."""

from __future__ import annotations

import ast
from pathlib import Path

import redline

PACKAGE = Path(redline.__file__).parent
CLIENTS = [*sorted((PACKAGE / "gate").glob("*.py")), *sorted((PACKAGE / "report").glob("*.py"))]


def sql_calls(path: Path) -> list[str]:
    """`<anything>.db.execute(...)`-style calls and SQL keywords in string constants."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Attribute) and node.attr == "db":
            found.append(f"{path.name}:{node.lineno}: .db")
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and any(
                kw in node.value for kw in ("SELECT ", "INSERT ", "UPDATE ", "DELETE FROM")):
            found.append(f"{path.name}:{node.lineno}: SQL text")
    return found


def test_gate_and_reports_hold_no_sql() -> None:
    assert len(CLIENTS) > 10
    assert [hit for path in CLIENTS for hit in sql_calls(path)] == []
