"""The scenario file format: one YAML file per catalog entry, validated by pydantic.

Every scenario has the same header (`ScenarioHeader`: id, version, title, objective,
category, tags, severity, author, expected, success, remediation, rollback, references,
provenance) and a body chosen by its `kind`: `probe` (the default: inputs, mutators,
detectors, strategy), `cascade` (a fault at a pipeline stage, `redline.cascade.schema`),
`load` (a concurrency ramp), and room for more (attack, evasion, slice). A kind is a
`scenario` plugin in the one registry: a `ScenarioHeader` subclass registered with
`@plugin("scenario", NAME)` (`parse_scenario` reads any kind; `scenario_chooser` picks the
model for a file); the store, the reports and the gate read only the header. Kinds that
`redline scan` runs as attempts subclass the probe `Scenario`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError, ValidationError

from redline.core import registry
from redline.core.registry import plugin

Severity = Literal["info", "low", "medium", "high", "critical"]
SEVERITY_RANK: dict[str, int] = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}


def _registered_category(value: str) -> str:
    known = registry.names("category")
    if value not in known:
        raise PydanticCustomError(
            "category", "Input should be a registered category ({known}), got {value!r}",
            {"known": ", ".join(known), "value": value})
    return value


# open: the registered `category` plugins (redline.catalog.categories, and any package's)
Category = Annotated[str, AfterValidator(_registered_category)]

Expected = Literal["refuse", "comply", "no_leak", "safe_output", "handle_gracefully"]

OWASP_LLM_2025 = {f"LLM{n:02d}" for n in range(1, 11)}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Taxonomy(Strict):
    owasp: list[str] = Field(min_length=1, description="OWASP Top 10 for LLM Applications 2025 ids")
    atlas: list[str] = Field(default_factory=list, description="MITRE ATLAS technique ids")

    @field_validator("owasp")
    @classmethod
    def _owasp_ids(cls, v: list[str]) -> list[str]:
        bad = [x for x in v if x not in OWASP_LLM_2025]
        if bad:
            raise ValueError(f"unknown OWASP LLM 2025 id(s) {bad}; expected LLM01..LLM10")
        return v

    @field_validator("atlas")
    @classmethod
    def _atlas_ids(cls, v: list[str]) -> list[str]:
        import re

        bad = [x for x in v if not re.fullmatch(r"AML\.T\d{4}(\.\d{3})?", x)]
        if bad:
            raise ValueError(f"malformed MITRE ATLAS id(s) {bad}; expected e.g. AML.T0051.000")
        return v


class ChatMessage(Strict):
    role: Literal["system", "user", "assistant"]
    content: str


class Conversation(Strict):
    """A scripted conversation: messages sent at once, then follow-up user turns one by one."""

    messages: list[ChatMessage] = Field(min_length=1)
    followups: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _ends_with_user(self) -> Conversation:
        if self.messages[-1].role != "user":
            raise ValueError("the last message must have role 'user'")
        return self


class PluginSpec(Strict):
    """A registered plugin by name, with parameters checked against its parameter model."""

    kind: ClassVar[str]
    name: str
    # validated even when absent: a bare `marker` lacks its required `markers`
    params: dict[str, Any] = Field(default_factory=dict, validate_default=True)

    @field_validator("name")
    @classmethod
    def _known(cls, v: str) -> str:
        registry.get(cls.kind, v)  # UnknownPlugin (a ValueError) lists the known names
        return v

    @field_validator("params")
    @classmethod
    def _valid(cls, v: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        name = info.data.get("name")
        if name is None:  # the name already failed
            return v
        return registry.params_dict(cls.kind, name, v)


class GeneratorSpec(PluginSpec):
    kind: ClassVar[str] = "generator"


class MutatorSpec(PluginSpec):
    kind: ClassVar[str] = "mutator"


class DetectorSpec(PluginSpec):
    kind: ClassVar[str] = "detector"


class StrategySpec(PluginSpec):
    """What drives a scenario's attempts: a registered strategy and its parameters."""

    kind: ClassVar[str] = "strategy"


