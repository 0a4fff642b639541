"""Real `fedn package create` and `fedn run` on the numpy test package, recorded.

FEDn runs from its own venv (`$FEDCRATE_FEDN`, `.venv-fedn/bin/fedn`, or `fedn` on PATH);
without it these tests skip, except in CI, where `.ci/run` installs it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fedcrate.capture.fedn.crate_state import load_local_record
from fedcrate.capture.fedn.runner import find_fedn
from fedcrate.cli import app
from fedcrate.crate import read_crate
from fedcrate.rdf.namespaces import FL, PROV, SDO
from fedcrate.validate import Level, validate
from fedcrate.views.preview import PREVIEW_FILE
from tests.integration.fedn_network import PACKAGE, use_fedn

pytestmark = pytest.mark.integration
runner = CliRunner()


@pytest.fixture(scope="module")
def fedn() -> Path:
    return use_fedn()


@pytest.fixture(scope="module")
def package(fedn: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the test package: `build` writes its seed model into the package folder."""
    target = tmp_path_factory.mktemp("fedn") / "client"
    shutil.copytree(PACKAGE, target, ignore=shutil.ignore_patterns("__pycache__", "*.npz"))
    return target


@pytest.fixture(scope="module")
def sequence(package: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """package → build → train → validate → a failing train, all into one crate."""
    work = tmp_path_factory.mktemp("runs")
    crate = work / "crate"
    results = {}
    commands = {
        "package": ["fedn", "package", str(package), "--crate", str(crate), "--author",
                    "Ada Lovelace", "--license", "MIT", "--python-env", "python_env.yaml",
                    "--environment", str(Path(str(find_fedn())).parent.parent)],
        "build": ["fedn", "run", "build", "-p", str(package), "-o", str(package / "seed.npz"),
                  "--crate", str(crate)],
        "train": ["fedn", "run", "train", "-p", str(package), "-i", str(package / "seed.npz"),
                  "-o", str(work / "model-1.npz"), "--crate", str(crate)],
        "validate": ["fedn", "run", "validate", "-p", str(package), "-i",
                     str(work / "model-1.npz"), "-o", str(work / "validation.json"),
                     "--crate", str(crate)],
    }  # fmt: skip
    for name, args in commands.items():
        result = runner.invoke(app, args)
        assert result.exit_code == 0, (name, result.output)
        results[name] = result
    failing = work / "FAIL-seed.npz"  # the test package's train fails (exit 3) on this name
    shutil.copyfile(package / "seed.npz", failing)
    failing_args = ["fedn", "run", "train", "-p", str(package), "-i", str(failing)]
    failing_args += ["-o", str(work / "model-2.npz"), "--crate", str(crate)]
    results["failed"] = runner.invoke(app, failing_args)
    return {"crate": crate, "work": work, "results": results}


def test_package_archive_checksum_is_fedns(
    fedn: Path, package: Path, sequence: dict[str, object], tmp_path: Path
) -> None:
    crate = sequence["crate"]
    assert isinstance(crate, Path)
    record = load_local_record(crate)
    assert record.package is not None and record.package.archive is not None
    archive = crate / record.package.archive.crate_path
    # FEDn's own checksum function, run in FEDn's interpreter, over the archive in the crate.
    python = fedn.parent / "python"
    script = "import sys; from fedn.utils.checksum import sha; print(sha(sys.argv[1]))"
    checksum = subprocess.run(
        [str(python), "-c", script, str(archive)], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert record.package.archive.sha256 == checksum
    assert hashlib.sha256(archive.read_bytes()).hexdigest() == checksum
    entry_points = {e.name: e.command for e in record.package.entry_points}
    assert entry_points == {
        "build": "python model.py",
        "startup": "python data.py",
        "train": "python train.py",
        "validate": "python validate.py",
    }
    deps = {d.key: d for d in record.package.dependencies}
    assert deps["numpy"].declared_spec == "numpy>=1.26"
    assert deps["numpy"].installed_version  # read from FEDn's venv (--environment)
    assert deps["fedn"].installed_version == record.fedn.installed_version if record.fedn else None


def test_runs_are_actions_chained_by_derivation(sequence: dict[str, object]) -> None:
    crate = sequence["crate"]
    assert isinstance(crate, Path)
    record = load_local_record(crate)
    assert [(i.entry_point.name, i.exit_code) for i in record.invocations] == [
        ("build", 0),
        ("train", 0),
        ("validate", 0),
        ("train", 1),
    ]
    build, train, check, failed = record.invocations
    assert build.model_out is not None and train.model_in == build.model_out
    assert train.model_out is not None and check.model_in == train.model_out
    metadata = {p.name: p.value for p in train.metadata}
    assert metadata == {"num_examples": 64, "epochs": 5, "lr": 0.05, "batch_size": 64}
    assert {m.name for m, _ in check.metrics} == {"test_loss", "test_r2", "train_loss", "train_r2"}
    assert failed.error and "entry point exited with 3" in failed.error
    assert "simulated training failure" in failed.error

    graph = read_crate(crate)
    seed, model = (
        graph.value(predicate=SDO.name, object=lit)
        for lit in (_lit("seed.npz"), _lit("model-1.npz"))
    )
    assert (model, PROV.wasDerivedFrom, seed) in graph
    runs = sorted(graph.subjects(FL.exitCode, None))
    assert len(runs) == 4
    failed_run = next(r for r in runs if str(r).endswith("#fedn-run-4"))
    assert str(graph.value(failed_run, SDO.actionStatus)).endswith("FailedActionStatus")
    assert "simulated training failure" in str(graph.value(failed_run, SDO.error))
    validate_run = next(r for r in runs if str(r).endswith("#fedn-run-3"))
    assert (validate_run, SDO.object, model) in graph
    assert graph.value(model, SDO.additionalProperty) is not None


def _lit(text: str) -> object:
    from rdflib import Literal

    return Literal(text)


def test_exit_code_mirrors_fedn(sequence: dict[str, object]) -> None:
    results = sequence["results"]
    assert isinstance(results, dict)
    assert results["failed"].exit_code == 1  # `fedn run` exits 1 when the entry point fails


def test_crate_conforms_to_both_profiles(sequence: dict[str, object]) -> None:
    crate = sequence["crate"]
    assert isinstance(crate, Path)
    report = validate(crate)
    assert report.profile == "fedcrate-0.1" and report.conforms, report.findings
    # The metadata file lists every payload file with its checksum; the preview page (now
    # written for FEDn crates too) is not payload (RO-Crate 1.2).
    assert (crate / PREVIEW_FILE).is_file()
    document = json.loads((crate / "ro-crate-metadata.json").read_text())
    files = {
        e["@id"]: e
        for e in document["@graph"]
        if "File" in (e["@type"] if isinstance(e["@type"], list) else [e["@type"]])
    }
    for path in crate.rglob("*"):
        relative = path.relative_to(crate).as_posix()
        if path.is_file() and relative not in ("ro-crate-metadata.json", PREVIEW_FILE):
            assert relative in files, relative
            assert files[relative]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()


def test_startup_is_recorded_without_a_model(package: Path, tmp_path: Path) -> None:
    crate = tmp_path / "crate"
    result = runner.invoke(
        app, ["fedn", "run", "startup", "-p", str(package), "--crate", str(crate)]
    )
    assert result.exit_code == 0, result.output
    (run,) = load_local_record(crate).invocations
    assert run.model_in is None and run.model_out is None and run.log is not None
    assert "64 training examples" in (crate / run.log.crate_path).read_text()
    # No --author / --license here: only the SHOULD rules that ask for them may fire.
    report = validate(crate)
    assert report.conforms, [f for f in report.findings if f.level is Level.MUST]


def test_undeclared_entry_point_is_one_clear_error(package: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["fedn", "run", "predict", "-p", str(package)])
    assert result.exit_code == 2
    assert "declares no 'predict' entry point" in " ".join(result.output.split())


def test_no_fedn_is_one_clear_error(
    package: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FEDCRATE_FEDN", str(tmp_path / "missing" / "fedn"))
    result = runner.invoke(app, ["fedn", "run", "startup", "-p", str(package)])
    assert result.exit_code == 2
    assert "FEDn not found" in result.output
    assert os.environ["FEDCRATE_FEDN"].endswith("missing/fedn")
