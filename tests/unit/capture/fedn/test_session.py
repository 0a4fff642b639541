"""FEDn session → RunRecord → crate, on API JSON recorded from a real FEDn network.

`tests/data/fedn-session/recorded-session.json` is what `session_dump.py` printed for a
2-round, 2-client session run on loopback by `tests/integration/fedn_network.py`
(fedn 0.33.0, moto S3, SQLite state store) on 2026-11-25; the `.npz` beside it is the
session's final model as the API served it. Recorded, not invented: rebuild it with
`python -m tests.integration.fedn_network /tmp/net` and copy `session.json` and the model.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import stat
import textwrap
from pathlib import Path
from typing import Any

import pytest
from rdflib import URIRef
from typer.testing import CliRunner

from fedcrate.capture.fedn.session import (
    FednSessionError,
    parse_api_address,
    read_session,
    record_session,
    session_record,
)
from fedcrate.cli import app
from fedcrate.crate import read_crate, write_crate
from fedcrate.index import CrateIndex
from fedcrate.rdf.namespaces import FL, PROV, SDO
from fedcrate.record import DatasetRef, RunStatus, Side
from fedcrate.validate import Level, validate
from tests.support.paths import DATA

DATA = DATA
RECORDED = DATA / "fedn-session" / "recorded-session.json"
FLOWER_CRATE = DATA / "crates" / "fedcrate" / "valid" / "completed"
STATO_R2 = "http://purl.obolibrary.org/obo/STATO_0000564"
TOKEN = "fedn-test-token-5e1cb8ed"


@pytest.fixture(scope="module")
def dump() -> dict[str, Any]:
    document = json.loads(RECORDED.read_text())
    assert document["session_status"] == "Finished"
    return document


@pytest.fixture(scope="module")
def model(dump: dict[str, Any]) -> Path:
    return RECORDED.parent / dump["downloaded_model"]


@pytest.fixture(scope="module")
def crate(dump: dict[str, Any], model: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    record = session_record(
        dump,
        model_path=model,
        author="Ada Lovelace",
        license="Apache-2.0",
        datasets=[DatasetRef("synthetic regression", description="data.py, per client")],
    )
    return write_crate(record, tmp_path_factory.mktemp("fedn-session")).path


def test_session_config_becomes_strategy_and_run_config(dump: dict[str, Any]) -> None:
    record = session_record(dump)
    assert record.status is RunStatus.COMPLETED
    assert record.strategy is not None
    assert record.strategy.class_name == "fedavg"
    assert record.strategy.module == "fedn.network.combiner.aggregators.fedavg"
    assert record.strategy.version == dump["fedn_version"]
    config = {p.name: p.value for p in record.config}
    for key in ("rounds", "round_timeout", "clients_required", "requested_clients"):
        assert config[key] == dump["session"]["session_config"][key]
    assert "model_id" not in config and "aggregator" not in config
    assert record.federation.num_rounds == 2
    assert record.federation.node_count == 2
    assert record.frameworks[0].key == "fedn"


def test_model_trail_is_a_chain_from_seed_to_final(dump: dict[str, Any]) -> None:
    record = session_record(dump)
    trail = record.model_trail
    assert [m.round for m in trail] == [0, 1, 2]
    assert trail[0].model_id == record.seed_model
    assert trail[-1].model_id == record.final_model
    for parent, child in itertools.pairwise(trail):
        assert child.parent_id == parent.model_id
    # Each round's output is the next round's input.
    rounds = record.round_facts
    assert [r.round for r in rounds] == [1, 2]
    assert rounds[0].output_model == rounds[1].input_model
    assert rounds[-1].output_model == record.final_model


def test_round_counts_use_the_participation_flower_crates_have(dump: dict[str, Any]) -> None:
    record = session_record(dump)
    train = [p for p in record.participation if p.side is Side.CLIENT_TRAIN]
    evaluate = [p for p in record.participation if p.side is Side.CLIENT_EVALUATE]
    assert [(p.round, p.nodes_sampled, p.replies_received, p.replies_failed) for p in train] == [
        (1, 2, 2, 0),
        (2, 2, 2, 0),
    ]
    assert [(p.round, p.replies_received) for p in evaluate] == [(1, 2), (2, 2)]
    assert [r.required_updates for r in record.round_facts] == [2, 2]


def test_validations_become_round_metrics_with_flower_iris(dump: dict[str, Any]) -> None:
    record = session_record(dump)
    by_key = {(o.round, o.metric.name): o for o in record.observations}
    assert set(by_key) == {
        (r, m) for r in (1, 2) for m in ("test_loss", "test_r2", "train_loss", "train_r2")
    }
    assert all(o.side is Side.CLIENT_EVALUATE for o in record.observations)
    assert by_key[(2, "test_r2")].metric.iri == STATO_R2
    # The mean of the two clients' validations of round 2's model.
    final = record.final_model
    values = [
        json.loads(v["data"])["test_r2"] for v in dump["validations"] if v["model_id"] == final
    ]
    assert len(values) == 2
    assert by_key[(2, "test_r2")].value == pytest.approx(sum(values) / 2)


def test_clients_are_counted_and_named_only_on_request(dump: dict[str, Any]) -> None:
    anonymous = session_record(dump)
    assert [(c.label, c.updates, c.validations) for c in anonymous.clients] == [
        ("client 1", 2, 2),
        ("client 2", 2, 2),
    ]
    named = session_record(dump, client_names=True)
    assert {c.label for c in named.clients} == {"client-0", "client-1"}


def _strings(value: Any) -> set[str]:
    if isinstance(value, dict):
        return {s for v in value.values() for s in _strings(v)}
    if isinstance(value, list):
        return {s for v in value for s in _strings(v)}
    return {value} if isinstance(value, str) else set()


def test_crate_names_no_client_by_default(crate: Path, dump: dict[str, Any]) -> None:
    names = {c["name"] for c in dump["clients"]}
    assert names == {"client-0", "client-1"}
    strings = _strings(json.loads((crate / "ro-crate-metadata.json").read_text()))
    assert not {s for s in strings if any(s == n or s.endswith("-" + n) for n in names)}


def test_crate_passes_the_fl_profile(crate: Path) -> None:
    report = validate(crate)
    assert report.profile == "fedcrate-0.1" and report.conforms, report.findings


def test_crate_states_the_model_trail_in_prov(crate: Path, dump: dict[str, Any]) -> None:
    graph = read_crate(crate)
    record = session_record(dump)
    # The final model is the File in the crate, with FEDn's model id as its identifier.
    final_file = graph.value(
        predicate=SDO.identifier, object=URIRef(f"urn:uuid:{record.final_model}")
    )
    assert final_file is not None and str(final_file).endswith(".npz")
    chain = list(
        graph.query(
            """
            PREFIX prov: <http://www.w3.org/ns/prov#>
            PREFIX schema: <http://schema.org/>
            SELECT ?id WHERE { ?final prov:wasDerivedFrom+ ?m . ?m schema:identifier ?id }
            """,
            initBindings={"final": final_file},
        )
    )
    assert {str(row[0]) for row in chain} == {m.model_id for m in record.model_trail[:-1]}
    runs = list(graph.subjects(FL.sessionId, None))
    assert len(runs) == 1
    assert (runs[0], FL.seedModel, None) in graph
    assert len(list(graph.objects(runs[0], FL.fednRound))) == 2
    assert len(list(graph.objects(runs[0], FL.clientParticipation))) == 2
    assert (final_file, PROV.wasGeneratedBy, runs[0]) in graph
    assert (runs[0], SDO.instrument, URIRef(str(runs[0]).split("#")[0] + "#fl-strategy")) in graph


def test_runs_query_lists_flower_and_fedn_crates_alike(crate: Path, tmp_path: Path) -> None:
    folder = tmp_path / "crates"
    shutil.copytree(FLOWER_CRATE, folder / "flower")
    shutil.copytree(crate, folder / "fedn")
    with CrateIndex(folder) as index:
        result = index.query("runs")
    rows = [dict(zip(result.columns, row, strict=True)) for row in result.rows]
    assert len(rows) == 2
    by_strategy = {row["strategy"]: row for row in rows}
    assert set(by_strategy) == {"FedProx", "fedavg"}
    fedn, flower = by_strategy["fedavg"], by_strategy["FedProx"]
    for row in (fedn, flower):
        assert row["status"] == "Completed"
        assert int(row["rounds"]) == 2
        assert row["start"] and row["end"] and row["finalMetrics"]
    assert "client-evaluate test_r2=" in fedn["finalMetrics"]
    assert "client-evaluate accuracy=" in flower["finalMetrics"]


def test_unfinished_session_is_refused(dump: dict[str, Any]) -> None:
    running = {**dump, "session_status": "Started", "session": {**dump["session"]}}
    running["session"]["status"] = "Started"
    with pytest.raises(FednSessionError, match="not finished"):
        session_record(running)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1:8092", ("127.0.0.1", 8092, False)),
        ("http://localhost:8092/", ("localhost", 8092, False)),
        ("https://api.example.org", ("api.example.org", None, True)),
    ],
)
def test_api_address(text: str, expected: tuple[str, int | None, bool]) -> None:
    assert parse_api_address(text) == expected


@pytest.fixture
def fake_fedn(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stand-in `fedn` venv whose python prints the recorded session (no network).

    It records its argv and whether FEDN_AUTH_TOKEN reached it, so the tests can check
    that the token travels by environment only.
    """
    bin_dir = tmp_path / "fake-venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "fedn").write_text("#!/bin/sh\nexit 0\n")
    seen = tmp_path / "seen.json"
    script = textwrap.dedent(
        f"""\
        #!/bin/sh
        printf '%s' "$*" > {seen}.argv
        printf '%s' "$FEDN_AUTH_TOKEN" > {seen}.token
        for last; do :; done
        cp {RECORDED.parent}/*.npz "$last/"
        sed 's#"downloaded_model": "\\(.*\\)"#"downloaded_model": "'"$last"'/\\1"#' {RECORDED}
        """
    )
    python = bin_dir / "python"
    python.write_text(script)
    for executable in (python, bin_dir / "fedn"):
        executable.chmod(executable.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("FEDCRATE_FEDN", str(bin_dir / "fedn"))
    return seen


def test_token_reaches_the_reader_by_environment_and_never_the_crate(
    fake_fedn: Path, tmp_path: Path
) -> None:
    written = record_session("127.0.0.1:8092", "s-1", tmp_path / "out", token=TOKEN)
    assert Path(f"{fake_fedn}.token").read_text() == TOKEN
    assert TOKEN not in Path(f"{fake_fedn}.argv").read_text()
    for path in written.path.rglob("*"):
        if path.is_file():
            assert TOKEN.encode() not in path.read_bytes(), path
    assert validate(written.path, level=Level.MUST).conforms


def test_cli_session_command(fake_fedn: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "fedn",
            "session",
            "--api",
            "127.0.0.1:8092",
            "--session",
            "s-1",
            "--client-names",
            "--out",
            str(tmp_path / "out"),
        ],
        env={"FEDN_AUTH_TOKEN": TOKEN, "FEDCRATE_FEDN": os.environ["FEDCRATE_FEDN"]},
    )
    assert result.exit_code == 0, result.output
    metadata = (tmp_path / "out" / "ro-crate" / "ro-crate-metadata.json").read_text()
    assert TOKEN not in metadata
    assert "client-0" in metadata  # --client-names
    assert Path(f"{fake_fedn}.token").read_text() == TOKEN


