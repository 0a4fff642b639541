"""What users pass in (people, licences, datasets) → records: the one normalisation point.

Every adapter (the Flower tracker, FEDn's packages and sessions, FLIP) hands the raw values
it was given to these functions, so a fix here protects every kind of crate at once:
- ORCID iDs become the Person's `@id`; their ISO 7064 MOD 11-2 check digit is verified so
  a typo is caught when the run starts, not when someone tries to resolve the crate;
- licences become their canonical SPDX IRI;
- dataset URLs lose any `user:password@` login before they can become a public `@id`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from fedcrate.errors import InvalidORCID
from fedcrate.record.redaction import strip_url_credentials
from fedcrate.record.run import DatasetRef, License, Organization, Person

__all__ = [
    "DatasetSpec",
    "normalize_orcid",
    "orcid_check_digit",
    "parse_dataset",
    "parse_datasets",
    "parse_license",
    "parse_person",
]

logger = logging.getLogger("fedcrate")

DatasetSpec = DatasetRef | Mapping[str, Any] | str
"""A dataset as users give it: a URL or name, `{name, url, description, license}`, or a ref."""

_ORCID_PREFIXES = ("https://orcid.org/", "http://orcid.org/", "orcid.org/")
_ORCID_SHAPE = re.compile(r"^\d{4}-\d{4}-\d{4}-\d{3}[\dX]$")


def orcid_check_digit(base_digits: str) -> str:
    """ISO 7064 MOD 11-2 check character for the first 15 digits of an ORCID iD."""
    total = 0
    for char in base_digits:
        total = (total + int(char)) * 2
    result = (12 - total % 11) % 11
    return "X" if result == 10 else str(result)


def normalize_orcid(value: str) -> str:
    """Return `https://orcid.org/XXXX-XXXX-XXXX-XXXX` or raise `InvalidORCID`.

    Accepts the bare iD or any orcid.org URL form; the check digit must match.

    Raises:
        InvalidORCID: the iD is malformed or its check digit does not match.
    """
    raw = value.strip()
    bare = raw
    for prefix in _ORCID_PREFIXES:
        if bare.lower().startswith(prefix):
            bare = bare[len(prefix) :]
            break
    bare = bare.rstrip("/").upper()
    if not _ORCID_SHAPE.match(bare):
        raise InvalidORCID(
            f"ORCID {value!r} is not of the form 0000-0000-0000-000X: "
            "pass it as 'https://orcid.org/0000-0002-1825-0097' or '0000-0002-1825-0097'."
        )
    digits = bare.replace("-", "")
    expected = orcid_check_digit(digits[:15])
    if digits[15] != expected:
        raise InvalidORCID(
            f"ORCID {value!r} has check digit {digits[15]!r} but its first 15 digits "
            f"give {expected!r}: the iD is mistyped; copy it from your orcid.org profile."
        )
    return f"https://orcid.org/{bare}"


def _organization(value: Any) -> Organization | None:
    if value is None or value == "":
        return None
    if isinstance(value, Mapping):
        name = str(value.get("name") or "").strip()
        iri = value.get("id") or value.get("ror") or value.get("url")
        if not name and not iri:
            return None
        return Organization(name=name or str(iri), iri=str(iri) if iri else None)
    return Organization(name=str(value).strip())


def parse_person(spec: str | Mapping[str, Any] | Person | None, *, role: str) -> Person | None:
    """Turn `"Name"` or `{"name", "orcid", "affiliation", "email"}` into a `Person`.

    `role` ("author", "agent") only shapes error messages.

    Raises:
        InvalidORCID: an ORCID in `spec` is malformed or mistyped.
        TypeError: `spec` is none of the accepted forms.
    """
    if spec is None or isinstance(spec, Person):
        return spec
    if isinstance(spec, str):
        text = spec.strip()
        if not text:
            return None
        if text.lower().startswith(_ORCID_PREFIXES) or _ORCID_SHAPE.match(text.upper()):
            return Person(name=None, orcid=normalize_orcid(text))
        return Person(name=text)
    if isinstance(spec, Mapping):
        orcid_value = spec.get("orcid") or spec.get("id")
        try:
            orcid = normalize_orcid(str(orcid_value)) if orcid_value else None
        except InvalidORCID as exc:
            raise InvalidORCID(f"{role}: {exc}") from None
        name = spec.get("name")
        email = spec.get("email")
        return Person(
            name=str(name).strip() if name else None,
            orcid=orcid,
            email=str(email).strip() if email else None,
            affiliation=_organization(spec.get("affiliation")),
        )
    raise TypeError(
        f"{role} must be a name, an ORCID, or a dict with name/orcid/affiliation; "
        f"got {type(spec).__name__}"
    )


_SPDX_BASE = "https://spdx.org/licenses/"
_SPDX_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+-]*$")


def parse_license(spec: str | Mapping[str, Any] | License | None) -> License | None:
    """An SPDX id (`MIT`), a license URL, or `{"id"/"url", "name"}` → `License`.

    SPDX ids become their canonical `https://spdx.org/licenses/<id>` IRI, so crates that
    use the same license share one contextual entity.

    Raises:
        ValueError: `spec` is neither a URL, an SPDX identifier nor a dict with an id.
    """
    if spec is None or isinstance(spec, License):
        return spec
    if isinstance(spec, Mapping):
        iri = str(spec.get("id") or spec.get("url") or "").strip()
        name = str(spec.get("name") or "").strip()
        if not iri:
            raise ValueError("license dict needs an 'id' or 'url' (e.g. an SPDX URL)")
        return License(iri=iri, name=name or _license_name(iri))
    text = str(spec).strip()
    if not text:
        return None
    if "://" in text:
        iri = text.removesuffix(".html") if text.startswith(_SPDX_BASE) else text
        return License(iri=iri, name=_license_name(iri))
    if _SPDX_ID.match(text):
        return License(iri=_SPDX_BASE + text, name=text)
    raise ValueError(
        f"license {text!r} is neither a URL nor an SPDX identifier: "
        "pass e.g. 'MIT' or 'https://spdx.org/licenses/MIT'."
    )


def _license_name(iri: str) -> str:
    if iri.startswith(_SPDX_BASE):
        return iri[len(_SPDX_BASE) :]
    return iri


def parse_dataset(spec: DatasetSpec) -> DatasetRef:
    """A URL or name, a `{name, url|id, description, license}` dict, or a `DatasetRef` →
    a `DatasetRef` whose name and URL carry no credentials.

    A URL's login must never become the dataset's public `@id`: it is removed (and a
    warning logged) whichever adapter the dataset came through.

    Raises:
        TypeError: `spec` is none of the accepted forms.
    """
    if isinstance(spec, DatasetRef):
        ref = spec
    elif isinstance(spec, str):
        text = spec.strip()
        ref = DatasetRef(name=text, url=text if "://" in text else None)
    elif isinstance(spec, Mapping):
        url = spec.get("url") or spec.get("id")
        ref = DatasetRef(
            name=str(spec.get("name") or url or "dataset"),
            url=str(url) if url else None,
            description=spec.get("description"),
            license=spec.get("license"),
        )
    else:
        raise TypeError(
            f"a dataset must be a URL or name, or a dict with name/url/description/license; "
            f"got {type(spec).__name__}"
        )
    clean_name = strip_url_credentials(ref.name)
    clean_url = strip_url_credentials(ref.url) if ref.url else None
    if clean_url != ref.url or clean_name != ref.name:
        logger.warning("credentials removed from the URL of dataset %r", clean_name)
        ref = replace(ref, name=clean_name, url=clean_url)
    return ref


def parse_datasets(specs: Iterable[DatasetSpec] | None) -> list[DatasetRef]:
    """`parse_dataset` of each spec, in order."""
    return [parse_dataset(spec) for spec in specs or ()]
