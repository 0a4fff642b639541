"""What a crate says about its runs, for people: `fedcrate show`, the HTML preview, exports.

`describe(graph)` reads the facts off the graph (never the JSON) into plain dataclasses;
`render_terminal` draws them with rich and `as_json` gives them to scripts. Federation
facts (runtime mode, TLS, per-round participation) are shown when the crate has them and
left out when it does not, so older crates still show.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from urllib.parse import unquote

from rdflib import RDF, Graph, Literal, URIRef
from rdflib.term import Node

from fedcrate.rdf.lookup import GraphLookup
from fedcrate.rdf.namespaces import FL, PROV, SDO, side_from_iri
from fedcrate.record.run import side_order

__all__ = [
    "FederationView",
    "MetricSeries",
    "MetricValue",
    "ModelFileView",
    "Participation",
    "PersonView",
    "RunView",
    "Setting",
    "SoftwareView",
    "as_json",
    "describe",
    "format_duration",
    "format_value",
    "sparkline",
]

_SPARKS = "▁▂▃▄▅▆▇█"
Scalar = str | int | float | bool | None


@dataclass(frozen=True)
class PersonView:
    """An agent or author: name and ORCID (or other IRI) when the crate gives one."""

    name: str | None
    orcid: str | None


@dataclass(frozen=True)
class Setting:
    """One run-config entry or strategy hyperparameter."""

    name: str
    value: Scalar
    redacted: bool = False


@dataclass(frozen=True)
class SoftwareView:
    """Software the run used: declared requirement (pyproject) and installed version."""

    name: str
    version: str | None
    requirement: str | None
    url: str | None


@dataclass(frozen=True)
class ModelFileView:
    """An output model of the run: a file in its `result` that is not `about` anything.

    That is the FL profile's "output model" (the metrics log is `about` the run), less
    text files (logs, tables, JSON metadata), which document a run. `name` is its path in
    the crate, or its `file://` IRI when it was referenced in place.
    """

    name: str
    sha256: str | None
    size: int | None


@dataclass(frozen=True)
class MetricValue:
    """A final metric: the last value of one metric on one side."""

    side: str
    metric: str
    property_id: str
    value: Scalar
    round: int | None


@dataclass(frozen=True)
class MetricSeries:
    """Every round's value of one metric on one side, in round order."""

    side: str
    metric: str
    property_id: str
    rounds: list[int]
    values: list[float | None]


@dataclass(frozen=True)
class Participation:
    """How many nodes took part in one round on one side."""

    round: int
    side: str
    nodes_sampled: int | None
    replies_received: int | None
    replies_failed: int | None
    examples_aggregated: int | None

    def count_cells(self) -> list[str]:
        """Sampled, replied, failed, examples as table cells ("" when not recorded)."""
        counts = (
            self.nodes_sampled,
            self.replies_received,
            self.replies_failed,
            self.examples_aggregated,
        )
        return ["" if n is None else str(n) for n in counts]


@dataclass
class FederationView:
    """Where and how the run was federated (fields absent from the crate stay None)."""

    runtime_mode: str | None = None
    superlink_address: str | None = None
    tls_enabled: bool | None = None
    node_authentication_enabled: bool | None = None
    node_count: int | None = None
    num_rounds: int | None = None
    run_id: str | None = None
    federation_id: str | None = None
    fab_id: str | None = None
    fab_version: str | None = None
    fab_hash: str | None = None
    participation: list[Participation] = field(default_factory=list)


@dataclass
class RunView:
    """Everything `fedcrate show` and the preview tell a person about one run."""

    iri: str
    name: str
    description: str | None
    status: str
    error: str | None
    start: str | None
    end: str | None
    duration_s: float | None
    crate_name: str | None
    crate_identifier: str | None
    license: str | None
    license_url: str | None
    agents: list[PersonView]
    authors: list[PersonView]
    strategy: str | None
    strategy_class: str | None
    hyperparameters: list[Setting]
    config: list[Setting]
    software: list[SoftwareView]
    federation: FederationView
    final_metrics: list[MetricValue]
    history: list[MetricSeries]
    models: list[ModelFileView] = field(default_factory=list)
    """The run's output model files; empty when the run recorded no model."""

    @property
    def rounds(self) -> int | None:
        """The number of rounds: declared, else the last round with a metric."""
        if self.federation.num_rounds is not None:
            return self.federation.num_rounds
        last = [s.rounds[-1] for s in self.history if s.rounds]
        return max(last) if last else None


