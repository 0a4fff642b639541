"""FLIP run-config keys: real values become facts, the documented placeholders do not."""

from __future__ import annotations

import pytest

from fedcrate.capture.flip import flip_facts

MODEL = "6f1c2d4e-9a8b-4c3d-8e7f-0a1b2c3d4e5f"


def test_not_a_flip_app() -> None:
    assert flip_facts({"num-server-rounds": 3}) is None


def test_placeholders_from_the_flip_docs_are_not_data() -> None:
    facts = flip_facts(
        {"flip-model-id": "uuid", "flip-project-id": "uuid", "flip-cohort-query": "*"}
    )
    assert facts is not None
    assert facts.model_identifier is None
    assert facts.cohort is None


def test_real_values_become_model_id_and_cohort() -> None:
    facts = flip_facts(
        {
            "flip-model-id": MODEL.upper(),
            "flip-project-id": "proj-42",
            "flip-cohort-query": "SELECT accession_id FROM studies",
        }
    )
    assert facts is not None
    assert facts.model_identifier == f"urn:uuid:{MODEL}"
    assert facts.cohort is not None
    assert facts.cohort.query == "SELECT accession_id FROM studies"
    assert facts.cohort.project_id == "proj-42"
    assert "proj-42" in facts.cohort.name


@pytest.mark.parametrize("query", ["*", "", "  "])
def test_project_without_a_real_query_keeps_the_project_only(query: str) -> None:
    facts = flip_facts({"flip-project-id": "proj-42", "flip-cohort-query": query})
    assert facts is not None and facts.cohort is not None
    assert facts.cohort.query is None and facts.cohort.project_id == "proj-42"


def test_a_model_id_that_is_not_a_uuid_stays_text() -> None:
    facts = flip_facts({"flip-model-id": "model-7"})
    assert facts is not None and facts.model_identifier == "model-7"
