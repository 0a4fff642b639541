"""Many crates at once: worker processes give the same outcomes, in order, as one process."""

from __future__ import annotations

from pathlib import Path

import pytest

from fedcrate.validate import Level, UnknownProfile, batch, validate_many
from tests.unit.validate.support import written_crates


def _summary(outcomes: list) -> list:
    return [(o.source, o.error is None, o.report.to_dict() if o.report else None) for o in outcomes]


@pytest.fixture
def crates(tmp_path: Path) -> list[Path]:
    found = written_crates(tmp_path)
    (tmp_path / "not-a-crate").mkdir()
    return [*found, tmp_path / "not-a-crate", found[0]]


def test_workers_give_the_serial_outcomes_in_order(crates: list[Path]) -> None:
    serial = validate_many(crates, level=Level.SHOULD, jobs=1)
    parallel = validate_many(crates, level=Level.SHOULD, jobs=3)
    assert _summary(parallel) == _summary(serial)
    assert [o.source for o in parallel] == [str(c) for c in crates]
    assert parallel[-2].report is None and "ro-crate-metadata.json" in str(parallel[-2].error)


def test_a_failing_worker_leaves_its_crates_to_the_others(
    crates: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = _summary(validate_many(crates, jobs=1))

    def broken(self: batch._Worker, request: dict) -> dict:  # an injected fault
        raise batch.WorkerFailed("injected")

    monkeypatch.setattr(batch._Worker, "ask", broken)
    assert _summary(validate_many(crates, jobs=2)) == expected


def test_an_unknown_profile_fails_before_any_work(crates: list[Path]) -> None:
    with pytest.raises(UnknownProfile):
        validate_many(crates, profile="nope", jobs=2)


def test_small_batches_stay_in_this_process(crates: list[Path]) -> None:
    assert batch._auto_jobs([str(c) for c in crates]) == 1
