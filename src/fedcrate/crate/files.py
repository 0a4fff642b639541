"""Payload files: the one media-type table, streamed checksums, `PayloadFile` descriptions.

Every crate kind (Flower runs, FEDn packages, local entry-point runs, sessions) describes
its files here, so the same file gets the same `encodingFormat` whichever adapter wrote it.
"""

from __future__ import annotations

import hashlib
import mimetypes
import shutil
from pathlib import Path

from fedcrate.record.run import PayloadFile

__all__ = ["MEDIA_TYPES", "copy_and_describe", "describe_file", "media_type", "sha256_of"]

# Suffixes whose registered media type `mimetypes` does not know (or guesses differently
# on different machines); everything else falls back to `mimetypes`, then octet-stream.
MEDIA_TYPES = {
    ".npz": "application/octet-stream",
    ".npy": "application/octet-stream",
    ".pt": "application/octet-stream",
    ".pth": "application/octet-stream",
    ".csv": "text/csv",
    ".json": "application/json",
    ".jsonl": "application/jsonl",
    ".log": "text/plain",
    ".txt": "text/plain",
    ".py": "text/x-python",
    ".tgz": "application/gzip",
    ".gz": "application/gzip",
    ".yaml": "application/yaml",
    ".yml": "application/yaml",
    ".toml": "application/toml",
}


def media_type(path: Path | str) -> str:
    """The media type fedcrate states for a payload file, by its suffix."""
    path = Path(path)
    known = MEDIA_TYPES.get(path.suffix.lower())
    if known:
        return known
    guessed, encoding = mimetypes.guess_type(path.name)
    if encoding is not None:  # `x.tar.gz` is a gzip file whatever it holds
        return "application/gzip"
    return guessed or "application/octet-stream"


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file, read as a stream (constant memory for multi-GB models)."""
    with path.open("rb") as handle:
        if hasattr(hashlib, "file_digest"):  # Python 3.11+
            return hashlib.file_digest(handle, "sha256").hexdigest()
        digest = hashlib.sha256()
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
        return digest.hexdigest()


def describe_file(
    path: Path,
    crate_path: str,
    *,
    name: str,
    description: str,
    role: str,
    encoding_format: str | None = None,
) -> PayloadFile:
    """A file's `PayloadFile`: size and streamed sha256 read from `path` as it is now."""
    return PayloadFile(
        crate_path=crate_path,
        name=name,
        description=description,
        encoding_format=encoding_format or media_type(path),
        sha256=sha256_of(path),
        size=path.stat().st_size,
        role=role,
    )


def copy_and_describe(
    source: Path,
    staging: Path,
    crate_path: str,
    *,
    name: str,
    description: str,
    role: str,
    encoding_format: str | None = None,
) -> PayloadFile:
    """Copy `source` to `crate_path` inside `staging` (kept when already there) and describe it."""
    target = staging / crate_path
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        shutil.copyfile(source, target)
    return describe_file(
        target,
        crate_path,
        name=name,
        description=description,
        role=role,
        encoding_format=encoding_format,
    )
