"""Load YAML files and validate them with pydantic, reporting problems as file:line: field."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from redline.core.errors import InputFileError, Problem

M = TypeVar("M", bound=BaseModel)

MAX_FILE_BYTES = 2_000_000  # default cap; REDLINE_MAX_FILE_BYTES overrides it
MAX_DEPTH = 64  # nesting no scenario, config or policy needs; deeper input is refused
MAX_PROBLEMS = 100  # problems listed per file; the rest are counted
UNSUPPORTED_TAGS = ("binary", "set", "omap", "pairs")  # no redline file means these


def max_file_bytes() -> int:
    """The size cap for any YAML input: REDLINE_MAX_FILE_BYTES, else MAX_FILE_BYTES."""
    raw = os.environ.get("REDLINE_MAX_FILE_BYTES", "").strip()
    if not raw:
        return MAX_FILE_BYTES
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        problem = Problem("REDLINE_MAX_FILE_BYTES", None, None,
                          f"expected a positive number of bytes, got {raw!r}")
        raise InputFileError([problem])
    return value


def _read_text(path: Path) -> str:
    cap = max_file_bytes()
    try:
        with path.open("rb") as fh:
            raw = fh.read(cap + 1)
    except OSError as exc:
        problem = Problem(str(path), None, None, f"cannot read: {exc.strerror}")
        raise InputFileError([problem]) from exc
    if len(raw) > cap:
        msg = f"file too large (over {cap} bytes; set REDLINE_MAX_FILE_BYTES to allow more)"
        raise InputFileError([Problem(str(path), None, None, msg)])
    if b"\x00" in raw:
        raise InputFileError([Problem(str(path), None, None, "binary file, expected YAML text")])
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputFileError([Problem(str(path), line, None, "not valid UTF-8")]) from exc


def _check_shape(node: yaml.Node, source: str, text_size: int) -> None:
    """Refuse deep nesting, and aliases that expand into far more nodes than the text holds
    ("billion laughs"), before anything recursive (constructor, pydantic, JSON) sees them."""
    budget = max(100_000, text_size)
    stack = [(node, 1)]
    while stack:
        current, depth = stack.pop()
        budget -= 1
        if depth > MAX_DEPTH or budget < 0:
            what = (f"nesting deeper than {MAX_DEPTH} levels" if depth > MAX_DEPTH
                    else "aliases expand to too many nodes")
            raise InputFileError([Problem(source, current.start_mark.line + 1, None, what)])
        if isinstance(current, yaml.SequenceNode):
            stack.extend((child, depth + 1) for child in current.value)
        elif isinstance(current, yaml.MappingNode):
            _check_unique_keys(current, source)
            for key, value in current.value:
                stack.extend(((key, depth + 1), (value, depth + 1)))


def _key_identity(node: yaml.Node) -> tuple[str, str] | None:
    """What makes two scalar keys the same key: resolved tag and value (`yes` == `true`)."""
    if not isinstance(node, yaml.ScalarNode) or node.tag == "tag:yaml.org,2002:merge":
        return None
    if node.tag == "tag:yaml.org,2002:bool":
        return node.tag, str(node.value.lower() in ("yes", "true", "on", "y"))
    return node.tag, node.value


def _check_unique_keys(node: yaml.MappingNode, source: str) -> None:
    """A key given twice is an error naming both lines (YAML would keep the last silently)."""
    seen: dict[tuple[str, str], int] = {}
    for key, _ in node.value:
        ident = _key_identity(key)
        if ident is None:
            continue
        line = key.start_mark.line + 1
        if ident in seen:
            msg = f"duplicate key {key.value!r} (first at line {seen[ident]}, again at line {line})"
            raise InputFileError([Problem(source, line, str(key.value), msg)])
        seen[ident] = line


# libyaml composes several times faster and caps nesting itself (1,000 levels)
_COMPOSER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _compose(text: str, source: str) -> yaml.Node | None:
    try:
        node = yaml.compose(text, Loader=_COMPOSER)
    except RecursionError:  # PyYAML's composer recurses once per level
        problem = Problem(source, None, None, f"nesting deeper than {MAX_DEPTH} levels")
        raise InputFileError([problem]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise InputFileError([Problem(source, line, None, f"invalid YAML: {exc.problem}")]) from exc
    except yaml.YAMLError as exc:
        raise InputFileError([Problem(source, None, None, f"invalid YAML: {exc}")]) from exc
    if node is not None:
        _check_shape(node, source, len(text))
    return node


class _NodeError(Exception):
    def __init__(self, node: yaml.Node, reason: str):
        super().__init__(reason)
        self.node = node
        self.reason = reason


def _short(exc: Exception) -> str:
    text = str(exc).split(";")[0].split(": value has")[0]
    return text if len(text) <= 120 else text[:117] + "..."


class _Loader(yaml.SafeLoader):
    """SafeLoader whose failures name the node: a bad `!!int`, `!!float` or `!!timestamp`, an
    integer over Python's digit limit, or a tag no redline file means, is a located error."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (_NodeError, yaml.MarkedYAMLError):
            raise
        except (ValueError, TypeError, AttributeError, ArithmeticError, KeyError) as exc:
            tag = node.tag.rsplit(":", 1)[-1]
            value = node.value if isinstance(node.value, str) else ""
            shown = repr(value if len(value) <= 40 else value[:37] + "...")
            raise _NodeError(node, f"cannot read {shown} as !!{tag}: {_short(exc)}") from exc

    def _timestamp_as_text(self, node: yaml.Node) -> str:
        """A date stays the text it was written as (fields are strings); a bad one errs."""
        if yaml.SafeLoader.construct_yaml_timestamp(self, node) is None:  # type: ignore[arg-type]
            raise ValueError("not a timestamp")
        return str(node.value)

    def _unsupported(self, node: yaml.Node) -> Any:
        raise ValueError("this YAML type is not supported in redline files")


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader._timestamp_as_text)
for _tag in UNSUPPORTED_TAGS:
    _Loader.add_constructor(f"tag:yaml.org,2002:{_tag}", _Loader._unsupported)


