"""Fuzzing the crate reader, `validate`, `show` and `sparql` with malformed crates.

Whatever a `ro-crate-metadata.json` holds — not JSON, JSON but not an object, a missing or
mistyped `@graph`, mistyped `@id`s, a bad or remote `@context`, truncated text, binary
garbage — and for folders without one, the commands answer with one clear error and exit
1 (the data is wrong) or 2 (unusable input): never a traceback, and never a network request
(crates are read offline; an unknown context is refused, not fetched).

The commands run through typer's CliRunner with `fedcrate.cli.main.main`'s mapping of library
errors (FedcrateError → one line, its exit code), and once through the console script.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from fedcrate.cli import app, main
from fedcrate.crate import read_crate, write_crate
from fedcrate.errors import FedcrateError, NotACrate
from fedcrate.validate import validate
from tests.conftest import make_record

runner = CliRunner()
METADATA = "ro-crate-metadata.json"
RO_CRATE_CONTEXT = "https://w3id.org/ro/crate/1.2/context"


def examples(n: int) -> int:
    """`n` examples under the "ci" profile (100 examples), proportionally more under others."""
    profile = settings.default
    return max(1, n * (profile.max_examples if profile else 100) // 100)


# -- no network ---------------------------------------------------------------------------


class NetworkAttempt(AssertionError):
    """Raised in place of any socket use while reading crates."""


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Fail any DNS lookup or connection; the list records attempts that were swallowed."""
    attempts: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        attempts.append(args[:2])
        raise NetworkAttempt(f"network use while reading a crate: {args[:2]!r}")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", lambda self, address: refuse(address))
    yield attempts
    assert attempts == [], f"crates must be read offline; attempted {attempts}"


# -- running the commands -----------------------------------------------------------------


@dataclass
class Outcome:
    exit_code: int
    output: str


def invoke(args: list[str]) -> Outcome:
    """Run the CLI as `fedcrate.cli.main.main` does and check the error contract."""
    result = runner.invoke(app, args)
    exception = result.exception
    output = result.output
    if isinstance(exception, FedcrateError):  # what main() turns into one line + exit code
        exit_code, output = exception.exit_code, output + f"error: {exception}\n"
        assert "\n" not in str(exception), f"multi-line error: {exception}"
    else:
        assert exception is None or isinstance(exception, SystemExit), (
            f"{args}: {type(exception).__name__}: {exception}"
        )
        exit_code = result.exit_code
    assert "Traceback" not in output, output
    assert exit_code in (0, 1, 2), (exit_code, output)
    # rich wraps long lines at 80 columns under CliRunner: compare the text, not the wrapping.
    return Outcome(exit_code, " ".join(output.split()))


def _commands(crate: Path, index: Path) -> dict[str, list[str]]:
    return {
        "validate": ["validate", str(crate), "--level", "must", "--no-inference"],
        "show": ["show", str(crate)],
        "sparql": ["sparql", "runs", str(crate), "--index", str(index), "--format", "csv"],
    }


def _run_all(content: bytes, work: Path) -> dict[str, Outcome]:
    crate = work / "crate"
    crate.mkdir()
    (crate / METADATA).write_bytes(content)
    return {name: invoke(args) for name, args in _commands(crate, work / "index").items()}


def _assert_rejected(outcomes: dict[str, Outcome]) -> None:
    """Unusable input: validate and show exit 2, sparql reports the crate and exits 1."""
    assert outcomes["validate"].exit_code == 2, outcomes["validate"].output
    assert outcomes["show"].exit_code == 2, outcomes["show"].output
    assert outcomes["sparql"].exit_code == 1, outcomes["sparql"].output
    for outcome in outcomes.values():
        assert "error" in outcome.output or "✗" in outcome.output, outcome.output


# -- generated inputs ---------------------------------------------------------------------

JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**64), max_value=2**64),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(max_size=8), children, max_size=4),
    ),
    max_leaves=12,
)
KEYWORD_VALUES = st.one_of(
    JSON_VALUES,
    st.sampled_from(
        [
            RO_CRATE_CONTEXT,
            "http://example.invalid/context.jsonld",
            "https://w3id.org/ro/crate/1.1/context",
            "file:///etc/passwd",
            "context.jsonld",
            {"@import": "http://example.invalid/c"},
            [RO_CRATE_CONTEXT, "https://example.invalid/extra"],
            [RO_CRATE_CONTEXT, {"x": {"@id": "http://x/", "@context": "http://example.invalid/"}}],
        ]
    ),
)


def _known_bug(document: Any) -> bool:
    """Inputs that hit the xfail-marked bugs below (kept out of the generated ones)."""
    return (
        isinstance(document, dict)
        and "@graph" in document
        and (document["@graph"] is None or isinstance(document["@graph"], (bool, int, float)))
    )


