"""Our SHACL shapes run inside the official validator and agree with `fedcrate validate`.

crs4's rocrate-validator loads `shapes/` as a user profile (`-p fl-crate-0.1`); each of
our shapes is one requirement whose name is the shape's `sh:name`, so the two tools can be
compared shape by shape on the whole corpus.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from fedcrate.validate import Level, validate
from tests.support.validator import ValidatorReport, run_official_validator

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "tests" / "data" / "crates"
CRATES = sorted(p for p in (CORPUS / "valid").iterdir() if p.is_dir()) + sorted(
    p for p in (CORPUS / "invalid").iterdir() if p.is_dir()
)
OUR_CHECKS = "fl-crate-0.1_"


@pytest.fixture(scope="module")
def official_reports(validator_python: Path) -> dict[Path, ValidatorReport]:
    """Every corpus crate through the official validator, two at a time (~2 s each).

    Only our profile's own checks run (no inheritance): the comparison is about them, and
    RO-Crate 1.2 and Process Run Crate are checked on real crates elsewhere.
    """

    def check(crate: Path) -> ValidatorReport:
        return run_official_validator(
            crate,
            "fl-crate-0.1",
            python=validator_python,
            severity="OPTIONAL",
            extra_profiles=REPO / "shapes",
            inherit=False,
        )

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(CRATES, pool.map(check, CRATES), strict=True))


@pytest.mark.parametrize("crate", CRATES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_official_validator_agrees_with_fedcrate_validate(
    crate: Path, official_reports: dict[Path, ValidatorReport]
) -> None:
    ours = {f.name for f in validate(crate, level=Level.MAY).findings}
    theirs = {
        i.requirement for i in official_reports[crate].issues if i.check.startswith(OUR_CHECKS)
    }
    assert ours == theirs
    if crate.parent.name == "invalid":
        assert len(ours) == 1, "each broken crate breaks exactly one rule"
