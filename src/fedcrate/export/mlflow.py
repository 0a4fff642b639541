"""Crates → MLflow runs, so a team's MLflow UI shows federated runs next to the others.

One MLflow run per crate: the run config and strategy hyperparameters as params, every
per-round metric as a step of `<side>/<metric>`, the final metrics as `final/<side>/<metric>`,
the crate folder (with its model) as artifacts, and tags that lead back to the crate (its
root `identifier`, its path). Exporting a crate again finds its run by the identifier tag and
fills in what is missing instead of making a second run.

mlflow is an optional extra (`pip install 'fedcrate[mlflow]'`), imported only here and only
when an export runs.
"""

from __future__ import annotations

import math
import re
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rdflib import RDF, Graph, URIRef

from fedcrate.crate.reader import read_crate
from fedcrate.crate.writer import METRICS_LOG
from fedcrate.crate.zipped import ZippedCrate, is_zip
from fedcrate.errors import FedcrateError, MlflowMissing, NotACrate
from fedcrate.rdf.entities import METADATA_FILE
from fedcrate.rdf.namespaces import SDO
from fedcrate.views.model import RunView, Setting, describe

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

__all__ = [
    "IDENTIFIER_TAG",
    "PATH_TAG",
    "ExportReport",
    "ExportedCrate",
    "export_crate",
    "export_crates",
]

IDENTIFIER_TAG = "fedcrate.identifier"
PATH_TAG = "fedcrate.crate_path"
_PROPERTY_TAG = "fedcrate.propertyID."
_MAX_PARAM_LENGTH = 6000  # MLflow's limit on a param value
_KEY_UNSAFE = re.compile(r"[^\w\-. /]")


@dataclass(frozen=True)
class ExportedCrate:
    """One crate and the MLflow run it went to."""

    crate: Path
    run_id: str
    action: str  # "created" or "updated"


@dataclass
class ExportReport:
    """What `export_crates` did: runs made or updated, and crates it could not export."""

    exported: list[ExportedCrate] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _require_mlflow() -> None:
    try:
        import mlflow  # noqa: F401
    except ImportError:
        raise MlflowMissing(
            "MLflow export needs mlflow, which is not installed; "
            "install it with: pip install 'fedcrate[mlflow]'"
        ) from None


def _mlflow_client(tracking_uri: str) -> MlflowClient:
    _require_mlflow()
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=tracking_uri)


def _key(text: str) -> str:
    """An MLflow-legal key: characters MLflow rejects become `_`."""
    return _KEY_UNSAFE.sub("_", text)


def _millis(text: str | None) -> int | None:
    if not text:
        return None
    try:
        return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        return None


def _param_value(setting: Setting) -> str:
    value = "" if setting.value is None else str(setting.value)
    return value[:_MAX_PARAM_LENGTH]


def _params(view: RunView) -> dict[str, str]:
    params = {f"config.{_key(s.name)}": _param_value(s) for s in view.config}
    params.update({f"strategy.{_key(s.name)}": _param_value(s) for s in view.hyperparameters})
    if view.strategy:
        params["strategy"] = view.strategy
    fed = view.federation
    for name, value in (
        ("fl.rounds", view.rounds),
        ("fl.nodes", fed.node_count),
        ("fl.runtime_mode", fed.runtime_mode),
    ):
        if value is not None:
            params[name] = str(value)
    return params


def _tags(view: RunView, crate_dir: Path) -> dict[str, str]:
    tags = {
        PATH_TAG: str(crate_dir),
        "fedcrate.status": view.status,
        "mlflow.runName": view.name,
    }
    if view.crate_identifier:
        tags[IDENTIFIER_TAG] = view.crate_identifier
    if view.description:
        tags["mlflow.note.content"] = view.description
    if view.error:
        tags["fedcrate.error"] = view.error[:5000]
    if view.strategy_class:
        tags["fedcrate.strategy_class"] = view.strategy_class
    for metric in view.final_metrics:
        tags[_PROPERTY_TAG + _key(metric.metric)] = metric.property_id
    return tags


def _metric_points(view: RunView) -> dict[str, list[tuple[int, float]]]:
    """MLflow metric key → [(step, value)], per-round history then final values."""
    points: dict[str, list[tuple[int, float]]] = {}
    for series in view.history:
        key = _key(f"{series.side}/{series.metric}")
        points[key] = [
            (r, v) for r, v in zip(series.rounds, series.values, strict=True) if v is not None
        ]
    for metric in view.final_metrics:
        if isinstance(metric.value, bool) or not isinstance(metric.value, (int, float)):
            continue
        if not math.isfinite(metric.value):
            continue
        key = _key(f"final/{metric.side}/{metric.metric}")
        points[key] = [(metric.round or 0, float(metric.value))]
    return points


def _model_file(graph: Graph, crate_dir: Path) -> Path | None:
    """The run's result file that is not the metrics log: the final model."""
    for run in graph.subjects(RDF.type, SDO.CreateAction):
        for result in graph.objects(run, SDO.result):
            if not isinstance(result, URIRef) or (result, RDF.type, SDO.MediaObject) not in graph:
                continue
            name = str(result).rsplit("/", 1)[-1]
            if name not in (METRICS_LOG, METADATA_FILE) and (crate_dir / name).is_file():
                return crate_dir / name
    return None


def _experiment_id(client: MlflowClient, name: str, artifact_location: str | None) -> str:
    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        if experiment.lifecycle_stage == "deleted":
            client.restore_experiment(experiment.experiment_id)
        return str(experiment.experiment_id)
    return str(client.create_experiment(name, artifact_location=artifact_location))


