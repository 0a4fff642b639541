"""People and licenses as the user passes them to the tracker (strings or dicts).

ORCID iDs become the Person's `@id`; their ISO 7064 MOD 11-2 check digit is verified so a
typo is caught when the run starts, not when someone tries to resolve the crate.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .errors import InvalidORCID
from .record import License, Organization, Person

__all__ = ["normalize_orcid", "orcid_check_digit", "parse_license", "parse_person"]

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
