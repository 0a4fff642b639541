"""The package's layers, read off its imports: the design's rules as tests.

record → rdf → views → crate → {capture, validate, index} → {export, demo} → cli. Each
layer may import only layers before it (and the shared `errors`, `assets`), never a
sibling; nothing in the library imports the CLI (only `python -m fedcrate` does); the
framework-free core never imports a framework; no import cycles.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import fedcrate

PACKAGE = Path(fedcrate.__file__).resolve().parent
LAYERS = ["record", "rdf", "views", "crate", "capture|validate|index", "export|demo", "cli"]
SHARED = {"errors", "assets"}


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE)
        if relative.parts[:2] == ("demo", "app"):
            continue  # the bundled Flower app: a separate app Flower runs
        name = ".".join(("fedcrate", *relative.with_suffix("").parts)).removesuffix(".__init__")
        found[name] = path
    return found


MODULES = _modules()


def _imports(path: Path) -> set[str]:
    """The fedcrate modules (and third-party roots) a file imports, lazily or not."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def _layer(module: str) -> int | None:
    parts = module.split(".")
    if len(parts) < 2 or parts[1] in SHARED:
        return None
    for index, layer in enumerate(LAYERS):
        if parts[1] in layer.split("|"):
            return index
    return None


def _internal(module: str) -> set[str]:
    return {name for name in _imports(MODULES[module]) if name in MODULES}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_a_module_imports_only_earlier_layers(module: str) -> None:
    own = _layer(module)
    if own is None:
        return
    own_top = module.split(".")[1]
    later = {
        name
        for name in _internal(module)
        if (layer := _layer(name)) is not None
        and (layer > own or (layer == own and name.split(".")[1] != own_top))
    }
    assert not later, f"{module} imports {sorted(later)}: a later layer or a sibling"


def test_the_library_never_imports_the_cli() -> None:
    offenders = {
        module
        for module in MODULES
        if module != "fedcrate.__main__"  # `python -m fedcrate` is the CLI
        and _layer(module) != LAYERS.index("cli")
        and any(name.startswith("fedcrate.cli") for name in _internal(module))
    }
    assert offenders == set()


@pytest.mark.parametrize("core", ["fedcrate.record", "fedcrate.rdf", "fedcrate.views"])
def test_the_core_knows_no_framework(core: str) -> None:
    for module, path in MODULES.items():
        if module.startswith(core):
            roots = {name.split(".")[0] for name in _imports(path)}
            assert not roots & {"flwr", "fedn", "flip", "mlflow", "typer"}, module


def test_records_are_rdf_free() -> None:
    for module, path in MODULES.items():
        if module.startswith("fedcrate.record"):
            assert "rdflib" not in {name.split(".")[0] for name in _imports(path)}, module


def test_the_run_graph_core_knows_no_fedn() -> None:
    for name in ("graph", "entities", "namespaces", "jsonld"):
        text = (PACKAGE / "rdf" / f"{name}.py").read_text(encoding="utf-8")
        assert "fedn" not in text.lower(), f"rdf/{name}.py mentions FEDn"


def test_no_import_cycles() -> None:
    graph = {module: _internal(module) - {module} for module in MODULES}
    # A package's own __init__ re-exporting its submodules is not a cycle of the design.
    for module, deps in graph.items():
        graph[module] = {d for d in deps if not module.startswith(d + ".")}
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for dep in graph[node]:
            if state.get(dep) == 1:
                cycle = trail[trail.index(dep) :] if dep in trail else [node]
                raise AssertionError(" → ".join([*cycle, dep]))
            if dep not in state:
                visit(dep, [*trail, dep])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
