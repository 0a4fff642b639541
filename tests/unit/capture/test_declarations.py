"""Provenance declared in the app's pyproject.toml: `[tool.fedcrate]` and its older names.

Every key is read into fedcrate's record types; tracker arguments win over the file,
`[tool.fedcrate]` over `[tool.flwrcrate]` / `[tool.fedacrate]`; each bad entry is one
clear error (file, table and key, what is wrong, how to fix it) and the rest is kept.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from rdflib import Literal, URIRef

from fedcrate.capture.declarations import Declarations, apply_declarations, read_declarations
from fedcrate.capture.metrics import MetricResolver
from fedcrate.crate import read_crate, write_crate
from fedcrate.crate.journal import Journal, read_journal
from fedcrate.rdf.graph import build_graph
from fedcrate.rdf.namespaces import SDO, base_iri
from fedcrate.record import DatasetRef, License, Organization, Person, RunRecord
from tests.conftest import START

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 only
    import tomli as tomllib

PATH = Path("/apps/cifar/pyproject.toml")
ADA = "https://orcid.org/0000-0002-1825-0097"
MISTYPED = "0000-0002-1825-0098"  # check digit should be 7
CIFAR = "https://www.cs.toronto.edu/~kriz/cifar.html"

EXAMPLE = f"""
[tool.fedcrate]
description = "FedAvg on CIFAR-10 across 3 hospitals"
keywords = ["federated learning", "cifar-10"]
license = "Apache-2.0"
author = {{ name = "Ada Lovelace", orcid = "{ADA}", affiliation = "Analytical Engines Ltd" }}
agent = {{ name = "Charles Babbage", email = "cb@example.org" }}
datasets = [{{ name = "CIFAR-10", url = "{CIFAR}", license = "MIT", description = "60k images" }}]

[tool.fedcrate.metric-uris]
accuracy = "stato:STATO_0000415"
"""


def _read(text: str, caplog: pytest.LogCaptureFixture) -> Declarations:
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="fedcrate"):
        return read_declarations(tomllib.loads(text), PATH)


def _errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


# -- every key -------------------------------------------------------------------------


def test_every_key_of_the_documented_example(caplog: pytest.LogCaptureFixture) -> None:
    declared = _read(EXAMPLE, caplog)
    assert declared == Declarations(
        description="FedAvg on CIFAR-10 across 3 hospitals",
        keywords=("federated learning", "cifar-10"),
        license=License("https://spdx.org/licenses/Apache-2.0", "Apache-2.0"),
        author=Person("Ada Lovelace", ADA, affiliation=Organization("Analytical Engines Ltd")),
        agent=Person("Charles Babbage", email="cb@example.org"),
        datasets=(DatasetRef("CIFAR-10", CIFAR, "60k images", "https://spdx.org/licenses/MIT"),),
        source=PATH,
    )
    assert caplog.records == []  # metric-uris is a known key of the same table


def test_the_metric_iri_table_still_reads_from_the_same_table() -> None:
    resolver = MetricResolver.from_pyproject(tomllib.loads(EXAMPLE))
    assert resolver.resolve("accuracy").iri == "http://purl.obolibrary.org/obo/STATO_0000415"


def test_nothing_declared_is_empty_and_silent(caplog: pytest.LogCaptureFixture) -> None:
    assert _read('[project]\nname = "app"\n', caplog) == Declarations(source=PATH)
    assert _read("", caplog) == Declarations(source=PATH)
    assert caplog.records == []


@pytest.mark.parametrize(
    ("toml", "person"),
    [
        ('"Ada Lovelace"', Person("Ada Lovelace")),
        (f'"{ADA}"', Person(None, ADA)),
        ('"0000-0002-1825-0097"', Person(None, ADA)),
        (f'{{ name = "Ada", id = "{ADA}" }}', Person("Ada", ADA)),
        (
            '{ name = "Ada", affiliation = { name = "Uni", ror = "https://ror.org/02wfhk785" } }',
            Person("Ada", affiliation=Organization("Uni", "https://ror.org/02wfhk785")),
        ),
    ],
)
def test_person_forms(toml: str, person: Person, caplog: pytest.LogCaptureFixture) -> None:
    declared = _read(f"[tool.fedcrate]\nauthor = {toml}\nagent = {toml}\n", caplog)
    assert declared.author == person and declared.agent == person
    assert caplog.records == []


@pytest.mark.parametrize(
    ("toml", "license_"),
    [
        ('"MIT"', License("https://spdx.org/licenses/MIT", "MIT")),
        ('"https://spdx.org/licenses/MIT.html"', License("https://spdx.org/licenses/MIT", "MIT")),
        (
            '"https://creativecommons.org/licenses/by/4.0/"',
            License(
                "https://creativecommons.org/licenses/by/4.0/",
                "https://creativecommons.org/licenses/by/4.0/",
            ),
        ),
        (
            '{ id = "https://example.org/terms", name = "Consortium terms" }',
            License("https://example.org/terms", "Consortium terms"),
        ),
    ],
)
def test_license_forms(toml: str, license_: License, caplog: pytest.LogCaptureFixture) -> None:
    assert _read(f"[tool.fedcrate]\nlicense = {toml}\n", caplog).license == license_
    assert caplog.records == []


def test_keywords_as_text_and_repeats(caplog: pytest.LogCaptureFixture) -> None:
    text = '[tool.fedcrate]\nkeywords = "federated learning, cifar-10,, federated learning"\n'
    assert _read(text, caplog).keywords == ("federated learning", "cifar-10")
    listed = '[tool.fedcrate]\nkeywords = [" fl ", "fl", "medical imaging"]\n'
    assert _read(listed, caplog).keywords == ("fl", "medical imaging")
    assert caplog.records == []


def test_dataset_forms(caplog: pytest.LogCaptureFixture) -> None:
    text = f"""
