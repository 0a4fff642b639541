"""A finished FEDn session, read through FEDn's `APIClient`, as a `RunRecord`.

Reading happens in FEDn's own interpreter (`session_dump.py`, run as a subprocess: FEDn
cannot share a venv with Flower), which prints the API's JSON; `session_record` maps that
JSON to a `FednSessionRecord`, which `write_crate` writes like any run. The same mapping
runs on recorded API JSON in the unit tests.

What is recorded: the session config (aggregator and its kwargs as the strategy, rounds,
timeouts, clients required / requested as config), the model trail as a
`prov:wasDerivedFrom` chain, per-round aggregation counts (the participation shared with
Flower crates), the clients' validations per model as per-round client-evaluation metrics
(the mean over the clients that validated; metric IRIs resolved as for Flower), and each
client's participation as counts — its name only with `client_names=True`. The API token
is handed to the reader through its environment and is never part of the record.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from importlib import resources
from pathlib import Path
from typing import Any

from fedcrate.capture.fedn.package import FEDN_URL
from fedcrate.capture.fedn.runner import find_fedn_python
from fedcrate.capture.metrics import MetricResolver
from fedcrate.crate.writer import WrittenCrate, write_crate
from fedcrate.errors import FednNotFound, FednSessionError
from fedcrate.record import (
    FederationFacts,
    FednClientParticipation,
    FednModel,
    FednRoundFacts,
    FednSessionRecord,
    Parameter,
    RoundObservation,
    RoundParticipation,
    RunStatus,
    Side,
    SoftwareFacts,
    StrategyFacts,
)
from fedcrate.record.normalize import DatasetSpec, parse_datasets, parse_license, parse_person
from fedcrate.record.redaction import redact_parameter

__all__ = [
    "parse_api_address",
    "read_session",
    "record_session",
    "session_record",
]

logger = logging.getLogger("fedcrate")

_AGGREGATOR_MODULE = "fedn.network.combiner.aggregators.{}"
# Session-config keys that are not settings of the run: ids and code, recorded elsewhere.
_NOT_CONFIG = {"aggregator", "aggregator_kwargs", "model_id", "server_functions"}
_UPDATE_DONE = "Model update completed."


def parse_api_address(api: str) -> tuple[str, int | None, bool]:
    """`HOST:PORT`, `http://HOST:PORT` or `https://HOST` → (host, port, secure)."""
    text = api.strip()
    secure = text.startswith("https://")
    if "://" in text:
        text = text.split("://", 1)[1]
    text = text.rstrip("/")
    host, _, port = text.rpartition(":") if ":" in text else (text, "", "")
    if not host or (port and not port.isdigit()):
        raise FednSessionError(f"--api {api!r}: expected HOST:PORT (e.g. 127.0.0.1:8092)")
    return host, int(port) if port else None, secure


def read_session(
    api: str,
    session_id: str,
    *,
    token: str | None = None,
    download_dir: Path | None = None,
    timeout: float = 300,
) -> dict[str, Any]:
    """The session's API JSON, read by FEDn's `APIClient` in FEDn's interpreter."""
    python = find_fedn_python()
    if python is None:
        raise FednNotFound(
            "reading a FEDn session needs FEDn's Python: install fedn in its own venv and set "
            "FEDCRATE_FEDN to its `fedn` executable"
        )
    host, port, secure = parse_api_address(api)
    script = resources.files("fedcrate.capture.fedn").joinpath("session_dump.py")
    env = dict(os.environ)
    env.pop("FEDN_AUTH_TOKEN", None)
    if token:
        env["FEDN_AUTH_TOKEN"] = token  # environment, not argv: invisible to `ps`
    command = [str(python), str(script), host, str(port or ""), session_id]
    if secure:
        command.append("--secure")
    if download_dir is not None:
        command += ["--download", str(download_dir)]
    try:
        result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise FednSessionError(f"the FEDn API at {api} did not answer in {timeout:.0f} s") from None
    if result.returncode != 0:
        message = (result.stderr.strip().splitlines() or ["no output"])[-1]
        if token:
            message = message.replace(token, "[token]")
        raise FednSessionError(f"reading session {session_id} from {api} failed: {message}")
    try:
        document = json.loads(result.stdout)
    except json.JSONDecodeError as exc:
        raise FednSessionError(f"the session reader printed no JSON ({exc})") from None
    if not isinstance(document, dict):
        raise FednSessionError("the session reader printed no JSON object")
    return document