def _construct(node: yaml.Node, source: str) -> Any:
    loader = _Loader("")
    try:
        return loader.construct_document(node)
    except _NodeError as exc:
        problem = Problem(source, exc.node.start_mark.line + 1, None, exc.reason)
        raise InputFileError([problem]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise InputFileError([Problem(source, line, None, f"invalid YAML: {exc.problem}")]) from exc
    finally:
        loader.dispose()


NodeIndex = dict[int, dict[Any, tuple[yaml.Node, yaml.Node]]]


def _entries(node: yaml.MappingNode, index: NodeIndex) -> dict[Any, tuple[yaml.Node, yaml.Node]]:
    """key value -> (key node, value node) for one mapping, built once (first key wins)."""
    found = index.get(id(node))
    if found is None:
        found = {}
        for k_node, v_node in node.value:
            found.setdefault(getattr(k_node, "value", None), (k_node, v_node))
        index[id(node)] = found
    return found


def line_of(node: yaml.Node | None, loc: tuple[int | str, ...],
            index: NodeIndex | None = None) -> int | None:
    """Return the 1-based line of the YAML node at a pydantic error location.

    Pass one `index` dict for many lookups in one tree: each mapping is indexed once, so
    locating every error of a file is linear in its size."""
    if node is None:
        return None
    index = {} if index is None else index
    best = node.start_mark.line + 1
    current: yaml.Node = node
    for key in loc:
        nxt: yaml.Node | None = None
        if isinstance(current, yaml.MappingNode):
            entries = _entries(current, index)
            hit = entries.get(key)
            if hit is None and key == "params" and len(current.value) == 1:
                hit = current.value[0]  # the `{name: {params}}` shorthand
            if hit is not None:
                nxt = hit[1]
                best = hit[0].start_mark.line + 1
        elif (isinstance(current, yaml.SequenceNode) and isinstance(key, int)
              and 0 <= key < len(current.value)):
            nxt = current.value[key]
            best = nxt.start_mark.line + 1
        if nxt is None:
            break
        current = nxt
    return best


_NUMBER_TYPES = {"int_type", "float_type", "int_from_float", "decimal_type"}


def _message(err: Any) -> str:
    if err["type"] == "extra_forbidden":
        return f"unknown field or parameter ({err['msg']})"
    return str(err["msg"])


def _in_data(data: Any, loc: tuple[int | str, ...]) -> tuple[int | str, ...]:
    """The part of an error location that names a value in the file (drops union tags)."""
    out: list[int | str] = []
    for key in loc:
        in_map = isinstance(data, dict) and key in data
        in_list = isinstance(data, list) and isinstance(key, int) and 0 <= key < len(data)
        if not (in_map or in_list):
            break
        data = data[key]
        out.append(key)
    return tuple(out)


def _problems(exc: ValidationError, node: yaml.Node | None, source: str, data: Any = None,
              only_bools: bool = False) -> list[Problem]:
    index: NodeIndex = {}
    problems = []
    seen: set[tuple[int | str, ...]] = set()
    for err in exc.errors():
        if only_bools and not (isinstance(err["input"], bool) and err["type"] in _NUMBER_TYPES):
            continue
        loc = tuple(p for p in err["loc"] if isinstance(p, int | str))
        if only_bools:  # one problem per value, not one per member of a union type
            loc = _in_data(data, loc)
            if loc in seen:
                continue
            seen.add(loc)
        field = ".".join(str(p) for p in loc) or None
        msg = ("expected a number, got a boolean (yes/no/on/off/true/false are booleans in YAML)"
               if only_bools else _message(err))
        problems.append(Problem(source, line_of(node, loc, index), field, msg))
    return problems


def _capped(problems: list[Problem], source: str) -> list[Problem]:
    if len(problems) <= MAX_PROBLEMS:
        return problems
    more = len(problems) - MAX_PROBLEMS
    return [*problems[:MAX_PROBLEMS], Problem(source, None, None, f"... and {more} more problems")]


def validate_node(model: type[M], data: Any, node: yaml.Node | None, source: str,
                  context: dict[str, Any] | None = None) -> M:
    """Validate data against a model; problems point at the line of the failing field.
    `context` is pydantic's validation context (what a file is checked against).

    A boolean where a number is expected is an error (pydantic alone would read `yes` as 1)."""
    try:
        result = model.model_validate(data, context=context)
    except ValidationError as exc:
        raise InputFileError(_capped(_problems(exc, node, source), source)) from exc
    try:
        model.model_validate(data, strict=True, context=context)
    except ValidationError as exc:
        bools = _problems(exc, node, source, data, only_bools=True)
        if bools:
            raise InputFileError(_capped(bools, source)) from exc
    return result


def load_yaml(path: Path) -> tuple[Any, yaml.Node | None]:
    """Parse a YAML file into plain data plus its node tree (for line numbers)."""
    text = _read_text(path)
    node = _compose(text, str(path))
    if node is None:
        raise InputFileError([Problem(str(path), None, None, "empty file")])
    return _construct(node, str(path)), node


# a model, or a function choosing one from the file's data (a scenario by its `kind`); a
# ValueError it raises is a problem located at the file's `kind` key
ModelChoice = type[M] | Callable[[Any], type[M]]


def load_model(model: ModelChoice[M], path: Path, context: dict[str, Any] | None = None) -> M:
    """Load and validate one YAML file as a pydantic model (or the one `model` chooses)."""
    data, node = load_yaml(path)
    if not isinstance(model, type):
        try:
            model = model(data)
        except ValueError as exc:
            raise InputFileError([Problem(str(path), line_of(node, ("kind",)), "kind",
                                          str(exc))]) from None
    return validate_node(model, data, node, str(path), context)


def yaml_files(root: Path) -> list[Path]:
    """A file itself, or every .yaml/.yml file under a directory, in a stable order."""
    if root.is_file():
        return [root]
    return sorted(p for p in root.rglob("*.y*ml") if p.suffix in (".yaml", ".yml"))


def load_unique(model: ModelChoice[M], paths: list[Path],
                context: dict[str, Any] | None = None) -> list[M]:
    """Load files whose models carry an `id`; every problem in every file is reported,
    a repeated id included. Sorted by id."""
    problems: list[Problem] = []
    found: dict[str, tuple[M, Path]] = {}
    for path in paths:
        try:
            item = load_model(model, path, context)
        except InputFileError as exc:
            problems.extend(exc.problems)
            continue
        item_id = str(item.id)  # type: ignore[attr-defined]  # models passed here have an id
        if item_id in found:
            msg = f"duplicate id {item_id!r} (also {found[item_id][1]})"
            problems.append(Problem(str(path), 1, "id", msg))
            continue
        found[item_id] = (item, path)
    if problems:
        raise InputFileError(problems)
    return [found[item_id][0] for item_id in sorted(found)]
