"""A crate folder → one zip file with `ro-crate-metadata.json` at the zip root.

That is the layout RO-Crate 1.2 describes for zipped crates, which ro-crate-py and the
official validator open directly. The zip is written beside its target and moved into
place, so a half-written zip is never visible; an existing file is never replaced unless
asked (`overwrite=True`), and the no-replace move is atomic (a hard link), so two packers
racing for one name cannot both win. Hidden files and folders are never packed.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from pathlib import Path

from fedcrate.crate.reader import read_crate
from fedcrate.crate.zipped import is_zip
from fedcrate.errors import CrateWriteError, NotACrate
from fedcrate.rdf.entities import METADATA_FILE

__all__ = ["zip_crate"]


def _members(crate_dir: Path, exclude: set[Path]) -> list[Path]:
    """Every file under the crate, in a stable order (metadata file first).

    Hidden files and folders (a name starting with ".") are working files, not part of
    the crate: an old `.fedcrate-index`, a `.ro-crate-staging-*` folder, `.DS_Store`.
    They are never packed, and hidden folders are not even walked (an index can be large).
    Symlinked folders are not followed, as before.
    """
    files = []
    for root, dirs, names in os.walk(crate_dir):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in names:
            path = Path(root, name)
            if not name.startswith(".") and path.is_file() and path.resolve() not in exclude:
                files.append(path)
    files.sort(key=lambda p: p.relative_to(crate_dir).parts)
    files.sort(key=lambda p: (p.relative_to(crate_dir).as_posix() != METADATA_FILE,))
    return files


def zip_crate(
    crate_dir: Path | str, output: Path | str | None = None, *, overwrite: bool = False
) -> Path:
    """Write `crate_dir` as a zip (default: `<crate_dir>.zip` beside it); return its path.

    An existing file at the target is kept (an error) unless `overwrite`: a zip sent to
    someone, or one another run wrote, must not be replaced by accident.

    Raises:
        NotACrate: `crate_dir` is not a readable crate folder (a zipped crate included).
        CrateWriteError: the zip exists (without `overwrite`) or cannot be written.
    """
    crate_dir = Path(crate_dir)
    if is_zip(crate_dir):
        raise NotACrate(f"{crate_dir}: already a zipped crate; pass a crate folder to zip")
    if not crate_dir.is_dir():
        raise NotACrate(f"{crate_dir}: not a folder; pass a crate folder to zip")
    read_crate(crate_dir)  # refuse to pack something that is not a crate
    target = Path(output) if output is not None else crate_dir.resolve().with_suffix(".zip")
    if target.suffix.lower() != ".zip":
        target = target.with_name(target.name + ".zip")
    if not overwrite and (target.exists() or target.is_symlink()):
        raise _exists(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temp_name = tempfile.mkstemp(prefix=".fedcrate-zip-", dir=target.parent)
    except OSError as exc:
        raise CrateWriteError(f"{target}: cannot write the zip ({exc.strerror})") from None
    temp = Path(temp_name)
    try:
        with (
            os.fdopen(handle, "wb") as stream,
            zipfile.ZipFile(stream, "w", compression=zipfile.ZIP_DEFLATED) as archive,
        ):
            for path in _members(crate_dir, {target.resolve(), temp.resolve()}):
                archive.write(path, path.relative_to(crate_dir).as_posix())
        os.chmod(temp, 0o644)  # mkstemp makes it private; a crate is meant to be shared
        _move(temp, target, overwrite)
    except CrateWriteError:
        temp.unlink(missing_ok=True)
        raise
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise CrateWriteError(f"{target}: writing the zip failed ({exc})") from None
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return target


def _exists(target: Path) -> CrateWriteError:
    return CrateWriteError(
        f"{target}: exists; pass --force (overwrite=True) to replace it, or choose another "
        "name with --output"
    )


def _move(temp: Path, target: Path, overwrite: bool) -> None:
    """Move the finished zip into place; without `overwrite`, never over an existing file."""
    if overwrite:
        os.replace(temp, target)
        return
    try:
        os.link(temp, target)  # fails when the target exists: no check-then-write race
    except FileExistsError:
        raise _exists(target) from None
    except OSError:  # a file system without hard links: the check above has to do
        if target.exists():
            raise _exists(target) from None
        os.replace(temp, target)
        return
    temp.unlink()
