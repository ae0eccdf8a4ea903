"""The scenario file format: one YAML file per catalog entry, validated by pydantic.

Every scenario has the same header (`ScenarioHeader`: id, version, title, objective,
category, tags, severity, author, expected, success, remediation, rollback, references) and
a body chosen by its `kind`: `probe` (the default: inputs, mutators, detectors), `cascade`
(a fault at a pipeline stage, `redline.cascade.schema`), `load` (a concurrency ramp), and
room for more (attack, evasion, slice). Each kind registers its model in `KINDS`
(`redline.catalog.kinds.parse_scenario` reads any kind); the store, the reports and the
gate read only the header.
"""

from __future__ import annotations

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

from redline import registry

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


class ScenarioHeader(Strict):
    """What every kind of scenario says about itself; reports and the gate read only this."""

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

    @property
    def key(self) -> str:
        return f"{self.id}@{self.version}"


KINDS: dict[str, type[ScenarioHeader]] = {}


def scenario_kind(name: str):
    """Register a scenario body under its `kind`."""
    def register(cls: type[ScenarioHeader]) -> type[ScenarioHeader]:
        KINDS[name] = cls
        return cls
    return register


@scenario_kind("probe")
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

    @field_validator("inputs")
    @classmethod
    def _distinct_inputs(cls, v: list[str | Conversation]) -> list[str | Conversation]:
        _no_repeats([i if isinstance(i, str) else i.model_dump_json() for i in v], "input")
        return v

    @field_validator("mutators")
    @classmethod
    def _distinct_chains(cls, v: list[list[MutatorSpec]]) -> list[list[MutatorSpec]]:
        from redline.mutators import describe

        _no_repeats([tuple(describe(m.name, m.params) for m in c) or ("identity",) for c in v],
                    "mutator chain")
        return v

