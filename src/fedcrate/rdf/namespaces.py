"""Namespaces, profile IRIs and the minting of entity IRIs inside a crate.

Every crate gets its own base IRI `arcp://uuid,<run uuid>/` (the RO-Crate recommendation
for crates without a web home), so entities of different crates never collide when many
crates share one SPARQL store, and `./`, `#fl-run` stay relative in the JSON-LD.
"""

from __future__ import annotations

import urllib.parse
import uuid

from rdflib import Namespace, URIRef

from fedcrate.record.run import Side

__all__ = [
    "DCT",
    "FEDCRATE_PROFILE",
    "FL",
    "FL_PROFILE",
    "PROCESS_RUN_CRATE",
    "PROV",
    "RO_CRATE_1_2",
    "SDO",
    "XSD",
    "base_iri",
    "crate_path_iri",
    "fragment",
    "register_arcp",
    "run_uuid_from_base",
    "side_from_iri",
    "side_iri",
]

SDO = Namespace("http://schema.org/")
PROV = Namespace("http://www.w3.org/ns/prov#")
DCT = Namespace("http://purl.org/dc/terms/")
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")
# The FL vocabulary (vocab/fl.ttl). Its terms are minted here, nowhere else.
FL = Namespace("https://w3id.org/fedcrate/fl#")

RO_CRATE_1_2 = URIRef("https://w3id.org/ro/crate/1.2")
PROCESS_RUN_CRATE = URIRef("https://w3id.org/ro/wfrun/process/0.5")
# The FL profile draft has no permalink yet; this is the URL its authors publish it at.
FL_PROFILE = URIRef(
    "https://esciencelab.org.uk/federated-learning-ro-crate-profile/federated-learning-profile.html"
)
# fedcrate's own guarantees, a profile of the FL profile (shapes/fedcrate/profile.ttl).
FEDCRATE_PROFILE = URIRef("https://w3id.org/fedcrate/profile/0.1")

_SIDE_IRIS = {side: FL[side.term] for side in Side}
_IRI_SIDES = {v: k for k, v in _SIDE_IRIS.items()}


def side_iri(side: Side) -> URIRef:
    """The FL vocabulary individual naming a side of the federation."""
    return _SIDE_IRIS[side]


def side_from_iri(iri: URIRef) -> Side | None:
    """Inverse of `side_iri` (None for an IRI that names no side)."""
    return _IRI_SIDES.get(iri)


def register_arcp() -> None:
    """Teach urllib that `arcp://` IRIs have an authority and resolve relative references.

    rdflib resolves `./` and `#fl-run` against the base with `urllib.parse.urljoin`, which
    leaves references unresolved for schemes it does not know.
    """
    for registry in (urllib.parse.uses_relative, urllib.parse.uses_netloc):
        if "arcp" not in registry:
            registry.append("arcp")


def base_iri(run_uuid: str) -> str:
    """`arcp://uuid,<uuid>/` for a run; raises ValueError when `run_uuid` is not a UUID."""
    return f"arcp://uuid,{uuid.UUID(run_uuid)}/"


def run_uuid_from_base(base: str) -> str | None:
    """The UUID inside an `arcp://uuid,…/` base, or None for other bases."""
    prefix = "arcp://uuid,"
    if base.startswith(prefix) and base.endswith("/"):
        return base[len(prefix) : -1]
    return None


def fragment(base: str, kind: str, *parts: str | int) -> URIRef:
    """`<base>#<kind>-<part>-<part>`; parts are percent-encoded, so the mapping is injective.

    flwrCrate slugged names, which made `num_rounds` and `num-rounds` collide; quoting
    keeps `-` and `_` distinct.
    """
    encoded = [urllib.parse.quote(str(p), safe="") for p in parts]
    return URIRef(base + "#" + "-".join([kind, *encoded]))


def crate_path_iri(base: str, crate_path: str) -> URIRef:
    """The IRI of a payload file, from its POSIX path relative to the crate root.

    An absolute IRI (a `file://` reference to a file kept outside the crate) stays as is.
    """
    if urllib.parse.urlsplit(crate_path).scheme in ("file", "http", "https"):
        return URIRef(crate_path)
    return URIRef(base + urllib.parse.quote(crate_path, safe="/"))
