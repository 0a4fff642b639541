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
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

__all__ = ["QueryResult", "Value", "python_value"]

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
