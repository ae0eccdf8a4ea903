"""One registry for every pluggable kind: targets, detectors, mutators, generators, faults,
strategies, stores, categories, scenario kinds, pipelines and executors (where attempts
run).

A plugin is a function or class registered under `(kind, name)` with a pydantic model for
its parameters:

    @plugin("mutator", "shout", params=ShoutParams)
    def shout(text, rng, **params): ...

A pydantic model registered without `params` is its own parameter model: a scenario kind is
one `@plugin("scenario", "attack")` on a `ScenarioHeader` subclass (`redline.catalog.schema`).

Built-in plugins live in the modules named in `BUILTIN_MODULES`; they are imported on the
first lookup of their kind. Other packages add plugins through the `redline.plugins`
entry-point group: each entry point names a module (importing it registers its plugins) or a
function (called with no arguments). Entry points are loaded once, on the first lookup; one
that fails to load is recorded and reported (`redline plugins`, and in the message of any
lookup that misses) instead of raising a traceback.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from types import UnionType
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, Strict, ValidationError

KINDS: tuple[str, ...] = ("target", "detector", "mutator", "generator", "fault", "strategy",
                          "store", "category", "scenario", "pipeline", "executor")
ENTRY_POINT_GROUP = "redline.plugins"

# kind -> modules whose import registers the built-in plugins of that kind
BUILTIN_MODULES: dict[str, tuple[str, ...]] = {
    "target": ("redline.plugins.targets.spec",),
    "detector": ("redline.plugins.detectors", "redline.classic.detectors"),
    "mutator": ("redline.plugins.mutators",),
    "generator": ("redline.plugins.generators",),
    "category": ("redline.catalog.categories",),
    "fault": ("redline.plugins.faults",),
    "pipeline": ("redline.pipeline.system",),
    "strategy": ("redline.core.strategies", "redline.attack.strategies",
                 "redline.classic.strategies", "redline.classic.whitebox"),
    "store": ("redline.store.sqlite", "redline.store.postgres"),
    "executor": ("redline.core.engine", "redline.plugins.ray_executor"),
    "scenario": ("redline.catalog.schema", "redline.cascade.schema", "redline.attack.schema",
                 "redline.classic.schema", "redline.classic.trainset"),
}

T = TypeVar("T")


class UnknownPlugin(ValueError):
    """No plugin of that kind and name; the message lists the known names."""


class PluginError(ValueError):
    """A plugin is registered twice, under an unknown kind, or with a bad parameter model."""


# parameter value types that mean what the file says: a boolean is not a number, a number
# or a quoted string is not a boolean, and 2e9 (a string to YAML) is not an integer
Int = Annotated[int, Strict()]
Number = Annotated[float, Strict()]
Flag = Annotated[bool, Strict()]
Rate = Annotated[float, Strict(), Field(ge=0.0, le=1.0)]


class Params(BaseModel):
    """Base for plugin parameter models: unknown parameters are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class NoParams(Params):
    """The parameter model of a plugin that takes none."""


@dataclass(frozen=True)
class Plugin:
    kind: str
    name: str
    obj: Any
    params: type[BaseModel] | None
    description: str

    def param_summary(self) -> list[tuple[str, str, str]]:
        """(name, type and bounds, default or 'required') per parameter, for listings."""
        if self.params is None:
            return []
        out = []
        # fields every plugin of the kind shares (a scenario's header) are not its parameters
        hidden = getattr(self.params, "plugin_hidden_fields", frozenset())
        for fname, info in self.params.model_fields.items():
            if (self.kind in ("target", "scenario") and fname == "kind") or fname in hidden:
                continue  # the plugin's own name
            default = "required" if info.is_required() else repr(
                info.get_default(call_default_factory=True))
            out.append((info.alias or fname, _describe_type(info.annotation, info.metadata),
                        default))
        return out


