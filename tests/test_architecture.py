"""The architecture's layering, read from the source: which product module imports which.

Layers, bottom to top; a module may import from its own layer or a lower one, never a higher one:

1. core: configuration, SQLite access, the crawled records and the crawl store, the taxonomy and
   the typed profile (with its geometry);
2. crawler: the source catalog, spiders, extraction, running a crawl;
3. indexer: normalise, resolve, verify, build, search;
4. operations: scheduling, Scrapyd dispatch, freshness and alerts, corrections and removals;
5. apps: the ``tdir`` command line, ``tdir demo``, the dashboard, and the demo web (a sibling the
   apps and the tests use, never the product below them).

The import graph is built statically (``ast``) from every ``import`` and ``from ... import`` in a
module, at module level or inside a function: a late import is still a dependency, and one that
closes a cycle is still a cycle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("crawler", "indexer", "dashboard", "tdir")

CORE, CRAWLER, INDEXER, OPERATIONS, APPS = 1, 2, 3, 4, 5

# Module-name prefix -> layer; the longest prefix (whole dotted parts) wins.
LAYERS: dict[str, int] = {
    "tdir": CORE,  # the package itself (its version); each of its modules is listed below
    "tdir.config": CORE,
    "tdir.sqlite": CORE,
    "crawler.items": CORE,  # the crawled records
    "crawler.runs": CORE,  # the crawl store
    "crawler.errors": CORE,
    "indexer.taxonomy": CORE,
    "indexer.profile": CORE,
    "indexer.geo": CORE,  # the profile's points and distances
    "crawler": CRAWLER,
    "indexer": INDEXER,
    "crawler.scheduling": OPERATIONS,
    "crawler.scrapyd": OPERATIONS,
    "indexer.freshness": OPERATIONS,
    "indexer.live_corrections": OPERATIONS,  # removals and corrections applied to the index now
    "indexer.admin_cli": OPERATIONS,  # `tdir corrections` and `tdir alerts`
    "tdir.cli": APPS,
    "tdir.demo": APPS,
    "tdir.lifeline": APPS,  # `python -m tdir.lifeline`: a tdir command the scheduler starts
    "dashboard": APPS,
    "crawler.demoweb": APPS,
}


def layer(module: str) -> int:
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        found = LAYERS.get(".".join(parts[:end]))
        if found is not None:
            return found
    raise AssertionError(f"{module} is in no layer: add its package to LAYERS")


def product_modules() -> dict[str, tuple[Path, bool]]:
    """Every product module by dotted name: its file and whether it is a package."""
    modules: dict[str, tuple[Path, bool]] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            if is_package:
                parts.pop()
            modules[".".join(parts)] = (path, is_package)
    return modules


def _imported_names(module: str, is_package: bool, tree: ast.AST) -> Iterator[str]:
    """Every dotted name the module imports (``from x import y`` gives ``x.y`` and ``x``)."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for alias in node.names:
                yield f"{source}.{alias.name}"


def import_graph() -> dict[str, set[str]]:
    """Importer -> the product modules it imports (each name resolved to the longest module
    it names: ``from indexer.search import open_backend`` is an import of ``indexer.search``)."""
    modules = product_modules()
    graph: dict[str, set[str]] = {}
    for module, (path, is_package) in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        targets: set[str] = set()
        for name in _imported_names(module, is_package, tree):
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name and name != module:
                targets.add(name)
        graph[module] = targets
    return graph


GRAPH = import_graph()


def cycles(graph: dict[str, set[str]]) -> list[tuple[list[str], set[str]]]:  # noqa: C901 - Tarjan's algorithm, iterative, kept whole as it is usually written
    """Each strongly connected component of more than one module (Tarjan's algorithm,
    iterative), with one cycle through it (its modules, the first repeated last)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[set[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
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
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(component)
    return [(_a_cycle_through(graph, component), component) for component in components]


def _a_cycle_through(graph: dict[str, set[str]], component: set[str]) -> list[str]:
    """The shortest path from the component's first module back to itself, inside it."""
    start = min(component)
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(graph[node] & component):
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return [start, *reversed(path[:-1]), start] if len(path) > 1 else [start, start]
                if child not in came_from:
                    came_from[child] = node
                    following.append(child)
        frontier = following
    raise AssertionError(f"no cycle through {sorted(component)}")


def upward_imports(graph: dict[str, set[str]]) -> set[tuple[str, str]]:
    return {
        (importer, imported)
        for importer, targets in graph.items()
        for imported in targets
        if layer(imported) > layer(importer)
    }


def test_the_graph_is_read() -> None:
    # The reader sees module-level, function-level and relative imports alike.
    assert "indexer.search" in GRAPH["tdir.cli"]
    assert "tdir.demo" in GRAPH["tdir.cli"]  # a function-level import
    assert "indexer.search.sqlite_backend" in GRAPH["indexer.search"]  # ditto


def test_every_module_of_tdir_is_placed_by_name() -> None:
    # tdir is both the ground floor and the roof: a new module of it takes no layer by default.
    unplaced = sorted(m for m in GRAPH if m.startswith("tdir.") and m not in LAYERS)
    assert not unplaced, f"modules of tdir missing from LAYERS: {', '.join(unplaced)}"


def test_no_import_cycle() -> None:
    found = cycles(GRAPH)
    listed = "\n".join(
        f"{' -> '.join(cycle)} (modules in the cycle: {', '.join(sorted(component))})"
        for cycle, component in found
    )
    assert not found, f"import cycles:\n{listed}"


def test_imports_point_down_or_sideways() -> None:
    unexpected = sorted(upward_imports(GRAPH))
    listed = "\n".join(f"{a} ({layer(a)}) -> {b} ({layer(b)})" for a, b in unexpected)
    assert not unexpected, f"upward imports (importer (layer) -> imported (layer)):\n{listed}"