def _existing_run(client: MlflowClient, experiment_id: str, identifier: str) -> Any:
    escaped = identifier.replace("'", "\\'")
    runs = client.search_runs(
        [experiment_id], filter_string=f"tags.`{IDENTIFIER_TAG}` = '{escaped}'", max_results=1
    )
    return runs[0] if runs else None


def export_crate(
    client: MlflowClient, crate_dir: Path, experiment_id: str, *, source: Path | None = None
) -> ExportedCrate:
    """Export one crate into `experiment_id`; an earlier export of it is updated.

    `source` is where the crate came from when `crate_dir` is its unpacked copy (a
    zipped crate): the path the run's tag and the report name.
    """
    from mlflow.entities import Metric, Param, RunTag

    shown = source or crate_dir

    graph = read_crate(crate_dir)
    views = describe(graph)
    if len(views) != 1:
        raise NotACrate(
            f"{crate_dir}: holds {len(views)} federated runs; MLflow export needs exactly one"
        )
    view = views[0]
    if not view.crate_identifier:
        raise NotACrate(
            f"{crate_dir}: the root has no identifier, so a later export could not find its "
            "run; only crates with a root identifier are exported"
        )
    start, end = _millis(view.start), _millis(view.end)
    existing = _existing_run(client, experiment_id, view.crate_identifier)
    if existing is None:
        run_id = client.create_run(
            experiment_id, start_time=start, tags=_tags(view, shown), run_name=view.name
        ).info.run_id
        action, logged = "created", {}
    else:
        run_id, action = existing.info.run_id, "updated"
        logged = {
            key: {(m.step, m.value) for m in client.get_metric_history(run_id, key)}
            for key in existing.data.metrics
        }
    # Deterministic timestamps (the run's end) keep a re-export byte-identical.
    stamp = end or start or 0
    metrics = [
        Metric(key, value, stamp, step)
        for key, points in _metric_points(view).items()
        for step, value in points
        if (step, value) not in logged.get(key, set())
    ]
    params = [Param(k, v) for k, v in _params(view).items()]
    tags = [RunTag(k, v) for k, v in _tags(view, shown).items()]
    for offset in range(0, max(len(metrics), 1), 1000):  # MLflow's batch limit
        client.log_batch(
            run_id,
            metrics=metrics[offset : offset + 1000],
            params=params if offset == 0 else [],
            tags=tags if offset == 0 else [],
        )
    client.log_artifacts(run_id, str(crate_dir), artifact_path="ro-crate")
    model = _model_file(graph, crate_dir)
    if model is not None:
        client.log_artifact(run_id, str(model), artifact_path="model")
    status = {"Completed": "FINISHED", "Failed": "FAILED"}.get(view.status, "KILLED")
    client.set_terminated(run_id, status=status, end_time=end)
    return ExportedCrate(shown, run_id, action)


def export_crates(
    paths: Sequence[Path | str],
    *,
    tracking_uri: str,
    experiment: str = "fedcrate",
    artifact_location: str | None = None,
    progress: Callable[[ExportedCrate], None] | None = None,
) -> ExportReport:
    """Export every crate in `paths` (crate folders, zipped crates, or folders searched
    for crates). A zipped crate is unpacked into a temporary folder for the export (MLflow
    copies artifacts from files) and the run names the zip.

    A crate that cannot be exported is reported in `ExportReport.errors` and the others
    go on. `artifact_location` is used only when the experiment is created.

    Raises:
        MlflowMissing: mlflow is not installed (`pip install 'fedcrate[mlflow]'`).
        NotACrate: no crate is found under `paths`.
    """
    from fedcrate.index.store import find_crates

    _require_mlflow()  # first: a missing mlflow is the error to report
    from mlflow.exceptions import MlflowException

    for path in paths:
        if not Path(path).exists():
            raise NotACrate(f"{path}: no such file or folder; pass crate folders or zipped crates")
    zips = [Path(p) for p in paths if is_zip(Path(p))]
    folders = [Path(p) for p in paths if not is_zip(Path(p))]
    # (the folder to export, the zip it is unpacked from)
    crates: list[tuple[Path, Path | None]] = [
        (folder, None) for folder in sorted(m.parent for m in find_crates(folders))
    ]
    crates += [(archive, archive) for archive in zips]
    if not crates:
        raise NotACrate(f"no {METADATA_FILE} under {', '.join(map(str, paths))}")
    client = _mlflow_client(tracking_uri)
    try:
        experiment_id = _experiment_id(client, experiment, artifact_location)
    except MlflowException as exc:
        raise FedcrateError(f"MLflow at {tracking_uri}: {exc.message}") from None
    report = ExportReport()
    for crate_dir, zipped in crates:
        try:
            if zipped is None:
                exported = export_crate(client, crate_dir, experiment_id)
            else:
                with tempfile.TemporaryDirectory(prefix="fedcrate-export-") as scratch:
                    with ZippedCrate(zipped) as archive:
                        unpacked = archive.extract_to(Path(scratch))
                    exported = export_crate(client, unpacked, experiment_id, source=zipped)
        except NotACrate as exc:
            report.errors.append(str(exc))
            continue
        except MlflowException as exc:
            report.errors.append(f"{crate_dir}: MLflow refused the run ({exc.message})")
            continue
        report.exported.append(exported)
        if progress is not None:
            progress(exported)
    return report
