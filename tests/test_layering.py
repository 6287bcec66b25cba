"""Guard: the package layering drawn in docs/architecture.md holds, read from the source (AST).

- Only ``store/`` imports SQLAlchemy or Alembic (the only code that talks to the database).
- ``video/`` and ``vision/`` import nothing above them (no store, search, analysis, web…).
- No package imports a package of a higher layer, nor a sibling of its own layer unless the
  pair is listed in ``SIBLINGS`` with its reason.
- No import cycle between modules at import time (imports inside functions and under
  ``TYPE_CHECKING`` are not executed at import time, so they are left out of the cycle check;
  they still count for layering).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
ROOT = SRC / "retrouve"

#: Layer of each top-level part of ``retrouve`` (module or package); higher layers may import
#: lower ones. Keep in step with the "Dependencies point down" line of docs/architecture.md.
LAYERS: dict[str, int] = {
    "__init__": 0, "domain": 0, "config": 0, "errors": 0, "errors_i18n": 0, "digest": 0,
    "errors_i18n_legal": 0, "wallclock": 0,
    "store": 1,
    "catalogue": 2, "video": 2, "vision": 2,
    "analysis": 3, "search": 3, "legal": 3, "export": 3,
    "services": 4,
    "evaluation": 5, "demo": 5,
    "web": 6,
    "cli": 7,
    "__main__": 8,
}

#: Same-layer imports that are allowed, with why.
SIBLINGS: dict[tuple[str, str], str] = {
    ("catalogue", "video"): "the probe measures durations and sizes with the time base and "
                            "orientation rules the decoder applies (video.timeline, orient)",
}

#: What ``video/`` and ``vision/`` may import from the project (everything else is above them).
LOW_LEVEL_ALLOWED: dict[str, set[str]] = {
    "video": {"__init__", "domain", "config", "errors", "digest", "wallclock", "video"},
    "vision": {"__init__", "domain", "config", "errors", "digest", "wallclock", "video",
               "vision"},
}

DATABASE_LIBRARIES = ("sqlalchemy", "alembic")


@dataclass(frozen=True)
class Import:
    """One import statement of a project module."""

    module: str        # importing module, dotted (``retrouve.store.db``)
    target: str        # imported module, dotted, absolute
    line: int
    at_import_time: bool  # False inside a function body or under ``if TYPE_CHECKING``


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    # In a package's __init__, level 1 is the package itself.
    drop = node.level - 1 if is_package else node.level
    base = base[: len(base) - drop] if drop else base
    return ".".join([*base, node.module] if node.module else base)


class _Collector(ast.NodeVisitor):
    def __init__(self, module: str, is_package: bool) -> None:
        self.module = module
        self.is_package = is_package
        self.imports: list[Import] = []
        self._depth = 0  # inside functions or TYPE_CHECKING blocks

    def _add(self, target: str, line: int) -> None:
        self.imports.append(Import(self.module, target, line, self._depth == 0))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name, node.lineno)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        target = _resolve(self.module, self.is_package, node)
        self._add(target, node.lineno)
        for alias in node.names:  # ``from retrouve.x import y`` may import module ``x.y``
            sub = f"{target}.{alias.name}"
            if _module_path(sub) is not None:
                self._add(sub, node.lineno)

    def _nested(self, node: ast.AST) -> None:
        self._depth += 1
        self.generic_visit(node)
        self._depth -= 1

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._nested(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._nested(node)

    def visit_If(self, node: ast.If) -> None:
        test = node.test
        name = test.id if isinstance(test, ast.Name) else (
            test.attr if isinstance(test, ast.Attribute) else None)
        if name == "TYPE_CHECKING":
            self._nested(node)
        else:
            self.generic_visit(node)


def _module_path(dotted: str) -> Path | None:
    if not dotted.startswith("retrouve"):
        return None
    rel = Path(*dotted.split("."))
    for candidate in (SRC / rel.with_suffix(".py"), SRC / rel / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _all_imports() -> list[Import]:
    found: list[Import] = []
    for path in sorted(ROOT.rglob("*.py")):
        collector = _Collector(_module_name(path), _is_package(path))
        collector.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
        found.extend(collector.imports)
    return found


IMPORTS = _all_imports()


def _part(dotted: str) -> str:
    """Top-level part of ``retrouve`` a dotted module belongs to (``store``, ``cli``…)."""
    parts = dotted.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _where(imp: Import) -> str:
    return f"{imp.module} (line {imp.line}) imports {imp.target}"


def test_every_part_has_a_layer() -> None:
    parts = {_part(_module_name(p)) for p in ROOT.rglob("*.py")}
    missing = sorted(parts - LAYERS.keys())
    assert not missing, f"give these parts a layer in LAYERS (and docs/architecture.md): {missing}"


def test_only_the_store_talks_to_the_database() -> None:
    bad = [_where(i) for i in IMPORTS
           if i.target.split(".")[0] in DATABASE_LIBRARIES and _part(i.module) != "store"]
    assert not bad, "only retrouve.store may import SQLAlchemy/Alembic:\n" + "\n".join(bad)


@pytest.mark.parametrize("low", sorted(LOW_LEVEL_ALLOWED))
def test_low_level_packages_import_nothing_above_them(low: str) -> None:
    allowed = LOW_LEVEL_ALLOWED[low]
    bad = [_where(i) for i in IMPORTS
           if _part(i.module) == low and i.target.startswith("retrouve")
           and _part(i.target) not in allowed]
    assert not bad, f"{low}/ imports above itself:\n" + "\n".join(bad)


def test_imports_point_down() -> None:
    bad: list[str] = []
    for imp in IMPORTS:
        if not imp.target.startswith("retrouve"):
            continue
        src, dst = _part(imp.module), _part(imp.target)
        if src == dst or src not in LAYERS or dst not in LAYERS:
            continue
        if LAYERS[dst] > LAYERS[src]:
            bad.append(f"{_where(imp)}: layer {LAYERS[src]} → higher layer {LAYERS[dst]}")
        elif LAYERS[dst] == LAYERS[src] and LAYERS[src] > 0 and (src, dst) not in SIBLINGS:
            bad.append(f"{_where(imp)}: sibling import in layer {LAYERS[src]} "
                       "(list it in SIBLINGS with the reason, or move the code down)")
    assert not bad, "\n".join(bad)


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for start in sorted(edges):
        if start in index:
            continue
        work: list[tuple[str, list[str]]] = [(start, sorted(edges.get(start, ())))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, todo = work[-1]
            if todo:
                nxt = todo.pop()
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, sorted(edges.get(nxt, ()))))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_cycles() -> None:
    edges: dict[str, set[str]] = {}
    for imp in IMPORTS:
        if not imp.at_import_time or _module_path(imp.target) is None:
            continue
        # Importing a package's own submodule from its __init__ is how packages re-export.
        if imp.target.startswith(imp.module + "."):
            continue
        # A submodule importing its own parent package is the reverse edge of that: skip it.
        if imp.module.startswith(imp.target + "."):
            continue
        edges.setdefault(imp.module, set()).add(imp.target)
    cycles = _cycles(edges)
    assert not cycles, "import cycles:\n" + "\n".join(" ↔ ".join(c) for c in cycles)


def test_checker_sees_the_project() -> None:
    """The guard would pass vacuously if it parsed nothing: check it sees known imports."""
    assert any(i.module == "retrouve.store.schema" and i.target == "sqlalchemy"
               for i in IMPORTS)
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]
