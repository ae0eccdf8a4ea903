"""Shared fixtures. The bundled model takes ~25 s to load from its GGUF file on 2 cores, so
the tests that need the real model share one loaded copy per test session."""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pg_server import BrokenPostgres, NoPostgres, Server, postgres_server


@dataclass(frozen=True)
class LoadedModel:
    path: Path
    model: Any
    tokenizer: Any
    load_stderr: str  # what loading wrote to stderr (it should write nothing)

    def target(self, max_tokens: int = 64, temperature: float = 0.0, seed: int | None = None,
               max_batch: int | None = None) -> Any:
        """A fresh local target (its own generator thread) around the shared model."""
        from redline.plugins.targets.local_llm import Generator, LocalLLMTarget

        gen = Generator(model=self.model, tokenizer=self.tokenizer, max_tokens=max_tokens,
                        temperature=temperature, seed=seed)
        if max_batch is not None:
            gen.max_batch = max_batch
        gen.start()
        return LocalLLMTarget(generator=gen, model_path=self.path)


@pytest.fixture(scope="session")
def smollm2() -> LoadedModel:
    """The bundled SmolLM2 model, loaded once through redline's own loader."""
    pytest.importorskip("transformers")
    from redline.plugins.targets.local_llm import bundled_model_path, load_model

    path = bundled_model_path()
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        model, tokenizer = load_model(path)
    return LoadedModel(path=path, model=model, tokenizer=tokenizer, load_stderr=err.getvalue())


@pytest.fixture
def shared_model_loader(smollm2: LoadedModel,
                        monkeypatch: pytest.MonkeyPatch) -> Callable[[Path], tuple[Any, Any]]:
    """Makes redline's loader hand out the session's model for the bundled file."""
    from redline.plugins.targets import local_llm

    real = local_llm.load_model

    def load(path: Path) -> tuple[Any, Any]:
        if path == smollm2.path:
            return smollm2.model, smollm2.tokenizer
        return real(path)

    monkeypatch.setattr(local_llm, "load_model", load)
    return load


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Server]:
    """One real PostgreSQL server for the session (tests/pg_server.py). Skipped, with the
    reason, only where none can be had; a broken install or start is a failure, and so is
    no server at all with REDLINE_REQUIRE_POSTGRES=1."""
    try:
        with postgres_server() as server:
            yield server
    except NoPostgres as exc:
        if isinstance(exc, BrokenPostgres) or os.environ.get("REDLINE_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL store tests cannot run: {exc}")
        pytest.skip(f"NO POSTGRESQL SERVER, postgres store tests not run: {exc}")


@pytest.fixture(params=["sqlite", "postgres"])
def db_location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh store location on each backend: a SQLite file, a new PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "r.db")
    return request.getfixturevalue("pg_server").new_database()
