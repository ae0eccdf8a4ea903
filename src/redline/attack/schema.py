"""The `attack` scenario kind, its budget, and the attacker prompts of the catalog."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from redline.catalog.schema import Scenario, Strict
from redline.core import registry
from redline.core.registry import plugin

ATTACKERS_DIR = Path(__file__).resolve().parent.parent / "catalog" / "attackers"

PositiveInt = Annotated[int, Field(ge=1, le=100_000)]


class AttackerPrompt(Strict):
    """A catalog file under catalog/attackers/: the attacker's system prompt, versioned.
    `{objective}` in the text is the attempt's objective."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{1,80}$")
    version: int = Field(ge=1)
    title: str = Field(min_length=3)
    system: str = Field(min_length=20)

    @property
    def key(self) -> str:
        return f"{self.id}@{self.version}"


def load_attacker_prompt(name: str) -> AttackerPrompt:
    """The catalog's attacker prompt `name`; a ValueError lists the known ones."""
    from redline.core.yamlfile import load_model

    path = ATTACKERS_DIR / f"{name}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in ATTACKERS_DIR.glob("*.yaml"))
        raise ValueError(f"unknown attacker prompt {name!r}; known: {', '.join(known)}")
    return load_model(AttackerPrompt, path)


class AttackerRef(Strict):
    """Which attacker prompt drives the attack. The text is copied in when the file loads,
    so a stored run keeps the exact prompt it used (a replay does not read the catalog)."""

    prompt: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{1,80}$")
    version: int | None = Field(None, ge=1)
    system: str | None = None

    @model_validator(mode="after")
    def _resolve(self) -> AttackerRef:
        if self.system is not None:
            if self.version is None:
                raise ValueError("an inline attacker prompt needs its version")
            return self
        found = load_attacker_prompt(self.prompt)
        if self.version is not None and self.version != found.version:
            raise ValueError(f"attacker prompt {self.prompt!r} is version {found.version} in "
                             f"the catalog, not {self.version}")
        object.__setattr__(self, "version", found.version)
        object.__setattr__(self, "system", found.system)
        return self

    @property
    def key(self) -> str:
        return f"{self.prompt}@{self.version}"


class Budget(Strict):
    """Per-attempt caps; the attack stops at the first one reached (never an error)."""

    max_queries: PositiveInt = Field(20, description="target queries")
    max_attacker_calls: PositiveInt | None = Field(
        None, description="attacker calls (default: twice max_queries)")
    max_tokens: PositiveInt | None = Field(None, description="target + attacker tokens")
    max_seconds: float | None = Field(
        None, gt=0, description="target + attacker call time (recorded latencies, so a "
        "replay stops where the run stopped)")
    max_cost: float | None = Field(
        None, gt=0, description="estimated cost at the run's prices (budget.prices)")

    @property
    def attacker_calls(self) -> int:
        return self.max_attacker_calls or 2 * self.max_queries


def _attack_strategy(name: str) -> str | None:
    """The strategy's default attacker prompt; a ValueError if it is no attack strategy."""
    entry = registry.get("strategy", name)
    if not getattr(entry.obj, "attack", False):
        attack = [n for n in registry.names("strategy")
                  if getattr(registry.get("strategy", n).obj, "attack", False)]
        raise ValueError(f"strategy {name!r} is not an attack strategy (attack strategies: "
                         f"{', '.join(attack)})")
    return getattr(entry.obj, "default_prompt", None)


@plugin("scenario", "attack")
class AttackScenario(Scenario):
    """An adaptive attack: each input is an objective pursued by an attack strategy."""

    kind: Literal["attack"] = "attack"  # type: ignore[assignment]
    attacker: AttackerRef | None = Field(
        None, description="attacker prompt from catalog/attackers (default: the strategy's)")
    budget: Budget = Budget()

    @model_validator(mode="before")
    @classmethod
    def _attacker_shorthand(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("attacker"), str):
            name, _, version = data["attacker"].partition("@")
            ref: dict[str, Any] = {"prompt": name}
            if version:
                ref["version"] = int(version) if version.isdigit() else version
            data = {**data, "attacker": ref}
        return data

    @model_validator(mode="after")
    def _attack_needs(self) -> AttackScenario:
        if self.strategy is None:
            raise ValueError("an attack scenario names its strategy (strategy: pair, ...)")
        default = _attack_strategy(self.strategy.name)
        if self.attacker is None and default is not None:
            object.__setattr__(self, "attacker", AttackerRef(prompt=default))
        if self.generator is None and not all(isinstance(i, str) for i in self.inputs):
            raise ValueError("an attack's inputs are objectives: plain text, not conversations")
        return self
