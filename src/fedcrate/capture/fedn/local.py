"""Local entry-point runs: FEDn's own `fedn run …`, recorded as actions in a crate.

`fedn run train -p PKG -i IN -o OUT` runs the package's `train` command in the package
folder. fedcrate runs exactly that as a subprocess (its output passes through), times it,
and records one action: the entry point as instrument, the input model as object, the
output model (plus what `save_metadata` wrote beside it, `OUT-metadata`) or the
validation JSON as result. Runs into the same crate link model to model with
`prov:wasDerivedFrom`, because a file that is one run's output and the next run's input
is one entity (same path, same checksum) in the crate.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from fedcrate.capture.fedn.crate_state import StagedCrate, update_local_crate
from fedcrate.capture.fedn.package import (
    describe_package,
    new_record,
    read_project,
)
from fedcrate.capture.fedn.runner import fedn_environment, require_fedn
from fedcrate.capture.metrics import MetricResolver
from fedcrate.crate.files import sha256_of
from fedcrate.errors import FednProjectError
from fedcrate.record import FednInvocation, Metric, Parameter, utc_now
from fedcrate.record.redaction import redact_parameter

__all__ = ["ENTRY_POINTS", "LocalRun", "run_entry_point"]

ENTRY_POINTS = ("build", "startup", "train", "validate")
_MODEL_ENTRY_POINTS = ("train", "validate")
_STDERR_TAIL_LINES = 15
_STDERR_TAIL_CHARS = 2000
_INNER_EXIT = re.compile(r"Non-zero exit code: (-?\d+)")


@dataclass(frozen=True)
class LocalRun:
    """What one `fedn run` did: its exit code, output, and the crate it went into."""

    invocation: FednInvocation
    stdout: str
    stderr: str
    crate: Path | None

    @property
    def exit_code(self) -> int:
        return self.invocation.exit_code


def _pump(source: IO[str], sink: IO[str], into: list[str], echo: bool) -> None:
    for line in source:
        into.append(line)
        if echo:
            sink.write(line)
            sink.flush()


def _run(command: list[str], env: dict[str, str], echo: bool) -> tuple[int, str, str]:
    """Run `command`, passing its output through (when `echo`) and keeping a copy."""
    out: list[str] = []
    err: list[str] = []
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        pumps = [
            threading.Thread(target=_pump, args=(process.stdout, sys.stdout, out, echo)),
            threading.Thread(target=_pump, args=(process.stderr, sys.stderr, err, echo)),
        ]
        for pump in pumps:
            pump.start()
        for pump in pumps:
            pump.join()
        code = process.wait()
    return code, "".join(out), "".join(err)


def _error(entry: str, code: int, stderr: str) -> str:
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    marker = "Traceback (most recent call last):"
    if marker in lines:
        # FEDn's own traceback (it re-raises the entry point's failure) buries what the
        # entry point printed: keep the entry point's last lines and FEDn's verdict.
        cut = len(lines) - 1 - lines[::-1].index(marker)
        verdict = [line for line in lines[cut:] if not line.startswith((" ", "\t"))][-2:]
        lines = lines[:cut][-(_STDERR_TAIL_LINES - len(verdict)) :] + verdict
    tail = "\n".join(lines[-_STDERR_TAIL_LINES:])[-_STDERR_TAIL_CHARS:]
    inner = _INNER_EXIT.findall(stderr)
    detail = f" (the entry point exited with {inner[-1]})" if inner else ""
    return f"`fedn run {entry}` exited with {code}{detail}. stderr (last lines):\n{tail}"


def _json_object(path: Path) -> dict[str, object]:
    """A JSON file's top-level object; {} for anything unreadable or not an object."""
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _metadata(path: Path) -> tuple[Parameter, ...]:
    loaded = _json_object(path)
    parameters = []
    for key, value in loaded.items():
        if value is None or isinstance(value, (bool, int, float, str)):
            parameters.append(redact_parameter(str(key), value))
        else:  # nested structures: kept as their JSON text
            parameters.append(redact_parameter(str(key), json.dumps(value, sort_keys=True)))
    return tuple(parameters)


def _metrics(path: Path, resolver: MetricResolver) -> tuple[tuple[Metric, float | int | str], ...]:
    loaded = _json_object(path)
    return tuple(
        (resolver.resolve(str(name)), value)
        for name, value in sorted(loaded.items())
        if isinstance(value, (int, float)) and not isinstance(value, bool)
    )


def _model_file(staged: StagedCrate, path: Path, role: str, description: str) -> Any:
    """A model file in the crate, reusing the entity of an identical earlier file."""
    digest = sha256_of(path)
    for run in staged.record.invocations:
        for known in (run.model_out, run.model_in):
            if known is not None and known.sha256 == digest and known.role == "fedn-model":
                return known
    return staged.add_file(
        path,
        staged.free_path("models", path.name),
        path.name,
        description,
        "fedn-model",
    )


