"""FEDn packaging and local runs without FEDn: project files, the crate writer, errors.

The real `fedn run` sequence is in tests/integration/test_fedn_local.py.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from fedcrate.assets import vocabulary
from fedcrate.capture.fedn.crate_state import (
    STATE_FILE,
    StagedCrate,
    load_local_record,
    update_local_crate,
)
from fedcrate.capture.fedn.local import _error
from fedcrate.capture.fedn.package import describe_package, read_project
from fedcrate.crate import read_crate
from fedcrate.errors import FednProjectError
from fedcrate.rdf import build_fedn_local_graph
from fedcrate.rdf.namespaces import FL, PROV, SDO
from fedcrate.record import (
    FednEntryPoint,
    FednInvocation,
    FednLocalRecord,
    License,
    Metric,
    Parameter,
    Person,
)
from fedcrate.validate import validate
from fedcrate.views.preview import PREVIEW_FILE
from tests.support.paths import DATA

PACKAGE = DATA / "fedn-package"
START = datetime(2026, 11, 25, 10, 0, 0, tzinfo=timezone.utc)
TRAIN = FednEntryPoint("train", "python train.py")


def test_entry_points_as_fedn_yaml_declares_them() -> None:
    _config, points = read_project(PACKAGE)
    assert [(p.name, p.command) for p in points] == [
        ("build", "python model.py"),
        ("startup", "python data.py"),
        ("train", "python train.py"),
        ("validate", "python validate.py"),
    ]


def test_declared_environment_without_installed_versions() -> None:
    facts = describe_package(PACKAGE, python_env="python_env.yaml")
    assert facts.python_env == "python_env.yaml"
    assert facts.environment_name == "fedcrate-test-env"
    assert [(d.key, d.declared_spec, d.installed_version) for d in facts.dependencies] == [
        ("numpy", "numpy>=1.26", None),
        ("fedn", "fedn", None),
    ]
    assert {d.key for d in facts.build_dependencies} == {"pip", "setuptools", "wheel"}
    # fedn.yaml names no python_env: by default none is recorded (FEDn would not build one).
    assert describe_package(PACKAGE).python_env is None


def test_not_a_package_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FednProjectError, match=r"fedn\.yaml: not found"):
        read_project(tmp_path)
    (tmp_path / "fedn.yaml").write_text("entry_points:\n  train: {}\n")
    with pytest.raises(FednProjectError, match="'train' has no `command`"):
        read_project(tmp_path)


def test_error_keeps_the_entry_points_output_not_fedns_traceback() -> None:
    stderr = (
        "2026 [INFO] Running command\n"
        "simulated training failure\n"
        "Traceback (most recent call last):\n"
        '  File "fedn/cli/run_cmd.py", line 117, in train_cmd\n'
        "    dispatcher.run_cmd(...)\n"
        "fedn.utils.process.ShellCommandException: Non-zero exit code: 3\n"
        "Command: ['bash', '-c', 'python train.py a b']\n"
    )
    message = _error("train", 1, stderr)
    assert message.startswith("`fedn run train` exited with 1 (the entry point exited with 3)")
    assert "simulated training failure" in message
    assert "Non-zero exit code: 3" in message
    assert "run_cmd.py" not in message


def _record() -> FednLocalRecord:
    return FednLocalRecord(
        name="unit FEDn crate",
        run_uuid="1b4c5f2e-0000-4000-8000-0000000000fe",
        author=Person("Ada"),
        license=License("https://spdx.org/licenses/MIT", "MIT"),
        created_at=START,
    )


def _invocation(
    staged: StagedCrate, index: int, model_in: Path, model_out: Path | None, code: int = 0
) -> FednInvocation:
    start = START + timedelta(seconds=10 * index)
    file_in = staged.add_file(model_in, f"models/{model_in.name}", model_in.name, "in", "m")
    file_out = (
        staged.add_file(model_out, f"models/{model_out.name}", model_out.name, "out", "m")
        if model_out is not None
        else None
    )
    return FednInvocation(
        index,
        TRAIN,
        start,
        start + timedelta(seconds=2),
        code,
        error="`fedn run train` exited with 1" if code else None,
        model_in=file_in,
        model_out=file_out,
        metadata=(Parameter("num_examples", 64),) if file_out else (),
        metrics=((Metric("accuracy", "http://purl.obolibrary.org/obo/STATO_0000415"), 0.9),),
    )


def test_appending_rewrites_the_crate_whole_and_keeps_earlier_runs(tmp_path: Path) -> None:
    seed, first, second = (tmp_path / n for n in ("seed.npz", "m1.npz", "m2.npz"))
    for path in (seed, first, second):
        path.write_bytes(path.name.encode())
    crate = tmp_path / "crate"
    with update_local_crate(crate, _record()) as staged:
        staged.record.invocations.append(_invocation(staged, 1, seed, first))
    before = (crate / "ro-crate-metadata.json").read_text()
    with update_local_crate(crate, _record()) as staged:
        assert len(staged.record.invocations) == 1  # read back from the crate
        staged.record.invocations.append(_invocation(staged, 2, first, second))
    with update_local_crate(crate, _record()) as staged:
        staged.record.invocations.append(_invocation(staged, 3, second, None, code=1))
    assert (crate / "ro-crate-metadata.json").read_text() != before
    assert sorted(p.name for p in (crate / "models").iterdir()) == ["m1.npz", "m2.npz", "seed.npz"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".ro-crate-staging")]
    record = load_local_record(crate)
    assert [i.exit_code for i in record.invocations] == [0, 0, 1]
    assert record.invocations[0].metadata == (Parameter("num_examples", 64),)
    assert record.invocations[0].started_at == START + timedelta(seconds=10)

    graph = read_crate(crate)
    names = {str(graph.value(s, SDO.name)): s for s in graph.subjects(SDO.sha256, None)}
    m1, m2, seed_iri = names["m1.npz"], names["m2.npz"], names["seed.npz"]
    assert (m1, PROV.wasDerivedFrom, seed_iri) in graph
    assert (m2, PROV.wasDerivedFrom, m1) in graph
    assert len(list(graph.subjects(FL.exitCode, None))) == 3
    assert validate(crate).conforms  # both profiles' MUSTs (the default level)
    assert json.loads((crate / STATE_FILE).read_text())["schema"].startswith("fedcrate.fedn")


def test_a_failing_build_leaves_the_previous_crate(tmp_path: Path) -> None:
    seed = tmp_path / "seed.npz"
    seed.write_bytes(b"seed")
    crate = tmp_path / "crate"
    with update_local_crate(crate, _record()) as staged:
        staged.record.invocations.append(_invocation(staged, 1, seed, None))
    before = (crate / "ro-crate-metadata.json").read_text()
    with pytest.raises(RuntimeError), update_local_crate(crate, _record()):
        raise RuntimeError("interrupted")
    assert (crate / "ro-crate-metadata.json").read_text() == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".ro-crate-staging")]


def test_local_graph_mints_only_vocabulary_terms(tmp_path: Path) -> None:
    seed = tmp_path / "seed.npz"
    seed.write_bytes(b"seed")
    with update_local_crate(tmp_path / "crate", _record()) as staged:
        staged.record.invocations.append(_invocation(staged, 1, seed, None))
    graph = build_fedn_local_graph(staged.record)
    minted = {t for triple in graph for t in triple if str(t).startswith(str(FL))}
    assert FL.EntryPointRun in minted and FL.exitCode in minted
    assert minted - set(vocabulary().subjects()) == set()


def test_package_and_local_run_crates_have_a_preview_like_every_crate(tmp_path: Path) -> None:
    """FEDn's crates go through the one crate writer, which writes the preview page."""
    seed = tmp_path / "seed.npz"
    seed.write_bytes(b"seed")
    crate = tmp_path / "crate"
    with update_local_crate(crate, _record()) as staged:
        staged.record.invocations.append(_invocation(staged, 1, seed, None))
    run_text = "Local run of the FEDn entry point"
    assert (crate / PREVIEW_FILE).read_text().count(run_text) == 1
    with update_local_crate(crate, _record()) as staged:
        staged.record.invocations.append(_invocation(staged, 2, seed, None))
    # Rebuilt from the new graph, not carried over from the previous crate.
    assert (crate / PREVIEW_FILE).read_text().count(run_text) == 2
    assert PREVIEW_FILE not in {str(o) for o in read_crate(crate).objects(None, SDO.hasPart)}, (
        "RO-Crate 1.2: the preview is not part of the payload"
    )
