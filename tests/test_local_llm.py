"""The bundled local model: prompt fitting, batching with a shared prefix, and the real model."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from conftest import LoadedModel
from redline.core.models import Message, TargetRequest
from redline.plugins.targets.local_batching import trim_messages
from redline.plugins.targets.local_llm import clean_text


def test_trim_keeps_system_prompt_and_the_end_of_the_conversation() -> None:
    messages = [{"role": "system", "content": "S" * 50},
                {"role": "user", "content": "old" * 10},
                {"role": "user", "content": "abcdefghij"}]
    dropped = trim_messages(messages, 35)
    assert dropped == 35
    assert messages[0]["content"] == "S" * 50
    assert messages[1]["content"] == "" and messages[2]["content"] == "fghij"


def test_lone_surrogates_become_replacement_characters() -> None:
    assert clean_text("a\ud800b\udfffc") == "a\ufffdb\ufffdc"
    assert clean_text("plain ünïcode") == "plain ünïcode"


def test_batches_take_the_oldest_request_and_those_closest_to_it_in_length() -> None:
    from redline.plugins.targets import local_llm

    loop = asyncio.new_event_loop()
    try:
        gen = local_llm.Generator(model=None, tokenizer=None, max_tokens=8, temperature=0.0,
                                  seed=None, max_batch=3)
        lengths = [500, 100, 480, 900, 510, 120, 3000]
        jobs = [local_llm.Job(messages=[], future=loop.create_future(), loop=loop,
                              ids=[0] * n) for n in lengths]
        jobs[4].future.cancel()  # a caller that gave up is never generated for
        gen._pending = list(jobs)
        assert [len(j.ids) for j in gen._take_batch()] == [500, 480, 120]
        # the rest keep their age order: the oldest of them leads the next batch
        assert [len(j.ids) for j in gen._pending] == [100, 900, 3000]
        assert [len(j.ids) for j in gen._take_batch()] == [100, 900]  # 3000 would not fit
        assert [len(j.ids) for j in gen._take_batch()] == [3000]
        assert gen._take_batch() == [] and gen._pending == []
    finally:
        loop.close()


@pytest.mark.slow
def test_real_model_batched_replies_match_single_replies(smollm2: LoadedModel) -> None:
    system = Message("system", "You are a terse assistant for a bicycle shop. " * 8)
    other = Message("system", "You are a terse assistant for a bakery. " * 12)
    chats = [(system, Message("user", "Name a colour.")),
             (system, Message("user", "What is 2 + 2? " * 20)),  # a longer prompt
             (other, Message("user", "Say hello in French.")),  # another system prompt
             (Message("user", "Name a fruit that is yellow."),),  # none at all
             (system, Message("user", "What is 2 + 2? " * 20))]  # the cached system prompt

    async def ask(together: bool) -> list[str]:
        target = smollm2.target(max_tokens=32)
        try:
            requests = [TargetRequest(chat, f"a{i}") for i, chat in enumerate(chats)]
            if together:
                replies = await asyncio.gather(*(target.send(r) for r in requests))
            else:
                replies = [await target.send(r) for r in requests]
        finally:
            await target.aclose()
        assert all(r.ok and r.text and r.tokens for r in replies), replies
        return [r.text or "" for r in replies]

    batched = asyncio.run(ask(True))
    single = asyncio.run(ask(False))
    assert batched == single  # greedy, with or without batching and the prefix cache
    assert batched[1] == batched[4]


@pytest.mark.slow
def test_sampled_replies_are_seeded_per_attempt_at_any_batch_size(smollm2: LoadedModel) -> None:
    system = Message("system", "You are a chatty assistant for a bicycle shop. " * 8)
    questions = ["Tell me about bells.", "Describe a saddle.", "Pick a colour for a frame.",
                 "Say something about tyres.", "Describe a helmet."]

    async def ask(max_batch: int, seed: int) -> list[str]:
        target = smollm2.target(max_tokens=16, temperature=1.0, seed=seed, max_batch=max_batch)
        try:
            replies = await asyncio.gather(*(
                target.send(TargetRequest((system, Message("user", q)), f"a{i}"))
                for i, q in enumerate(questions)))
        finally:
            await target.aclose()
        assert all(r.ok and r.text for r in replies), replies
        return [r.text or "" for r in replies]

    one_at_a_time, all_at_once = asyncio.run(ask(1, 7)), asyncio.run(ask(5, 7))
    assert one_at_a_time == all_at_once
    assert asyncio.run(ask(5, 8)) != all_at_once  # the seed does choose the samples


@pytest.mark.slow
def test_loading_the_bundled_model_writes_nothing_to_stderr(smollm2: LoadedModel) -> None:
    assert "Converting" not in smollm2.load_stderr  # the converter's progress bar is quiet
    assert smollm2.load_stderr == ""


@pytest.mark.slow
def test_default_demo_target_scans_with_the_real_model(tmp_path: Path,
                                                        shared_model_loader: object) -> None:
    from typer.testing import CliRunner

    from redline.cli import app

    result = CliRunner().invoke(app, ["scan", "--suite", "bc-haiku-*", "--no-progress",
                                      "--db", str(tmp_path / "r.db"),
                                      "--out", str(tmp_path / "out")])
    assert result.exit_code in (0, 1), result.output
    (run_dir,) = (tmp_path / "out").iterdir()
    report = json.loads((run_dir / "report.json").read_text())
    assert report["summary"]["total"]["attempts"] == 2
    assert report["summary"]["total"]["errors"] == 0
    assert report["manifest"]["target"]["model"]["backend"] == "transformers"