def _bounds(metadata: list[Any]) -> str:
    lo = hi = None
    for m in metadata:
        lo = getattr(m, "ge", None) if getattr(m, "ge", None) is not None else lo
        lo = getattr(m, "gt", None) if getattr(m, "gt", None) is not None else lo
        hi = getattr(m, "le", None) if getattr(m, "le", None) is not None else hi
        hi = getattr(m, "lt", None) if getattr(m, "lt", None) is not None else hi
        for inner in getattr(m, "metadata", ()) or ():
            lo = getattr(inner, "ge", lo) if getattr(inner, "ge", None) is not None else lo
            hi = getattr(inner, "le", hi) if getattr(inner, "le", None) is not None else hi
    if lo is None and hi is None:
        return ""
    return f" {'' if lo is None else lo}..{'' if hi is None else hi}"


def _describe_type(ann: Any, metadata: list[Any] | None = None) -> str:
    """A short readable type: `int 1..100`, `list[str]`, `one of a, b`, `str | None`."""
    origin, args = get_origin(ann), get_args(ann)
    if origin is Annotated:
        return _describe_type(args[0], [*args[1:], *(metadata or [])])
    if origin is Literal:
        return "one of " + ", ".join(str(a) for a in args)
    if origin in (Union, UnionType):
        return " | ".join(_describe_type(a) for a in args)
    if origin is not None:
        inner = ", ".join(_describe_type(a) for a in args)
        return f"{getattr(origin, '__name__', str(origin))}[{inner}]"
    name = "None" if ann is type(None) else getattr(ann, "__name__", str(ann))
    return name + _bounds(metadata or [])


_PLUGINS: dict[str, dict[str, Plugin]] = {}
_LOADED_KINDS: set[str] = set()
_ENTRY_POINTS_LOADED = False
LOAD_ERRORS: list[str] = []


def add_kind(kind: str) -> None:
    """Declare a new pluggable kind (a plugin package may bring its own)."""
    global KINDS
    if kind not in KINDS:
        KINDS = (*KINDS, kind)


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise UnknownPlugin(f"unknown plugin kind {kind!r}; known kinds: {', '.join(KINDS)}")


def _forbidding(model: type[BaseModel]) -> type[BaseModel]:
    """The model itself if it forbids unknown fields, else a subclass that does."""
    if model.model_config.get("extra") == "forbid":
        return model
    config = ConfigDict(**{**model.model_config, "extra": "forbid"})  # type: ignore[typeddict-item]
    return type(model)(model.__name__, (model,),
                       {"model_config": config, "__module__": model.__module__})


def _first_line(obj: Any) -> str:
    doc = inspect.getdoc(obj) or ""
    return doc.strip().splitlines()[0].strip() if doc.strip() else ""


def register(kind: str, name: str, obj: T, *, params: type[BaseModel] | None = None,
             description: str | None = None) -> T:
    """Register obj under (kind, name); the decorator form is `plugin`."""
    _check_kind(kind)
    if params is None and isinstance(obj, type) and issubclass(obj, BaseModel):
        params = obj  # a model is its own parameter model (a scenario kind's body)
    if params is not None and not (isinstance(params, type) and issubclass(params, BaseModel)):
        raise PluginError(f"{kind} {name!r}: params must be a pydantic model class")
    entry = Plugin(kind, name, obj, _forbidding(params) if params is not None else None,
                   description if description is not None else _first_line(obj))
    table = _PLUGINS.setdefault(kind, {})
    old = table.get(name)
    if old is not None and old.obj is not obj:
        same = getattr(old.obj, "__qualname__", None) == getattr(obj, "__qualname__", 0) and \
            getattr(old.obj, "__module__", None) == getattr(obj, "__module__", 0)
        if not same:  # a module imported twice re-registers itself; anything else is a clash
            raise PluginError(f"{kind} {name!r} is already registered by "
                              f"{getattr(old.obj, '__module__', '?')}")
    table[name] = entry
    return obj


def plugin(kind: str, name: str, *, params: type[BaseModel] | None = None,
           description: str | None = None) -> Callable[[T], T]:
    """Decorator: register a function or class as the `kind` plugin `name`."""

    def deco(obj: T) -> T:
        return register(kind, name, obj, params=params, description=description)

    return deco


def _load_builtins(kind: str) -> None:
    if kind in _LOADED_KINDS:
        return
    _LOADED_KINDS.add(kind)
    for module in BUILTIN_MODULES.get(kind, ()):
        importlib.import_module(module)


