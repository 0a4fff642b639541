"""Zipped crates, read in place: the metadata and payload files straight from the archive.

RO-Crate 1.2 zips a crate with `ro-crate-metadata.json` at the zip's root (`fedcrate zip`
writes that layout); a zip made by packing a crate's folder holds one top folder with the
crate inside, and is read too. Nothing is unpacked: members are read as streams, so a
multi-GB model is hashed in constant memory, and no member name can write outside a folder
(the zip-slip problem of unpacking untrusted archives does not arise).
"""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path, PurePosixPath
from types import TracebackType

from fedcrate.errors import NotACrate
from fedcrate.rdf.entities import METADATA_FILE

__all__ = ["ZippedCrate", "is_zip"]

_CHUNK = 1 << 20


def is_zip(path: Path) -> bool:
    """True when `path` is a file holding a zip archive (by its content, not its suffix)."""
    try:
        return path.is_file() and zipfile.is_zipfile(path)
    except OSError:
        return False


class ZippedCrate:
    """An open zipped crate: its metadata member and its payload members by crate path.

    Raises:
        NotACrate: (on creation) the file is not a readable zip, or holds no
            `ro-crate-metadata.json` at its root or in its one top folder.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            self._archive = zipfile.ZipFile(self.path)
        except (OSError, zipfile.BadZipFile) as exc:
            raise NotACrate(f"{self.path}: not a readable zip ({exc})") from None
        self._members = {info.filename: info for info in self._archive.infolist()}
        try:
            self.root = self._find_root()
        except NotACrate:
            self._archive.close()
            raise

    def _find_root(self) -> str:
        """The prefix of the crate's members: "" (RO-Crate's layout) or "<top folder>/"."""
        if METADATA_FILE in self._members:
            return ""
        tops = {PurePosixPath(name).parts[0] for name in self._members if name.strip("/")}
        if len(tops) == 1:
            (top,) = tops
            if f"{top}/{METADATA_FILE}" in self._members:
                return f"{top}/"
        raise NotACrate(
            f"{self.path}: a zip without {METADATA_FILE} at its root (or in its one top "
            "folder), so not a zipped crate; zip a crate folder with `fedcrate zip FOLDER`"
        )

    @property
    def metadata_location(self) -> Path:
        """Where the metadata file is, for messages and for a location-derived base IRI."""
        return self.path / self.root / METADATA_FILE

    def metadata_bytes(self) -> bytes:
        """The raw bytes of the crate's `ro-crate-metadata.json`.

        Raises:
            NotACrate: the member cannot be read (a corrupt or encrypted zip).
        """
        try:
            return self._archive.read(self.root + METADATA_FILE)
        except (OSError, RuntimeError, zipfile.BadZipFile, ValueError) as exc:
            raise NotACrate(f"{self.metadata_location}: cannot be read ({exc})") from None

    def member(self, crate_path: str) -> zipfile.ZipInfo | None:
        """The member holding the crate's file `crate_path` (None when the zip lacks it)."""
        return self._members.get(self.root + crate_path)

    def sha256(self, info: zipfile.ZipInfo) -> str:
        """Hex SHA-256 of a member's uncompressed bytes, read as a stream.

        Raises:
            OSError: the member cannot be decompressed (the zip is corrupt).
        """
        digest = hashlib.sha256()
        try:
            with self._archive.open(info) as stream:
                for chunk in iter(lambda: stream.read(_CHUNK), b""):
                    digest.update(chunk)
        except (RuntimeError, zipfile.BadZipFile, ValueError) as exc:
            raise OSError(f"cannot be decompressed ({exc})") from None
        return digest.hexdigest()

    def extract_to(self, folder: Path) -> Path:
        """Unpack the crate into `folder` and return the crate folder inside it.

        `ZipFile.extractall` drops absolute paths and `..` from member names, so nothing
        lands outside `folder`.

        Raises:
            NotACrate: the zip cannot be unpacked (corrupt, encrypted, disk full).
        """
        try:
            self._archive.extractall(folder)
        except (OSError, RuntimeError, zipfile.BadZipFile, ValueError) as exc:
            raise NotACrate(f"{self.path}: cannot be unpacked ({exc})") from None
        return folder / self.root if self.root else folder

    def close(self) -> None:
        """Close the archive."""
        self._archive.close()

    def __enter__(self) -> ZippedCrate:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
