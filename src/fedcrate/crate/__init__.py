"""Crates on disk: the one writer, the reader, payload files, verify, zip, journal, recovery.

The reader takes a crate folder, its metadata file or a zipped crate (`crate.zipped` reads
zips in place); `crate.locate` says which crates a path names (a folder of crates names
every crate in it).

`write_crate` (a run) and FEDn's appended crates both go through `crate.writer`'s staging
folder, metadata writer and atomic rename; every payload file is described by
`crate.files` (one media-type table, streamed sha256).
"""

from __future__ import annotations

from fedcrate.crate.files import describe_file, media_type, sha256_of
from fedcrate.crate.reader import crate_base, read_crate
from fedcrate.crate.writer import CRATE_FOLDER, WrittenCrate, write_crate

__all__ = [
    "CRATE_FOLDER",
    "WrittenCrate",
    "crate_base",
    "describe_file",
    "media_type",
    "read_crate",
    "sha256_of",
    "write_crate",
]
