"""Other RO-Crate tools read fedcrate's crates: ro-crate-py (folder and zip), and the official
validator accepts the zip that `fedcrate zip` writes.
"""

from __future__ import annotations

import json
import os
import subprocess
import zipfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from rocrate.rocrate import ROCrate
from typer.testing import CliRunner

from fedcrate import write_crate
from fedcrate.cli import app
from fedcrate.crate.zip import zip_crate
from fedcrate.record import RunRecord, RunStatus, StrategyFacts
from fedcrate.views.preview import PREVIEW_FILE
from tests.support.validator import SCRIPT

pytestmark = pytest.mark.integration

CORPUS = Path(__file__).resolve().parents[1] / "data" / "crates" / "fedcrate" / "valid"


def _our_ids(crate: Path) -> set[str]:
    document = json.loads((crate / "ro-crate-metadata.json").read_text(encoding="utf-8"))
    return {node["@id"] for node in document["@graph"]}


def _dataset_ids(crate: Path) -> set[str]:
    document = json.loads((crate / "ro-crate-metadata.json").read_text(encoding="utf-8"))
    return {
        node["@id"]
        for node in document["@graph"]
        if "Dataset" in (node["@type"] if isinstance(node["@type"], list) else [node["@type"]])
    }


def _expected_ids(crate: Path) -> set[str]:
    """Our @ids as ro-crate-py names them: it appends `/` to every Dataset's @id
    (rocrate/model/dataset.py, `format_id`: "SHOULD end with /")."""
    datasets = _dataset_ids(crate)
    return {i.rstrip("/") + "/" if i in datasets else i for i in _our_ids(crate)}


def _assert_opens_with_every_entity(source: Path, crate: Path) -> Any:
    opened = ROCrate(source)
    assert {e.id for e in opened.get_entities()} == _expected_ids(crate)
    assert opened.root_dataset.id == "./" and opened.metadata.id == "ro-crate-metadata.json"
    run = opened.dereference("#fl-run")
    assert run is not None and "CreateAction" in run.type
    # Links survive the reading: every result of the run is an entity ro-crate-py resolved.
    results = run["result"] if isinstance(run["result"], list) else [run["result"]]
    assert results and all(hasattr(r, "id") for r in results)
    return opened


@pytest.fixture
def record_crates(tmp_path: Path, record_factory: Callable[..., RunRecord]) -> list[Path]:
    model = tmp_path / "final_model.npz"
    model.write_bytes(b"weights")
    source = tmp_path / "my_strategy.py"
    source.write_text("class MyAvg:\n    pass\n")
    completed = replace(record_factory(), model_source=model)
    failed = replace(
        record_factory(),
        run_uuid="1b4c5f2e-0000-4000-8000-00000000fa11",
        status=RunStatus.FAILED,
        error="RuntimeError: node lost",
        strategy=StrategyFacts("MyAvg", "app.my_strategy", source_file=source),
    )
    return [write_crate(r, tmp_path / "crates").path for r in (completed, failed)]


def test_ro_crate_py_opens_every_kind_of_crate_with_every_entity(
    record_crates: list[Path],
) -> None:
    for crate in [*record_crates, *sorted(p for p in CORPUS.iterdir() if p.is_dir())]:
        _assert_opens_with_every_entity(crate, crate)


def test_ro_crate_py_opens_the_demo_crate(demo_crate: Path) -> None:
    opened = _assert_opens_with_every_entity(demo_crate, demo_crate)
    assert (demo_crate / PREVIEW_FILE).is_file()  # present, and not taken for payload
    assert opened.dereference(PREVIEW_FILE) is None


def test_zip_has_the_metadata_at_its_root_and_opens_in_ro_crate_py(
    record_crates: list[Path], tmp_path: Path
) -> None:
    crate = record_crates[0]
    result = CliRunner().invoke(app, ["zip", str(crate), "-o", str(tmp_path / "out" / "run.zip")])
    assert result.exit_code == 0, result.output
    archive = Path(result.stdout.strip())
    assert archive == tmp_path / "out" / "run.zip"
    with zipfile.ZipFile(archive) as opened_zip:
        names = opened_zip.namelist()
        assert names[0] == "ro-crate-metadata.json"
        assert sorted(names) == sorted(
            p.relative_to(crate).as_posix() for p in crate.rglob("*") if p.is_file()
        )
        assert opened_zip.read("final_model.npz") == b"weights"
    _assert_opens_with_every_entity(archive, crate)
    # Default name: beside the folder.
    assert zip_crate(crate) == crate.parent / "ro-crate.zip"


def test_zip_refuses_what_is_not_a_crate(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["zip", str(tmp_path)], env={"COLUMNS": "300"})
    assert result.exit_code == 2
    assert "no ro-crate-metadata.json" in result.stderr and "Traceback" not in result.stderr
    assert not list(tmp_path.glob("*.zip")) and not list(tmp_path.parent.glob(".fedcrate-zip-*"))


def _validate_zip(archive: Path, python: Path, tmp_path: Path) -> dict[str, Any]:
    """The harness's offline validation, pointed at a zip (its CLI accepts only folders)."""
    driver = (
        "import json, sys; from pathlib import Path; import offline_validator as v; "
        "print(json.dumps(v._validate(Path(sys.argv[1]), 'ro-crate-1.2', "
        "v.DEFAULT_CONTEXT_FILE, Path(sys.argv[2]), 'REQUIRED')))"
    )
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path), "ROCRATE_VALIDATOR_AUTO_WARM": "0"}
    done = subprocess.run(
        [str(python), "-c", driver, str(archive), str(tmp_path)],
        capture_output=True, text=True, timeout=180, check=False, cwd=SCRIPT.parent, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def test_the_official_validator_accepts_the_zip(
    demo_crate: Path, validator_python: Path, tmp_path: Path
) -> None:
    report = _validate_zip(zip_crate(demo_crate, tmp_path / "demo.zip"), validator_python, tmp_path)
    assert report["passed"] and report["issues"] == [], report


def test_the_official_validator_really_reads_the_zip(
    tmp_path: Path, record_factory: Callable[..., RunRecord], validator_python: Path
) -> None:
    record = record_factory()
    broken = replace(record.flower, url=None, installed_version=None)  # type: ignore[type-var]
    crate = write_crate(replace(record, flower=broken), tmp_path / "out").path
    report = _validate_zip(zip_crate(crate, tmp_path / "broken.zip"), validator_python, tmp_path)
    assert not report["passed"]
    assert {"ro-crate-1.2_32.2", "ro-crate-1.2_32.3"} <= {i["check"] for i in report["issues"]}
