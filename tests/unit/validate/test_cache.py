"""The prepared-shapes cache: where it lives, what it keys on, and that it fails soft."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from fedcrate.validate import cache


def test_the_folder_follows_the_override_then_xdg(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("FEDCRATE_CACHE_DIR", str(tmp_path / "own"))
    assert cache.cache_dir() == tmp_path / "own"
    monkeypatch.delenv("FEDCRATE_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.cache_dir() == tmp_path / "xdg" / "fedcrate" / "validate"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/is/ignored")
    assert cache.cache_dir() == Path.home() / ".cache" / "fedcrate" / "validate"


def test_values_round_trip_under_their_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FEDCRATE_CACHE_DIR", str(tmp_path / "c"))
    key = cache.cache_key("part")
    assert key != cache.cache_key("other part") and key == cache.cache_key("part")
    assert cache.load(key) is None
    cache.store(key, {"a": [1, 2]})
    assert cache.load(key) == {"a": [1, 2]}
    assert oct((tmp_path / "c").stat().st_mode & 0o777) == oct(0o700)


def test_sentinels_keep_their_identity() -> None:
    from rdflib.plugins.shared.jsonld import context

    cache.singleton(context.UNDEF, context.__name__, "UNDEF")
    key = cache.cache_key("sentinel")
    cache.store(key, [context.UNDEF])
    [loaded] = cache.load(key)
    assert loaded is context.UNDEF


def test_unwritable_or_corrupt_caches_only_cost_time(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("FEDCRATE_CACHE_DIR", str(blocked))
    cache.store("k", [1])  # no exception
    assert cache.load("k") is None
    monkeypatch.setenv("FEDCRATE_CACHE_DIR", str(tmp_path / "ok"))
    cache.store("k", [1])
    (tmp_path / "ok" / "prepared-k.pickle").write_bytes(b"\x80\x05garbage")
    assert cache.load("k") is None


def test_a_cli_run_with_an_unwritable_cache_still_validates(tmp_path: Path) -> None:
    from fedcrate import write_crate
    from tests.conftest import make_record

    crate = write_crate(make_record(), tmp_path / "c", preview=False).path
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    environment = {**os.environ, "FEDCRATE_CACHE_DIR": str(blocked)}
    done = subprocess.run(
        [sys.executable, "-m", "fedcrate", "validate", str(crate)],
        capture_output=True,
        text=True,
        env=environment,
        check=False,
    )
    from fedcrate.validate import validate

    assert done.returncode == (0 if validate(crate).conforms else 1), done.stderr
    assert str(crate) in done.stdout and "Traceback" not in done.stderr


def test_files_others_can_write_are_not_loaded(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("FEDCRATE_CACHE_DIR", str(tmp_path / "c"))
    cache.store("k", [1])
    assert cache.load("k") == [1]
    (tmp_path / "c" / "prepared-k.pickle").chmod(0o666)
    assert cache.load("k") is None
