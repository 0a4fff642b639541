"""SPARQL results as plain rows, whichever engine produced them.

The embedded store, rdflib and a remote endpoint (SPARQL JSON results) all return
(lexical form, datatype) pairs; converting them here, once, is what lets tests compare
engines row for row and lets pandas read the output without RDF knowledge.
"""

from __future__ import annotations

import csv
import importlib
import io
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "WELL_KNOWN_PREFIXES",
    "QueryResult",
    "Value",
    "final_metrics",
    "python_value",
    "query_prefixes",
    "short_value",
]

Value = str | int | float | bool | None

_XSD = "http://www.w3.org/2001/XMLSchema#"
_INTEGERS = frozenset(
    _XSD + name
    for name in (
        "integer", "int", "long", "short", "byte", "nonNegativeInteger", "positiveInteger",
        "nonPositiveInteger", "negativeInteger", "unsignedInt", "unsignedLong",
        "unsignedShort", "unsignedByte",
    )
)  # fmt: skip
_FLOATS = frozenset(_XSD + name for name in ("double", "float", "decimal"))
_BOOLEAN = _XSD + "boolean"


def python_value(lexical: str, datatype: str | None) -> Value:
    """A literal's Python value: numbers and booleans typed, everything else its text.

    A lexical form that does not fit its datatype (`"abc"^^xsd:integer`) stays text
    rather than failing the whole result.
    """
    try:
        if datatype in _INTEGERS:
            return int(lexical)
        if datatype in _FLOATS:
            return float(lexical)
    except ValueError:
        return lexical
    if datatype == _BOOLEAN:
        return lexical in ("true", "1")
    return lexical


@dataclass
class QueryResult:
    """Columns and rows of a SELECT (ASK gives one `boolean` column, CONSTRUCT s/p/o)."""

    columns: list[str]
    rows: list[tuple[Value, ...]] = field(default_factory=list)

    def __iter__(self) -> Iterator[tuple[Value, ...]]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def records(self) -> list[dict[str, Value]]:
        """One dict per row (unbound variables are None)."""
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]

    def column(self, name: str) -> list[Value]:
        """All values of one column, in row order."""
        position = self.columns.index(name)
        return [row[position] for row in self.rows]

    def to_dataframe(self) -> Any:
        """A pandas DataFrame (pandas is optional: `pip install pandas`)."""
        try:
            pandas = importlib.import_module("pandas")  # optional; no stubs needed
        except ImportError as exc:
            raise ImportError(
                "QueryResult.to_dataframe needs pandas; install it with: pip install pandas"
            ) from exc
        return pandas.DataFrame.from_records(self.rows, columns=self.columns)

    def to_csv(self, delimiter: str = ",") -> str:
        """CSV (or TSV with `delimiter="\\t"`): a header, plain values, empty for unbound."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
        writer.writerow(self.columns)
        writer.writerows(["" if v is None else _text(v) for v in row] for row in self.rows)
        return buffer.getvalue()

    def to_json(self) -> str:
        """A JSON array of row objects (`pandas.read_json(text)` reads it as is)."""
        return json.dumps(self.records(), ensure_ascii=False, indent=1)


def _text(value: Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# -- the table view: short values for people (CSV, TSV and JSON stay complete) ----------

WELL_KNOWN_PREFIXES: dict[str, str] = {
    "schema": "http://schema.org/",
    "prov": "http://www.w3.org/ns/prov#",
    "fl": "https://w3id.org/fedcrate/fl#",
    "xsd": _XSD,
}
_PREFIX = re.compile(r"PREFIX\s+([A-Za-z][\w.-]*)?:\s*<([^>\s]*)>", re.IGNORECASE)
# A crate's own entity: `arcp://uuid,<run uuid>/` then a path or `#fragment`.
_ARCP = re.compile(r"^(arcp://uuid,([0-9A-Fa-f-]+)/)(.*)$")
_LOCAL = re.compile(r"^[\w.-]*$")


def query_prefixes(text: str) -> dict[str, str]:
    """The query's `PREFIX p: <ns>` declarations over the well-known ones (schema, prov…).

    The query's own names win (they come first, and `short_value` keeps the first of
    equally long namespaces): a reader sees the IRIs as the query wrote them.
    """
    prefixes = {name: namespace for name, namespace in _PREFIX.findall(text) if namespace}
    for name, namespace in WELL_KNOWN_PREFIXES.items():
        prefixes.setdefault(name, namespace)
    return prefixes


def short_value(
    value: str, prefixes: Mapping[str, str], crate_names: Mapping[str, str] | None = None
) -> str:
    """`value` as a table shows it: an IRI as `prefix:local`, a crate's entity by its crate.

    A run IRI `arcp://uuid,<uuid>/#fl-run` becomes the crate's folder name when
    `crate_names` (base IRI → name) knows it, and `run:<first 8 hex>` otherwise; another
    entity of the crate becomes `<name>/<rest>`. Text that is not such an IRI is returned
    as it is, so nothing but IRIs is ever changed.
    """
    match = _ARCP.match(value)
    if match:
        base, uuid, rest = match.groups()
        name = (crate_names or {}).get(base)
        if name is None:
            name = f"run:{uuid.replace('-', '')[:8]}"
        return name if rest in ("", "#fl-run") else f"{name}/{rest}"
    best, short = "", value
    for prefix, namespace in prefixes.items():
        if value.startswith(namespace) and len(namespace) > len(best):
            local = value[len(namespace) :]
            if _LOCAL.match(local):
                best, short = namespace, f"{prefix}:{local}"
    return short


def final_metrics(text: Value) -> list[dict[str, Value]]:
    """The `runs` query's `finalMetrics` ("side metric=value; …") as records.

    `[{"side": "server-evaluate", "metric": "loss", "value": 0.2}, …]`, a value a number
    when it reads as one; a run without final metrics gives `[]`. Programs reading JSON
    should not have to split a display string.
    """
    if not isinstance(text, str) or not text.strip():
        return []
    records: list[dict[str, Value]] = []
    for part in text.split("; "):
        side, _, rest = part.partition(" ")
        metric, sep, raw = rest.rpartition("=")
        if not sep:
            metric, raw = rest, ""
        records.append({"side": side, "metric": metric, "value": _number(raw)})
    return records


def _number(text: str) -> Value:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text
