"""Both profiles run inside the official validator and agree with `fedcrate validate`.

crs4's rocrate-validator loads `shapes/` as user profiles (`--extra-profiles-path shapes`);
each of our shapes is one requirement whose name is the shape's `sh:name`, so the two engines
can be compared shape by shape on the whole corpus:

- `tests/data/crates/fl-crate/`: the hand-written complete crate and one broken copy per
  shape of `fl-crate-0.1` (only that profile's own checks: `inherit=False`);
- `tests/data/crates/fedcrate/`: crates fedcrate wrote and one broken copy per shape of
  `fedcrate-0.1`, validated as `fedcrate-0.1`, which builds on `fl-crate-0.1` (crs4 follows
  `prof:isProfileOf` and runs both, plus RO-Crate 1.2 and Process Run Crate, whose checks are
  left out of the comparison).

Each invalid crate fails exactly its rule, beyond what its valid base crate reports, in both.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from fedcrate.validate import Level, validate
from tests.support.paths import DATA, REPO
from tests.support.validator import ValidatorReport, run_official_validator

pytestmark = pytest.mark.integration

OURS = ("fl-crate-0.1_", "fedcrate-0.1_")
SEVERITY = {"REQUIRED": "must", "RECOMMENDED": "should", "OPTIONAL": "may"}


def _crates(profile: str) -> list[Path]:
    corpus = DATA / "crates" / profile
    return [
        p for kind in ("valid", "invalid") for p in sorted((corpus / kind).iterdir()) if p.is_dir()
    ]


CASES = [(c, "fl-crate-0.1") for c in _crates("fl-crate")] + [
    (c, "fedcrate-0.1") for c in _crates("fedcrate")
]


@pytest.fixture(scope="module")
def official_reports(validator_python: Path) -> dict[Path, ValidatorReport]:
    """Every corpus crate through the official validator, two at a time."""

    def check(case: tuple[Path, str]) -> ValidatorReport:
        crate, profile = case
        return run_official_validator(
            crate,
            profile,
            python=validator_python,
            severity="OPTIONAL",
            extra_profiles=REPO / "shapes",
            inherit=profile != "fl-crate-0.1",
        )

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip((c for c, _ in CASES), pool.map(check, CASES), strict=True))


def _theirs(report: ValidatorReport) -> set[tuple[str, str]]:
    return {
        (SEVERITY[i.severity], i.requirement) for i in report.issues if i.check.startswith(OURS)
    }


def _ours(crate: Path, profile: str) -> set[tuple[str, str]]:
    return {
        (f.level.value, f.name) for f in validate(crate, profile=profile, level=Level.MAY).findings
    }


@pytest.mark.parametrize(("crate", "profile"), CASES, ids=lambda v: getattr(v, "name", v))
def test_official_validator_agrees_with_fedcrate_validate(
    crate: Path, profile: str, official_reports: dict[Path, ValidatorReport]
) -> None:
    assert _ours(crate, profile) == _theirs(official_reports[crate])


@pytest.mark.parametrize(
    ("crate", "profile"),
    [c for c in CASES if c[0].parent.name == "invalid"],
    ids=lambda v: getattr(v, "name", v),
)
def test_each_invalid_crate_fails_exactly_its_rule_in_both_engines(
    crate: Path, profile: str, official_reports: dict[Path, ValidatorReport]
) -> None:
    expected = json.loads((crate / "expected.json").read_text(encoding="utf-8"))
    base = crate.parents[1] / expected["base"]
    ours = validate(crate, profile=profile, level=Level.MAY)
    baseline = {
        (f.rule, f.focus) for f in validate(base, profile=profile, level=Level.MAY).findings
    }
    new = {f.rule for f in ours.findings if (f.rule, f.focus) not in baseline}
    assert new == {expected["shape"]}
    [name] = {f.name for f in ours.findings if f.rule == expected["shape"]}
    theirs_new = _theirs(official_reports[crate]) - _theirs(official_reports[base])
    assert {requirement for _, requirement in theirs_new} <= {name}
    assert any(
        i.requirement == name and SEVERITY[i.severity] == expected["severity"]
        for i in official_reports[crate].issues
    )


def test_the_complete_fl_crate_passes_the_official_validator_with_inheritance(
    validator_python: Path,
) -> None:
    """The valid base is a real RO-Crate 1.2 + Process Run Crate + FL crate at REQUIRED."""
    report = run_official_validator(
        DATA / "crates" / "fl-crate" / "valid" / "complete",
        "fl-crate-0.1",
        python=validator_python,
        severity="REQUIRED",
        extra_profiles=REPO / "shapes",
    )
    assert report.passed, [(i.check, i.message) for i in report.issues]
