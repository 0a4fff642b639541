"""Declared dependencies (PEP 508) against installed versions."""

from __future__ import annotations

import logging
from importlib import metadata

import pytest

from fedcrate.capture.environment import declared_software


def test_declared_spec_and_installed_version() -> None:
    [rdflib] = declared_software(["rdflib>=7"])
    assert rdflib.key == "rdflib"
    assert rdflib.declared_spec == "rdflib>=7"
    assert rdflib.installed_version == metadata.version("rdflib")
    assert rdflib.url == "https://pypi.org/project/rdflib/"


def test_extras_markers_and_friendly_names() -> None:
    software = declared_software(
        [
            "scikit-learn[alldeps]>=1.3",
            'numpy>=1.26; python_version >= "3.10"',
            'rdflib; python_version < "3.0"',  # marker false here: not part of the run
        ]
    )
    assert [s.key for s in software] == ["scikit-learn", "numpy"]
    sklearn = software[0]
    assert sklearn.name == "scikit-learn"
    assert sklearn.url == "https://scikit-learn.org/"
    assert sklearn.declared_spec == "scikit-learn[alldeps]>=1.3"
    assert software[1].declared_spec == 'numpy>=1.26; python_version >= "3.10"'


def test_infrastructure_is_left_out_and_names_are_canonical() -> None:
    software = declared_software(["flwr[simulation]>=1.42", "Ray==2.*", "setuptools", "NumPy"])
    assert [s.key for s in software] == ["numpy"]


def test_duplicates_count_once() -> None:
    assert len(declared_software(["numpy>=1", "numpy<3", "NUMPY"])) == 1


def test_bad_and_missing_requirements_are_logged_not_fatal(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="fedcrate"):
        software = declared_software(["numpy", "not a requirement!!", "no-such-dist-fedcrate"])
    assert [s.key for s in software] == ["numpy"]
    assert "not a requirement!!" in caplog.text
    assert "no-such-dist-fedcrate is not installed" in caplog.text
