"""One media-type table: a file gets the same `encodingFormat` whichever crate holds it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from fedcrate.capture.fedn.crate_state import update_local_crate
from fedcrate.crate import read_crate, write_crate
from fedcrate.crate.files import describe_file, media_type, sha256_of
from fedcrate.rdf.namespaces import SDO
from fedcrate.record import FednLocalRecord, RunRecord


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("metrics.csv", "text/csv"),
        ("package.tgz", "application/gzip"),
        ("archive.tar.gz", "application/gzip"),
        ("notes.txt", "text/plain"),
        ("run.log", "text/plain"),
        ("model.npz", "application/octet-stream"),
        ("model.pt", "application/octet-stream"),
        ("fedn.yaml", "application/yaml"),
        ("strategy.py", "text/x-python"),
        ("no-suffix", "application/octet-stream"),
    ],
)
def test_media_types(name: str, expected: str) -> None:
    assert media_type(Path(name)) == expected


def test_flower_and_fedn_crates_state_the_same_format_for_the_same_file(
    record_factory: Callable[..., RunRecord], tmp_path: Path
) -> None:
    payload = tmp_path / "cohort.csv"
    payload.write_text("a,b\n1,2\n")
    # A Flower run's crate: the metrics log is a CSV written by the crate writer.
    flower = read_crate(write_crate(record_factory(), tmp_path / "flower", preview=False).path)
    flower_formats = {
        str(o) for s, o in flower.subject_objects(SDO.encodingFormat) if str(s).endswith(".csv")
    }
    # A FEDn crate holding a CSV.
    fedn_dir = tmp_path / "fedn"
    with update_local_crate(fedn_dir, FednLocalRecord(name="csv")) as staged:
        staged.record.extra_files.append(
            staged.add_file(payload, "data/cohort.csv", "cohort", "a CSV", "data")
        )
        kept = staged.record.extra_files[-1]
    assert flower_formats == {"text/csv"} == {kept.encoding_format}


def test_describe_file_streams_the_checksum(tmp_path: Path) -> None:
    big = tmp_path / "model.bin"
    big.write_bytes(b"\x00" * (3 << 20))
    described = describe_file(big, "model.bin", name="m", description="d", role="model")
    assert described.size == 3 << 20
    assert described.sha256 == sha256_of(big)
    assert described.sha256.startswith("bbd05cf6")  # sha256 of 3 MiB of zero bytes
