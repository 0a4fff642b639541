"""Crates other tools wrote, against fl-crate-0.1: every finding asserted, rule by rule.

The profile's own example and a crate flwrCrate 0.4.0 wrote for a real Flower run
(tests/data/crates/foreign/README.md says where they come from). Neither is fedcrate's, so
neither is checked against fedcrate's own rules, and neither is failed for checksums.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fedcrate.validate import Level, validate
from tests.support.paths import DATA

FOREIGN = DATA / "crates" / "foreign"
CIFAR = "https://huggingface.co/datasets/uoft-cs/cifar10/"
PT_MODEL = "quickstart-pytorch/final_model.pt"

PROFILE_EXAMPLE = {
    # The one MUST the profile's own example breaks: CIFAR-10 is described, not in `object`.
    ("must", "TrainingDatasetInObject", CIFAR),
    ("should", "ModelLicense", PT_MODEL),
    ("should", "ObjectTrainingDataset", "./"),
    ("should", "TrainingDatasetLicense", CIFAR),
    ("may", "EnvironmentIncluded", "./"),
    ("may", "ModelSupplementaryFiles", PT_MODEL),
    ("may", "PerformanceMetricsIncluded", "./"),
    ("may", "ResourceUsageIncluded", "./"),
    ("may", "TrainingDatasetDataManagementPlan", CIFAR),
    ("may", "TrainingDatasetDataModel", CIFAR),
}

FLWRCRATE = {
    # flwrCrate hangs the final metrics on the model as additionalProperty, not in `result`,
    # and gives only accuracy a propertyID.
    *(
        ("must", "MetricLinkedFromResult", f"#metric-{m}")
        for m in ("accuracy", "loss", "train-loss", "eval-loss", "eval-acc")
    ),
    *(
        ("must", "MetricPropertyID", f"#metric-{m}")
        for m in ("loss", "train-loss", "eval-loss", "eval-acc")
    ),
    ("should", "InstrumentVersion", "#fl-strategy"),
    ("should", "ModelFormat", "final_model.npz"),
    ("should", "ModelLicense", "final_model.npz"),
    ("should", "ModelLicense", "metrics_log.json"),
    ("should", "ObjectTrainingDataset", "./"),
    ("may", "EnvironmentIncluded", "./"),
    ("may", "ModelSupplementaryFiles", "final_model.npz"),
    ("may", "ModelSupplementaryFiles", "metrics_log.json"),
    ("may", "PerformanceMetricsIncluded", "./"),
    ("may", "ResourceUsageIncluded", "./"),
}


def _findings(crate: Path, **options: object) -> set[tuple[str, str, str]]:
    report = validate(crate, **options)  # type: ignore[arg-type]
    return {(f.level.value, f.rule, f.focus) for f in report.findings}


@pytest.mark.parametrize(
    ("crate", "expected"),
    [("profile-example", PROFILE_EXAMPLE), ("flwrcrate-quickstart", FLWRCRATE)],
)
def test_foreign_crate_findings_rule_by_rule(
    crate: str, expected: set[tuple[str, str, str]]
) -> None:
    assert _findings(FOREIGN / crate, profile="fl-crate-0.1") == expected


def test_the_profile_example_breaks_exactly_one_must_and_no_checksum_rule() -> None:
    report = validate(FOREIGN / "profile-example")
    assert report.profile == "fl-crate-0.1"
    musts = [f for f in report.findings if f.level is Level.MUST]
    assert [(f.rule, f.focus) for f in musts] == [("TrainingDatasetInObject", CIFAR)]
    assert not any("Sha256" in f.rule or "ContentSize" in f.rule for f in report.findings)
    assert not report.conforms  # a MUST fails by default


def test_a_crate_that_claims_no_fl_profile_is_checked_against_it_with_a_note() -> None:
    """The example claims Process Run Crate only: fl-crate-0.1 applies, and the report says
    the crate does not claim it."""
    report = validate(FOREIGN / "profile-example")
    assert report.profile == "fl-crate-0.1"
    assert not report.claimed
    assert report.note and "does not claim" in report.note


def test_a_crate_that_claims_the_fl_profile_gets_it_and_not_fedcrates_rules() -> None:
    report = validate(FOREIGN / "flwrcrate-quickstart")
    assert report.profile == "fl-crate-0.1" and report.claimed
    assert not any(
        f.shape.startswith("https://w3id.org/fedcrate/shapes/fedcrate#") for f in report.findings
    )


def test_should_and_may_findings_do_not_fail_a_crate_by_default(tmp_path: Path) -> None:
    """Only MUST fails unless asked: the flwrCrate crate with its metrics linked from
    `result` and given propertyIDs keeps SHOULD/MAY findings yet conforms."""
    import json
    import shutil

    crate = tmp_path / "fixed"
    shutil.copytree(FOREIGN / "flwrcrate-quickstart", crate)
    document = json.loads((crate / "ro-crate-metadata.json").read_text())
    nodes = {n["@id"]: n for n in document["@graph"]}
    run = nodes["#fl-run"]
    results = run["result"] if isinstance(run["result"], list) else [run["result"]]
    for node in nodes.values():
        if node.get("@id", "").startswith("#metric-"):
            node.setdefault("propertyID", f"https://example.org/measures/{node['@id'][8:]}")
            results.append({"@id": node["@id"]})
    run["result"] = results
    (crate / "ro-crate-metadata.json").write_text(json.dumps(document))
    default = validate(crate)
    assert default.conforms and default.findings
    assert {f.level for f in default.findings} == {Level.SHOULD, Level.MAY}
    assert not validate(crate, level=Level.SHOULD).conforms
