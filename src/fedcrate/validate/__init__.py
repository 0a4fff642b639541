"""Checking crates against the SHACL shapes of the profiles fedcrate ships, and reporting.

`validate(crate)` → `Report`; `validate_many(crates)` validates many, in parallel processes;
`reports` renders outcomes for people (text), scripts (JSON) and CI systems (JUnit XML).
"""

from __future__ import annotations

from fedcrate.validate.batch import validate_many
from fedcrate.validate.profiles import DEFAULT_PROFILE, Profile, UnknownProfile, shipped_profiles
from fedcrate.validate.shacl import Finding, Level, Outcome, Report, shapes_graph, validate

__all__ = [
    "DEFAULT_PROFILE",
    "Finding",
    "Level",
    "Outcome",
    "Profile",
    "Report",
    "UnknownProfile",
    "shapes_graph",
    "shipped_profiles",
    "validate",
    "validate_many",
]
