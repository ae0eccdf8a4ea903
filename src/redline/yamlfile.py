"""Load YAML files and validate them with pydantic, reporting problems as file:line: field."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from redline.errors import InputFileError, Problem

M = TypeVar("M", bound=BaseModel)

MAX_FILE_BYTES = 5_000_000
MAX_DEPTH = 64  # nesting no scenario, config or policy needs; deeper input is refused


def _read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        problem = Problem(str(path), None, None, f"cannot read: {exc.strerror}")
        raise InputFileError([problem]) from exc
    if len(raw) > MAX_FILE_BYTES:
        raise InputFileError([Problem(str(path), None, None, f"file too large ({len(raw)} bytes)")])
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
            for key, value in current.value:
                stack.extend(((key, depth + 1), (value, depth + 1)))


def _compose(text: str, source: str) -> yaml.Node | None:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
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


def _construct(node: yaml.Node, source: str) -> Any:
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise InputFileError([Problem(source, line, None, f"invalid YAML: {exc.problem}")]) from exc
    finally:
        loader.dispose()


def line_of(node: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """Return the 1-based line of the YAML node at a pydantic error location."""
    if node is None:
        return None
    best = node.start_mark.line + 1
    current: yaml.Node = node
    for key in loc:
        nxt: yaml.Node | None = None
        if isinstance(current, yaml.MappingNode):
            for k_node, v_node in current.value:
                if getattr(k_node, "value", None) == key:
                    nxt = v_node
                    best = k_node.start_mark.line + 1
                    break
        elif (isinstance(current, yaml.SequenceNode) and isinstance(key, int)
              and 0 <= key < len(current.value)):
            nxt = current.value[key]
            best = nxt.start_mark.line + 1
        if nxt is None:
            break
        current = nxt
    return best


def validate_node(model: type[M], data: Any, node: yaml.Node | None, source: str) -> M:
    """Validate data against a model; problems point at the line of the failing field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(p for p in err["loc"] if isinstance(p, int | str))
            field = ".".join(str(p) for p in loc) or None
            problems.append(Problem(source, line_of(node, loc), field, err["msg"]))
        raise InputFileError(problems) from exc


def load_yaml(path: Path) -> tuple[Any, yaml.Node | None]:
    """Parse a YAML file into plain data plus its node tree (for line numbers)."""
    text = _read_text(path)
    node = _compose(text, str(path))
    if node is None:
        raise InputFileError([Problem(str(path), None, None, "empty file")])
    return _construct(node, str(path)), node


def load_model(model: type[M], path: Path) -> M:
    """Load and validate one YAML file as a pydantic model."""
    data, node = load_yaml(path)
    return validate_node(model, data, node, str(path))


def yaml_files(root: Path) -> list[Path]:
    """A file itself, or every .yaml/.yml file under a directory, in a stable order."""
    if root.is_file():
        return [root]
    return sorted(p for p in root.rglob("*.y*ml") if p.suffix in (".yaml", ".yml"))


def load_unique(model: type[M], paths: list[Path]) -> list[M]:
    """Load files whose models carry an `id`; every problem in every file is reported,
    a repeated id included. Sorted by id."""
    problems: list[Problem] = []
    found: dict[str, tuple[M, Path]] = {}
    for path in paths:
        try:
            item = load_model(model, path)
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
