"""`fedcrate recover`: crates from the journals of runs that never closed their tracker."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from fedcrate.crate.journal import find_journals, read_journal
from fedcrate.crate.writer import WrittenCrate, write_crate
from fedcrate.errors import FedcrateError

__all__ = ["RecoveryReport", "recover_runs"]

logger = logging.getLogger("fedcrate")


@dataclass
class RecoveryReport:
    """Crates recovered from a folder's journals, and journals that could not be used."""

    recovered: list[tuple[Path, WrittenCrate]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def recover_runs(folder: Path, *, preview: bool = True) -> RecoveryReport:
    """Write a crate (marked interrupted) for every journal in `folder`, then drop the journal.

    A journal that cannot be read or written out stays in place and is reported.

    Raises:
        NotACrate: `folder` is not a folder.
    """
    report = RecoveryReport()
    for journal in find_journals(Path(folder)):
        try:
            run = read_journal(journal)
            written = write_crate(run.record, journal.parent, preview=preview)
        except FedcrateError as exc:
            report.problems.append(str(exc))
            continue
        journal.unlink(missing_ok=True)
        report.recovered.append((journal, written))
    return report