def test_reader_failure_is_one_clear_error(
    fake_fedn: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    python = Path(os.environ["FEDCRATE_FEDN"]).parent / "python"
    python.write_text(f"#!/bin/sh\necho 'ConnectionError: refused {TOKEN}' >&2\nexit 1\n")
    with pytest.raises(FednSessionError, match="refused") as caught:
        read_session("127.0.0.1:9", "s-1", token=TOKEN)
    assert TOKEN not in str(caught.value)


@pytest.mark.parametrize(
    "given",
    [
        "https://alice:s3cret-canary@data.example.org/cohort.csv",
        {"name": "cohort", "url": "https://alice:s3cret-canary@data.example.org/cohort.csv"},
        DatasetRef(
            "https://alice:s3cret-canary@data.example.org/cohort.csv",
            url="https://alice:s3cret-canary@data.example.org/cohort.csv",
        ),
    ],
    ids=["url", "dict", "DatasetRef as `fedcrate fedn session --dataset` built it"],
)
def test_a_dataset_url_never_publishes_its_login(
    dump: dict[str, Any], tmp_path: Path, given: Any
) -> None:
    record = session_record(dump, datasets=[given])
    written = write_crate(record, tmp_path, preview=False)
    text = (written.path / "ro-crate-metadata.json").read_text()
    assert "s3cret-canary" not in text and "alice" not in text
    graph = read_crate(written.path)
    assert URIRef("https://data.example.org/cohort.csv") in set(graph.subjects())
