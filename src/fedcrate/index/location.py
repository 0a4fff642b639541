"""Where the embedded SPARQL index lives when `--index` is not given: the user's cache.

The index is a working file, not part of any crate: kept inside a crate folder it was
packed by `fedcrate zip` and shared with the crate (a 55 KB crate became 398 KB). It is
therefore kept in the platform's cache folder, one index per set of folders:

* `$FEDCRATE_INDEX_HOME/<key>` when that variable is set (tests, shared machines);
* Linux and other Unix: `$XDG_CACHE_HOME/fedcrate/index/<key>`, else `~/.cache/…`
  (the XDG base directory rule: a relative `$XDG_CACHE_HOME` is ignored);
* macOS: `~/Library/Caches/fedcrate/index/<key>`;
* Windows: `%LOCALAPPDATA%\\fedcrate\\index\\<key>`.

`<key>` is the first 16 hex digits of the SHA-256 of the sorted, resolved folder paths,
so the same folders (in any order, by any relative path) reuse one index, and other
folders never see it. No dependency (platformdirs) is needed for these three rules.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Iterable
from pathlib import Path

__all__ = ["ENV_VAR", "cache_root", "default_index_path", "folders_key"]

ENV_VAR = "FEDCRATE_INDEX_HOME"


def cache_root() -> Path:
    """The folder holding every default index (`…/fedcrate/index` or `$FEDCRATE_INDEX_HOME`)."""
    configured = os.environ.get(ENV_VAR)
    if configured:
        return Path(configured).expanduser()
    if sys.platform == "win32":
        local = os.environ.get("LOCALAPPDATA")
        base = Path(local) if local else Path.home() / "AppData" / "Local"
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "fedcrate" / "index"


def folders_key(folders: Iterable[Path]) -> str:
    """16 hex digits naming a set of folders: order and spelling of the paths do not matter."""
    resolved = sorted({str(Path(folder).resolve()) for folder in folders})
    return hashlib.sha256("\n".join(resolved).encode("utf-8")).hexdigest()[:16]


def default_index_path(folders: Iterable[Path]) -> Path:
    """The index folder used for `folders` when no `--index` is given (not created here)."""
    return cache_root() / folders_key(folders)