def _write_valid_crate(folder: Path) -> Path:
    return write_crate(make_record(rounds=2), folder, preview=False).path


@pytest.fixture(scope="module")
def valid_document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    crate = _write_valid_crate(tmp_path_factory.mktemp("valid"))
    document: dict[str, Any] = json.loads((crate / METADATA).read_text(encoding="utf-8"))
    return document


@settings(max_examples=examples(15))
@given(content=st.binary(max_size=300))
def test_binary_garbage_is_refused_cleanly(content: bytes) -> None:
    try:
        parsed = json.loads(content)
    except (ValueError, UnicodeDecodeError):
        parsed = None
    assume(not isinstance(parsed, dict))  # the rare random bytes that are an object
    with tempfile.TemporaryDirectory() as folder:
        _assert_rejected(_run_all(content, Path(folder)))


@settings(max_examples=examples(15))
@given(value=JSON_VALUES.filter(lambda v: not isinstance(v, dict)))
def test_json_that_is_not_an_object_is_refused(value: Any) -> None:
    with tempfile.TemporaryDirectory() as folder:
        _assert_rejected(_run_all(json.dumps(value).encode(), Path(folder)))


@settings(max_examples=examples(15))
@given(
    document=st.dictionaries(
        st.one_of(st.sampled_from(["@context", "@graph", "@id", "@type", "name"]), st.text()),
        KEYWORD_VALUES,
        max_size=4,
    )
)
def test_objects_that_are_no_crate_are_refused(document: dict[str, Any]) -> None:
    graph = document.get("@graph")
    assume(not _known_bug(document))
    assume(not (isinstance(graph, list) and any(isinstance(n, dict) for n in graph)))
    with tempfile.TemporaryDirectory() as folder:
        outcomes = _run_all(json.dumps(document).encode(), Path(folder))
    # No descriptor: validate and show refuse it. sparql indexes whatever triples it
    # states (see the xfail test below for documents that are not crates at all).
    assert outcomes["validate"].exit_code == 2, outcomes["validate"].output
    assert outcomes["show"].exit_code == 2, outcomes["show"].output


@st.composite
def mutated_crates(draw: st.DrawFn, document: dict[str, Any]) -> Any:
    """A fedcrate crate with one part broken: its context, a node's `@id`, a property…"""
    doc = json.loads(json.dumps(document))
    nodes = doc["@graph"]
    where = draw(st.sampled_from(["context", "id", "type", "property", "graph", "node"]))
    if where == "context":
        doc["@context"] = draw(KEYWORD_VALUES)
    elif where == "graph":
        doc["@graph"] = draw(KEYWORD_VALUES)
    else:
        node = nodes[draw(st.integers(min_value=0, max_value=len(nodes) - 1))]
        if where == "id":
            node["@id"] = draw(KEYWORD_VALUES)
        elif where == "type":
            node["@type"] = draw(KEYWORD_VALUES)
        elif where == "property":
            keys = sorted(k for k in node if not k.startswith("@")) or ["name"]
            node[draw(st.sampled_from(keys))] = draw(KEYWORD_VALUES)
        else:
            nodes[nodes.index(node)] = draw(KEYWORD_VALUES)
    return doc


@settings(max_examples=examples(12))
@given(data=st.data())
def test_broken_crates_give_one_clear_answer(
    valid_document: dict[str, Any], data: st.DataObject
) -> None:
    document = data.draw(mutated_crates(valid_document))
    assume(not _known_bug(document))
    with tempfile.TemporaryDirectory() as folder:
        outcomes = _run_all(json.dumps(document).encode(), Path(folder))
    for outcome in outcomes.values():
        if outcome.exit_code:
            assert "error" in outcome.output or "✗" in outcome.output, outcome.output


@settings(max_examples=examples(8))
@given(data=st.data())
def test_truncated_crates_are_refused(valid_document: dict[str, Any], data: st.DataObject) -> None:
    text = json.dumps(valid_document, indent=2).encode()
    cut = data.draw(st.integers(min_value=0, max_value=len(text) - 2))
    with tempfile.TemporaryDirectory() as folder:
        outcomes = _run_all(text[:cut], Path(folder))
    _assert_rejected(outcomes)
    assert METADATA in outcomes["show"].output  # names the file (and line:column)


# -- fixed cases ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "context",
    [
        "http://example.invalid/context.jsonld",
        [RO_CRATE_CONTEXT, "https://example.invalid/extra"],
        {"@version": 1.1, "@import": "http://example.invalid/c"},
        [RO_CRATE_CONTEXT, {"x": {"@id": "http://x/", "@context": "http://example.invalid/"}}],
        "file:///etc/passwd",
        "context.jsonld",
    ],
    ids=["remote", "remote-in-list", "import", "scoped", "file", "relative"],
)
def test_unknown_contexts_are_refused_never_fetched(
    tmp_path: Path, valid_document: dict[str, Any], context: Any
) -> None:
    document = dict(valid_document, **{"@context": context})
    outcomes = _run_all(json.dumps(document).encode(), tmp_path)
    _assert_rejected(outcomes)
    for outcome in outcomes.values():
        assert "not fetched" in outcome.output, outcome.output


