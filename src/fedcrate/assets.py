"""Every data file fedcrate ships, loaded from the installed package, each read once.

- `shapes/` and `vocab/` (SHACL shapes, the FL vocabulary) live at the repository root
  and are packed into the wheel under `fedcrate/_assets/`; an editable install reads them
  from the checkout.
- `queries/*.rq` (the shipped SPARQL queries) and `data/` (the bundled JSON-LD context,
  the preview's HTML and CSS) live inside the package.

Modules ask here instead of opening package files themselves, so an installed wheel and a
checkout behave the same, and a missing file is one clear error.
"""

from __future__ import annotations

from functools import cache, lru_cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from rdflib import Graph

from fedcrate.errors import BrokenInstallation

__all__ = ["asset_dir", "data_text", "query_texts", "vocabulary"]


def asset_dir(name: str) -> Traversable:
    """The shipped folder `name` (`shapes` or `vocab`), installed or from the checkout.

    Raises:
        BrokenInstallation: the installation lacks the folder.
    """
    packed = resources.files("fedcrate").joinpath("_assets", name)
    if packed.is_dir():
        return packed
    # Editable install: the package is src/fedcrate inside a checkout.
    checkout = Path(str(resources.files("fedcrate"))).parents[1] / name
    if checkout.is_dir():
        return checkout
    raise BrokenInstallation(
        f"fedcrate's {name}/ folder is missing from this installation; "
        "reinstall fedcrate (pip install --force-reinstall fedcrate)"
    )


@cache
def data_text(filename: str) -> str:
    """A file of the package's `data/` folder (context, preview template and style)."""
    return resources.files("fedcrate").joinpath("data", filename).read_text(encoding="utf-8")


@cache
def query_texts() -> dict[str, str]:
    """Every shipped SPARQL query, name (file name without `.rq`) → text, sorted by name."""
    folder = resources.files("fedcrate").joinpath("queries")
    return {
        entry.name[: -len(".rq")]: entry.read_text(encoding="utf-8")
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".rq")
    }


@lru_cache(maxsize=1)
def vocabulary() -> Graph:
    """The FL vocabulary (OWL) with its schema.org ↔ PROV-O alignment axioms."""
    graph = Graph()
    graph.parse(
        data=asset_dir("vocab").joinpath("fl.ttl").read_text(encoding="utf-8"), format="turtle"
    )
    return graph
