"""Batched generation for the in-process model: one worker thread, jobs queued to it.

Requests wait up to GATHER_S for company, then run in batches of up to `max_batch` prompts of
similar length (at most BATCH_TOKENS padded tokens). Each prompt is prefilled on its own with
the key/values of its system prompt taken from a small cache, and the per-prompt caches are
stacked left-padded for decoding. With temperature > 0 each prompt samples from its own
generator seeded from the run seed and its tokens (`prompt_seed`), so an attempt gets the same
reply however requests were batched. Results go back to each job's event loop.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import queue
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

CONTEXT_TOKENS = 8192  # SmolLM2's trained context
MAX_BATCH = 16
BATCH_TOKENS = 8192  # padded prompt tokens per batch: long prompts go in small batches
MIN_PREFIX = 32  # shorter system prompts are not worth a cache
PREFIX_SLOTS = 8  # system prompts (with their retrieved articles) kept, ~50 MB each at most
GATHER_S = 0.02  # how long the worker waits for more requests to fill a batch


def trim_messages(messages: list[dict[str, str]], excess_chars: int) -> int:
    """Drop `excess_chars` from the start of non-system messages, oldest first.

    A serving stack that truncates keeps the most recent text, which is where an attack
    usually ends; the system prompt is never cut. Returns the characters dropped.
    """
    dropped = 0
    for m in messages:
        if excess_chars <= 0:
            break
        if m["role"] == "system":
            continue
        cut = min(len(m["content"]), excess_chars)
        m["content"] = m["content"][cut:]
        excess_chars -= cut
        dropped += cut
    return dropped


@dataclass
class Job:
    messages: list[dict[str, str]]
    future: asyncio.Future[tuple[str, int, int]]
    loop: asyncio.AbstractEventLoop
    ids: Any = None
    dropped: int = 0
    system: int = 0  # how many of ids are the system prompt (a cacheable prefix)


@dataclass
class Generator:
    """The model, its tokenizer, and the one thread that runs batched generation."""

    model: Any
    tokenizer: Any
    max_tokens: int
    temperature: float
    seed: int | None
    max_batch: int = MAX_BATCH
    _jobs: queue.Queue[Job | None] = field(default_factory=queue.Queue)
    _thread: threading.Thread | None = None
    _prefixes: OrderedDict[tuple[int, ...], Any] = field(default_factory=OrderedDict)
    _pending: list[Job] = field(default_factory=list)  # tokenised, oldest first

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="redline-local-llm", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._jobs.put(None)
            self._thread.join(timeout=30)
            self._thread = None

    def submit(self, job: Job) -> None:
        self._jobs.put(job)

    def encode(self, messages: list[dict[str, str]]) -> tuple[Any, int]:
        """Token ids for a chat, trimmed so that prompt + reply fit the context."""
        limit = CONTEXT_TOKENS - self.max_tokens
        dropped = 0
        while True:
            ids = self.tokenizer.apply_chat_template(
                messages, add_generation_prompt=True, tokenize=True, return_dict=False)
            if len(ids) < 2:  # a prompt is prefilled up to its last token: it needs two
                raise ValueError("the chat template renders this conversation as one token")
            if len(ids) <= limit:
                return ids, dropped
            chars = sum(len(m["content"]) for m in messages if m["role"] != "system")
            excess = max(1, int(chars * (len(ids) - limit) / len(ids)) + 16)
            cut = trim_messages(messages, excess)
            if cut == 0:
                raise ValueError(f"the system prompt alone exceeds {limit} tokens")
            dropped += cut

    def _gather(self) -> bool:
        """Move queued requests to the pending list, oldest first: wait for one when none is
        pending, then up to GATHER_S for a full batch. False once stop() was called."""
        deadline = time.monotonic() + GATHER_S
        while True:
            if not self._pending:
                timeout: float | None = None
            elif len(self._pending) >= self.max_batch:
                timeout = 0.0  # take what is queued already, wait for nothing
            else:
                timeout = max(0.0, deadline - time.monotonic())
            try:
                job = self._jobs.get(timeout=timeout)
            except queue.Empty:
                return True
            if job is None:
                return False
            if not self._pending:
                deadline = time.monotonic() + GATHER_S
            self._prepare(job)
            if job.ids is not None:
                self._pending.append(job)

    def _take_batch(self) -> list[Job]:
        """The oldest pending request and the pending ones closest to it in length, up to
        max_batch and BATCH_TOKENS padded tokens: similar lengths waste little on padding,
        and taking the oldest first means no request waits behind ever newer ones."""
        self._pending = [j for j in self._pending if not j.future.cancelled()]
        if not self._pending:
            return []
        first = self._pending[0]
        # sorted() is stable: among equally close lengths the older request goes first
        nearest = sorted(self._pending[1:], key=lambda j: abs(len(j.ids) - len(first.ids)))
        batch, width = [first], len(first.ids)
        for job in nearest:
            if len(batch) == self.max_batch:
                break
            if max(width, len(job.ids)) * (len(batch) + 1) <= BATCH_TOKENS:
                batch.append(job)
                width = max(width, len(job.ids))
        taken = {id(j) for j in batch}
        self._pending = [j for j in self._pending if id(j) not in taken]
        return batch

    def _prepare(self, job: Job) -> None:
        """Tokenise a job; a job whose caller gave up (time-out, Ctrl-C) is dropped."""
        if job.future.cancelled():
            return
        if job.ids is not None:
            return
        try:
            job.ids, job.dropped = self.encode(job.messages)
            job.system = self.system_length(job.messages, job.ids)
        except Exception as exc:
            _resolve(job, exc)

    def system_length(self, messages: list[dict[str, str]], ids: list[int]) -> int:
        """How many leading tokens of `ids` are the system message, 0 if none or if the
        template does not render it as a prefix of the whole chat."""
        if not messages or messages[0]["role"] != "system":
            return 0
        system = self.tokenizer.apply_chat_template(messages[:1], tokenize=True,
                                                    return_dict=False)
        return len(system) if ids[:len(system)] == system else 0

    def _run(self) -> None:
        while self._gather():
            batch = self._take_batch()
            if not batch:
                continue
            try:
                outputs = self._generate(batch)
            except Exception as exc:
                for j in batch:
                    _resolve(j, exc)
                continue
            for j, (text, tokens) in zip(batch, outputs, strict=True):
                _resolve(j, (text, tokens, j.dropped))

    def _system_cache(self, prefix: tuple[int, ...]) -> Any:
        """A copy of the key/values of a system prompt, computed once and kept (LRU)."""
        import torch
        from transformers import DynamicCache

        cached = self._prefixes.pop(prefix, None)
        if cached is None:
            cached = DynamicCache()
            with torch.inference_mode():
                self.model(input_ids=torch.tensor([list(prefix)]), cache=cached, use_cache=True)
        self._prefixes[prefix] = cached  # most recently used last
        while len(self._prefixes) > PREFIX_SLOTS:
            self._prefixes.popitem(last=False)
        return copy.deepcopy(cached)  # the prompt's own tokens extend the copy in place

    def _prefill(self, job: Job) -> Any:
        """Key/values of all of a prompt but its last token, alone (no padding): the system
        prompt's part from the cache, the rest computed here."""
        import torch
        from transformers import DynamicCache

        ids = job.ids
        system = min(job.system, len(ids) - 1)
        cache = (self._system_cache(tuple(ids[:system])) if system >= MIN_PREFIX
                 else DynamicCache())
        rest = ids[cache.get_seq_length():-1]
        if rest:
            with torch.inference_mode():
                self.model(input_ids=torch.tensor([rest]), cache=cache, use_cache=True)
        return cache

    def _generate(self, batch: list[Job]) -> list[tuple[str, int]]:
        """Greedy (or seeded) generation for a batch.

        Each prompt is prefilled on its own, so a short prompt costs no padding in a batch
        of long ones; the key/values are then left-padded to one width, masked out, and the
        batch decodes together, which gives each prompt the tokens it gets alone.
        """
        import torch

        pad = self.tokenizer.pad_token_id
        prompts = [j.ids for j in batch]
        width = max(len(p) for p in prompts)
        cache = _stack_left_padded([self._prefill(j) for j in batch], width - 1)
        input_ids = torch.tensor([[pad] * (width - len(p)) + p for p in prompts])
        mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts])
        extra: dict[str, Any] = {"do_sample": False, "cache": cache}
        if self.temperature > 0:  # sampled per prompt; generate() then takes the sampled token
            from transformers import LogitsProcessorList

            seeds = [prompt_seed(self.seed, p) for p in prompts]
            extra["logits_processor"] = LogitsProcessorList(
                [SeededSampler(seeds, self.temperature)])
        with torch.inference_mode():
            out = self.model.generate(input_ids=input_ids, attention_mask=mask,
                                      max_new_tokens=self.max_tokens, pad_token_id=pad,
                                      **extra)
        results = []
        eos = self.tokenizer.eos_token_id
        for row in out[:, width:].tolist():
            n = row.index(eos) if eos in row else len(row)
            results.append((self.tokenizer.decode(row[:n], skip_special_tokens=True), n))
        return results


