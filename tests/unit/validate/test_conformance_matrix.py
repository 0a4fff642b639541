"""The conformance matrix in shapes/README.md against the published FL profile 0.1 text.

Every RFC 2119 keyword of the text must have a row; every row quotes the text verbatim and
names a shape of `fl-crate-0.1` at the row's level (whose description quotes the same
sentence), an invalid crate that says it breaks that shape, and a valid crate; the only rows
without a shape are MAY permissions, which say why.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import pytest
from rdflib import RDF, Graph, Namespace, URIRef

from tests.support.paths import DATA, REPO

PROFILE_TEXT = REPO.parent / "shared" / "profile" / "federated-learning-profile-0.1.md"
VENDORED_TEXT = DATA / "profile" / "federated-learning-profile-0.1.md"
MATRIX = REPO / "shapes" / "README.md"
SHAPES = REPO / "shapes" / "fl-crate"
CORPUS = DATA / "crates" / "fl-crate"
FLSH = "https://w3id.org/fedcrate/shapes/fl-crate#"
SH = Namespace("http://www.w3.org/ns/shacl#")
RDFS_SEE_ALSO = URIRef("http://www.w3.org/2000/01/rdf-schema#seeAlso")
SPEC = "https://esciencelab.org.uk/federated-learning-ro-crate-profile/federated-learning-profile.html#"
KEYWORD = re.compile(r"\b(MUST|SHOULD|MAY|RECOMMENDED)\b")
LEVEL_OF = {"MUST": "must", "SHOULD": "should", "RECOMMENDED": "should", "MAY": "may"}


@dataclass(frozen=True)
class Row:
    line: int
    section: str
    text: str
    level: str
    shapes: tuple[str, ...]
    invalid: tuple[str, ...]
    valid: tuple[str, ...]
    permission: str | None


def _profile_text() -> str:
    """The published text without its HTML comments (a commented-out table template)."""
    text = VENDORED_TEXT.read_text(encoding="utf-8")
    return re.sub(r"<!--.*?-->", lambda m: " " * len(m.group(0)), text, flags=re.S)


def _names(cell: str) -> tuple[str, ...]:
    return tuple(re.findall(r"`([^`]+)`", cell))


def _rows() -> list[Row]:
    table = MATRIX.read_text(encoding="utf-8").split("## Conformance matrix", 1)[1]
    rows = []
    for line in table.splitlines():
        if not re.match(r"^\| \d+ \|", line):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        assert len(cells) == 7, line
        number, section, text, level, shape, invalid, valid = cells
        assert text.startswith('"') and text.endswith('"'), line
        permission = shape.removeprefix("— permission:").strip() if "permission" in shape else None
        rows.append(
            Row(
                int(number),
                section,
                text[1:-1],
                level,
                () if permission else _names(shape),
                () if permission else _names(invalid),
                _names(valid),
                permission,
            )
        )
    return rows


def _normal(text: str) -> str:
    """Prose without Markdown links, code marks or dash and space variants."""
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"\[([^\]]+)\]", r"\1", text).replace("`", "")
    text = text.replace("–", "--").replace("—", "--")
    return re.sub(r"\s+", " ", text).strip().rstrip(".")


@pytest.fixture(scope="module")
def shapes() -> dict[str, tuple[str, Graph]]:
    """Local name → (level folder, the file's graph) for every shape of fl-crate-0.1."""
    found: dict[str, tuple[str, Graph]] = {}
    for level in ("must", "should", "may"):
        for path in sorted((SHAPES / level).glob("*.ttl")):
            graph = Graph().parse(path)
            for kind in (SH.NodeShape, SH.PropertyShape):
                for shape in graph.subjects(RDF.type, kind):
                    if isinstance(shape, URIRef) and str(shape).startswith(FLSH):
                        found[str(shape)[len(FLSH) :]] = (level, graph)
    return found


def test_the_vendored_text_is_the_published_text() -> None:
    """tests/data/profile/ holds the text the matrix is checked against, unchanged."""
    if not PROFILE_TEXT.exists():
        pytest.skip(f"the shared reference copy {PROFILE_TEXT} is not on this machine")
    assert VENDORED_TEXT.read_bytes() == PROFILE_TEXT.read_bytes()


def test_every_keyword_of_the_text_has_exactly_one_row() -> None:
    text = _profile_text()
    lines = text.splitlines(keepends=True)
    starts = [sum(len(line) for line in lines[:i]) for i in range(len(lines))]
    covered: dict[int, Row] = {}
    for row in _rows():
        where = text.find(row.text)
        assert where >= 0, f"line {row.line}: not verbatim in the profile text: {row.text!r}"
        assert text.find(row.text, where + 1) < 0, f"line {row.line}: quote is not unique"
        line_no = max(i for i, start in enumerate(starts) if start <= where) + 1
        assert line_no == row.line, f"{row.text!r} is on line {line_no}, not {row.line}"
        keywords = [m for m in KEYWORD.finditer(row.text)]
        if not keywords:
            assert "lower case" in row.level and " should " in row.text, row
            continue
        assert len(keywords) == 1, f"line {row.line}: a row quotes exactly one keyword"
        keyword = keywords[0]
        assert row.level.startswith(
            "SHOULD" if keyword.group(0) == "RECOMMENDED" else keyword.group(0)
        )
        position = where + keyword.start()
        assert position not in covered, f"line {row.line}: keyword quoted twice"
        covered[position] = row
    every = {m.start() for m in KEYWORD.finditer(text)}
    missing = sorted(every - set(covered))
    assert not missing, [text[p - 40 : p + 20] for p in missing]


@pytest.mark.parametrize("row", _rows(), ids=lambda r: f"L{r.line}-{r.text[:30]}")
def test_every_row_has_a_shape_an_invalid_crate_and_a_valid_crate(
    row: Row, shapes: dict[str, tuple[str, Graph]]
) -> None:
    assert row.valid, "every row names a valid crate"
    for valid in row.valid:
        assert (CORPUS / "valid" / valid / "ro-crate-metadata.json").is_file()
    if row.permission is not None:
        assert row.level == "MAY" and row.permission, "only MAY permissions go without a shape"
        return
    level = LEVEL_OF[row.level.split()[0]]
    assert row.shapes, "a requirement has a shape"
    assert sorted(row.shapes) == sorted(row.invalid), "one invalid crate per shape"
    for name in row.shapes:
        assert name in shapes, f"no shape {name} in shapes/fl-crate"
        folder, graph = shapes[name]
        assert folder == level, f"{name} is in {folder}/, the text says {row.level}"
        shape = URIRef(FLSH + name)
        description = str(graph.value(shape, SH.description))
        assert _normal(row.text) in _normal(description), (
            f"{name}'s description quotes its sentence"
        )
        anchors = {str(o) for o in graph.objects(shape, RDFS_SEE_ALSO)}
        assert any(a.startswith(SPEC) for a in anchors), f"{name} links its section"
        expected = json.loads((CORPUS / "invalid" / name / "expected.json").read_text())
        assert expected["shape"] == name and expected["severity"] == level


def test_every_shape_of_the_profile_is_in_the_matrix(shapes: dict[str, tuple[str, Graph]]) -> None:
    """Nothing but the text: a shape no sentence asks for would be a rule of our own."""
    listed = {name for row in _rows() for name in row.shapes}
    assert set(shapes) == listed