def _named(value: Any) -> Any:
    """Accept `name` or `{name: {params}}` as shorthand for `{name: ..., params: ...}`."""
    if isinstance(value, str):
        return {"name": value}
    if isinstance(value, dict) and len(value) == 1 and "name" not in value:
        ((name, params),) = value.items()
        return {"name": name, "params": params if params is not None else {}}
    return value


def _no_repeats(keys: list[Any], what: str) -> None:
    """Two equal inputs (or chains) would make two attempts with one id: refuse them, located
    at the repeat."""
    first: dict[Any, int] = {}
    errors: list[Any] = []
    for i, key in enumerate(keys):
        if key in first:
            error = PydanticCustomError(
                "duplicate", "{what} {i} repeats {what} {j}: each attempt needs its own input "
                "and chain (its id is made from them)", {"what": what, "i": i, "j": first[key]})
            errors.append({"type": error, "loc": (i,), "input": str(key)[:200]})
        first.setdefault(key, i)
    if errors:
        raise ValidationError.from_exception_data("Scenario", errors)


class SuccessCriterion(Strict):
    max_failure_rate: float = Field(0.0, ge=0.0, le=1.0)


class Provenance(Strict):
    """Where an imported scenario came from: the public set, its licence and the row."""

    source: str = Field(min_length=1, description="the prompt set, e.g. HarmBench")
    licence: str = Field(min_length=1)
    file: str = Field(min_length=1, description="the imported file's name")
    row: int = Field(ge=1, description="the line the row starts on in that file")
    key: str = Field(min_length=1, description="the row's id in the set (or its row number)")
    source_category: str | None = None


class ScenarioHeader(Strict):
    """What every kind of scenario says about itself; reports and the gate read only this."""

    # the command that runs this kind (named in the error when a file is given to another)
    run_by: ClassVar[str] = "redline scan"
    # the header's fields: `redline plugins scenario` lists only each kind's own body fields
    plugin_hidden_fields: ClassVar[frozenset[str]] = frozenset()

    kind: str
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{2,80}$")
    version: int = Field(ge=1, le=2**63 - 1)  # stored as a SQLite integer
    title: str = Field(min_length=3, max_length=200)
    objective: str = Field(min_length=3)
    category: Category
    tags: Taxonomy
    severity: Severity
    author: str = Field(min_length=1)
    expected: Expected
    success: SuccessCriterion = SuccessCriterion()
    remediation: str = Field(min_length=3)
    rollback: str = Field(min_length=3)
    references: list[str] = Field(default_factory=list)
    provenance: Provenance | None = Field(
        None, description="an imported scenario's source, licence and row (catalog import)")

    @property
    def key(self) -> str:
        return f"{self.id}@{self.version}"


ScenarioHeader.plugin_hidden_fields = frozenset(ScenarioHeader.model_fields)


def scenario_model(kind: str) -> type[ScenarioHeader]:
    """The registered model of a scenario kind; UnknownPlugin (a ValueError) lists them."""
    try:
        model = registry.get("scenario", kind).obj
    except registry.UnknownPlugin as exc:
        raise registry.UnknownPlugin(str(exc).replace("unknown scenario", "unknown scenario "
                                                      "kind", 1)) from None
    if not (isinstance(model, type) and issubclass(model, ScenarioHeader)):
        raise registry.PluginError(f"scenario kind {kind!r} is registered by "
                                   f"{getattr(model, '__module__', '?')} but is not a "
                                   "ScenarioHeader subclass")
    return model


def _default_kind(model: type[ScenarioHeader]) -> str:
    default = model.model_fields["kind"].default
    return default if isinstance(default, str) else "probe"


def scenario_chooser(base: type[ScenarioHeader]) -> Callable[[Any], type[ScenarioHeader]]:
    """For a loader: the model of a file's `kind` (default: `base`'s own), which must be
    `base` or a kind built on it; a ValueError names the kinds that fit."""

    def choose(data: Any) -> type[ScenarioHeader]:
        kind = data.get("kind", _default_kind(base)) if isinstance(data, dict) else None
        if not isinstance(kind, str):
            return base  # not a mapping, or a kind that is not text: the model says why
        model = scenario_model(kind)
        if not issubclass(model, base):
            fit = [n for n in registry.names("scenario") if issubclass(scenario_model(n), base)]
            raise ValueError(f"a {kind!r} scenario is run by `{model.run_by}`, not here "
                             f"(kinds here: {', '.join(fit)})")
        return model

    return choose


