"""ORCID check digits, person and license parsing."""

from __future__ import annotations

import pytest

from fedcrate.errors import InvalidORCID
from fedcrate.record import DatasetRef, License, Organization, Person
from fedcrate.record.normalize import (
    DatasetSpec,
    normalize_orcid,
    orcid_check_digit,
    parse_dataset,
    parse_datasets,
    parse_license,
    parse_person,
)


@pytest.mark.parametrize(
    ("orcid", "expected"),
    [
        ("0000-0002-1825-0097", "https://orcid.org/0000-0002-1825-0097"),
        ("https://orcid.org/0000-0001-5109-3700", "https://orcid.org/0000-0001-5109-3700"),
        ("http://orcid.org/0000-0002-1694-233X", "https://orcid.org/0000-0002-1694-233X"),
        ("orcid.org/0000-0002-1694-233x/", "https://orcid.org/0000-0002-1694-233X"),
    ],
)
def test_valid_orcids_normalise_to_https_iri(orcid: str, expected: str) -> None:
    assert normalize_orcid(orcid) == expected


def test_check_digit_follows_iso_7064_mod_11_2() -> None:
    assert orcid_check_digit("000000021825009") == "7"
    assert orcid_check_digit("000000021694233") == "X"


def test_wrong_check_digit_is_a_clear_error() -> None:
    with pytest.raises(InvalidORCID, match=r"check digit '8'.*give '7'.*mistyped"):
        normalize_orcid("0000-0002-1825-0098")


@pytest.mark.parametrize("bad", ["0000-0002-1825", "https://orcid.org/abcd-0002-1825-0097", ""])
def test_malformed_orcid_says_the_expected_shape(bad: str) -> None:
    with pytest.raises(InvalidORCID, match="0000-0000-0000-000X"):
        normalize_orcid(bad)


def test_person_from_dict_keeps_affiliation_and_email() -> None:
    person = parse_person(
        {"name": "Ada", "orcid": "0000-0002-1825-0097", "affiliation": "Uni", "email": "a@b.c"},
        role="author",
    )
    assert person == Person(
        name="Ada",
        orcid="https://orcid.org/0000-0002-1825-0097",
        email="a@b.c",
        affiliation=Organization(name="Uni"),
    )


def test_person_error_names_the_role() -> None:
    with pytest.raises(InvalidORCID, match=r"^agent: "):
        parse_person({"name": "Bo", "orcid": "0000-0002-1825-0091"}, role="agent")


def test_person_from_plain_name_or_bare_orcid() -> None:
    assert parse_person("Ada Lovelace", role="author") == Person(name="Ada Lovelace")
    assert parse_person("0000-0002-1825-0097", role="author") == Person(
        name=None, orcid="https://orcid.org/0000-0002-1825-0097"
    )
    assert parse_person(None, role="author") is None


def test_organization_with_ror_id() -> None:
    person = parse_person(
        {"name": "Ada", "affiliation": {"name": "U", "id": "https://ror.org/03f0f6041"}},
        role="author",
    )
    assert person is not None and person.affiliation == Organization(
        name="U", iri="https://ror.org/03f0f6041"
    )


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("MIT", License("https://spdx.org/licenses/MIT", "MIT")),
        ("https://spdx.org/licenses/MIT.html", License("https://spdx.org/licenses/MIT", "MIT")),
        ("Apache-2.0", License("https://spdx.org/licenses/Apache-2.0", "Apache-2.0")),
        (
            {"id": "https://example.org/l", "name": "Mine"},
            License("https://example.org/l", "Mine"),
        ),
    ],
)
def test_licenses(spec: object, expected: License) -> None:
    assert parse_license(spec) == expected  # type: ignore[arg-type]


def test_license_that_is_neither_url_nor_spdx_id() -> None:
    with pytest.raises(ValueError, match="neither a URL nor an SPDX identifier"):
        parse_license("my own license")


@pytest.mark.parametrize(
    ("spec", "name", "url"),
    [
        ("MNIST", "MNIST", None),
        ("https://data.example.org/x.csv", "https://data.example.org/x.csv",
         "https://data.example.org/x.csv"),
        ("s3://key:secret@bucket/x", "s3://bucket/x", "s3://bucket/x"),
        ({"name": "cohort", "url": "https://u:p@host/c"}, "cohort", "https://host/c"),
        ({"id": "https://host/d"}, "https://host/d", "https://host/d"),
        (DatasetRef("n", url="https://:token@host/t"), "n", "https://host/t"),
    ],
)  # fmt: skip
def test_datasets_lose_url_credentials_whatever_their_form(
    spec: DatasetSpec, name: str, url: str | None
) -> None:
    ref = parse_dataset(spec)
    assert (ref.name, ref.url) == (name, url)


def test_dataset_dict_keeps_description_and_license() -> None:
    [ref] = parse_datasets([{"name": "d", "description": "why", "license": "CC-BY-4.0"}])
    assert (ref.description, ref.license) == ("why", "CC-BY-4.0")


def test_a_dataset_of_another_type_is_a_clear_error() -> None:
    with pytest.raises(TypeError, match="a dataset must be a URL or name"):
        parse_dataset(42)  # type: ignore[arg-type]
