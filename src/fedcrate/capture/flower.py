"""Tracker for Flower's message API (`@app.main()`, `strategy.start(...)` → `Result`).

Three touchpoints, the same as flwrCrate's so switching is a one-line import change:

    with FLCrateTracker(context, strategy, output_dir=...) as tracker:
        result = strategy.start(..., evaluate_fn=tracker.wrap_evaluate(evaluate))
        tracker.record_result(result, model_path="final_model.pt")

The tracker never breaks training: every capture step catches its own faults, logs one
clear message and records what it could. A failure inside the `with` block is recorded
(FailedActionStatus + error) and then re-raised unchanged.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import os
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from fedcrate.capture.clients import classic_contributions, message_contributions
from fedcrate.capture.declarations import apply_declarations, read_declarations
from fedcrate.capture.deployment import federation_facts
from fedcrate.capture.environment import declared_software, installed_version
from fedcrate.capture.flip import flip_facts
from fedcrate.capture.lineage import LineageRecorder, save_arrays_npz
from fedcrate.capture.metrics import MetricResolver
from fedcrate.capture.participation import ParticipationRecorder, RoundHooks
from fedcrate.capture.pyproject import find_pyproject, load_pyproject
from fedcrate.capture.signals import RunTerminated, SigtermGuard
from fedcrate.crate.journal import Journal
from fedcrate.crate.writer import WrittenCrate, write_crate
from fedcrate.errors import FedcrateError
from fedcrate.record.normalize import DatasetSpec, parse_datasets, parse_license, parse_person
from fedcrate.record.redaction import redact_parameter, scrub_text
from fedcrate.record.run import (
    FederationFacts,
    Parameter,
    RoundObservation,
    RunRecord,
    RunStatus,
    Side,
    SoftwareFacts,
    StrategyFacts,
    utc_now,
)

__all__ = ["FLCrateTracker", "caller_file", "default_output_root", "resolve_output_dir"]

logger = logging.getLogger("fedcrate")

_ROUND_KEYS = ("num-server-rounds", "num_server_rounds", "num-rounds", "num_rounds", "rounds")
_STRATEGY_DOCS = "https://flower.ai/docs/framework/ref-api/{}.{}.html"
# Where Flower's own strategies are exported: the message API's, then the classic API's.
_STRATEGY_MODULES = ("flwr.serverapp.strategy", "flwr.server.strategy")
_RESULT_SIDES = (
    ("train_metrics_clientapp", Side.CLIENT_TRAIN),
    ("evaluate_metrics_clientapp", Side.CLIENT_EVALUATE),
    ("evaluate_metrics_serverapp", Side.SERVER_EVALUATE),
)


def default_output_root() -> Path:
    """Where relative output folders go: `$FEDCRATE_HOME`, else `~/fedcrate`.

    Under Flower the ServerApp's working directory is the SuperLink's, so resolving a
    relative path against it would drop crates wherever the SuperLink was started.
    """
    configured = os.environ.get("FEDCRATE_HOME")
    return Path(configured).expanduser() if configured else Path.home() / "fedcrate"


def resolve_output_dir(output_dir: str | os.PathLike[str] | None) -> Path:
    """Absolute output folder: absolute paths as given, relative ones under the root above."""
    path = Path(output_dir).expanduser() if output_dir else Path("fl_crate_out")
    return path if path.is_absolute() else default_output_root() / path


def _ensure_visible_logging() -> None:
    # Flower apps rarely configure logging; without a handler our INFO lines (the crate's
    # path) would be swallowed by Python's last-resort handler.
    if not logger.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("fedcrate %(levelname)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)


def caller_file() -> Path | None:
    """The file of the code that created the tracker (the app's server_app.py)."""
    frame = inspect.currentframe()
    while frame is not None:
        module = str(frame.f_globals.get("__name__", ""))
        filename = frame.f_code.co_filename
        if module != "fedcrate" and not module.startswith("fedcrate."):
            return None if filename.startswith("<") else Path(filename).resolve()
        frame = frame.f_back
    return None


def _plain(value: Any) -> str | int | float | bool | None:
    """A JSON-friendly scalar, or raise TypeError for anything else."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        item = value.item()
        if isinstance(item, (bool, int, float, str)):
            return item
    raise TypeError(f"not a scalar: {type(value).__name__}")


def _describe_failure(exc: BaseException) -> str:
    """The run's `error`: the exception, scrubbed of credentials (messages quote URLs)."""
    if isinstance(exc, SystemExit) and not isinstance(exc, RunTerminated):
        # Flower's runtime exits the ServerApp this way when the run is stopped (`flwr stop`).
        return (
            f"SystemExit: the process exited (code {exc.code}) before the run finished, "
            "e.g. the run was stopped with `flwr stop`"
        )
    if isinstance(exc, KeyboardInterrupt) and not str(exc):
        return "KeyboardInterrupt: interrupted (SIGINT, e.g. Ctrl-C) before the run finished"
    message = scrub_text(str(exc))
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


class FLCrateTracker:
    """Capture a Flower run and write an RO-Crate when the `with` block ends.

    Args:
        context: the ServerApp's `Context` (run id, run config).
        strategy: the strategy instance (class, module and hyperparameters are captured).
        output_dir: folder for crates; relative paths resolve under `$FEDCRATE_HOME`
            (default `~/fedcrate`). Each run gets `ro-crate/`, `ro-crate-2/`, ….
        pyproject_path: the app's pyproject.toml; default: the nearest one above the
            file that creates the tracker (works for apps installed by `flwr run`).
        app_name: the crate's name. author / agent: a name, an ORCID, or a dict with
            name / orcid / affiliation / email. license: an SPDX id or license URL.
        grid: the ServerApp's `Grid`, for run, FAB and federation facts. Optional: without
            it the tracker takes the Grid from the strategy's `start` / `configure_*` calls.
        datasets: the data the run trained and evaluated on (Flower cannot see it): URLs,
            `{"name", "url", "description", "license"}` dicts or `DatasetRef`s.
        description / keywords: what the run was for, and tags for finding it.
            author, agent, license, datasets, description and keywords may instead be
            declared once in the app's pyproject.toml under `[tool.fedcrate]`
            (docs/tool-fedcrate.md); an argument given here wins over the file.
        save_arrays: when `record_result` gets no model file, save `result.arrays` as
            `final_model.npz` so the crate still holds the model.
        track_participation: count sampled nodes, replies, failures and aggregated
            examples per round by wrapping the strategy instance's `configure_*` /
            `aggregate_*` methods (the strategy's behaviour is unchanged).
        record_site_names: state the names of the sites that replied (FLIP
            `SUPERNODE_NAME`); by default only their number is recorded.
        preview: also write `ro-crate-preview.html`, the crate's human-readable page.
        journal: append every fact to `.fedcrate-journal-<run>.jsonl` in `output_dir`
            as it is captured, so a killed run can be recovered (`fedcrate recover`);
            removed once the crate is written.
        copy_model: copy the model file into the crate (default). False references it
            where it is (`file://` IRI) with its size and sha256, for models too big to
            copy; `fedcrate verify` re-checks it there.
        redact_paths: write paths under the home folder as `~/…` (default); False keeps
            them absolute.
        record_clients: for every round and phase, one entity per sampled node: its id's
            SHA-256 (never the id), whether it replied or failed (the error's kind only),
            the examples it reported and the metrics of its reply. Off by default: a
            site's example count can be sensitive (it may reveal how many patients a
            hospital has); it implies `track_participation`.
        record_model_lineage: hash the global arrays at every round (what the strategy
            hands to `configure_train` / `configure_evaluate`, and the `Result`'s) and state
            them as a chain of `fl:ModelState`s, each `prov:wasDerivedFrom` the previous;
            `fedcrate verify` checks it. Off by default: it costs a hash of the model per
            round (~28 ms for a 10 MB model here; benchmarks/bench_lineage.py).
    """

    def __init__(
        self,
        context: Any,
        strategy: Any,
        output_dir: str | os.PathLike[str] | None = None,
        pyproject_path: str | os.PathLike[str] | None = None,
        app_name: str | None = None,
        author: Any = None,
        license: Any = None,
        agent: Any = None,
        *,
        grid: Any = None,
        datasets: Iterable[DatasetSpec] = (),
        description: str | None = None,
        keywords: Iterable[str] = (),
        save_arrays: bool = True,
        track_participation: bool = True,
        record_site_names: bool = False,
        preview: bool = True,
        journal: bool = True,
        copy_model: bool = True,
        redact_paths: bool = True,
        record_clients: bool = False,
        record_model_lineage: bool = False,
    ) -> None:
        _ensure_visible_logging()
        self.output_dir = resolve_output_dir(output_dir)
        if output_dir is None or not Path(output_dir).expanduser().is_absolute():
            logger.info("relative output_dir %r resolves to %s", output_dir, self.output_dir)
        self.save_arrays = save_arrays
        self.crate: WrittenCrate | None = None
        self._lock = threading.Lock()
        self._observations: dict[tuple[int, Side, str], RoundObservation] = {}
        self._skipped_metrics: set[str] = set()
        self._temp_model: Path | None = None
        self._participation = ParticipationRecorder(
            RoundHooks(
                on_count=self._journal_participation,
                on_metrics=self.observe,
                on_grid=self._adopt_grid,
                on_rounds=self._note_started_rounds,
                wrap_evaluate=self.wrap_evaluate,
                on_arrays=self._note_state if record_model_lineage else None,
                on_replies=self._note_replies if record_clients else None,
                on_classic_replies=self._note_classic_replies if record_clients else None,
            ),
            count=track_participation or record_clients,
        )
        self._journal: Journal | None = None
        self._lineage = LineageRecorder() if record_model_lineage else None
        self._contributions: dict[tuple[int, Side, str], Any] = {}
        self._sigterm = SigtermGuard()
        self._context, self._grid = context, grid
        self._app_name_given = app_name is not None
        self.record_site_names = record_site_names
        self.preview = preview
        self.copy_model = copy_model
        self.redact_paths = redact_paths

        self.record = RunRecord(name=app_name or "Federated learning run", started_at=utc_now())
        datasets, keywords = list(datasets), tuple(str(k) for k in keywords)
        self.record.description = description
        self.record.keywords = keywords
        arguments = {
            "author": author,
            "agent": agent,
            "license": license,
            "datasets": datasets,
            "description": description,
            "keywords": keywords,
        }
        self._given = {name for name, value in arguments.items() if value}
        self._pyproject: dict[str, Any] = {}
        self.pyproject_path = self._locate_pyproject(pyproject_path)
        self._resolver = MetricResolver()
        self._capture("people and license", self._capture_people, author, agent, license)
        self._capture("datasets", self._capture_datasets, datasets)
        self._capture("pyproject", self._capture_pyproject)
        self._capture("run config", self._capture_config, context)
        self._capture("strategy", self._capture_strategy, strategy)
        self._capture("federation", self._capture_federation, context, grid)
        # Always wrapped: each round's aggregates are journaled as the strategy returns
        # them, and the Grid is taken from the strategy's calls when `grid=` is not given.
        self._capture("round observation", self._participation.wrap, strategy)
        self._name_after_fab()
        if self.record.license is None:
            logger.warning(
                "no license: RO-Crate 1.2 requires one on the crate; pass license= (an SPDX "
                "id or URL) or declare it in pyproject.toml's [tool.fedcrate] license"
            )
        if journal:
            self._journal = Journal(self.output_dir, self.record.run_uuid)
            self._journal.facts(self.record)

    # -- capture steps: each may fail on its own without stopping the others ----------

    def _capture(self, what: str, step: Callable[..., None], *args: Any) -> None:
        try:
            step(*args)
        except FedcrateError as exc:
            logger.error("%s not captured: %s", what, exc)
        except Exception as exc:
            logger.error("%s not captured (%s: %s)", what, type(exc).__name__, exc)

    def _locate_pyproject(self, given: str | os.PathLike[str] | None) -> Path | None:
        caller = caller_file()
        if given is not None:
            path = Path(given).expanduser()
            if path.is_absolute():
                return path
            candidates = [caller.parent / path] if caller else []
            candidates += [p / path for p in (caller.parents if caller else [])]
            candidates.append(Path.cwd() / path)
            return next((c for c in candidates if c.is_file()), Path.cwd() / path)
        return find_pyproject(caller) if caller else find_pyproject(Path.cwd())

    def _capture_people(self, author: Any, agent: Any, license_: Any) -> None:
        for role, spec in (("author", author), ("agent", agent)):
            try:
                setattr(self.record, role, parse_person(spec, role=role))
            except FedcrateError as exc:
                # Keep the name: an unusable ORCID must not erase who ran the experiment.
                logger.error("%s ORCID dropped: %s", role, exc)
                if isinstance(spec, Mapping):
                    kept = {k: v for k, v in spec.items() if k not in ("orcid", "id")}
                    setattr(self.record, role, parse_person(kept, role=role))
        self.record.license = parse_license(license_)

    def _capture_datasets(self, datasets: Iterable[DatasetSpec]) -> None:
        self.record.datasets.extend(parse_datasets(datasets))

    def _capture_pyproject(self) -> None:
        flwr_version = installed_version("flwr")
        self.record.flower = SoftwareFacts(
            key="flwr", name="Flower", installed_version=flwr_version, url="https://flower.ai/"
        )
        if self.pyproject_path is None:
            logger.warning(
                "no pyproject.toml found; pass pyproject_path= so the app's "
                "dependencies and metric IRIs are recorded"
            )
            return
        self._pyproject = load_pyproject(self.pyproject_path)
        declarations = read_declarations(self._pyproject, self.pyproject_path)
        apply_declarations(self.record, declarations, given=self._given)
        dependencies = self._pyproject.get("project", {}).get("dependencies", []) or []
        self.record.frameworks = declared_software(str(d) for d in dependencies)
        self._resolver = MetricResolver.from_pyproject(self._pyproject)

    def _capture_config(self, context: Any) -> None:
        config = dict(getattr(context, "run_config", {}) or {})
        kept: list[Parameter] = []
        for key, value in config.items():
            try:
                kept.append(redact_parameter(str(key), _plain(value), paths=self.redact_paths))
            except TypeError:  # one odd value must not cost the rest of the config
                logger.warning(
                    "run config %r is a %s, not a scalar; it is not recorded",
                    key,
                    type(value).__name__,
                )
        self.record.config = kept
        flip = flip_facts(config)
        if flip is not None:
            self.record.model_identifier = flip.model_identifier
            if flip.cohort is not None:
                self.record.datasets.append(flip.cohort)
        for key in _ROUND_KEYS:
            if isinstance(config.get(key), int) and not isinstance(config.get(key), bool):
                self.record.federation = FederationFacts(num_rounds=int(config[key]))
                break

    def _capture_strategy(self, strategy: Any) -> None:
        cls = type(strategy)
        hyperparameters: list[Parameter] = []
        for name, value in sorted(vars(strategy).items()):
            if name.startswith("_") or callable(value):
                continue
            try:
                hyperparameters.append(
                    redact_parameter(name, _plain(value), paths=self.redact_paths)
                )
            except TypeError:
                continue  # records, arrays and other objects are not hyperparameters
        public_module = self._builtin_strategy_module(cls)
        source = None
        if public_module is None:
            try:
                found = inspect.getsourcefile(cls)
                source = Path(found) if found else None
            except TypeError:  # defined interactively: no file to keep
                source = None
        self.record.strategy = StrategyFacts(
            class_name=cls.__name__,
            module=cls.__module__,
            hyperparameters=tuple(hyperparameters),
            version=installed_version("flwr") if public_module else None,
            url=_STRATEGY_DOCS.format(public_module, cls.__name__) if public_module else None,
            source_file=source,
        )

    @staticmethod
    def _builtin_strategy_module(cls: type) -> str | None:
        """The public Flower module exporting `cls`, or None for a strategy of the app's own."""
        for name in _STRATEGY_MODULES:
            module = sys.modules.get(name)
            if module is not None and getattr(module, cls.__name__, None) is cls:
                return name
        return None

    def _capture_federation(self, context: Any, grid: Any) -> None:
        self.record.federation = federation_facts(
            context, grid, num_rounds=self.record.federation.num_rounds
        )

    def _name_after_fab(self) -> None:
        fab = self.record.federation.fab_id
        if not self._app_name_given and fab:
            self.record.name = f"Flower run of {fab}"

    def _adopt_grid(self, grid: Any) -> None:
        """The Grid the strategy was started with, when the tracker was not given one.

        flwrCrate's signature (and so a user switching with the one-line import change)
        has no `grid=`; the message API hands the Grid to `start` and every `configure_*`.
        """
        if self._grid is not None:
            return
        self._grid = grid
        self._capture("federation", self._capture_federation, self._context, grid)
        self._name_after_fab()
        self._journal_facts()

    def _note_started_rounds(self, num_rounds: int) -> None:
        """`start(num_rounds=…)`: what Flower runs, whatever the run config says."""
        if self.record.federation.num_rounds != num_rounds:
            self.record.federation = replace(self.record.federation, num_rounds=int(num_rounds))
            self._journal_facts()

    # -- the touchpoints ----------------------------------------------------------------

    def _observe(
        self, server_round: int, side: Side, metrics: Any, *, journal: bool = True
    ) -> list[RoundObservation]:
        """Keep one round's metrics of one side; the new or changed ones are returned and,
        with `journal`, journaled (`record_result` journals a whole Result in one line)."""
        fresh: list[RoundObservation] = []
        if metrics is None:
            return fresh
        with self._lock:
            for name, value in dict(metrics).items():
                try:
                    plain = _plain(value)
                except TypeError:
                    if name not in self._skipped_metrics:
                        self._skipped_metrics.add(name)
                        logger.warning(
                            "metric %r is a %s, not a number; it is not recorded",
                            name,
                            type(value).__name__,
                        )
                    continue
                if plain is None or isinstance(plain, bool):
                    continue
                metric = self._resolver.resolve(str(name))
                key = (int(server_round), side, metric.name)
                observation = RoundObservation(int(server_round), side, metric, plain)
                if self._observations.get(key) != observation:
                    # The Result repeats what the aggregation hooks journaled already.
                    fresh.append(observation)
                self._observations[key] = observation
            if journal and self._journal is not None:
                self._journal.observations(fresh)
        return fresh

    def observe(self, server_round: int, side: Side, metrics: Mapping[str, Any]) -> None:
        """Record one round's metrics for one side (used by adapters such as the classic API)."""
        try:
            self._observe(server_round, side, metrics)
        except Exception as exc:  # never let provenance break training
            logger.error("round %s metrics not recorded (%s)", server_round, exc)

    def record_arrays(self, arrays: Any) -> None:
        """Final arrays (an `ArrayRecord`), saved now as the model unless a file is given."""
        if self._lineage is not None:
            self._journal_state(self._lineage.note_final(arrays))
        if self.save_arrays and self.record.model_source is None:
            self._note_model(self._save_arrays(arrays))

    def _note_replies(
        self, server_round: int, side: Side, sampled: list[int], replies: list[Any], key: str
    ) -> None:
        resolve = self._resolver.resolve
        self._keep(message_contributions(server_round, side, sampled, replies, key, resolve))

    def _note_classic_replies(
        self, server_round: int, side: Side, results: list[Any], failures: list[Any]
    ) -> None:
        resolve = self._resolver.resolve
        self._keep(classic_contributions(server_round, side, results, failures, resolve))

    def _keep(self, contributions: list[Any]) -> None:
        with self._lock:
            for item in contributions:
                self._contributions[(item.round, item.side, item.node_digest)] = item
        if self._journal is not None:
            self._journal.contributions(contributions)

    def _note_state(self, state: int, arrays: Any) -> None:
        if self._lineage is not None:
            self._journal_state(self._lineage.note(state, arrays))

    def _journal_state(self, state: Any) -> None:
        if state is not None and self._journal is not None:
            self._journal.model_state(state)

    def _note_model(self, path: Path | None) -> None:
        if path is None:
            return
        self.record.model_source = path
        if self._journal is not None:
            self._journal.model(path)

    def _journal_participation(self, server_round: int, side: Side, counts: dict[str, int]) -> None:
        if self._journal is not None:
            self._journal.participation(server_round, side, counts)

    def _journal_facts(self) -> None:
        if self._journal is not None:
            self._journal.facts(self.record)

    def note_rounds(self, num_rounds: int) -> None:
        """The configured number of rounds, when the run config does not say it."""
        if self.record.federation.num_rounds is None:
            self.record.federation = replace(self.record.federation, num_rounds=int(num_rounds))
            self._journal_facts()

    def note_node_count(self, count: int) -> None:
        """Nodes seen by the runtime, when the grid could not tell (classic API)."""
        if not self.record.federation.node_count and count:
            self.record.federation = replace(self.record.federation, node_count=int(count))
            self._journal_facts()

    def wrap_evaluate(self, evaluate_fn: Callable[[int, Any], Any] | None) -> Any:
        """Wrap a server-side `evaluate_fn(server_round, arrays)` to record its metrics.

        Returns None for None, so `evaluate_fn=tracker.wrap_evaluate(None)` stays valid.
        """
        if evaluate_fn is None:
            return None

        def evaluate(server_round: int, arrays: Any) -> Any:
            metrics = evaluate_fn(server_round, arrays)
            try:
                self._observe(server_round, Side.SERVER_EVALUATE, metrics)
            except Exception as exc:  # never let provenance break training
                logger.error("round %s metrics not recorded (%s)", server_round, exc)
            return metrics

        evaluate.__wrapped__ = evaluate_fn  # type: ignore[attr-defined]
        evaluate.__fedcrate_wrapper__ = True  # type: ignore[attr-defined]
        return evaluate

    def record_result(self, result: Any, model_path: str | os.PathLike[str] | None = None) -> None:
        """Fold the `Result`'s per-round metrics in and note the final model file.

        `model_path` is the saved model (copied into the crate, with checksum and size).
        A relative `model_path` resolves like `output_dir`, under `$FEDCRATE_HOME`
        (default `~/fedcrate`), never against the working folder: under Flower that is
        the SuperLink's, wherever it was started, so the same app would find its model in
        one deployment and not in another. Without `model_path`, or when it names no file
        (an error is logged saying where it looked), `result.arrays` is saved as
        `final_model.npz` (see `save_arrays`), so a run never ends without a model only
        because of a path.
        """
        try:
            fresh = [
                observation
                for attribute, side in _RESULT_SIDES
                for server_round, metrics in (getattr(result, attribute, None) or {}).items()
                for observation in self._observe(int(server_round), side, metrics, journal=False)
            ]
            if self._journal is not None:
                with self._lock:
                    self._journal.observations(fresh)
            arrays = getattr(result, "arrays", None)
            noted = False
            if model_path is not None:
                given = Path(model_path).expanduser()
                # Like output_dir: never against the working folder, the SuperLink's.
                path = resolve_output_dir(given).resolve()
                if path.is_file():
                    if not given.is_absolute():
                        logger.info("relative model_path %r resolves to %s", str(given), path)
                    self._note_model(path)
                    noted = True
                else:
                    hint = ""
                    if not given.is_absolute():
                        hint = (
                            " (relative model_paths resolve under $FEDCRATE_HOME, like output_dir"
                        )
                        beside = Path.cwd() / given
                        if beside.is_file():
                            hint += f"; the working folder has {beside.resolve()}: pass it absolute"
                        hint += ")"
                    fallback = (
                        "result.arrays are saved as final_model.npz instead"
                        if arrays is not None and self.save_arrays
                        else "no model recorded"
                    )
                    logger.error("model_path %s is not a file%s; %s", path, hint, fallback)
            if not noted and arrays is not None:
                self.record_arrays(arrays)  # the model, unless save_arrays=False
            elif self._lineage is not None and arrays is not None:
                self._journal_state(self._lineage.note_final(arrays))
        except Exception as exc:
            logger.error("result not fully recorded (%s: %s)", type(exc).__name__, exc)

    # -- context manager ------------------------------------------------------------------

    def __enter__(self) -> FLCrateTracker:
        self._sigterm.install()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> Literal[False]:
        self.record.ended_at = utc_now()
        self._participation.unwrap()
        if exc is not None:
            self.record.status = RunStatus.FAILED
            self.record.error = _describe_failure(exc)
        else:
            self.record.status = RunStatus.COMPLETED
        try:
            self.crate = self.write()
            logger.info("RO-Crate written to %s", self.crate.path)
        except Exception as write_error:  # never mask the run's own exception
            kept = self._journal.path if self._journal is not None else None
            logger.error(
                "the RO-Crate could not be written: %s%s",
                write_error,
                f"; the run's journal is kept: fedcrate recover {kept.parent}" if kept else "",
            )
            if self._journal is not None:
                self._journal.close(remove=False)
        else:
            if self._journal is not None:
                self._journal.close(remove=True)
            self._discard_temp_model()
        finally:
            self._sigterm.restore(exc)
        return False

    def write(self) -> WrittenCrate:
        """Write the crate now (the `with` block does this on exit)."""
        self.record.observations = sorted(
            self._observations.values(), key=lambda o: (o.round, o.side.value, o.metric.name)
        )
        self.record.participation = self._participation.records()
        if self._lineage is not None:
            self.record.model_states = self._lineage.states()
        with self._lock:
            self.record.contributions = [
                self._contributions[k]
                for k in sorted(self._contributions, key=lambda k: (k[0], k[1].value, k[2]))
            ]
        if not self.record.federation.node_count and self._grid is not None:
            # The simulation runtime may register its nodes after the ServerApp starts.
            self._capture("federation", self._capture_federation, self._context, self._grid)
        sites = sorted(self._participation.sites)
        if sites:
            self.record.federation = replace(
                self.record.federation,
                site_count=len(sites),
                site_names=tuple(sites) if self.record_site_names else (),
            )
        model = self.record.model_source
        if model is not None and not (Path(model).is_file() and os.access(model, os.R_OK)):
            logger.error("model file %s cannot be read; the crate is written without it", model)
            self.record.model_source = None
        return write_crate(
            self.record, self.output_dir, preview=self.preview, copy_model=self.copy_model
        )

    def _discard_temp_model(self) -> None:
        """The saved arrays are in the crate now; a failed write keeps them for recovery."""
        if self._temp_model is not None:
            self._temp_model.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                self._temp_model.parent.rmdir()
            self._temp_model = None

    def _save_arrays(self, arrays: Any) -> Path | None:
        try:
            folder = Path(tempfile.mkdtemp(prefix="fedcrate-model-"))
            path = folder / "final_model.npz"
            # Deterministic bytes: the same arrays give the same sha256 (the last model
            # state's, when lineage is recorded).
            save_arrays_npz(arrays, path)
            self._temp_model = path
            return path
        except Exception as exc:
            logger.error("result.arrays could not be saved as a model (%s)", exc)
            return None