def _time(value: Any) -> datetime | None:
    """FEDn's API times: RFC 1123 (`Wed, 25 Nov 2026 17:41:24 GMT`) or ISO 8601."""
    if not value or not isinstance(value, str):
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _trail(models: Iterable[Mapping[str, Any]], seed: str | None) -> list[FednModel]:
    """The trail from the seed forwards, each model with the round that produced it."""
    by_id = {str(m["model_id"]): m for m in models if m.get("model_id")}
    children = {str(m.get("parent_model")): mid for mid, m in by_id.items()}
    start = seed if seed in by_id else None
    if start is None:  # the model whose parent is not in the trail
        start = next((mid for mid, m in by_id.items() if m.get("parent_model") not in by_id), None)
    ordered: list[FednModel] = []
    current, position = start, 0
    while current is not None and current in by_id and len(ordered) < len(by_id):
        model = by_id[current]
        parent = model.get("parent_model")
        ordered.append(
            FednModel(
                model_id=current,
                parent_id=str(parent) if parent else None,
                committed_at=_time(model.get("committed_at")),
                round=position,
            )
        )
        current, position = children.get(current), position + 1
    return ordered


def session_record(
    dump: Mapping[str, Any],
    *,
    model_path: Path | None = None,
    client_names: bool = False,
    author: Any = None,
    license: Any = None,
    datasets: Iterable[DatasetSpec] = (),
    resolver: MetricResolver | None = None,
    name: str | None = None,
) -> FednSessionRecord:
    """Map the API JSON of one session (see `session_dump.py`) to a `FednSessionRecord`.

    Raises:
        FednSessionError: the API JSON holds no finished session.
    """
    resolver = resolver or MetricResolver()
    session = dict(dump.get("session") or {})
    session_id = str(session.get("session_id") or "")
    if not session_id:
        raise FednSessionError("the API JSON holds no session (no session_id)")
    status_text = str(dump.get("session_status") or session.get("status") or "")
    config = dict(session.get("session_config") or {})
    trail = _trail(dump.get("model_trail") or [], session.get("seed_model_id"))
    round_of = {m.model_id: m.round for m in trail}
    validations = list(dump.get("validations") or [])

    rounds: list[FednRoundFacts] = []
    participation: list[RoundParticipation] = []
    trail_children = {m.parent_id: m.model_id for m in trail if m.parent_id}
    validations_per_model = Counter(str(v.get("model_id")) for v in validations)
    for entry in sorted(dump.get("rounds") or [], key=lambda r: _int(r.get("round_id")) or 0):
        number = _int(entry.get("round_id"))
        if number is None:
            continue
        round_config = entry.get("round_config") or {}
        input_model = round_config.get("model_id")
        output_model = trail_children.get(input_model) if input_model else None
        combiners = entry.get("combiners") or []
        data = [c.get("data") or {} for c in combiners]
        aggregated = [
            _int((d.get("aggregation_time") or {}).get("nr_aggregated_models")) for d in data
        ]
        expected = [_int(d.get("nr_expected_updates")) for d in data]
        required = [_int(d.get("nr_required_updates")) for d in data]
        validated = validations_per_model.get(str(output_model)) if output_model else None

        def total(values: list[int | None]) -> int | None:
            known = [v for v in values if v is not None]
            return sum(known) if known else None

        rounds.append(
            FednRoundFacts(
                round=number,
                status=entry.get("status"),
                input_model=input_model,
                output_model=output_model,
                required_updates=total(required),
                validations=validated,
                committed_at=_time(entry.get("updated_at")),
            )
        )
        sampled, received = total(expected), total(aggregated)
        participation.append(
            RoundParticipation(
                round=number,
                side=Side.CLIENT_TRAIN,
                nodes_sampled=sampled,
                replies_received=received,
                replies_failed=(
                    sampled - received if sampled is not None and received is not None else None
                ),
            )
        )
        if validated is not None:
            participation.append(
                RoundParticipation(
                    round=number, side=Side.CLIENT_EVALUATE, replies_received=validated
                )
            )

    observations = _observations(validations, round_of, resolver)

    updates: Counter[str] = Counter()
    for status in dump.get("statuses") or []:
        sender = status.get("sender") or {}
        if sender.get("role") == "CLIENT" and str(status.get("status", "")).startswith(
            _UPDATE_DONE
        ):
            updates[str(sender.get("name"))] += 1
    validated_by = Counter(
        str((v.get("sender") or {}).get("name"))
        for v in validations
        if (v.get("sender") or {}).get("role") == "CLIENT"
    )
    clients = []
    for index, client in enumerate(sorted(set(updates) | set(validated_by)), start=1):
        clients.append(
            FednClientParticipation(
                label=client if client_names else f"client {index}",
                updates=updates[client],
                validations=validated_by[client],
                named=client_names,
            )
        )

    aggregator = str(config.get("aggregator") or "fedavg")
    kwargs = config.get("aggregator_kwargs") or {}
    if isinstance(kwargs, str):  # FEDn passes kwargs through as JSON text in places
        try:
            kwargs = json.loads(kwargs)
        except ValueError:
            kwargs = {}
    fedn_version = dump.get("fedn_version")
    strategy = StrategyFacts(
        class_name=aggregator,
        module=_AGGREGATOR_MODULE.format(aggregator),
        hyperparameters=tuple(
            redact_parameter(str(k), v if isinstance(v, (str, int, float, bool)) else str(v))
            for k, v in sorted(dict(kwargs).items())
        ),
        version=fedn_version,
        url=FEDN_URL,
    )
    settings: list[Parameter] = [
        redact_parameter(
            str(k), v if isinstance(v, (str, int, float, bool)) or v is None else str(v)
        )
        for k, v in sorted(config.items())
        if k not in _NOT_CONFIG
    ]
    if config.get("server_functions"):
        settings.append(
            Parameter("server_functions", "custom server functions (code not recorded)")
        )

    times = [
        t
        for t in (
            [_time(session.get("committed_at")), _time(session.get("updated_at"))]
            + [m.committed_at for m in trail]
            + [_time(v.get("committed_at")) for v in validations]
        )
        if t is not None
    ]
    started = _time(session.get("committed_at")) or (min(times) if times else None)
    if started is None:
        raise FednSessionError(f"session {session_id}: the API JSON has no timestamps")
    finished = status_text.lower() in ("finished", "completed", "done")
    failed = status_text.lower() in ("failed", "terminated", "error", "stopped")
    if not finished and not failed:
        raise FednSessionError(
            f"session {session_id} is {status_text or 'in an unknown state'}, not finished: "
            "record it when FEDn reports it Finished"
        )
    package = dump.get("package") or {}
    checksum = (dump.get("package_checksum") or {}).get("checksum")
    num_rounds = _int(config.get("rounds")) or (len(rounds) or None)
    session_name = session.get("name")
    record = FednSessionRecord(
        name=name or f"FEDn session {session_name or session_id}",
        started_at=started,
        ended_at=max(times) if times else started,
        status=RunStatus.COMPLETED if finished else RunStatus.FAILED,
        error=None if finished else f"FEDn reports the session as {status_text}",
        author=parse_person(author, role="author"),
        license=parse_license(license),
        frameworks=[
            SoftwareFacts("fedn", "FEDn", installed_version=fedn_version, url=FEDN_URL),
        ],
        strategy=strategy,
        config=settings,
        datasets=parse_datasets(datasets),
        federation=FederationFacts(num_rounds=num_rounds, node_count=len(clients) or None),
        observations=observations,
        participation=participation,
        model_source=model_path,
        model_identifier=trail[-1].model_id if trail and model_path else None,
        session_id=session_id,
        seed_model=trail[0].model_id if trail else session.get("seed_model_id"),
        final_model=trail[-1].model_id if trail else None,
        model_trail=trail,
        round_facts=rounds,
        clients=clients,
        package_name=package.get("name") if isinstance(package, dict) else None,
        package_checksum=str(checksum) if checksum else None,
        helper=config.get("helper_type") or (package.get("helper") if package else None),
    )
    return record


