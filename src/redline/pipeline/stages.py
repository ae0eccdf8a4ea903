"""What a pipeline declares about its stages; cascade scenarios are checked against it.

A pipeline (the guarded demo app, a declared YAML pipeline, a plugin's) names its own stages.
Each stage may say which turn fields it produces (what a `stale` fault replays and a `partial`
one cuts: a stage that declares none cannot go stale), what a partial fault cuts there, and
which `wrong_output` modes apply to it (None: every mode).
Pipelines are `pipeline` plugins (`redline plugins pipeline`): a `Pipeline` that declares the
stages and starts the running system. A cascade scenario's `stage:` and fault are validated
against the chosen pipeline when its file is loaded, so a typo is an error at its line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from redline.plugins.fault_spec import FaultSpec

if TYPE_CHECKING:
    from redline.pipeline.system import System

# what a partial fault cuts: the message the stage reads (a filter on the way in), the reply
# that goes through it (a filter on the way out), or what it produces (its outputs)
Cuts = Literal["input", "output", "outputs"]
CUTTABLE = ("documents", "prompt", "reply")

@dataclass(frozen=True)
class StageInfo:
    name: str
    outputs: tuple[str, ...] = ()  # the turn fields it produces (what a stale fault replays)
    wrong_modes: tuple[str, ...] | None = None  # wrong_output modes that apply (None: all)
    cuts: Cuts = "outputs"

@dataclass(frozen=True)
class Pipeline:
    """A pipeline's declaration: its name, its stages in order, and how to start it
    (`start(scenario, model, seed) -> System`). A pipeline assembled from a scenario's
    `system:` block (the demo app) says so with `takes_system`; a scenario that gives that
    block to any other pipeline is refused when its file is loaded, never silently ignored."""

    name: str
    stages: tuple[StageInfo, ...]
    start: Callable[[Any, str, int | None], System]
    label: str = ""  # how runs name the target (default: pipeline:NAME)
    takes_system: bool = False

    @property
    def stage_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.stages)

    def stage(self, name: str) -> StageInfo:
        for info in self.stages:
            if info.name == name:
                return info
        raise ValueError(f"pipeline {self.name!r} has no stage {name!r}; its stages: "
                         f"{list(self.stage_names)}")

    def check_fault(self, stage: str, fault: FaultSpec) -> None:
        """A ValueError saying why `fault` cannot be injected at `stage`, if it cannot."""
        info = self.stage(stage)
        modes = info.wrong_modes
        if fault.mode is not None and modes is not None and fault.mode not in modes:
            raise ValueError(f"wrong_output mode {fault.mode!r} does not apply to stage "
                             f"{stage!r} (modes there: {list(modes) or 'none'})")
        if fault.kind == "stale" and not info.outputs:
            raise ValueError(f"stage {stage!r} of pipeline {self.name!r} declares no outputs, "
                             "so it has nothing to serve stale")
        if fault.kind == "partial" and info.cuts == "outputs" and \
                not set(info.outputs) & set(CUTTABLE):
            raise ValueError(f"stage {stage!r} of pipeline {self.name!r} declares none of "
                             f"{list(CUTTABLE)} among its outputs, so nothing to cut")
