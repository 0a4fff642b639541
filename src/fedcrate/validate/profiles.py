"""The profiles fedcrate ships, as crs4's rocrate-validator lays them out, and which to apply.

Each folder `shapes/<name>/` holds a `profile.ttl` (one W3C PROF `prof:Profile`: its IRI,
`prof:hasToken`, `prof:isProfileOf`) and `{must,should,may}/*.ttl` shapes. Validating
against a profile applies its shapes and those of every shipped profile it is (transitively)
a profile of: `fedcrate-0.1` is a profile of the FL profile, so it brings `fl-crate-0.1`'s
shapes too. Profiles named in `prof:isProfileOf` that fedcrate does not ship (RO-Crate 1.2,
Process Run Crate) are the official validator's business and are not applied here.

Without an explicit choice, a crate is validated against the most specific shipped profile
its Root Data Entity claims in `conformsTo`; a crate that claims none is validated against
the FL profile, and the report says it does not claim it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from fedcrate.assets import asset_dir
from fedcrate.errors import BrokenInstallation, FedcrateError

__all__ = [
    "DEFAULT_PROFILE",
    "Profile",
    "UnknownProfile",
    "choose_profile",
    "lineage",
    "profile",
    "shapes_digest",
    "shipped_profiles",
]

# A crate that claims no shipped profile is checked against the published FL profile: it is
# what every FL crate is meant to meet, and fedcrate's own profile only adds guarantees.
DEFAULT_PROFILE = "fl-crate-0.1"

_PROF = "http://www.w3.org/ns/dx/prof/"
_LEVELS = ("must", "should", "may")


class UnknownProfile(FedcrateError, ValueError):
    """`--profile` names no profile fedcrate ships (exit 2); the message lists the known ones."""


@dataclass(frozen=True)
class Profile:
    """One shipped profile: what its `profile.ttl` says, and the folder of its shapes."""

    token: str
    """`prof:hasToken`, e.g. `fl-crate-0.1`: the name users pass to `--profile`."""
    iri: str
    """The profile's IRI: what a crate lists in its root's `conformsTo` to claim it."""
    label: str
    folder: str
    """The folder under `shapes/` that holds `profile.ttl` and the shapes."""
    is_profile_of: tuple[str, ...] = ()
    """IRIs of the profiles this one builds on (`prof:isProfileOf`), shipped or not."""


def _read_profile(folder: str, text: str) -> Profile:
    from rdflib import RDF, RDFS, Graph, URIRef

    graph = Graph(bind_namespaces="none")
    try:
        graph.parse(data=text, format="turtle")
    except Exception as exc:  # rdflib raises many types for malformed Turtle
        raise BrokenInstallation(f"shapes/{folder}/profile.ttl: not valid Turtle ({exc})") from None
    found = [
        s for s in graph.subjects(RDF.type, URIRef(_PROF + "Profile")) if isinstance(s, URIRef)
    ]
    if len(found) != 1:
        raise BrokenInstallation(
            f"shapes/{folder}/profile.ttl must describe one prof:Profile (found {len(found)})"
        )
    iri = found[0]
    token = graph.value(iri, URIRef(_PROF + "hasToken"))
    if token is None:
        raise BrokenInstallation(f"shapes/{folder}/profile.ttl: the profile has no prof:hasToken")
    parents = sorted(str(o) for o in graph.objects(iri, URIRef(_PROF + "isProfileOf")))
    return Profile(
        token=str(token),
        iri=str(iri),
        label=str(graph.value(iri, RDFS.label) or token),
        folder=folder,
        is_profile_of=tuple(parents),
    )


@cache
def shipped_profiles() -> dict[str, Profile]:
    """Every shipped profile by token, read once per process from `shapes/*/profile.ttl`.

    Raises:
        BrokenInstallation: the shapes folder is missing, or a `profile.ttl` is unusable.
    """
    found: dict[str, Profile] = {}
    root = asset_dir("shapes")
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        description = entry.joinpath("profile.ttl")
        if not entry.is_dir() or not description.is_file():
            continue
        item = _read_profile(entry.name, description.read_text(encoding="utf-8"))
        if item.token in found:
            raise BrokenInstallation(
                f"shapes/{entry.name} and shapes/{found[item.token].folder} both declare "
                f"the profile token {item.token!r}"
            )
        found[item.token] = item
    if DEFAULT_PROFILE not in found:
        raise BrokenInstallation(
            f"the shipped shapes lack the {DEFAULT_PROFILE} profile; reinstall fedcrate"
        )
    return found


def profile(token: str) -> Profile:
    """The shipped profile called `token`.

    Raises:
        UnknownProfile: no shipped profile has that token (the message lists those that do).
    """
    known = shipped_profiles()
    try:
        return known[token]
    except KeyError:
        raise UnknownProfile(
            f"unknown profile {token!r}; fedcrate ships: {', '.join(sorted(known))}"
        ) from None


def lineage(token: str) -> list[Profile]:
    """`token`'s profile and every shipped profile it is transitively a profile of.

    Most specific first, each once; a cycle in `prof:isProfileOf` cannot loop.

    Raises:
        UnknownProfile: no shipped profile has that token.
    """
    by_iri = {p.iri: p for p in shipped_profiles().values()}
    out: list[Profile] = []
    pending = [profile(token)]
    while pending:
        item = pending.pop(0)
        if item in out:
            continue
        out.append(item)
        pending.extend(by_iri[iri] for iri in item.is_profile_of if iri in by_iri)
    return out


def choose_profile(claims: Iterable[str]) -> tuple[Profile, bool]:
    """(the profile to apply to a crate claiming `claims`, whether it claims that profile).

    The most specific claimed profile wins: one no other claimed profile builds on. With
    none claimed, the FL profile (`DEFAULT_PROFILE`), unclaimed.
    """
    known = shipped_profiles()
    claimed = {p.token for p in known.values() if p.iri in set(claims)}
    if not claimed:
        return known[DEFAULT_PROFILE], False
    ancestors = {a.token for t in claimed for a in lineage(t)[1:]}
    candidates = sorted(claimed - ancestors) or sorted(claimed)
    # Two unrelated claimed profiles: the one with the longer lineage checks more.
    best = max(candidates, key=lambda t: (len(lineage(t)), t))
    return known[best], True


@cache
def shapes_digest() -> str:
    """SHA-256 over every shipped shapes and vocabulary file: what prepared shapes depend on."""
    digest = hashlib.sha256()
    for name in ("shapes", "vocab"):
        root = asset_dir(name)
        stack = [root]
        files = []
        while stack:
            folder = stack.pop()
            for entry in folder.iterdir():
                if entry.is_dir():
                    stack.append(entry)
                elif entry.name.endswith(".ttl"):
                    files.append(entry)
        for entry in sorted(files, key=lambda e: str(e)):
            digest.update(str(entry)[len(str(root)) :].encode("utf-8") + b"\0")
            digest.update(entry.read_bytes() + b"\0")
    return digest.hexdigest()


def shape_files(item: Profile) -> list[tuple[str, str]]:
    """(level, Turtle text) of every shapes file of `item`, by level then file name."""
    folder = asset_dir("shapes").joinpath(item.folder)
    out = []
    for level in _LEVELS:
        part = folder.joinpath(level)
        if not part.is_dir():
            continue
        for entry in sorted(part.iterdir(), key=lambda e: e.name):
            if entry.name.endswith(".ttl"):
                out.append((level, entry.read_text(encoding="utf-8")))
    return out
