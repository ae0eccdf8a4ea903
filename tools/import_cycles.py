"""Import cycles among the modules of a package, from its source (nothing is imported).

    python tools/import_cycles.py [--src src] [--package redline] [--deferred]

Builds the graph of `import` / `from ... import` statements with `ast`: by default the ones
that run when a module is loaded (module level, including inside top-level `if`/`try`, but not
under `if TYPE_CHECKING:`); with `--deferred` also the imports inside functions and classes.
An edge goes to the deepest module the statement names (`from redline.store import sqlite`
is an edge to redline.store.sqlite when that module exists, else to redline.store). Prints
each strongly connected component of more than one module (or a module that imports itself)
with one cycle through it, and exits 1 when there is any, 0 when there is none.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterator
from pathlib import Path


def module_names(src: Path, package: str) -> dict[str, Path]:
    """Dotted module name -> file, for every .py file of the package."""
    out: dict[str, Path] = {}
    for path in sorted((src / package).rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _statements(body: list[ast.stmt], deferred: bool) -> Iterator[ast.stmt]:
    """The statements that run at import time (and, when `deferred`, every nested one)."""
    for node in body:
        if isinstance(node, ast.If) and _is_type_checking(node):
            yield from _statements(node.orelse, deferred)
            continue
        yield node
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            if deferred or isinstance(node, ast.ClassDef):  # a class body runs at import
                yield from _statements(node.body, deferred)
            continue
        for field in ("body", "orelse", "finalbody"):
            yield from _statements(getattr(node, field, None) or [], deferred)
        for handler in getattr(node, "handlers", None) or []:
            yield from _statements(handler.body, deferred)


def _base(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    parts = module.split(".")
    keep = len(parts) - node.level + (1 if is_package else 0)
    base = ".".join(parts[:keep])
    return f"{base}.{node.module}" if node.module else base


def imports_of(module: str, path: Path, known: dict[str, Path], deferred: bool) -> set[str]:
    """The package's modules that `module` imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in _statements(tree.body, deferred):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _base(module, is_package, node)
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                     for alias in node.names]
        else:
            continue
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name and name != module:
                found.add(name)
    return found


def graph(src: Path, package: str, deferred: bool) -> dict[str, set[str]]:
    known = module_names(src, package)
    return {m: imports_of(m, p, known, deferred) for m, p in known.items()}


def components(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    comp.append(member)
                    if member == node:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return sorted(out)


def one_cycle(edges: dict[str, set[str]], comp: list[str]) -> list[str]:
    """A shortest cycle through the component's first module (breadth-first)."""
    members = set(comp)
    start = comp[0]
    parent: dict[str, str] = {}
    queue = [start]
    for node in queue:
        for child in sorted(edges[node] & members):
            if child == start:
                path = [node]
                while path[-1] != start:
                    path.append(parent[path[-1]])
                return [start, *reversed(path[:-1]), start]
            if child not in parent:
                parent[child] = node
                queue.append(child)
    return comp


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", type=Path, default=Path(__file__).resolve().parents[1] / "src")
    ap.add_argument("--package", default="redline")
    ap.add_argument("--deferred", action="store_true",
                    help="count imports inside functions too")
    args = ap.parse_args(argv)
    edges = graph(args.src, args.package, args.deferred)
    comps = components(edges)
    scope = "module-level and deferred" if args.deferred else "module-level"
    print(f"{len(edges)} modules, {sum(map(len, edges.values()))} {scope} import edges, "
          f"{len(comps)} cycle(s)")
    for comp in comps:
        print(f"  {len(comp)} modules ({', '.join(comp)}): "
              + " -> ".join(one_cycle(edges, comp)))
    return 1 if comps else 0


if __name__ == "__main__":
    sys.exit(main())
