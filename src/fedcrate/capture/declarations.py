"""Provenance an app declares once, in its pyproject.toml, instead of in code.

Flower cannot see who ran a run, under which licence, on which data, or what it was for.
The tracker takes these as arguments; an app can also declare them in the table it already
has for fedcrate, `[tool.fedcrate]` (next to `metric-uris`), so every run of the app states
them without a line of code:

    [tool.fedcrate]
    description = "FedAvg on CIFAR-10 across 3 hospitals"
    keywords = ["federated learning", "cifar-10"]
    license = "Apache-2.0"
    author = { name = "Ada Lovelace", orcid = "https://orcid.org/0000-0002-1825-0097" }
    datasets = [{ name = "CIFAR-10", url = "https://www.cs.toronto.edu/~kriz/cifar.html" }]

The values go through the same parsers as the tracker's arguments (`record.normalize`),
so an ORCID is checked and a licence becomes its SPDX IRI whichever way it came.

A mistake in the file must never cost a training run, nor the rest of the declarations:
each bad entry is logged once, as an error naming the file, the table and the key, what is
wrong and how to fix it, and is left out; everything else is still used.

The tables `[tool.flwrcrate]` and `[tool.fedacrate]` are read too, with the same keys, as
`MetricResolver.from_pyproject` reads them: they are the earlier names of fedcrate's table.
flwrCrate 0.4.0 itself reads only `metric-uris` from them (author, licence and agent are
tracker arguments there), so no flwrCrate key has another meaning to map. A key in
`[tool.fedcrate]` wins over the same key in the older tables, as a whole value: an
`author` table is never merged with an older table's author into a person nobody declared.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fedcrate.errors import InvalidORCID
from fedcrate.record.normalize import normalize_orcid, parse_dataset, parse_license, parse_person
from fedcrate.record.run import DatasetRef, License, Person, RunRecord

__all__ = [
    "DECLARATION_FIELDS",
    "DECLARATION_TABLES",
    "Declarations",
    "apply_declarations",
    "read_declarations",
]

logger = logging.getLogger("fedcrate")

DECLARATION_TABLES = ("fedcrate", "flwrcrate", "fedacrate")
"""`[tool.<name>]` tables read, the first holding a key winning it (new name first)."""

DECLARATION_FIELDS = frozenset(
    {"description", "keywords", "license", "author", "agent", "datasets"}
)
"""The keys read here; also the names `apply_declarations` accepts in `given`."""

# Keys of the same table that `capture.metrics.MetricResolver` reads: known, not typos.
_METRIC_KEYS = frozenset({"metric-uris", "metric-units", "prefixes", "unmapped-metrics"})
_PERSON_KEYS = ("name", "orcid", "id", "email", "affiliation")
_ORGANIZATION_KEYS = ("name", "id", "ror", "url")
_LICENSE_KEYS = ("id", "url", "name")
_DATASET_KEYS = ("name", "url", "id", "description", "license")
_LICENSE_FIX = (
    'use an SPDX identifier (license = "Apache-2.0") or a licence URL '
    '(license = "https://spdx.org/licenses/Apache-2.0")'
)
_ORCID_FIX = (
    'write orcid = "https://orcid.org/0000-0002-1825-0097" with your own iD as orcid.org '
    "shows it, or remove the key"
)
_DATASET_FIX = (
    'write each dataset as a URL or a table: { name = "CIFAR-10", '
    'url = "https://www.cs.toronto.edu/~kriz/cifar.html", license = "MIT", '
    'description = "…" }'
)


@dataclass(frozen=True, slots=True)
class Declarations:
    """What an app's pyproject.toml declares about its runs, parsed into record types.

    A field is None (or empty) when nothing usable was declared for it.
    """

    description: str | None = None
    keywords: tuple[str, ...] = ()
    license: License | None = None
    author: Person | None = None
    agent: Person | None = None
    datasets: tuple[DatasetRef, ...] = ()
    source: Path | None = None
    """The file the declarations were read from (for messages)."""


class _Reader:
    """Reads one pyproject's declarations, logging each bad entry once."""

    def __init__(self, tools: Mapping[str, Any], path: Path) -> None:
        self.tools = tools
        self.path = path

    def where(self, table: str, key: str) -> str:
        return f"{self.path} [tool.{table}] {key}"

    def error(self, where: str, problem: str, fix: str) -> None:
        logger.error("%s: %s; fix: %s", where, problem, fix)

    def lookup(self, key: str) -> tuple[Any, str] | None:
        """The value of `key` in the first table holding it, and that table's name."""
        for table in DECLARATION_TABLES:
            values = self.tools.get(table)
            if isinstance(values, Mapping) and key in values:
                return values[key], table
        return None

    def unknown_keys(
        self, value: Mapping[str, Any], allowed: Iterable[str], where: str, sep: str = "."
    ) -> None:
        """Warn of keys that would be ignored: a typo (`orchid`) must not pass unnoticed.

        A warning, not an error: the value is not wrong, only unread (and a newer
        fedcrate may read it).
        """
        known = tuple(allowed)
        for key in value:
            if key not in known:
                close = difflib.get_close_matches(str(key), known, n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                logger.warning(
                    "%s%s%s: unknown key, ignored; %sknown keys: %s",
                    where,
                    sep,
                    key,
                    hint,
                    ", ".join(known),
                )

    # -- one reader per key ----------------------------------------------------------

    def description(self, value: Any, where: str) -> str | None:
        if isinstance(value, str) and value.strip():
            return value.strip()
        self.error(
            where,
            f"must be a non-empty string, got {_shown(value)}; no description is recorded",
            'write description = "FedAvg on CIFAR-10 across 3 hospitals"',
        )
        return None

    def keywords(self, value: Any, where: str) -> tuple[str, ...]:
        fix = 'write keywords = ["federated learning", "cifar-10"]'
        if isinstance(value, str):
            items: list[Any] = value.split(",")  # "a, b" is the schema.org text form
        elif isinstance(value, list):
            items = value
        else:
            self.error(
                where,
                f"must be a list of strings, got {_shown(value)}; no keyword is recorded",
                fix,
            )
            return ()
        kept: list[str] = []
        for index, item in enumerate(items):
            if not isinstance(item, str):
                self.error(
                    f"{where}[{index}]",
                    f"a keyword must be a string, got {_shown(item)}; this one is left out",
                    fix,
                )
            elif item.strip() and item.strip() not in kept:
                kept.append(item.strip())
        return tuple(kept)

    def license(self, value: Any, where: str) -> License | None:
        if isinstance(value, Mapping):
            self.unknown_keys(value, _LICENSE_KEYS, where)
            if not all(isinstance(value.get(k, ""), str) for k in _LICENSE_KEYS):
                self.error(
                    where,
                    f"the id, url and name of {_shown(value)} must be text; no licence is recorded",
                    _LICENSE_FIX,
                )
                return None
            if not (value.get("id") or value.get("url")):
                self.error(
                    where,
                    f"{_shown(value)} has no id or url; no licence is recorded",
                    'give the licence\'s URL: license = { id = "https://…", name = "…" }',
                )
                return None
        elif not isinstance(value, str) or not value.strip():
            self.error(
                where,
                f"must be an SPDX identifier or a licence URL, got {_shown(value)}; "
                "no licence is recorded",
                _LICENSE_FIX,
            )
            return None
        try:
            return parse_license(value)
        except ValueError:
            self.error(
                where,
                f"{_shown(value)} is neither an SPDX identifier nor a licence URL; "
                "no licence is recorded",
                _LICENSE_FIX,
            )
            return None

    def person(self, value: Any, where: str, role: str) -> Person | None:
        if isinstance(value, str):
            if not value.strip():
                self.error(where, f"is empty; no {role} is recorded", _person_fix(role))
                return None
            try:
                return parse_person(value, role=role)
            except InvalidORCID as exc:
                self.error(where, f"{_plain(exc)}; no {role} is recorded", _ORCID_FIX)
                return None
        if not isinstance(value, Mapping):
            one = "; fedcrate records one person per role" if isinstance(value, list) else ""
            self.error(
                where,
                f"must be a name, an ORCID or a table, got {_shown(value)}{one}; "
                f"no {role} is recorded",
                _person_fix(role),
            )
            return None
        self.unknown_keys(value, _PERSON_KEYS, where)
        wrong = [
            f"{k} must be text, got {_shown(value[k])}"
            for k in ("name", "orcid", "id", "email")
            if k in value and not isinstance(value[k], str)
        ]
        affiliation = value.get("affiliation")
        if affiliation is not None and not isinstance(affiliation, (str, Mapping)):
            wrong.append(f"affiliation must be text or a table, got {_shown(affiliation)}")
        if wrong:
            self.error(where, f"{'; '.join(wrong)}; no {role} is recorded", _person_fix(role))
            return None
        if isinstance(affiliation, Mapping):
            self.unknown_keys(affiliation, _ORGANIZATION_KEYS, f"{where}.affiliation")
        spec = dict(value)
        orcid_key = "orcid" if spec.get("orcid") else "id"
        has_name = bool(str(spec.get("name") or "").strip())
        if spec.get(orcid_key):
            try:
                normalize_orcid(spec[orcid_key])
            except InvalidORCID as exc:
                # As for the tracker's argument: a mistyped ORCID must not erase who it was.
                spec.pop("orcid", None)
                spec.pop("id", None)
                kept = "the rest of the entry is kept" if has_name else f"no {role} is recorded"
                self.error(
                    f"{where}.{orcid_key}",
                    f"{_plain(exc)}; the ORCID is left out ({kept})",
                    _ORCID_FIX,
                )
                if not has_name:
                    return None
        elif not has_name:
            self.error(
                where, f"has neither a name nor an ORCID; no {role} is recorded", _person_fix(role)
            )
            return None
        return parse_person(spec, role=role)

    def datasets(self, value: Any, where: str) -> tuple[DatasetRef, ...]:
        if not isinstance(value, list):
            self.error(
                where,
                f"must be an array of datasets, got {_shown(value)}; no dataset is recorded",
                'write datasets = [{ name = "CIFAR-10", url = "https://…" }] '
                "or one [[tool.fedcrate.datasets]] table per dataset",
            )
            return ()
        kept: list[DatasetRef] = []
        seen: dict[str, int] = {}
        for index, entry in enumerate(value):
            at = f"{where}[{index}]"
            ref = self.dataset(entry, at)
            if ref is None:
                continue
            identity = ref.url or f"name:{ref.name}"
            if identity in seen:
                logger.warning(
                    "%s: the same dataset as %s[%d] (%s); it is recorded once",
                    at,
                    where,
                    seen[identity],
                    ref.url or ref.name,
                )
                continue
            seen[identity] = index
            kept.append(ref)
        return tuple(kept)

    def dataset(self, entry: Any, where: str) -> DatasetRef | None:
        """One dataset, or None (one error listing every problem) when any field is bad.

        A bad entry is left out whole: a dataset recorded without the licence its author
        declared would misstate its terms.
        """
        if isinstance(entry, str):
            if not entry.strip():
                self.error(where, "is empty; this dataset is left out", _DATASET_FIX)
                return None
            return parse_dataset(entry)
        if not isinstance(entry, Mapping):
            self.error(
                where,
                f"must be a URL or a table, got {_shown(entry)}; this dataset is left out",
                _DATASET_FIX,
            )
            return None
        self.unknown_keys(entry, _DATASET_KEYS, where)
        problems: list[str] = []
        for key in ("name", "url", "id", "description"):
            if key in entry and not (isinstance(entry[key], str) and entry[key].strip()):
                problems.append(f"{key} must be a non-empty string, got {_shown(entry[key])}")
        url = entry.get("url") or entry.get("id")
        if isinstance(url, str) and url.strip() and "://" not in url:
            # The URL becomes the dataset's @id: without a scheme it would resolve inside
            # the crate and name a file that is not there.
            problems.append(f"url {url!r} is not an absolute URL (no scheme such as https://)")
        if not entry.get("name") and not entry.get("url") and not entry.get("id"):
            problems.append("it has neither a name nor a url")
        license_iri: str | None = None
        if "license" in entry:
            declared = entry["license"]
            try:
                parsed = (
                    parse_license(declared)
                    if isinstance(declared, (str, Mapping)) and declared
                    else None
                )
            except ValueError:
                parsed = None
            if parsed is None:
                problems.append(
                    f"license {_shown(declared)} is neither an SPDX identifier nor a licence URL"
                )
            else:
                license_iri = parsed.iri
        if problems:
            self.error(
                where,
                "; ".join(problems) + "; this dataset is left out",
                _DATASET_FIX,
            )
            return None
        spec = {k: entry[k].strip() for k in ("name", "url", "id", "description") if k in entry}
        spec["license"] = license_iri
        return parse_dataset(spec)


def _shown(value: Any) -> str:
    """A value as TOML users wrote it, short enough for one log line."""
    kind = {bool: "boolean", int: "integer", float: "float", list: "array", dict: "table"}
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    name = kind.get(type(value), type(value).__name__)
    return text if isinstance(value, str) else f"{name} {text}"


def _person_fix(role: str) -> str:
    return (
        f'write a name, an ORCID, or a table: {role} = {{ name = "Ada Lovelace", '
        'orcid = "https://orcid.org/0000-0002-1825-0097", affiliation = "University of X" }'
    )


def _plain(exc: Exception) -> str:
    return str(exc).rstrip(".")


def read_declarations(pyproject: Mapping[str, Any], path: Path) -> Declarations:
    """The run facts declared under `[tool.fedcrate]` of the parsed pyproject at `path`.

    Never raises for what the file says: each bad entry is logged once (error level, on
    the `fedcrate` logger), naming `path`, the table and the key, and is left out; the
    other keys are still used. Unknown keys of `[tool.fedcrate]` (a typo such as `licence`)
    are warned about, with the nearest known key. A key of `[tool.fedcrate]` wins over the
    same key in the older `[tool.flwrcrate]` / `[tool.fedacrate]` tables, even when its
    value is bad (the older value is then not used either: the user meant to replace it).
    """
    tools = pyproject.get("tool", {})
    declared = Declarations(source=Path(path))
    if not isinstance(tools, Mapping):
        return declared
    reader = _Reader(tools, Path(path))
    own = tools.get("fedcrate")
    if own is not None and not isinstance(own, Mapping):
        reader.error(
            f"{path} [tool.fedcrate]",
            f"must be a table, got {_shown(own)}; nothing in it is read",
            "write it as a [tool.fedcrate] section with key = value lines",
        )
    elif isinstance(own, Mapping):
        known = sorted(DECLARATION_FIELDS | _METRIC_KEYS)
        reader.unknown_keys(own, known, f"{path} [tool.fedcrate]", sep=" ")

    values: dict[str, Any] = {}
    for key in sorted(DECLARATION_FIELDS):
        found = reader.lookup(key)
        if found is None:
            continue
        value, table = found
        where = reader.where(table, key)
        if key == "description":
            values[key] = reader.description(value, where)
        elif key == "keywords":
            values[key] = reader.keywords(value, where)
        elif key == "license":
            values[key] = reader.license(value, where)
        elif key in ("author", "agent"):
            values[key] = reader.person(value, where, role=key)
        else:
            values[key] = reader.datasets(value, where)
    return Declarations(source=Path(path), **values)


def apply_declarations(
    record: RunRecord, declarations: Declarations, *, given: Iterable[str]
) -> None:
    """Fill `record` from `declarations` wherever the tracker was not given an argument.

    `given` names the tracker arguments the user passed a value for ("author", "agent",
    "license", "datasets", "description", "keywords"); each of those keeps the record's
    value, argument by argument: arguments win over the file. Other names are ignored, so
    the caller may pass every argument name it saw. A declared value replaces whatever
    the record holds for a field not given; an undeclared one leaves it.

    Datasets: when `datasets` was given, the file's datasets are not added at all (the
    argument is the whole list, not an addition to the file's), and an info line says
    so. Otherwise the file's datasets are added after those already in the record (a FLIP
    cohort, say), skipping any the record already holds (same URL, or same name when
    neither has a URL).
    """
    names = set(given)
    if "description" not in names and declarations.description is not None:
        record.description = declarations.description
    if "keywords" not in names and declarations.keywords:
        record.keywords = tuple(declarations.keywords)
    if "license" not in names and declarations.license is not None:
        record.license = declarations.license
    if "author" not in names and declarations.author is not None:
        record.author = declarations.author
    if "agent" not in names and declarations.agent is not None:
        record.agent = declarations.agent
    if not declarations.datasets:
        return
    if "datasets" in names:
        logger.info(
            "%d dataset(s) declared in %s not recorded: the tracker's datasets= argument wins",
            len(declarations.datasets),
            declarations.source or "the app's pyproject.toml",
        )
        return
    held = {ref.url or f"name:{ref.name}" for ref in record.datasets}
    for ref in declarations.datasets:
        identity = ref.url or f"name:{ref.name}"
        if identity not in held:
            held.add(identity)
            record.datasets.append(ref)
