"""Writing and reading crates: round trip, layout, atomic naming, clear errors."""

from __future__ import annotations

import csv
import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from rdflib import RDF, URIRef
from rdflib.compare import isomorphic

from fedcrate.crate import read_crate, write_crate
from fedcrate.errors import CrateWriteError, NotACrate
from fedcrate.rdf.namespaces import FL, PROV, SDO, base_iri
from fedcrate.record import RunRecord, StrategyFacts


def _model(tmp_path: Path) -> Path:
    path = tmp_path / "src" / "final_model.npz"
    path.parent.mkdir()
    path.write_bytes(os.urandom(4096))
    return path


def test_reading_a_written_crate_gives_back_the_same_graph(
    tmp_path: Path, record_factory: Callable[..., RunRecord]
) -> None:
    record = replace(record_factory(rounds=5), model_source=_model(tmp_path))
    written = write_crate(record, tmp_path / "out")
    assert isomorphic(read_crate(written.path), written.graph)
    assert isomorphic(read_crate(written.path / "ro-crate-metadata.json"), written.graph)


def test_layout_and_json_ld_form(tmp_path: Path, record_factory: Callable[..., RunRecord]) -> None:
    record = replace(record_factory(), model_source=_model(tmp_path))
    written = write_crate(record, tmp_path / "out")
    assert written.path == tmp_path / "out" / "ro-crate"
    assert sorted(p.name for p in written.path.iterdir()) == [
        "final_model.npz",
        "metrics-by-round.csv",
        "ro-crate-metadata.json",
        "ro-crate-preview.html",
    ]
    document = json.loads((written.path / "ro-crate-metadata.json").read_text())
    assert document["@context"][0] == "https://w3id.org/ro/crate/1.2/context"
    ids = [node["@id"] for node in document["@graph"]]
    assert ids[:2] == ["ro-crate-metadata.json", "./"]
    assert "#fl-run" in ids and "final_model.npz" in ids
    assert not any(i.startswith("arcp:") for i in ids), "crate ids must be relative"
    descriptor = document["@graph"][0]
    assert descriptor["conformsTo"] == {"@id": "https://w3id.org/ro/crate/1.2"}


def test_payload_checksums_and_sizes(
    tmp_path: Path, record_factory: Callable[..., RunRecord]
) -> None:
    model = _model(tmp_path)
    written = write_crate(replace(record_factory(), model_source=model), tmp_path / "out")
    document = json.loads((written.path / "ro-crate-metadata.json").read_text())
    nodes = {node["@id"]: node for node in document["@graph"]}
    for name in ("final_model.npz", "metrics-by-round.csv"):
        payload = (written.path / name).read_bytes()
        assert nodes[name]["sha256"] == hashlib.sha256(payload).hexdigest()
        assert nodes[name]["contentSize"] == str(len(payload))
        assert nodes[name]["encodingFormat"]
    assert nodes["final_model.npz"]["sha256"] == hashlib.sha256(model.read_bytes()).hexdigest()
    assert str(model) not in (written.path / "ro-crate-metadata.json").read_text()


def test_metrics_log_holds_every_observation(
    tmp_path: Path, record_factory: Callable[..., RunRecord]
) -> None:
    record = record_factory(rounds=4)
    written = write_crate(record, tmp_path)
    with (written.path / "metrics-by-round.csv").open() as handle:
        lines = list(csv.DictReader(handle))
    assert len(lines) == len(record.observations)
    assert {line["side"] for line in lines} == {
        "server-evaluate",
        "client-train",
        "client-evaluate",
    }


def test_second_run_never_overwrites_the_first(
    tmp_path: Path, record_factory: Callable[..., RunRecord]
) -> None:
    first = write_crate(record_factory(), tmp_path)
    second = write_crate(
        replace(record_factory(), run_uuid="1b4c5f2e-0000-4000-8000-00000000000b"), tmp_path
    )
    third = write_crate(
        replace(record_factory(), run_uuid="1b4c5f2e-0000-4000-8000-00000000000c"), tmp_path
    )
    assert [first.path.name, second.path.name, third.path.name] == [
        "ro-crate",
        "ro-crate-2",
        "ro-crate-3",
    ]
    assert "0001" in (first.path / "ro-crate-metadata.json").read_text()
    assert not list(tmp_path.glob(".ro-crate-staging-*")), "no staging folder may be left behind"


def test_unwritable_output_dir_is_a_clear_error(
    tmp_path: Path, record_factory: Callable[..., RunRecord]
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(CrateWriteError, match="cannot create the crate folder"):
        write_crate(record_factory(), blocker / "out")


def test_read_errors_name_the_file_and_problem(tmp_path: Path) -> None:
    with pytest.raises(NotACrate, match=r"no ro-crate-metadata\.json"):
        read_crate(tmp_path)
    (tmp_path / "ro-crate-metadata.json").write_text('{"@graph": [\n  {"@id": }\n]}')
    with pytest.raises(NotACrate, match=r"ro-crate-metadata.json:2:\d+: not valid JSON"):
        read_crate(tmp_path)
    (tmp_path / "ro-crate-metadata.json").write_text('{"name": "x"}')
    with pytest.raises(NotACrate, match="no top-level @graph"):
        read_crate(tmp_path)


def test_foreign_crates_read_offline_with_a_stable_base(tmp_path: Path) -> None:
    document = {
        "@context": "https://w3id.org/ro/crate/1.2/context",
        "@graph": [
            {"@id": "ro-crate-metadata.json", "@type": "CreativeWork", "about": {"@id": "./"}},
            {"@id": "./", "@type": "Dataset", "name": "someone else's crate"},
        ],
    }
    (tmp_path / "ro-crate-metadata.json").write_text(json.dumps(document))
    first, second = read_crate(tmp_path), read_crate(tmp_path)
    assert len(first) == 4
    assert isomorphic(first, second)
    assert {str(s) for s in first.subjects()} == {str(s) for s in second.subjects()}


def test_custom_strategy_ships_as_its_source_file(
    tmp_path: Path, record_factory: Callable[..., RunRecord]
) -> None:
    source = tmp_path / "my_strategy.py"
    source.write_text("class MyAvg:\n    pass\n")
    strategy = StrategyFacts("MyAvg", "app.my_strategy", source_file=source)
    record = replace(record_factory(), strategy=strategy)
    written = write_crate(record, tmp_path / "out")
    assert (written.path / "code" / "my_strategy.py").read_text() == source.read_text()
    iri = URIRef(base_iri(record.run_uuid) + "code/my_strategy.py")
    graph = written.graph
    assert {SDO.MediaObject, SDO.SoftwareSourceCode, FL.AggregationStrategy} <= set(
        graph.objects(iri, RDF.type)
    )
    assert (None, SDO.instrument, iri) in graph
    assert (None, SDO.result, iri) not in graph and (iri, PROV.wasGeneratedBy, None) not in graph
    assert str(graph.value(iri, SDO.sha256)) == hashlib.sha256(source.read_bytes()).hexdigest()
