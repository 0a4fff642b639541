"""Checking crates against the FL profile's SHACL shapes (pyshacl), and reporting findings.

`validate(crate)` → `Report`; `reports` renders outcomes for people (text), scripts
(JSON) and CI systems (JUnit XML).
"""

from __future__ import annotations

from fedcrate.validate.shacl import PROFILE_TOKEN, Finding, Level, Report, shapes_graph, validate

__all__ = ["PROFILE_TOKEN", "Finding", "Level", "Report", "shapes_graph", "validate"]
