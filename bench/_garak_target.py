"""The instant target on garak's side: a function generator that echoes the prompt.

garak's function.Single generator calls `echo(prompt)` and expects a list of replies; one
reply per call, the same reply redline's python:redline.plugins.targets.toys:echo gives.
"""

from __future__ import annotations


def echo(prompt: str, **kwargs: object) -> list[str]:
    return [prompt or "(empty)"]
