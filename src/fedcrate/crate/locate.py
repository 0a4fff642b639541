"""Which crates a path names: the path itself, or the crates in a folder of crates.

A crate folder, its metadata file and a zipped crate each name one crate. A folder that is
not a crate itself (the demo's `--out` folder, a tracker's `output_dir`: `ro-crate/`,
`ro-crate-2/`, …) names the crates below it, so `fedcrate show fedcrate-demo` uses the one
crate there, and `validate` / `verify` check every crate there. Hidden folders are not
searched (half-written crates are staged in `.ro-crate-staging-*`, the SPARQL index lives
in `.fedcrate-index`), nor are the folders inside a crate (its `code/` is part of it).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from fedcrate.crate.zipped import is_zip
from fedcrate.errors import NotACrate
from fedcrate.rdf.entities import METADATA_FILE

__all__ = ["crates_below", "crates_named", "one_crate"]

_LISTED = 10  # crate names a message lists before "… and N more"


def _natural(path: Path) -> list[object]:
    """Sort key: `ro-crate-2` before `ro-crate-10`."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", str(path))]


def crates_below(folder: Path) -> list[Path]:
    """The crate folders under `folder` (not `folder` itself), in natural order.

    Each is `folder` joined with the crate's relative path, so messages show the path the
    way the user wrote it. Symbolic links to folders are not followed (no loops).
    """
    found: list[Path] = []
    for current, subfolders, files in os.walk(folder):
        here = Path(current)
        if METADATA_FILE in files and here != Path(folder):
            found.append(here)
            subfolders.clear()  # the folders of a crate are part of it
            continue
        subfolders[:] = [name for name in subfolders if not name.startswith(".")]
    return sorted(found, key=_natural)


def _zips_in(folder: Path) -> list[Path]:
    try:
        return sorted(p for p in folder.iterdir() if p.suffix.lower() == ".zip" and is_zip(p))
    except OSError:
        return []


def crates_named(path: Path) -> list[Path]:
    """The crates `path` names: itself when it is a crate, else the crates below the folder.

    Raises:
        NotACrate: nothing is at `path`, or it is a folder with no crate in or below it
            (the message names any zipped crates beside, which are not searched for).
    """
    path = Path(path)
    if not path.exists():
        raise NotACrate(
            f"{path}: no such file or folder; pass a crate folder, its {METADATA_FILE} "
            "or a zipped crate"
        )
    if not path.is_dir() or (path / METADATA_FILE).is_file():
        return [path]
    found = crates_below(path)
    if found:
        return found
    zips = _zips_in(path)
    hint = (
        f"; it holds {_listing(zips)}: pass a zip itself to read it"
        if zips
        else f"; pass a crate folder, its {METADATA_FILE} or a zipped crate"
    )
    raise NotACrate(f"{path}: no {METADATA_FILE} in this folder or below it{hint}")


def one_crate(path: Path) -> Path:
    """The one crate `path` names (a crate, or a folder holding exactly one crate).

    Raises:
        NotACrate: as `crates_named`, or the folder holds several crates (they are listed).
    """
    found = crates_named(path)
    if len(found) == 1:
        return found[0]
    raise NotACrate(
        f"{path}: holds {len(found)} crates, not one: {_listing(found)}; pass one of them, "
        f"e.g. {found[-1]}"
    )


def _listing(paths: list[Path]) -> str:
    shown = ", ".join(str(p) for p in paths[:_LISTED])
    more = len(paths) - _LISTED
    return shown + (f" and {more} more" if more > 0 else "")
