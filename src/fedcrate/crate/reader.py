"""RO-Crate folder, metadata file or zipped crate → Graph, offline.

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

from fedcrate.crate.zipped import ZippedCrate, is_zip
from fedcrate.errors import NotACrate
from fedcrate.rdf.entities import METADATA_FILE
from fedcrate.rdf.jsonld import jsonld_to_graph
from fedcrate.rdf.namespaces import base_iri

__all__ = ["crate_base", "load_document", "metadata_path", "read_crate", "read_document"]


def metadata_path(path: Path) -> Path:
    """The metadata file of a crate folder, or `path` itself when it is a file.

    A file is returned as it is: the metadata file itself, or a zipped crate, which
    `load_document` and `read_document` read in place.

    Raises:
        NotACrate: nothing is at `path`, or it is a folder without a metadata file.
    """
    path = Path(path)
    if not path.exists():
        raise NotACrate(
            f"{path}: no such file or folder; pass a crate folder, its {METADATA_FILE} "
            "or a zipped crate"
        )
    if path.is_dir():
        if not (path / METADATA_FILE).is_file():
            raise NotACrate(
                f"{path}: no {METADATA_FILE} in this folder; pass a crate folder, its "
                "metadata file or a zipped crate"
            )
        path = path / METADATA_FILE
    if not path.is_file():
        raise NotACrate(f"{path}: not a file or folder; pass a crate folder or its metadata file")
    return path


def load_document(path: Path) -> dict[str, Any]:
    """The crate's JSON document, checked to be an RO-Crate (a top-level `@graph` list).

    `path` is a metadata file or a zipped crate (whose metadata member is read in place).

    Raises:
        NotACrate: the file cannot be read, is not JSON, or is no RO-Crate metadata.
    """
    return read_document(path)[0]


def read_document(path: Path) -> tuple[dict[str, Any], Path]:
    """The crate's JSON document and where its metadata file is.

    `path` is a crate folder, its metadata file or a zipped crate. For a zip the location
    is the metadata member's (`crate.zip/ro-crate-metadata.json`), so a crate without a
    `urn:uuid:` identifier gets a base of its own rather than its folder's.

    Raises:
        NotACrate: the path holds no readable RO-Crate metadata (the message says why).
    """
    metadata = metadata_path(Path(path))
    if is_zip(metadata):
        with ZippedCrate(metadata) as zipped:
            return _parse(zipped.metadata_bytes(), zipped.metadata_location), (
                zipped.metadata_location
            )
    try:
        raw = metadata.read_bytes()
    except OSError as exc:
        raise NotACrate(f"{metadata}: cannot be read ({exc.strerror or exc})") from None
    return _parse(raw, metadata), metadata


def _parse(raw: bytes, where: Path) -> dict[str, Any]:
    try:
        document = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise NotACrate(
            f"{where}: not UTF-8 text ({exc.reason} at byte {exc.start}), so not RO-Crate "
            "metadata; pass a crate folder, its metadata file or a zipped crate"
        ) from None
    except json.JSONDecodeError as exc:
        raise NotACrate(f"{where}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg})") from None
    except (ValueError, RecursionError) as exc:  # 4,300-digit integers, absurd nesting
        raise NotACrate(f"{where}: not a usable JSON document ({exc})") from None
    if not isinstance(document, dict) or "@graph" not in document:
        raise NotACrate(f"{where}: not an RO-Crate metadata file (no top-level @graph)")
    if not isinstance(document["@graph"], list):
        raise NotACrate(
            f"{where}: `@graph` is a {type(document['@graph']).__name__}, not a list of entities"
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
    """The graph of an RO-Crate folder, metadata file or zipped crate, parsed offline.

    Raises:
        NotACrate: the path holds no readable JSON-LD crate (the message says why).
    """
    document, metadata = read_document(Path(path))
    try:
        return jsonld_to_graph(document, crate_base(document, metadata))
    except Exception as exc:  # rdflib raises many types for malformed JSON-LD
        raise NotACrate(f"{metadata}: not valid JSON-LD ({exc})") from None