def parse_scenario(data: dict[str, Any]) -> ScenarioHeader:
    """A stored or loaded scenario of any kind (no `kind`: a probe, as before kinds)."""
    return scenario_model(str(data.get("kind", "probe"))).model_validate(data)


@plugin("scenario", "probe")
class Scenario(ScenarioHeader):
    """A probe: inputs (or a generator) times mutator chains, judged by detectors."""

    kind: Literal["probe"] = "probe"
    system: str | None = Field(None, description="system prompt sent with every attempt")
    documents: list[str] = Field(
        default_factory=list, description="retrieved documents placed before the user input"
    )
    canaries: list[str] = Field(default_factory=list, description="secrets planted by the scenario")
    inputs: list[str | Conversation] = Field(default_factory=list)
    generator: GeneratorSpec | None = None
    mutators: list[list[MutatorSpec]] = Field(
        default_factory=lambda: [[]],
        min_length=1,
        description="mutator chains; each chain is applied to every input to make one attempt",
    )
    detectors: list[DetectorSpec] = Field(min_length=1)
    strategy: StrategySpec | None = Field(
        None, description="what drives each attempt's turns (default: static, or scripted "
        "when an input has follow-ups)")

    def strategy_choice(self) -> tuple[str, dict[str, Any]] | None:
        """The strategy (name, params) that drives this scenario's attempts; None: the
        built-in default. Kinds that plan their own attempts choose their own."""
        return (self.strategy.name, dict(self.strategy.params)) if self.strategy else None

    @field_validator("strategy", mode="before")
    @classmethod
    def _strategy_shorthand(cls, v: Any) -> Any:
        return _named(v)

    @field_validator("mutators", mode="before")
    @classmethod
    def _mutator_shorthand(cls, v: Any) -> Any:
        if not isinstance(v, list):
            return v
        chains = []
        for chain in v:
            if isinstance(chain, str | dict):
                chain = [chain]
            chains.append([_named(m) for m in chain] if isinstance(chain, list) else chain)
        return chains

    @field_validator("detectors", mode="before")
    @classmethod
    def _detector_shorthand(cls, v: Any) -> Any:
        return [_named(d) for d in v] if isinstance(v, list) else v

    @model_validator(mode="after")
    def _one_source(self) -> Scenario:
        if bool(self.inputs) == (self.generator is not None):
            raise ValueError("give exactly one of 'inputs' or 'generator'")
        return self

    @model_validator(mode="after")
    def _attack_strategies_need_attacks(self) -> Scenario:
        if self.kind == "probe" and self.strategy is not None and getattr(
                registry.get("strategy", self.strategy.name).obj, "attack", False):
            raise ValueError(f"strategy {self.strategy.name!r} is an attack strategy: it runs "
                             "in a scenario of kind 'attack' (objectives, attacker, budget)")
        return self

    @model_validator(mode="after")
    def _followups_need_turns(self) -> Scenario:
        if self.strategy is not None and self.strategy.name == "static" and any(
                isinstance(i, Conversation) and i.followups for i in self.inputs):
            raise ValueError("strategy 'static' sends one turn: an input's follow-ups would "
                             "never be sent (use 'scripted', or leave strategy out)")
        return self

    @field_validator("inputs")
    @classmethod
    def _distinct_inputs(cls, v: list[str | Conversation]) -> list[str | Conversation]:
        _no_repeats([i if isinstance(i, str) else i.model_dump_json() for i in v], "input")
        return v

    @field_validator("mutators")
    @classmethod
    def _distinct_chains(cls, v: list[list[MutatorSpec]]) -> list[list[MutatorSpec]]:
        from redline.plugins.mutators import describe

        _no_repeats([tuple(describe(m.name, m.params) for m in c) or ("identity",) for c in v],
                    "mutator chain")
        return v

