"""Pytest-side wrapper around ``offline_validator.py`` (stdlib only).

The official validator (roc-validator) lives in a separate venv because its rich<14 pin
clashes with ours, so we never import it here: we run ``offline_validator.py`` with that
venv's python and parse the single JSON document it prints.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("offline_validator.py")
ENV_VAR = "FEDCRATE_VALIDATOR_PYTHON"
# SHACL-SPARQL parsing makes one run take ~1.5-4 s; the margin is for loaded CI machines.
DEFAULT_TIMEOUT_S = 180.0


@dataclass(frozen=True)
class ValidatorIssue:
    check: str  # fully qualified check id, e.g. "ro-crate-1.2_16.1"
    requirement: str
    severity: str
    message: str
    focus: str | None  # entity id as written in the crate, e.g. "./"


@dataclass
class ValidatorReport:
    profile: str
    passed: bool
    issues: list[ValidatorIssue] = field(default_factory=list)

    @property
    def check_ids(self) -> set[str]:
        return {i.check for i in self.issues}

    def failures_except(self, *check_ids: str) -> list[ValidatorIssue]:
        """Issues left after ignoring known/accepted checks (e.g. the "ro-crate-1.1_5.3" defect)."""
        ignored = set(check_ids)
        return [i for i in self.issues if i.check not in ignored]


def find_validator_python() -> Path | None:
    """Interpreter of the validator venv, or None when it is not set up (tests should skip).

    An explicit env var is returned even if wrong, so a typo fails loudly instead of skipping.
    """
    configured = os.environ.get(ENV_VAR)
    if configured:
        return Path(configured)
    default = REPO_ROOT / ".venv-validator" / "bin" / "python"
    return default if default.exists() else None


def run_official_validator(
    crate_dir: Path,
    profile: str,
    *,
    timeout: float = DEFAULT_TIMEOUT_S,
    python: Path | None = None,
    severity: str = "REQUIRED",
    extra_profiles: Path | None = None,
    inherit: bool = True,
) -> ValidatorReport:
    """Validate ``crate_dir`` offline against ``profile``, down to ``severity``.

    ``extra_profiles`` is a folder of user profiles in the validator's layout (our
    ``shapes/``), passed as ``--extra-profiles-path``. ``inherit=False`` runs only the
    profile's own checks, not those of the profiles it builds on.
    """
    python = python or find_validator_python()
    if python is None:
        raise RuntimeError(
            f"no validator venv: set {ENV_VAR} or create {REPO_ROOT / '.venv-validator'}"
            " (see tests/support/README.md)"
        )
    cmd = [str(python), str(SCRIPT), str(crate_dir), "--profile", profile, "--severity", severity]
    if extra_profiles is not None:
        cmd += ["--extra-profiles-path", str(extra_profiles)]
    if not inherit:
        cmd.append("--no-inheritance")
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except FileNotFoundError as exc:
        raise RuntimeError(f"validator python not found: {python}") from exc
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(
            f"official validator timed out after {timeout}s: {' '.join(cmd)}"
        ) from exc
    if proc.returncode != 0:
        raise RuntimeError(
            f"official validator failed (exit {proc.returncode}): {' '.join(cmd)}\n"
            f"--- stderr ---\n{proc.stderr}"
        )
    try:
        data = json.loads(proc.stdout)
        return ValidatorReport(
            profile=data["profile"],
            passed=bool(data["passed"]),
            issues=[ValidatorIssue(**issue) for issue in data["issues"]],
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise RuntimeError(
            f"unparseable validator output: {exc}\n--- stdout ---\n{proc.stdout}\n"
            f"--- stderr ---\n{proc.stderr}"
        ) from exc


# Validator defect, not ours: process-run-crate-0.5 still inherits the RO-Crate 1.1
# profile, whose check 5.3 demands that the metadata descriptor conform to RO-Crate 1.1 —
# so it flags every RO-Crate 1.2 crate, including the spec's own 1.2 examples.
PRC_INHERITS_1_1_DESCRIPTOR_CHECK = "ro-crate-1.1_5.3"


def assert_crate_valid(crate_dir: Path, python: Path) -> None:
    """The crate claims and meets fedcrate-0.1 (which includes fl-crate-0.1) at MUST in
    `fedcrate validate` and in the official validator, which also checks RO-Crate 1.2 and
    Process Run Crate 0.5 (REQUIRED)."""
    from fedcrate.validate import Level, validate

    report = validate(crate_dir)
    assert report.profile == "fedcrate-0.1" and report.claimed, report.note
    failing = [f.message for f in report.findings if f.level is Level.MUST]
    assert report.conforms and failing == [], failing
    ours = run_official_validator(
        crate_dir, "fedcrate-0.1", python=python, extra_profiles=REPO_ROOT / "shapes"
    )
    assert ours.failures_except(PRC_INHERITS_1_1_DESCRIPTOR_CHECK) == [], ours.issues
    ro_crate = run_official_validator(crate_dir, "ro-crate-1.2", python=python)
    assert ro_crate.issues == [] and ro_crate.passed, ro_crate.issues
    process_run = run_official_validator(crate_dir, "process-run-crate-0.5", python=python)
    assert process_run.failures_except(PRC_INHERITS_1_1_DESCRIPTOR_CHECK) == []