def _observations(
    validations: Iterable[Mapping[str, Any]],
    round_of: Mapping[str, int | None],
    resolver: MetricResolver,
) -> list[RoundObservation]:
    """Per round and metric, the mean of the clients' validations of that round's model."""
    values: dict[tuple[int, str], list[float]] = defaultdict(list)
    for validation in validations:
        number = round_of.get(str(validation.get("model_id")))
        if number is None or number == 0:
            continue  # validations of the seed or of models outside the trail
        data = validation.get("data")
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except ValueError:
                continue
        if not isinstance(data, dict):
            continue
        for metric, value in data.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                values[(number, str(metric))].append(float(value))
    return [
        RoundObservation(number, Side.CLIENT_EVALUATE, resolver.resolve(metric), sum(v) / len(v))
        for (number, metric), v in sorted(values.items())
    ]


def record_session(
    api: str,
    session_id: str,
    output_dir: Path,
    *,
    token: str | None = None,
    client_names: bool = False,
    author: Any = None,
    license: Any = None,
    datasets: Iterable[DatasetSpec] = (),
    resolver: MetricResolver | None = None,
) -> WrittenCrate:
    """Read session `session_id` from the FEDn API at `api` and write its crate.

    Raises:
        FednSessionError: the API cannot be read or the session is not finished.
        FednNotFound: FEDn's interpreter is not found.
        CrateWriteError: the crate cannot be written.
    """
    with tempfile.TemporaryDirectory(prefix="fedcrate-fedn-") as folder:
        dump = read_session(api, session_id, token=token, download_dir=Path(folder))
        downloaded = dump.get("downloaded_model")
        model = Path(downloaded) if downloaded and Path(downloaded).is_file() else None
        if model is None:
            logger.warning("session %s: the final model could not be downloaded", session_id)
        record = session_record(
            dump,
            model_path=model,
            client_names=client_names,
            author=author,
            license=license,
            datasets=datasets,
            resolver=resolver,
        )
        return write_crate(record, Path(output_dir))
