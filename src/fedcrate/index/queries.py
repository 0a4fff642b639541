"""The shipped SPARQL queries (`queries/*.rq`) and how a QUERY argument is resolved.

A shipped query is a data file whose first comment line is its description and whose
`# param ?name = default  explanation` lines declare parameters. Parameters are bound
by appending a trailing `VALUES` clause, which every SPARQL 1.1 engine (embedded,
rdflib, any remote store) understands, so one query text serves all three; a parameter
is therefore always a projected or GROUP BY variable of the query.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from fedcrate.assets import query_texts
from fedcrate.errors import QueryError

__all__ = [
    "NamedQuery",
    "bind_params",
    "load_named_query",
    "named_queries",
    "point_at_error",
    "resolve_query",
]

_PARAM = re.compile(r"^#\s*param\s+\?(\w+)\s*=\s*(\S+)\s*(.*)$")
_NAME = re.compile(r"^[A-Za-z][\w-]*$")
# Oxigraph's parser says `error at LINE:COLUMN: …` (both from 1).
_POSITION = re.compile(r"\bat (\d+):(\d+)\b")
_SHOWN = 60  # characters of the offending line shown at most


@dataclass(frozen=True)
class NamedQuery:
    """A query text with its description and parameter defaults (SPARQL term text)."""

    name: str
    text: str
    description: str = ""
    params: dict[str, str] = field(default_factory=dict)
    param_help: dict[str, str] = field(default_factory=dict)

    def bound(self, overrides: dict[str, str] | None = None) -> str:
        """The text with every declared parameter bound (defaults unless overridden)."""
        values = dict(self.params)
        for key, value in (overrides or {}).items():
            if self.params and key not in self.params:
                raise QueryError(
                    f"query {self.name!r} has no parameter {key!r}; "
                    f"its parameters: {', '.join(sorted(self.params)) or 'none'}"
                )
            values[key] = sparql_term(value)
        return bind_params(self.text, values)


def _parse(name: str, text: str) -> NamedQuery:
    description = ""
    params: dict[str, str] = {}
    helps: dict[str, str] = {}
    for line in text.splitlines():
        if not line.startswith("#"):
            if line.strip():
                break
            continue
        match = _PARAM.match(line)
        if match:
            params[match[1]] = match[2]
            helps[match[1]] = match[3].strip()
        elif not description:
            description = line.lstrip("#").strip()
    return NamedQuery(name, text, description, params, helps)


@cache
def named_queries() -> dict[str, NamedQuery]:
    """Every shipped query by name, read from the package's `queries/` folder."""
    return {name: _parse(name, text) for name, text in query_texts().items()}


def load_named_query(name: str) -> NamedQuery:
    """A shipped query by name.

    Raises:
        QueryError: `name` is not shipped (the message lists the shipped ones).
    """
    try:
        return named_queries()[name]
    except KeyError:
        raise QueryError(
            f"no shipped query named {name!r}; shipped: {', '.join(named_queries())} "
            "(or pass a SPARQL string or a .rq file)"
        ) from None


def resolve_query(query: str) -> NamedQuery:
    """A QUERY argument as a query: a shipped name, a `.rq` file, or SPARQL text."""
    if _NAME.match(query) and query in named_queries():
        return named_queries()[query]
    path = Path(query)
    if query.endswith(".rq") or (len(query) < 4096 and "\n" not in query and path.is_file()):
        try:
            return _parse(path.stem, path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise QueryError(f"{query}: cannot read the query file ({exc.strerror})") from None
    if _NAME.match(query):
        load_named_query(query)  # raises with the list of shipped names
    return _parse("query", query)


def sparql_term(value: str) -> str:
    """A `--param` value as SPARQL: `<iri>`, a quoted literal or a number stay as given;
    anything else becomes a string literal."""
    text = value.strip()
    if (text.startswith("<") and text.endswith(">")) or text.startswith('"'):
        return text
    if re.fullmatch(r"[+-]?\d+(\.\d+)?([eE][+-]?\d+)?|true|false", text):
        return text
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def bind_params(text: str, values: dict[str, str]) -> str:
    """`text` with a trailing `VALUES (?a ?b) { (x y) }` binding `values` (if any)."""
    if not values:
        return text
    names = " ".join(f"?{name}" for name in values)
    terms = " ".join(values.values())
    return f"{text.rstrip()}\nVALUES ({names}) {{ ({terms}) }}\n"


def point_at_error(message: str, text: str) -> str:
    """`message` with the query line it names and a caret under the column, if it names one.

    Oxigraph reports `error at 3:7: expected …`; a user with a 30-line query should not
    have to count lines. The position refers to `text` as run (a bound query has its
    `VALUES` line appended at the end, so the user's lines keep their numbers). A message
    without a position, or one past the text, is returned unchanged.
    """
    match = _POSITION.search(message)
    if match is None:
        return message
    line_no, column = int(match[1]), int(match[2])
    lines = text.splitlines()
    if not 1 <= line_no <= len(lines) or column < 1:
        return message
    line = lines[line_no - 1].expandtabs(1)
    column = min(column, len(line) + 1)
    if len(line) > _SHOWN:  # a window around the column: a wrapped line misplaces the caret
        start = max(0, min(column - 1 - _SHOWN // 2, len(line) - _SHOWN))
        line, column = line[start : start + _SHOWN], column - start
    gutter = f"{line_no} | "
    return f"{message}\n  {gutter}{line}\n  {' ' * (len(gutter) - 2)}| {' ' * (column - 1)}^"
