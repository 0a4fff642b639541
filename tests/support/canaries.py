"""Canary secrets: values that must never reach a crate, and a scanner that looks for them.

A canary is a random value made when the test session starts, so it exists in no source
file (a strategy defined in a test module is copied into its crate as code: a canary
written in that module would be found there, by design). A scan looks for each canary in
every file of a crate, raw and in the forms a leak could take on the way: base64 (at any
alignment), URL-encoding, hex, JSON and HTML escaping.

`canary_session_scan` (used by tests/conftest.py) puts canaries into the environment of the
whole test session — every Flower simulation the tests start inherits them — and, when the
session ends, scans every crate fedcrate wrote under pytest's temporary folder (and every
journal an interrupted run left) for them, and the crates for secrets of any origin
(private-key blocks, `user:password@` URLs) in the metadata, metrics log and preview.
`FEDCRATE_CANARY_SCAN=0` turns it off.
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
import secrets
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

__all__ = [
    "ENVIRONMENT_CANARIES",
    "KNOWN_LEAK_MARKER",
    "Leak",
    "allow_known_leak",
    "canary",
    "canary_session_scan",
    "encoded_forms",
    "fedcrate_crates",
    "scan_crate",
    "scan_for_secret_patterns",
]

METADATA = "ro-crate-metadata.json"
# A test that demonstrates a known leak (an xfail test) marks its folder with this file, so
# the session scan skips the crates under it; remove it together with the xfail mark.
KNOWN_LEAK_MARKER = ".fedcrate-known-leak"
# Files that describe the run (not copies of the app's code or its model).
DESCRIPTIVE_FILES = (METADATA, "metrics-by-round.csv", "ro-crate-preview.html")
_PRIVATE_KEY = re.compile(rb"-----BEGIN [A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----")
_URL_CREDENTIALS = re.compile(rb"\b[a-z][a-z0-9+.-]*://[^/\s:@\"'<>]*:[^/\s@\"'<>]+@", re.I)


def canary(label: str) -> str:
    """A fresh canary value: recognisable, random, long enough to never occur by chance."""
    return f"cnry-{label}-{secrets.token_hex(10)}"


# Set for the whole session by `canary_session_scan`; names that look secret and names that
# do not (an app may keep a secret under any variable name).
ENVIRONMENT_CANARIES: dict[str, str] = {
    "FEDCRATE_CANARY_API_TOKEN": canary("env-token"),
    "FEDCRATE_CANARY_DB_PASSWORD": canary("env-password"),
    "FEDCRATE_CANARY_SETTING": canary("env-plain"),
}


def _base64_cores(data: bytes) -> Iterator[bytes]:
    """Substrings every base64 encoding of a text containing `data` contains, per alignment."""
    for offset in range(3):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            encoded = encode(b"\0" * offset + data)
            start = 4 if offset else 0  # the first group mixes the data with what precedes
            core = encoded[start:].rstrip(b"=")[:-3]
            if len(core) >= 12:
                yield core


def encoded_forms(secret: str) -> dict[str, bytes]:
    """The byte strings a leak of `secret` could show up as."""
    raw = secret.encode("utf-8")
    forms = {
        "raw": raw,
        "url-encoded": quote(secret, safe="").encode(),
        "url-encoded (+)": quote_plus(secret).encode(),
        "hex": raw.hex().encode(),
        "json-escaped": json.dumps(secret)[1:-1].encode(),
        "html-escaped": html.escape(secret).encode(),
    }
    for index, core in enumerate(_base64_cores(raw)):
        forms[f"base64#{index}"] = core
    return forms


@dataclass(frozen=True)
class Leak:
    """A secret found in a crate."""

    file: Path
    what: str
    form: str

    def __str__(self) -> str:
        return f"{self.file}: {self.what} ({self.form})"


def scan_crate(crate: Path, secrets_by_name: Mapping[str, str]) -> list[Leak]:
    """Every file under `crate` that holds one of the secrets in any of its forms."""
    patterns = {
        (name, form): needle
        for name, value in secrets_by_name.items()
        for form, needle in encoded_forms(value).items()
    }
    leaks = []
    for path in sorted(p for p in crate.rglob("*") if p.is_file()):
        data = path.read_bytes()
        lowered = data.lower()
        found: set[str] = set()
        for (name, form), needle in patterns.items():
            if name in found:
                continue  # one report per secret and file
            # Hex and percent-encodings may come in either case.
            haystack = lowered if form in ("hex", "url-encoded", "url-encoded (+)") else data
            if (needle.lower() if haystack is lowered else needle) in haystack:
                leaks.append(Leak(path, name, form))
                found.add(name)
    return leaks


def scan_for_secret_patterns(crate: Path) -> list[Leak]:
    """Private-key blocks and `user:password@` URLs in the files that describe the run."""
    leaks = []
    for name in DESCRIPTIVE_FILES:
        path = crate / name
        if not path.is_file():
            continue
        data = path.read_bytes()
        for label, pattern in (
            ("private key", _PRIVATE_KEY),
            ("URL credentials", _URL_CREDENTIALS),
        ):
            match = pattern.search(data)
            if match:
                leaks.append(Leak(path, label, match.group(0)[:60].decode(errors="replace")))
    return leaks


def allow_known_leak(folder: Path, reason: str) -> None:
    """Exempt crates under `folder` from the session scan (for xfail tests of a known leak)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / KNOWN_LEAK_MARKER).write_text(reason + "\n", encoding="utf-8")


def _exempt(metadata: Path, root: Path) -> bool:
    return any(
        (parent / KNOWN_LEAK_MARKER).is_file()
        for parent in metadata.parents
        if parent == root or root in parent.parents
    )


def fedcrate_crates(root: Path) -> list[Path]:
    """Crate folders under `root` whose metadata fedcrate wrote (not flwrCrate's, not corpora).

    Crates under a folder marked by `allow_known_leak` are left out.
    """
    found = []
    for metadata in root.rglob(METADATA):
        if _exempt(metadata, root):
            continue
        try:
            head = metadata.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if "https://w3id.org/fedcrate/fl#" in head and "recorded by fedcrate" in head:
            found.append(metadata.parent)
    return sorted(found)


def _leaks_in(crates: Iterable[Path]) -> list[Leak]:
    leaks: list[Leak] = []
    for crate in crates:
        leaks += scan_crate(crate, ENVIRONMENT_CANARIES)
        leaks += scan_for_secret_patterns(crate)
    return leaks


@pytest.fixture(scope="session", autouse=True)
def canary_session_scan(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Canaries in the session's environment; at the end, no crate of the session holds one."""
    if os.environ.get("FEDCRATE_CANARY_SCAN", "1") == "0":
        yield
        return
    saved = {name: os.environ.get(name) for name in ENVIRONMENT_CANARIES}
    os.environ.update(ENVIRONMENT_CANARIES)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    basetemp = tmp_path_factory.getbasetemp()
    leaks = _leaks_in(fedcrate_crates(basetemp))
    for journal in basetemp.rglob(".fedcrate-journal-*"):  # left by interrupted runs
        if journal.is_file() and not _exempt(journal, basetemp):
            leaks += scan_crate(journal.parent, ENVIRONMENT_CANARIES)
    assert not leaks, "secrets found in crates written during this session:\n" + "\n".join(
        map(str, leaks)
    )