# -- reading the graph --------------------------------------------------------------------


def _python(node: Node | None) -> Scalar:
    if node is None:
        return None
    if isinstance(node, Literal):
        value = node.toPython()
        if isinstance(value, (str, int, float, bool)):
            return value
        return str(node)
    return str(node)


def _text(graph: GraphLookup, subject: Node, predicate: URIRef) -> str | None:
    value = graph.value(subject, predicate)
    return None if value is None else str(value)


def _int(graph: GraphLookup, subject: Node, predicate: URIRef) -> int | None:
    value = _python(graph.value(subject, predicate))
    if isinstance(value, bool) or value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _bool(graph: GraphLookup, subject: Node, predicate: URIRef) -> bool | None:
    value = _python(graph.value(subject, predicate))
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def _float(value: Scalar) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: an int beyond float
        return None
    return number


def _side_code(term: Node) -> str:
    """The code of a side term without a `termCode` in the crate (the IRI when unknown)."""
    side = side_from_iri(term) if isinstance(term, URIRef) else None
    return side.value if side is not None else str(term)


def _side(graph: GraphLookup, subject: Node) -> str:
    term = graph.value(subject, FL.side)
    if term is None:
        return ""
    code = graph.value(term, SDO.termCode)
    return str(code) if code is not None else _side_code(term)


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _person(graph: GraphLookup, iri: Node) -> PersonView:
    text = str(iri)
    orcid = text if isinstance(iri, URIRef) and "orcid.org/" in text else None
    return PersonView(name=_text(graph, iri, SDO.name), orcid=orcid)


def _settings(graph: GraphLookup, nodes: Iterable[Node]) -> list[Setting]:
    settings = []
    for node in nodes:
        if (node, RDF.type, SDO.PropertyValue) not in graph:
            continue
        name = _text(graph, node, SDO.name)
        if name is None:
            continue
        description = _text(graph, node, SDO.description) or ""
        settings.append(
            Setting(
                name,
                _python(graph.value(node, SDO.value)),
                redacted=description.startswith("Value withheld"),
            )
        )
    return sorted(settings, key=lambda s: s.name)


def _software(graph: GraphLookup, run: Node) -> list[SoftwareView]:
    found = []
    for tool in graph.objects(run, SDO.instrument):
        if (tool, RDF.type, SDO.SoftwareApplication) not in graph:
            continue
        if (tool, RDF.type, FL.AggregationStrategy) in graph:
            continue
        found.append(
            SoftwareView(
                name=_text(graph, tool, SDO.name) or str(tool),
                version=_text(graph, tool, SDO.version) or _text(graph, tool, SDO.softwareVersion),
                requirement=_text(graph, tool, SDO.softwareRequirements),
                url=_text(graph, tool, SDO.url),
            )
        )
    # Flower first, then alphabetical: it is the framework every run shares.
    return sorted(found, key=lambda s: (s.name != "Flower", s.name.lower()))


def _strategy(graph: GraphLookup, run: Node) -> tuple[str | None, str | None, list[Setting]]:
    for tool in graph.objects(run, SDO.instrument):
        if (tool, RDF.type, FL.AggregationStrategy) in graph:
            return (
                _text(graph, tool, SDO.name),
                _text(graph, tool, FL.pythonClass),
                _settings(graph, graph.objects(tool, SDO.additionalProperty)),
            )
    return None, None, []


