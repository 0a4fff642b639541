"""Data files shipped with fedcrate: SHACL shapes and the FL vocabulary.

They live at the repository root (`shapes/`, `vocab/`) and are packed into the wheel
under `fedcrate/_assets/`; an editable install reads them from the checkout. Each file is
parsed once per process.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from rdflib import Graph

__all__ = ["asset_dir", "vocabulary"]


def asset_dir(name: str) -> Traversable:
    """The shipped folder `name` (`shapes` or `vocab`), installed or from the checkout."""
    packed = resources.files("fedcrate").joinpath("_assets", name)
    if packed.is_dir():
        return packed
    # Editable install: the package is src/fedcrate inside a checkout.
    checkout = Path(str(resources.files("fedcrate"))).parents[1] / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(
        f"fedcrate's {name}/ folder is missing from this installation; reinstall fedcrate"
    )


@lru_cache(maxsize=1)
def vocabulary() -> Graph:
    """The FL vocabulary (OWL) with its schema.org ↔ PROV-O alignment axioms."""
    graph = Graph()
    graph.parse(
        data=asset_dir("vocab").joinpath("fl.ttl").read_text(encoding="utf-8"), format="turtle"
    )
    return graph