def run_entry_point(
    entry: str,
    package: Path,
    *,
    model_in: Path | None = None,
    model_out: Path | None = None,
    crate_dir: Path | None = None,
    author: Any = None,
    license: Any = None,
    resolver: MetricResolver | None = None,
    echo: bool = True,
) -> LocalRun:
    """Run `fedn run ENTRY -p PACKAGE [-i IN -o OUT]`; record it into `crate_dir`.

    For `train` and `validate`, `model_in` and `model_out` are required (FEDn passes
    them to the entry point). For `build` and `startup`, FEDn passes no paths; a
    `model_out` names the file the entry point writes (e.g. the seed model), recorded as
    its result when it exists. Relative paths are taken from the current folder.

    Raises:
        FednProjectError: the package or the entry point is not usable (the message says why).
        FednNotFound: no `fedn` executable is found.
        CrateWriteError: the crate cannot be written.
    """
    package = Path(package).resolve()
    _config, declared = read_project(package)
    entry_point = next((e for e in declared if e.name == entry), None)
    if entry_point is None:
        names = ", ".join(e.name for e in declared) or "none"
        raise FednProjectError(
            f"{package}/fedn.yaml declares no {entry!r} entry point (it has: {names})"
        )
    model_in = Path(model_in).resolve() if model_in else None
    model_out = Path(model_out).resolve() if model_out else None
    fedn = require_fedn()
    command = [str(fedn), "run", entry, "--path", str(package)]
    if entry in _MODEL_ENTRY_POINTS:
        if model_in is None or model_out is None:
            raise FednProjectError(f"`fedn run {entry}` needs an input (-i) and an output (-o)")
        command += ["--input", str(model_in), "--output", str(model_out)]
    started = utc_now()
    code, stdout, stderr = _run(command, fedn_environment(fedn), echo)
    ended = utc_now()
    if crate_dir is None:
        invocation = FednInvocation(1, entry_point, started, ended, code)
        return LocalRun(invocation, stdout, stderr, None)

    resolver = resolver or MetricResolver()
    facts = describe_package(package)
    fresh = new_record(facts.name, author, license, fedn)
    with update_local_crate(Path(crate_dir), fresh) as staged:
        record = staged.record
        if record.package is None or record.package.name != facts.name:
            record.package = facts
        elif record.package.archive is None:
            record.package = facts  # entry points as fedn.yaml has them now
        index = len(record.invocations) + 1
        invocation = _record_files(
            staged,
            FednInvocation(index, entry_point, started, ended, code),
            model_in,
            model_out,
            stdout,
            stderr,
            resolver,
        )
        record.invocations.append(invocation)
    return LocalRun(invocation, stdout, stderr, staged.path)


def _record_files(
    staged: StagedCrate,
    invocation: FednInvocation,
    model_in: Path | None,
    model_out: Path | None,
    stdout: str,
    stderr: str,
    resolver: MetricResolver,
) -> FednInvocation:
    entry = invocation.entry_point.name
    index = invocation.index
    failed = invocation.exit_code != 0
    fields: dict[str, Any] = {}
    if failed:
        fields["error"] = _error(entry, invocation.exit_code, stderr)
    if model_in is not None and model_in.is_file():
        fields["model_in"] = _model_file(
            staged, model_in, "model", f"Model read by `fedn run {entry}` ({index})."
        )
    if not failed and model_out is not None and model_out.is_file():
        if entry == "validate":
            target = staged.free_path("validations", model_out.name)
            validation = staged.add_file(
                model_out,
                target,
                model_out.name,
                f"Validation metrics written by `fedn run validate` ({index}).",
                "fedn-validation",
            )
            fields["validation"] = validation
            fields["metrics"] = _metrics(model_out, resolver)
        else:
            fields["model_out"] = _model_file(
                staged, model_out, "model", f"Model written by `fedn run {entry}` ({index})."
            )
            sidecar = Path(f"{model_out}-metadata")
            if sidecar.is_file():
                fields["metadata"] = _metadata(sidecar)
                fields["metadata_file"] = staged.add_file(
                    sidecar,
                    fields["model_out"].crate_path + "-metadata",
                    sidecar.name,
                    "Metadata the entry point saved with the model (`save_metadata`): "
                    "num_examples and training settings.",
                    "fedn-model-metadata",
                )
    log = staged.folder / "logs" / f"{index}-{entry}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(
        f"$ fedn run {entry}\n--- stdout ---\n{stdout}--- stderr ---\n{stderr}", encoding="utf-8"
    )
    fields["log"] = staged.add_file(
        log,
        f"logs/{index}-{entry}.log",
        f"Output of `fedn run {entry}` ({index})",
        "stdout and stderr of the run.",
        "fedn-log",
    )
    return FednInvocation(
        index=index,
        entry_point=invocation.entry_point,
        started_at=invocation.started_at,
        ended_at=invocation.ended_at,
        exit_code=invocation.exit_code,
        **fields,
    )