def _entry_points() -> list[metadata.EntryPoint]:
    return list(metadata.entry_points(group=ENTRY_POINT_GROUP))


def load_entry_points(force: bool = False) -> None:
    """Load every `redline.plugins` entry point once; failures go to LOAD_ERRORS."""
    global _ENTRY_POINTS_LOADED
    if _ENTRY_POINTS_LOADED and not force:
        return
    _ENTRY_POINTS_LOADED = True
    for kind in KINDS:  # a plugin may replace nothing built in: load those first
        _load_builtins(kind)
    for ep in _entry_points():
        dist = getattr(ep, "dist", None)
        origin = f"{dist.name} {dist.version}" if dist is not None else "unknown package"
        try:
            obj = ep.load()
            if inspect.isfunction(obj) and not _is_registered(obj):
                obj()
        except Exception as exc:  # a broken plugin must not take the tool down
            LOAD_ERRORS.append(f"plugin {ep.name!r} ({ep.value}, from {origin}) failed to load: "
                               f"{type(exc).__name__}: {exc}")


def _is_registered(obj: Any) -> bool:
    return any(p.obj is obj for table in _PLUGINS.values() for p in table.values())


def _ensure(kind: str) -> None:
    _check_kind(kind)
    _load_builtins(kind)
    load_entry_points()


def get(kind: str, name: str) -> Plugin:
    """The plugin registered as (kind, name); UnknownPlugin lists the known names."""
    _ensure(kind)
    found = _PLUGINS.get(kind, {}).get(name)
    if found is None:
        known = ", ".join(sorted(_PLUGINS.get(kind, {}))) or "none"
        msg = f"unknown {kind} {name!r}; known: {known}"
        if LOAD_ERRORS:
            msg += "; " + "; ".join(LOAD_ERRORS)
        raise UnknownPlugin(msg)
    return found


def names(kind: str) -> list[str]:
    _ensure(kind)
    return sorted(_PLUGINS.get(kind, {}))


def available(kind: str | None = None) -> list[Plugin]:
    """Every registered plugin (of one kind), sorted by kind order then name."""
    kinds = [kind] if kind is not None else list(KINDS)
    for k in kinds:
        _ensure(k)
    return [p for k in kinds for _, p in sorted(_PLUGINS.get(k, {}).items())]


def own_plugins(kinds: tuple[str, ...]) -> list[Plugin]:
    """The plugins of these kinds that a script, a test or a plugin package registered in
    this process (not redline's own), for a worker process to `adopt`."""
    for k in kinds:
        _ensure(k)
    return [p for k in kinds for p in _PLUGINS.get(k, {}).values()
            if not str(getattr(p.obj, "__module__", "")).startswith("redline.")]


def adopt(plugins: list[Plugin]) -> None:
    """Register what another process registered (`own_plugins`), unless already here."""
    for p in plugins:
        _ensure(p.kind)
        if p.name not in _PLUGINS.get(p.kind, {}):
            _PLUGINS.setdefault(p.kind, {})[p.name] = p


def validate_params(kind: str, name: str, raw: dict[str, Any] | None) -> BaseModel:
    """Validate raw parameters against the plugin's model; unknown parameters are errors.

    Raises pydantic's ValidationError (locations are parameter names) or UnknownPlugin."""
    entry = get(kind, name)
    model = entry.params or NoParams
    return model.model_validate(raw or {})


def params_dict(kind: str, name: str, raw: dict[str, Any] | None) -> dict[str, Any]:
    """Validated parameters as plain keyword arguments: only what was given, coerced."""
    return validate_params(kind, name, raw).model_dump(exclude_unset=True)


__all__ = [
    "ENTRY_POINT_GROUP", "KINDS", "LOAD_ERRORS", "Flag", "Int", "NoParams", "Number", "Params",
    "Plugin", "PluginError", "Rate", "UnknownPlugin", "ValidationError", "add_kind", "adopt",
    "available", "get", "load_entry_points", "names", "own_plugins", "plugin", "register",
    "validate_params",
]