def _federation(graph: GraphLookup, run: Node) -> FederationView:
    participation = []
    for node in graph.objects(run, FL.participation):
        round_ = _int(graph, node, FL.round)
        if round_ is None:
            continue
        participation.append(
            Participation(
                round=round_,
                side=_side(graph, node),
                nodes_sampled=_int(graph, node, FL.nodesSampled),
                replies_received=_int(graph, node, FL.repliesReceived),
                replies_failed=_int(graph, node, FL.repliesFailed),
                examples_aggregated=_int(graph, node, FL.examplesAggregated),
            )
        )
    participation.sort(key=lambda p: (p.round, side_order(p.side), p.side))
    return FederationView(
        runtime_mode=_text(graph, run, FL.runtimeMode),
        superlink_address=_text(graph, run, FL.superlinkAddress),
        tls_enabled=_bool(graph, run, FL.tlsEnabled),
        node_authentication_enabled=_bool(graph, run, FL.nodeAuthenticationEnabled),
        node_count=_int(graph, run, FL.nodeCount),
        num_rounds=_int(graph, run, FL.numRounds),
        run_id=_text(graph, run, FL.runId),
        federation_id=_text(graph, run, FL.federationId),
        fab_id=_text(graph, run, FL.fabId),
        fab_version=_text(graph, run, FL.fabVersion),
        fab_hash=_text(graph, run, FL.fabHash),
        participation=participation,
    )


def _metric_key(graph: GraphLookup, node: Node) -> tuple[str, str, str]:
    name = _text(graph, node, SDO.name) or ""
    property_id = _text(graph, node, SDO.propertyID) or name
    return _side(graph, node), name, property_id


def _final_metrics(graph: GraphLookup, run: Node) -> list[MetricValue]:
    metrics = []
    for node in graph.objects(run, SDO.result):
        if (node, RDF.type, FL.FinalMetric) not in graph:
            continue
        side, name, property_id = _metric_key(graph, node)
        metrics.append(
            MetricValue(
                side, name, property_id, _python(graph.value(node, SDO.value)),
                _int(graph, node, FL.round),
            )
        )  # fmt: skip
    return sorted(metrics, key=lambda m: (side_order(m.side), m.side, m.metric))


def _history(graph: GraphLookup, run: Node) -> list[MetricSeries]:
    # Each series (a final metric in the run's result) states side, name and propertyID
    # once; its round values state only round and value. Rounds × sides × metrics values:
    # read each property once by predicate rather than per node (10x faster on a
    # 100-round crate, which the writer renders).
    series = {
        node for node in graph.objects(run, SDO.result) if (node, RDF.type, FL.FinalMetric) in graph
    }
    owner = {v: s for s, v in graph.subject_objects(FL.roundValue) if s in series}
    if not owner:
        return []

    def column(predicate: URIRef) -> dict[Node, Node]:
        return {s: o for s, o in graph.subject_objects(predicate) if s in owner}

    rounds, values = column(FL.round), column(SDO.value)
    keys = {node: _metric_key(graph, node) for node in series}
    points: dict[tuple[str, str, str], dict[int, float | None]] = {}
    for node, head in owner.items():
        round_ = _python(rounds.get(node))
        if not isinstance(round_, int) or isinstance(round_, bool):
            continue
        value = _float(_python(values.get(node)))
        if value is not None and not math.isfinite(value):
            value = None
        points.setdefault(keys[head], {})[round_] = value
    history = []
    for (side, name, property_id), by_round in points.items():
        ordered = sorted(by_round)
        history.append(
            MetricSeries(side, name, property_id, ordered, [by_round[r] for r in ordered])
        )
    return sorted(history, key=lambda s: (s.metric, side_order(s.side), s.side))


# Text formats of result files that document a run (FEDn's logs and metadata, a metrics
# log without `about`) rather than hold its model.
_DOCUMENT_FORMATS = (
    "text/",
    "application/json",
    "application/jsonl",
    "application/yaml",
    "application/toml",
)


def _models(graph: GraphLookup, run: Node) -> list[ModelFileView]:
    # The FL profile's output model: a File or Dataset in the result, `about` nothing.
    base = str(run).split("#", 1)[0]
    models = []
    for node in graph.objects(run, SDO.result):
        if not isinstance(node, URIRef) or graph.value(node, SDO.about) is not None:
            continue
        if not {SDO.MediaObject, SDO.Dataset} & set(graph.objects(node, RDF.type)):
            continue  # a FinalMetric, a PropertyValue
        if (_text(graph, node, SDO.encodingFormat) or "").startswith(_DOCUMENT_FORMATS):
            continue  # a log, a table, JSON metadata: about the run, not what it trained
        text = str(node)
        name = unquote(text[len(base) :]) if base and text.startswith(base) else text
        models.append(
            ModelFileView(name, _text(graph, node, SDO.sha256), _int(graph, node, SDO.contentSize))
        )
    return sorted(models, key=lambda m: m.name)


