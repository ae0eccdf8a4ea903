"""Tiny in-process targets: instant, deterministic, for tests, benchmarks and examples."""

from __future__ import annotations

import asyncio
from typing import Any


def _last_user(messages: list[dict[str, Any]]) -> str:
    return next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")


def echo(messages: list[dict[str, Any]]) -> str:
    """Replies with the last user message: leaks whatever it is given, refuses nothing."""
    return _last_user(messages) or "(empty)"


def refuse(messages: list[dict[str, Any]]) -> str:
    """Refuses everything, benign requests included."""
    return "I'm sorry, I can't help with that."


def parrot_system(messages: list[dict[str, Any]]) -> str:
    """Repeats its system prompt when asked anything: the worst possible assistant."""
    system = next((m["content"] for m in messages if m["role"] == "system"), "")
    return f"My instructions are: {system}\nYou said: {_last_user(messages)}"


async def slow_echo(messages: list[dict[str, Any]]) -> str:
    """`echo` after 20 ms: keeps attempts in flight, for resume and kill tests."""
    await asyncio.sleep(0.02)
    return echo(messages)


for _fn in (echo, refuse, parrot_system, slow_echo):
    _fn.redline_inline = True  # type: ignore[attr-defined]