[[tool.fedcrate.datasets]]
name = "CIFAR-10"
url = "{CIFAR}"
license = {{ id = "https://spdx.org/licenses/MIT" }}

[[tool.fedcrate.datasets]]
id = "https://doi.org/10.5281/zenodo.1"

[[tool.fedcrate.datasets]]
name = "hospital-a-ct"
description = "CT scans held at site A (not published)"
"""
    declared = _read(text, caplog)
    assert declared.datasets == (
        DatasetRef("CIFAR-10", CIFAR, license="https://spdx.org/licenses/MIT"),
        DatasetRef("https://doi.org/10.5281/zenodo.1", "https://doi.org/10.5281/zenodo.1"),
        DatasetRef("hospital-a-ct", description="CT scans held at site A (not published)"),
    )
    strings = _read(f'[tool.fedcrate]\ndatasets = ["{CIFAR}", "MNIST"]\n', caplog)
    assert strings.datasets == (DatasetRef(CIFAR, CIFAR), DatasetRef("MNIST"))
    assert caplog.records == []


def test_dataset_url_credentials_never_reach_the_record(caplog: pytest.LogCaptureFixture) -> None:
    text = '[tool.fedcrate]\ndatasets = [{ name = "d", url = "https://u:secret@data.org/d" }]\n'
    (dataset,) = _read(text, caplog).datasets
    assert dataset.url == "https://data.org/d" and "secret" not in caplog.text


def test_a_dataset_listed_twice_is_recorded_once(caplog: pytest.LogCaptureFixture) -> None:
    text = f'[tool.fedcrate]\ndatasets = ["{CIFAR}", {{ name = "CIFAR-10", url = "{CIFAR}" }}]\n'
    assert len(_read(text, caplog).datasets) == 1
    assert _errors(caplog) == []
    assert any("datasets[1]" in w and "datasets[0]" in w for w in _warnings(caplog))


# -- the older table names -------------------------------------------------------------

LEGACY = f"""
[tool.flwrcrate]
description = "from flwrcrate"
keywords = ["legacy"]
license = "MIT"
author = {{ name = "Old Author", orcid = "{ADA}" }}
agent = "Old Agent"
datasets = ["https://example.org/legacy-data"]
metric-uris = {{ accuracy = "http://purl.obolibrary.org/obo/STATO_0000415" }}
"""


def test_every_key_is_read_from_tool_flwrcrate(caplog: pytest.LogCaptureFixture) -> None:
    declared = _read(LEGACY, caplog)
    assert declared.description == "from flwrcrate"
    assert declared.keywords == ("legacy",)
    assert declared.license == License("https://spdx.org/licenses/MIT", "MIT")
    assert declared.author == Person("Old Author", ADA)
    assert declared.agent == Person("Old Agent")
    assert [d.url for d in declared.datasets] == ["https://example.org/legacy-data"]
    assert caplog.records == []  # no unknown-key warnings for the legacy table


def test_tool_fedacrate_is_read_last(caplog: pytest.LogCaptureFixture) -> None:
    text = '[tool.fedacrate]\nlicense = "CC0-1.0"\ndescription = "oldest"\n'
    assert _read(text, caplog).license == License("https://spdx.org/licenses/CC0-1.0", "CC0-1.0")
    both = text + '[tool.flwrcrate]\ndescription = "newer"\n'
    declared = _read(both, caplog)
    assert declared.description == "newer" and declared.license is not None


def test_tool_fedcrate_wins_key_by_key(caplog: pytest.LogCaptureFixture) -> None:
    text = '[tool.fedcrate]\nlicense = "Apache-2.0"\nauthor = { name = "Ada Lovelace" }\n' + LEGACY
    declared = _read(text, caplog)
    assert declared.license == License("https://spdx.org/licenses/Apache-2.0", "Apache-2.0")
    # A whole value: the legacy author's ORCID is not merged into the new author.
    assert declared.author == Person("Ada Lovelace")
    assert declared.description == "from flwrcrate"  # keys only the old table has
    assert declared.agent == Person("Old Agent")
    assert caplog.records == []


def test_a_bad_new_value_does_not_fall_back_to_the_old_one(
    caplog: pytest.LogCaptureFixture,
) -> None:
    declared = _read('[tool.fedcrate]\nlicense = "Apache 2"\n' + LEGACY, caplog)
    assert declared.license is None
    (error,) = _errors(caplog)
    assert "[tool.fedcrate] license" in error


# -- bad entries: one clear error each, the rest kept ------------------------------------

GOOD_REST = 'description = "kept"\n'


@pytest.mark.parametrize(
    ("entry", "where", "says"),
    [
        ("description = 3", "[tool.fedcrate] description", "non-empty string"),
        ('description = "  "', "[tool.fedcrate] description", "non-empty string"),
        ("keywords = 5", "[tool.fedcrate] keywords", "list of strings"),
        ('keywords = ["fl", 3]', "[tool.fedcrate] keywords[1]", "must be a string"),
        ('license = "Apache 2"', "[tool.fedcrate] license", "neither an SPDX identifier"),
        ("license = 42", "[tool.fedcrate] license", "SPDX identifier or a licence URL"),
        ('license = { name = "Ours" }', "[tool.fedcrate] license", "no id or url"),
        ("license = { id = 3 }", "[tool.fedcrate] license", "must be text"),
        ("author = 42", "[tool.fedcrate] author", "a name, an ORCID or a table"),
        ('author = ["Ada", "Bob"]', "[tool.fedcrate] author", "one person per role"),
        ('author = ""', "[tool.fedcrate] author", "is empty"),
        (f'author = "{MISTYPED}"', "[tool.fedcrate] author", "check digit"),
        (f'author = {{ name = "Ada", orcid = "{MISTYPED}" }}', "author.orcid", "check digit"),
        ('author = { orcid = "12345" }', "[tool.fedcrate] author.orcid", "not of the form"),
        ('author = { email = "a@b.org" }', "[tool.fedcrate] author", "neither a name nor"),
        ("author = { name = 5 }", "[tool.fedcrate] author", "name must be text"),
        ('agent = { name = "B", affiliation = 3 }', "[tool.fedcrate] agent", "affiliation"),
        (f'datasets = "{CIFAR}"', "[tool.fedcrate] datasets", "must be an array"),
        ("datasets = [5]", "[tool.fedcrate] datasets[0]", "a URL or a table"),
        ('datasets = [""]', "[tool.fedcrate] datasets[0]", "is empty"),
        ('datasets = [{ name = "x", url = "www.x.org" }]', "datasets[0]", "not an absolute URL"),
        ('datasets = [{ name = "x", license = "my terms" }]', "datasets[0]", "license"),
        ('datasets = [{ description = "d" }]', "datasets[0]", "neither a name nor a url"),
        ("datasets = [{ name = 3 }]", "[tool.fedcrate] datasets[0]", "name must be"),
    ],
)
def test_a_bad_entry_logs_one_clear_error_and_the_rest_is_kept(
    entry: str, where: str, says: str, caplog: pytest.LogCaptureFixture
) -> None:
    rest = "" if entry.startswith("description") else GOOD_REST
    text = f'[tool.fedcrate]\n{entry}\n{rest}[tool.flwrcrate]\nagent = "Kept Agent"\n'
    declared = _read(text, caplog)
    errors = _errors(caplog)
    assert len(errors) == 1, errors
    (error,) = errors
    assert error.startswith(f"{PATH} ") and where in error and says in error, error
    assert "; fix: " in error, error
    if rest:
        assert declared.description == "kept"
    if not entry.startswith("agent"):
        assert declared.agent == Person("Kept Agent")


def test_several_problems_of_one_dataset_are_one_error(caplog: pytest.LogCaptureFixture) -> None:
    text = '[tool.fedcrate]\ndatasets = [{ name = "x", url = "x.org", license = "my terms" }]\n'
    assert _read(text, caplog).datasets == ()
    (error,) = _errors(caplog)
    assert "not an absolute URL" in error and "license 'my terms'" in error


def test_bad_datasets_leave_the_good_ones(caplog: pytest.LogCaptureFixture) -> None:
    text = f'[tool.fedcrate]\ndatasets = ["{CIFAR}", 5, {{ url = "nope" }}, "MNIST"]\n'
    declared = _read(text, caplog)
    assert [d.name for d in declared.datasets] == [CIFAR, "MNIST"]
    assert [e.split(":")[0].rsplit(" ", 1)[-1] for e in _errors(caplog)] == [
        "datasets[1]",
        "datasets[2]",
    ]


def test_a_mistyped_orcid_keeps_the_rest_of_the_person(caplog: pytest.LogCaptureFixture) -> None:
    text = (
        f'[tool.fedcrate]\nauthor = {{ name = "Ada", orcid = "{MISTYPED}", affiliation = "U" }}\n'
    )
    assert _read(text, caplog).author == Person("Ada", affiliation=Organization("U"))
    (error,) = _errors(caplog)
    assert "the rest of the entry is kept" in error


def test_a_tool_fedcrate_that_is_no_table(caplog: pytest.LogCaptureFixture) -> None:
    declared = _read('[tool]\nfedcrate = "yes"\n[tool.flwrcrate]\nlicense = "MIT"\n', caplog)
    assert declared.license is not None  # the older table is still read
    (error,) = _errors(caplog)
    assert "[tool.fedcrate]: must be a table" in error


def test_unknown_keys_are_warned_with_the_nearest_known_one(
    caplog: pytest.LogCaptureFixture,
) -> None:
    text = (
        '[tool.fedcrate]\nlicence = "MIT"\n'
        'author = { name = "Ada", orchid = "0000-0002-1825-0097" }\n'
        'datasets = [{ name = "d", licence = "MIT" }]\n'
    )
    declared = _read(text, caplog)
    assert _errors(caplog) == []
    warnings = _warnings(caplog)
    assert any("[tool.fedcrate] licence" in w and "did you mean 'license'" in w for w in warnings)
    assert any("author.orchid" in w and "did you mean 'orcid'" in w for w in warnings)
    assert any("datasets[0].licence" in w for w in warnings)
    assert declared.author == Person("Ada") and declared.license is None


JUNK: list[Any] = [True, 1.5, 0, "", " ", [], [[]], [{}], {}, {"a": {"b": []}}, [True, None]]


@pytest.mark.parametrize("key", ["description", "keywords", "license", "author", "agent"])
@pytest.mark.parametrize("junk", JUNK, ids=repr)
def test_read_declarations_never_raises(key: str, junk: Any) -> None:
    pyproject = {"tool": {"fedcrate": {key: junk, "datasets": [junk]}, "flwrcrate": junk}}
    read_declarations(pyproject, PATH)
    read_declarations({"tool": junk}, PATH)


# -- apply_declarations: tracker arguments win ------------------------------------------


def _record(**changes: Any) -> RunRecord:
    return replace(RunRecord(name="run", started_at=START), **changes)


def test_declarations_fill_what_the_tracker_was_not_given(
    caplog: pytest.LogCaptureFixture,
) -> None:
    declared = _read(EXAMPLE, caplog)
    record = _record()
    apply_declarations(record, declared, given=set())
    assert record.description == declared.description
    assert record.keywords == ("federated learning", "cifar-10")
    assert record.license == declared.license
    assert record.author == declared.author and record.agent == declared.agent
    assert record.datasets == list(declared.datasets)


def test_tracker_arguments_win_field_by_field(caplog: pytest.LogCaptureFixture) -> None:
    declared = _read(EXAMPLE, caplog)
    mine = Person("Grace Hopper")
    record = _record(author=mine, license=None, description="from the argument")
    apply_declarations(record, declared, given={"author", "license", "description"})
    assert record.author == mine
    assert record.license is None  # given (as None): the file does not override it
    assert record.description == "from the argument"
    assert record.agent == declared.agent and record.keywords == declared.keywords


def test_tracker_args_then_tool_fedcrate_then_tool_flwrcrate(
    caplog: pytest.LogCaptureFixture,
) -> None:
    text = '[tool.fedcrate]\nlicense = "Apache-2.0"\nagent = "New Agent"\n' + LEGACY
    record = _record(author=Person("Argument Author"))
    apply_declarations(record, _read(text, caplog), given={"author"})
    assert record.author == Person("Argument Author")  # tracker argument
    assert record.license is not None and record.license.name == "Apache-2.0"  # [tool.fedcrate]
    assert record.agent == Person("New Agent")  # [tool.fedcrate]
    assert record.description == "from flwrcrate"  # only [tool.flwrcrate] has it


def test_given_datasets_win_and_the_files_are_not_added(caplog: pytest.LogCaptureFixture) -> None:
    declared = _read(EXAMPLE, caplog)
    passed = DatasetRef("MNIST", "https://yann.lecun.com/exdb/mnist/")
    record = _record(datasets=[passed])
    with caplog.at_level(logging.INFO, logger="fedcrate"):
        apply_declarations(record, declared, given={"datasets"})
    assert record.datasets == [passed]
    assert "datasets= argument wins" in caplog.text and str(PATH) in caplog.text


def test_file_datasets_follow_those_found_by_the_run(caplog: pytest.LogCaptureFixture) -> None:
    declared = _read(f'[tool.fedcrate]\ndatasets = ["{CIFAR}", "https://example.org/b"]\n', caplog)
    cohort = DatasetRef("FLIP cohort", query="SELECT 1")
    record = _record(datasets=[cohort, DatasetRef("CIFAR-10", CIFAR)])
    apply_declarations(record, declared, given=())
    assert [d.name for d in record.datasets] == ["FLIP cohort", "CIFAR-10", "https://example.org/b"]


def test_other_argument_names_are_ignored(caplog: pytest.LogCaptureFixture) -> None:
    record = _record()
    apply_declarations(record, _read(EXAMPLE, caplog), given={"app_name", "output_dir"})
    assert record.author is not None and record.datasets


def test_nothing_declared_changes_nothing() -> None:
    record = _record(author=Person("Ada"), datasets=[DatasetRef("d")])
    before = replace(record, datasets=list(record.datasets))
    apply_declarations(record, Declarations(), given=set())
    assert record == before


# -- keywords in the graph, the journal and the crate -----------------------------------


def test_keywords_survive_the_journal(tmp_path: Path) -> None:
    record = _record(keywords=("federated learning", "a, b"))
    journal = Journal(tmp_path, record.run_uuid)
    journal.facts(record)
    journal.close(remove=False)
    assert read_journal(journal.path).record.keywords == ("federated learning", "a, b")


def test_a_journal_written_before_keywords_existed_still_reads(tmp_path: Path) -> None:
    record = _record()
    journal = Journal(tmp_path, record.run_uuid)
    journal.facts(record)
    journal.close(remove=False)
    lines = journal.path.read_text().splitlines()
    entry = json.loads(lines[0])
    del entry["record"]["keywords"]
    journal.path.write_text(json.dumps(entry) + "\n")
    assert read_journal(journal.path).record.keywords == ()


def test_keywords_are_one_value_each_on_the_root() -> None:
    record = _record(keywords=("federated learning", "x, y"))
    graph = build_graph(record)
    root = URIRef(base_iri(record.run_uuid))
    assert set(graph.objects(root, SDO.keywords)) == {
        Literal("federated learning"),
        Literal("x, y"),
    }
    assert build_graph(_record()).value(root, SDO.keywords) is None


def _declared_crate(
    tmp_path: Path, record_factory: Callable[..., RunRecord], caplog: pytest.LogCaptureFixture
) -> tuple[Path, RunRecord]:
    model = tmp_path / "final_model.npz"
    model.write_bytes(os.urandom(1024))
    record = replace(
        record_factory(), author=None, license=None, description=None, model_source=model
    )
    apply_declarations(record, _read(EXAMPLE, caplog), given=set())
    return write_crate(record, tmp_path / "out", preview=False).path, record


def test_a_crate_from_declarations_states_them(
    tmp_path: Path, record_factory: Callable[..., RunRecord], caplog: pytest.LogCaptureFixture
) -> None:
    crate, record = _declared_crate(tmp_path, record_factory, caplog)
    graph = read_crate(crate)
    root, run = URIRef(base_iri(record.run_uuid)), URIRef(base_iri(record.run_uuid) + "#fl-run")
    assert set(graph.objects(root, SDO.keywords)) == {
        Literal("federated learning"),
        Literal("cifar-10"),
    }
    assert graph.value(root, SDO.description) == Literal("FedAvg on CIFAR-10 across 3 hospitals")
    assert graph.value(root, SDO.author) == URIRef(ADA)
    assert graph.value(URIRef(ADA), SDO.name) == Literal("Ada Lovelace")
    assert graph.value(root, SDO.license) == URIRef("https://spdx.org/licenses/Apache-2.0")
    assert graph.value(graph.value(run, SDO.agent), SDO.name) == Literal("Charles Babbage")
    assert URIRef(CIFAR) in set(graph.objects(run, SDO.object))
    assert (root, SDO.hasPart, URIRef(CIFAR)) in graph
    assert graph.value(URIRef(CIFAR), SDO.license) == URIRef("https://spdx.org/licenses/MIT")

    document = json.loads((crate / "ro-crate-metadata.json").read_text())
    root_node = next(n for n in document["@graph"] if n["@id"] == "./")
    assert sorted(root_node["keywords"]) == ["cifar-10", "federated learning"]
    assert root_node["author"] == {"@id": ADA}


def test_a_crate_from_declarations_meets_the_profiles_at_must(
    tmp_path: Path, record_factory: Callable[..., RunRecord], caplog: pytest.LogCaptureFixture
) -> None:
    from fedcrate.validate import Level, validate

    crate, _ = _declared_crate(tmp_path, record_factory, caplog)
    report = validate(crate)
    failing = [f.message for f in report.findings if f.level is Level.MUST]
    assert report.profile == "fedcrate-0.1" and report.conforms and failing == [], failing


@pytest.mark.integration
def test_a_crate_from_declarations_passes_the_official_validator(
    tmp_path: Path, record_factory: Callable[..., RunRecord], caplog: pytest.LogCaptureFixture
) -> None:
    from tests.support.validator import assert_crate_valid, find_validator_python

    python = find_validator_python()
    if python is None:
        message = "the official rocrate-validator is not installed (tests/tools.sh sets it up)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    crate, _ = _declared_crate(tmp_path, record_factory, caplog)
    assert_crate_valid(crate, python)
