"""The shipped profiles' rules, their corpus, and `validate`'s report: levels and profiles.

The corpus lives in tests/data/crates: `<...>/invalid/<Rule>/` crates fail exactly their
rule (`expected.json` names it, its level and message, and the profile it belongs to);
`<...>/valid/` crates conform at every level.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rdflib import URIRef

from fedcrate import write_crate
from fedcrate.errors import NotACrate
from fedcrate.validate import DEFAULT_PROFILE, Level, UnknownProfile, shapes_graph, validate
from fedcrate.validate.profiles import choose_profile, lineage, shipped_profiles
from fedcrate.validate.shacl import SH
from tests.conftest import make_record
from tests.unit.validate.support import CORPUS, TOKENS, crate_id

EXPECTED = sorted(CORPUS.rglob("expected.json"))
VALID = sorted(p.parent for p in CORPUS.rglob("valid/*/ro-crate-metadata.json"))


def _token_of(crate: Path) -> str | None:
    """The profile a corpus folder is for: `<corpus>/<token's folder>/…`, else chosen."""
    folders = {p.folder: p.token for p in shipped_profiles().values()}
    for part in crate.relative_to(CORPUS).parts:
        if part in folders:
            return folders[part]
    return None


@pytest.mark.parametrize("token", TOKENS)
def test_every_shape_is_named_described_and_has_a_message(token: str) -> None:
    shapes = shapes_graph(token)
    reporting = list(shapes.subjects(SH.message, None))
    assert reporting
    for shape in reporting:
        assert isinstance(shape, URIRef), "reporting shapes need IRIs to be named in reports"
        assert shapes.value(shape, SH.name) is not None, shape
        assert shapes.value(shape, SH.description) is not None, shape


def test_a_profile_applies_the_shapes_of_the_profiles_it_builds_on() -> None:
    for token in TOKENS:
        own = set(shapes_graph(token).subjects(SH.name, None))
        for ancestor in lineage(token)[1:]:
            assert set(shapes_graph(ancestor.token).subjects(SH.name, None)) <= own


@pytest.mark.parametrize("expected_file", EXPECTED, ids=lambda p: crate_id(p.parent))
def test_each_broken_crate_fails_exactly_its_rule(expected_file: Path) -> None:
    """Against its profile, a broken crate has the findings of the valid crate it was made
    from (`base`: notes the profile's MAY rules give every crate of its kind) plus its rule's."""
    crate = expected_file.parent
    expected = json.loads(expected_file.read_text())
    token = expected.get("profile") or _token_of(crate)
    report = validate(crate, profile=token, level=Level.MAY)
    base = crate.parent.parent / expected["base"] if "base" in expected else None
    known = {f.rule for f in validate(base, profile=token).findings} if base else set()
    assert {f.rule for f in report.findings} - known == {expected["shape"]}, report.findings
    own = [f for f in report.findings if f.rule == expected["shape"]]
    assert {f.level.value for f in own} == {expected["severity"]}
    assert expected["message"] in {f.message for f in own}


@pytest.mark.parametrize("crate", VALID, ids=crate_id)
def test_valid_fixtures_conform_even_strictly(crate: Path) -> None:
    report = validate(crate, profile=_token_of(crate), level=Level.SHOULD)
    assert report.conforms, report.failures
    assert all(f.level is Level.MAY for f in report.findings)


def test_levels_say_what_fails_and_every_level_is_evaluated(tmp_path: Path) -> None:
    crate = write_crate(make_record(), tmp_path / "c", preview=False).path
    everything = validate(crate, level=Level.MAY)
    assert everything.failures == everything.findings
    for level in Level:
        report = validate(crate, level=level)
        assert report.findings == everything.findings  # evaluated alike at every level
        failing = level.included()
        assert report.failures == [f for f in report.findings if f.level in failing]
        assert report.warnings == [f for f in report.findings if f.level not in failing]
        assert report.conforms == (not report.failures)
        assert report.at(level) == [f for f in report.findings if f.level is level]
    assert validate(crate).level is Level.MUST  # the default fails on MUST only


def test_the_profile_is_chosen_from_the_crates_claims(tmp_path: Path) -> None:
    crate = write_crate(make_record(), tmp_path / "c", preview=False).path
    metadata = crate / "ro-crate-metadata.json"
    document = json.loads(metadata.read_text())
    root = next(n for n in document["@graph"] if n["@id"] == "./")
    claims = {c["@id"] for c in root["conformsTo"]}
    known = {p.iri: p.token for p in shipped_profiles().values()}

    def claiming(iris: set[str], name: str) -> Path:
        edited = json.loads(metadata.read_text())
        node = next(n for n in edited["@graph"] if n["@id"] == "./")
        node["conformsTo"] = [{"@id": iri} for iri in sorted(iris)]
        folder = tmp_path / name
        folder.mkdir()
        (folder / "ro-crate-metadata.json").write_text(json.dumps(edited))
        return folder

    others = claims - set(known)
    unclaimed = validate(claiming(others, "none"))
    assert (unclaimed.profile, unclaimed.claimed) == (DEFAULT_PROFILE, False)
    assert unclaimed.note and "does not claim" in unclaimed.note
    every = validate(claiming(others | set(known), "all"))
    widest, _ = choose_profile(set(known))
    assert (every.profile, every.claimed, every.note) == (widest.token, True, None)
    assert len(lineage(widest.token)) == max(len(lineage(t)) for t in TOKENS)
    for iri, token in known.items():
        report = validate(claiming(others | {iri}, token))
        assert (report.profile, report.claimed) == (token, True)
    asked = validate(claiming(others, "asked"), profile=TOKENS[-1])
    assert (asked.profile, asked.claimed) == (TOKENS[-1], False) and "as asked" in str(asked.note)


def test_an_unknown_profile_names_the_known_ones(tmp_path: Path) -> None:
    crate = write_crate(make_record(), tmp_path / "c", preview=False).path
    with pytest.raises(UnknownProfile) as raised:
        validate(crate, profile="fl-crate-9")
    assert all(token in str(raised.value) for token in TOKENS)
    assert raised.value.exit_code == 2


def test_graph_input_and_unusable_input(tmp_path: Path) -> None:
    written = write_crate(make_record(), tmp_path / "ok", preview=False)
    from_graph = validate(written.graph, level=Level.MAY)
    from_folder = validate(written.path, level=Level.MAY)
    assert from_graph.findings == from_folder.findings
    with pytest.raises(NotACrate):
        validate(tmp_path / "nothing-here")
    (tmp_path / "bare").mkdir()
    (tmp_path / "bare" / "ro-crate-metadata.json").write_text('{"@graph": []}')
    with pytest.raises(NotACrate, match="descriptor"):
        validate(tmp_path / "bare")


def test_report_round_trips_through_json(tmp_path: Path) -> None:
    from fedcrate.validate import Report

    crate = write_crate(make_record(), tmp_path / "c", preview=False).path
    report = validate(crate, level=Level.SHOULD)
    again = Report.from_dict(json.loads(json.dumps(report.to_dict())), report.rules_checked)
    assert again.to_dict() == report.to_dict()
    assert {f["fails"] for f in report.to_dict()["findings"]} <= {True, False}
