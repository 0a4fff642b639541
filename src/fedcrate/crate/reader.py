"""RO-Crate folder (or metadata file) → Graph, offline.

Reads fedcrate's crates with the base they were built with (from the root's
`urn:uuid:` identifier) and any other crate with a base derived from its location, so
reading the same crate twice gives the same IRIs.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from rdflib import Graph

from fedcrate.errors import NotACrate
from fedcrate.rdf.entities import METADATA_FILE
from fedcrate.rdf.jsonld import jsonld_to_graph
from fedcrate.rdf.namespaces import base_iri

__all__ = ["crate_base", "load_document", "metadata_path", "read_crate"]


def metadata_path(path: Path) -> Path:
    """The metadata file of a crate folder, or `path` itself when it is one.

    Raises:
        NotACrate: there is no metadata file at `path`.
    """
    path = Path(path)
    if path.is_dir():
        path = path / METADATA_FILE
    if not path.is_file():
        raise NotACrate(f"{path}: no {METADATA_FILE}; pass a crate folder or its metadata file")
    return path


def load_document(path: Path) -> dict[str, Any]:
    """The crate's JSON document, checked to be an RO-Crate (a top-level `@graph` list).

    Raises:
        NotACrate: the file cannot be read, is not JSON, or is no RO-Crate metadata.
    """
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise NotACrate(f"{path}: cannot be read ({exc})") from None
    except json.JSONDecodeError as exc:
        raise NotACrate(f"{path}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg})") from None
    except (ValueError, RecursionError) as exc:  # 4,300-digit integers, absurd nesting
        raise NotACrate(f"{path}: not a usable JSON document ({exc})") from None
    if not isinstance(document, dict) or "@graph" not in document:
        raise NotACrate(f"{path}: not an RO-Crate metadata file (no top-level @graph)")
    if not isinstance(document["@graph"], list):
        raise NotACrate(
            f"{path}: `@graph` is a {type(document['@graph']).__name__}, not a list of entities"
        )
    return document


def crate_base(document: dict[str, Any], metadata_path: Path) -> str:
    """The base IRI to read a crate with.

    fedcrate crates name their run UUID in the root's `identifier` (`urn:uuid:…`), which
    gives back the base they were built with; other crates get a base derived from their
    location, stable across reads.
    """
    for node in document.get("@graph", []):
        if isinstance(node, dict) and node.get("@id") == "./":
            identifiers = node.get("identifier", [])
            for ident in identifiers if isinstance(identifiers, list) else [identifiers]:
                text = ident.get("@id") if isinstance(ident, dict) else ident
                if isinstance(text, str) and text.startswith("urn:uuid:"):
                    try:
                        return base_iri(text[len("urn:uuid:") :])
                    except ValueError:
                        break
    location = metadata_path.resolve().parent.as_uri()
    return base_iri(str(uuid.uuid5(uuid.NAMESPACE_URL, location)))


def read_crate(path: Path | str) -> Graph:
    """The graph of an RO-Crate folder (or metadata file), parsed offline.

    Raises:
        NotACrate: the path holds no readable JSON-LD crate (the message says why).
    """
    metadata = metadata_path(Path(path))
    document = load_document(metadata)
    try:
        return jsonld_to_graph(document, crate_base(document, metadata))
    except Exception as exc:  # rdflib raises many types for malformed JSON-LD
        raise NotACrate(f"{metadata}: not valid JSON-LD ({exc})") from None