def _stack_left_padded(caches: list[Any], width: int) -> Any:
    """One batch cache from single-prompt caches, each left-padded with zeros to `width`."""
    import torch
    from transformers import DynamicCache

    layers = []
    for per_row in zip(*(list(c) for c in caches), strict=True):
        keys = [k for k, _, _ in per_row]
        values = [v for _, v, _ in per_row]
        layers.append((_pad_cat(keys, width, torch), _pad_cat(values, width, torch)))
    return DynamicCache(ddp_cache_data=layers)


def _pad_cat(tensors: list[Any], width: int, torch: Any) -> Any:
    """[1, heads, n, dim] tensors zero-padded on the left to `width`, stacked on dim 0."""
    return torch.cat([torch.nn.functional.pad(t, (0, 0, width - t.shape[-2], 0))
                      for t in tensors], dim=0)


def prompt_seed(seed: int | None, prompt: list[int]) -> int:
    """A sampling seed for one prompt: the run seed and the prompt's tokens, nothing else."""
    h = hashlib.sha256(f"{seed or 0}:".encode() + b",".join(b"%d" % i for i in prompt))
    return int.from_bytes(h.digest()[:8], "big")


class SeededSampler:
    """A logits processor that samples each row from its own seeded generator at a
    temperature and leaves only that token, so a greedy step picks it. A row's draws do not
    depend on the other rows of its batch."""

    def __init__(self, seeds: list[int], temperature: float):
        import torch

        self.temperature = temperature
        self.generators = [torch.Generator().manual_seed(s) for s in seeds]

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import torch

        probs = torch.softmax(scores.float() / self.temperature, dim=-1)
        out = torch.full_like(scores, float("-inf"))
        for row, gen in enumerate(self.generators):
            token = torch.multinomial(probs[row], 1, generator=gen)
            out[row, token] = 0.0
        return out


def _resolve(job: Job, outcome: tuple[str, int, int] | BaseException) -> None:
    def settle() -> None:
        if job.future.done():
            return
        if isinstance(outcome, BaseException):
            job.future.set_exception(outcome)
        else:
            job.future.set_result(outcome)

    job.loop.call_soon_threadsafe(settle)