def _status(graph: GraphLookup, run: Node) -> str:
    status = _text(graph, run, SDO.actionStatus)
    if status is None:
        return "unknown"
    return status.rsplit("/", 1)[-1].removesuffix("ActionStatus")


def _root(graph: GraphLookup, run: Node) -> Node | None:
    for root in graph.subjects(SDO.mentions, run):
        if (root, RDF.type, SDO.Dataset) in graph:
            return root
    return None


def _run_view(graph: GraphLookup, run: Node) -> RunView:
    start = _text(graph, run, SDO.startTime) or _text(graph, run, PROV.startedAtTime)
    end = _text(graph, run, SDO.endTime) or _text(graph, run, PROV.endedAtTime)
    started, ended = _parse_time(start), _parse_time(end)
    duration = (ended - started).total_seconds() if started and ended else None
    root = _root(graph, run)
    license_iri = graph.value(root, SDO.license) if root is not None else None
    strategy, strategy_class, hyperparameters = _strategy(graph, run)
    agents = [_person(graph, a) for a in graph.objects(run, SDO.agent)]
    authors = [_person(graph, a) for a in graph.objects(root, SDO.author)] if root else []
    return RunView(
        iri=str(run),
        name=_text(graph, run, SDO.name) or str(run),
        description=_text(graph, run, SDO.description),
        status=_status(graph, run),
        error=_text(graph, run, SDO.error),
        start=start,
        end=end,
        duration_s=duration,
        crate_name=_text(graph, root, SDO.name) if root is not None else None,
        crate_identifier=_text(graph, root, SDO.identifier) if root is not None else None,
        license=(
            (_text(graph, license_iri, SDO.name) or str(license_iri))
            if license_iri is not None
            else None
        ),
        license_url=str(license_iri) if isinstance(license_iri, URIRef) else None,
        agents=agents,
        authors=authors,
        strategy=strategy,
        strategy_class=strategy_class,
        hyperparameters=hyperparameters,
        config=_settings(graph, graph.objects(run, SDO.object)),
        software=_software(graph, run),
        federation=_federation(graph, run),
        final_metrics=_final_metrics(graph, run),
        history=_history(graph, run),
        models=_models(graph, run),
    )


def describe(graph: Graph) -> list[RunView]:
    """One `RunView` per run (`schema:CreateAction`) in `graph`, earliest first."""
    lookup = GraphLookup(graph)
    runs = set(lookup.subjects(RDF.type, SDO.CreateAction))
    views = [_run_view(lookup, run) for run in runs]
    return sorted(views, key=lambda v: (v.start or "", v.iri))


# -- output -------------------------------------------------------------------------------


def as_json(views: Sequence[RunView], crate: str | None = None) -> str:
    """The views as a JSON document: `{"crate": PATH, "runs": [...]}`."""
    runs = []
    for view in views:
        data = asdict(view)
        data["rounds"] = view.rounds
        runs.append(data)
    return json.dumps({"crate": crate, "runs": runs}, indent=2, ensure_ascii=False)


def sparkline(values: Sequence[float | None]) -> str:
    """One block character per value, scaled between the series' min and max (gaps: space)."""
    numbers = [v for v in values if v is not None]
    if not numbers:
        return ""
    low, high = min(numbers), max(numbers)
    span = high - low
    marks = []
    for value in values:
        if value is None:
            marks.append(" ")
        elif span == 0:
            marks.append(_SPARKS[len(_SPARKS) // 2])
        else:
            marks.append(_SPARKS[round((value - low) / span * (len(_SPARKS) - 1))])
    return "".join(marks)


def format_value(value: Scalar) -> str:
    """Numbers to 4 significant digits, booleans and text as they are."""
    if isinstance(value, float):
        text = f"{value:.4g}"
        # 1.0 stays "1.0": a float setting should not read as an integer one.
        return text if any(c in text for c in ".eni") else text + ".0"
    if value is None:
        return ""
    return str(value)


def format_duration(seconds: float | None) -> str:
    """`1 h 02 min 03 s`, `2 min 05 s`, `42.99 s`."""
    if seconds is None:
        return "?"
    if seconds < 60:
        return f"{seconds:.2f} s"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes:02d} min {secs:02d} s"
    return f"{minutes} min {secs:02d} s"
