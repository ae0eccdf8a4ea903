"""Numeric options are range-checked by typer itself: out of range is exit 2 naming the
option, before the command does anything."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from redline.cli import app
from redline.core.errors import RedlineError

OUT_OF_RANGE = [
    (["monitor", "-", "--once", "--window", "0"], "--window"),
    (["monitor", "-", "--once", "--step", "-5"], "--step"),
    (["monitor", "-", "--once", "--reference-records", "0"], "--reference-records"),
    (["monitor", "-", "--once", "--alpha", "1.5"], "--alpha"),
    (["monitor", "-", "--once", "--alpha", "-0.1"], "--alpha"),
    (["monitor", "-", "--once", "--min-psi", "-1"], "--min-psi"),
    (["monitor", "-", "--once", "--min-rate-delta", "2"], "--min-rate-delta"),
    (["monitor", "-", "--interval", "-1"], "--interval"),
    (["export-training", "latest", "--heldout", "1.5"], "--heldout"),
    (["export-training", "latest", "--heldout", "-0.2"], "--heldout"),
]


@pytest.mark.parametrize(("args", "option"), OUT_OF_RANGE)
def test_an_out_of_range_option_is_a_usage_error_naming_it(
    args: list[str], option: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(app, args, input="")
    assert res.exit_code == 2, res.output
    assert f"'{option}'" in res.output and "Traceback" not in res.output
    assert list(tmp_path.iterdir()) == []  # nothing ran: no store, no report


def test_a_value_at_the_bound_gets_past_the_range_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(app, ["export-training", "latest", "--heldout", "0",
                                   "--db", str(tmp_path / "none.db")])
    # refused for the missing store, not for the share
    assert isinstance(res.exception, RedlineError) and "no store at" in str(res.exception)
    assert "--heldout" not in res.output
