"""A self-contained HTML report. All target output is attacker-controlled: autoescape on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

_ENV = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_html(doc: dict[str, Any]) -> str:
    return _ENV.get_template("report.html.j2").render(doc=doc)