def test_a_node_level_remote_context_is_refused(
    tmp_path: Path, valid_document: dict[str, Any]
) -> None:
    document = json.loads(json.dumps(valid_document))
    document["@graph"][1]["@context"] = "http://169.254.169.254/latest/meta-data/"
    (tmp_path / METADATA).write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(NotACrate, match="not fetched"):
        read_crate(tmp_path)


def test_a_node_level_known_context_is_read_offline(
    tmp_path: Path, valid_document: dict[str, Any]
) -> None:
    document = json.loads(json.dumps(valid_document))
    document["@graph"][1]["@context"] = RO_CRATE_CONTEXT
    (tmp_path / METADATA).write_text(json.dumps(document), encoding="utf-8")
    assert len(read_crate(tmp_path)) > 100


def test_folders_without_metadata(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    missing = tmp_path / "missing"
    for folder, says in ((empty, "no ro-crate-metadata.json"), (missing, "no such file")):
        for name in ("validate", "show"):
            outcome = invoke(_commands(folder, tmp_path / "index")[name])
            assert outcome.exit_code == 2 and says in outcome.output
    assert invoke(["sparql", "runs", str(missing)]).exit_code == 2
    # An empty folder holds no crates: that is said, and it is not success.
    outcome = invoke(["sparql", "runs", str(empty), "--index", str(tmp_path / "i")])
    assert outcome.exit_code == 1 and "no crate found" in outcome.output


def test_validate_refuses_json_ld_without_a_descriptor(tmp_path: Path) -> None:
    for name, document in {
        "graph-string": {"@graph": "x"},
        "graph-object": {"@context": RO_CRATE_CONTEXT, "@graph": {"@id": "./"}},
        "no-descriptor": {"@context": RO_CRATE_CONTEXT, "@graph": [{"@id": "./", "name": "x"}]},
    }.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / METADATA).write_text(json.dumps(document), encoding="utf-8")
        with pytest.raises(
            NotACrate, match=r"no RO-Crate metadata descriptor|not a list of entities"
        ):
            validate(tmp_path / name, level="must")
        assert invoke(["validate", str(tmp_path / name)]).exit_code == 2


def test_main_maps_library_errors_to_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["fedcrate", "sparql", "runs", str(tmp_path / "missing")])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 2
    captured = capsys.readouterr()
    error = " ".join(captured.err.split())
    assert error.startswith("error:") and "no such folder" in error
    assert "Traceback" not in captured.err + captured.out


def test_console_script_errors(tmp_path: Path, valid_document: dict[str, Any]) -> None:
    crates = []
    remote = dict(valid_document, **{"@context": "http://example.invalid/c"})
    contents = {
        "binary": bytes(range(256)),
        "array": b"[1, 2]",
        "remote": json.dumps(remote).encode(),
    }
    for name, content in contents.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / METADATA).write_bytes(content)
        crates.append(str(tmp_path / name))
    done = subprocess.run(
        [sys.executable, "-m", "fedcrate", "validate", "--format", "json", *crates],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    report = json.loads(done.stdout)
    assert [entry["source"] for entry in report] == crates
    assert all(entry.get("error") for entry in report), report
    assert "not fetched" in report[2]["error"]


# -- known bugs ----------------------------------------------------------------------------


@pytest.mark.parametrize("graph", ["null", "false", "3"])
def test_sparql_reports_a_graph_that_is_not_a_list(tmp_path: Path, graph: str) -> None:
    document = f'{{"@context": "{RO_CRATE_CONTEXT}", "@graph": {graph}}}'
    outcomes = _run_all(document.encode(), tmp_path)
    assert outcomes["sparql"].exit_code == 1


def test_deeply_nested_json_is_refused(tmp_path: Path) -> None:
    _assert_rejected(_run_all(b"[" * 100_000 + b"]" * 100_000, tmp_path))


def test_huge_integer_literal_is_refused(tmp_path: Path) -> None:
    content = b'{"@graph": [{"@id": "./", "x": ' + b"9" * 5000 + b"}]}"
    _assert_rejected(_run_all(content, tmp_path))


def test_sparql_reports_documents_that_are_not_crates(tmp_path: Path) -> None:
    outcomes = _run_all(b'{"@graph": "x"}', tmp_path)
    assert outcomes["sparql"].exit_code == 1
