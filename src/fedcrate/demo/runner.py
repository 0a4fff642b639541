"""Run the bundled Flower demo app in a private local simulation and return its crate.

Isolation rules (each one prevents a concrete failure):

* A private ``FLWR_HOME`` per run: ``flwr`` reads connections from
  ``$FLWR_HOME/config.toml`` and installs apps under ``$FLWR_HOME/apps``; the
  user's ``~/.flwr`` is never read or written.
* Our own ``flower-superlink --simulation`` on a free 127.0.0.1 port, started
  by us (we own its PID). Flower's ``:local:`` connection would instead start a
  detached SuperLink on a fixed port that outlives the run and is shared with
  any other ``flwr run`` on the machine.
* The app is copied to a temp dir before ``flwr run``, which may migrate
  (rewrite) the app's ``pyproject.toml``; the installed package stays pristine.
* Every process started for the run is stopped by PID afterwards (see
  :mod:`fedcrate.demo._procs`), on success, on error and on KeyboardInterrupt.
"""

from __future__ import annotations

import collections
import importlib.util
import json
import os
import re
import shutil
import site
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO

from fedcrate.demo._procs import ProcessGroupTracker, stop_popen
from fedcrate.errors import DemoError, MissingExtra

APP_DIR = Path(__file__).resolve().parent / "app"
CRATE_METADATA = "ro-crate-metadata.json"
CONNECTION_NAME = "fedcrate-demo"
MARKER_VAR = "FEDCRATE_DEMO_RUN_ID"

_TAIL_LINES = 60
_GRACE_S = 10.0  # for processes we launched: SuperLink stops SuperExec and its tree
_STRAGGLER_GRACE_S = 5.0  # then for Ray leftovers; Ray's agents ignore SIGTERM anyway
_SUPERLINK_START_S = 30.0
_PORT_ATTEMPTS = 3
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_RUN_ID = re.compile(r"Successfully started run (\d+)")

Logger = Callable[[str], None]


@dataclass(frozen=True)
class DemoResult:
    """Outcome of :func:`run_demo` / :func:`run_app`."""

    crate_dir: Path
    elapsed_s: float
    """Seconds of this app's `flwr run` (the federation's start-up not included)."""
    stdout_tail: str
    leftover_pids: tuple[int, ...] = field(default=())
    run_id: str | None = None
    """Flower's run id, as `flwr run` reported it."""
    flwr_ls: dict[str, object] | None = None
    """The run as `flwr ls --run-id … --format json` described it."""


@dataclass(frozen=True)
class AppRun:
    """One app for :func:`run_apps`: its folder, the crate folder and its run config."""

    app_dir: Path
    out_dir: Path
    run_config: Mapping[str, str | int | float | bool] = field(default_factory=dict)


@dataclass(frozen=True)
class _Workdir:
    """Per-call scratch layout (Flower's home, Ray's files, the apps' copies), removed
    after a successful call."""

    root: Path
    flwr_home: Path
    ray_tmp: Path
    superlink_log: Path


def run_demo(
    out_dir: Path,
    rounds: int = 3,
    nodes: int = 2,
    *,
    timeout: float = 600,
    log: Logger | None = None,
    preview: bool = True,
    flower_log: Logger | None = None,
) -> DemoResult:
    """Run the demo app with ``nodes`` simulated SuperNodes for ``rounds`` rounds.

    The ServerApp's :class:`~fedcrate.FLCrateTracker` writes the crate under
    ``out_dir``; the newest crate folder written during this call is returned.
    Stopping the processes after a failure can take up to ~20 s more when Ray is mid-run.
    ``log`` receives the runner's own notes, and every line of Flower's output unless
    ``flower_log`` is given, which then receives those.
    On success the scratch dir (FLWR_HOME, SuperLink log, Ray's files) is removed;
    on failure it is kept for inspection and the error message names it.

    Raises:
        DemoError: the run failed, or did not finish within ``timeout`` seconds.
        MissingExtra: Flower or scikit-learn is not installed (the `demo` extra).
    """
    _require("flwr", "sklearn", "numpy")
    _check_args(rounds, nodes, timeout)
    config = {"num-server-rounds": rounds, "min-nodes": nodes, "crate-preview": preview}
    return run_app(
        APP_DIR, out_dir, config, nodes=nodes, timeout=timeout, log=log, flower_log=flower_log
    )


def _require(*modules: str) -> None:
    """Fail before starting anything when the demo extra is not installed."""
    missing = [name for name in modules if importlib.util.find_spec(name) is None]
    if missing:
        raise MissingExtra(
            f"the demo needs Flower and scikit-learn ({', '.join(missing)} missing); "
            "install them with: pip install 'fedcrate[demo]'"
        )


def run_app(
    app_dir: Path,
    out_dir: Path,
    run_config: Mapping[str, str | int | float | bool],
    *,
    nodes: int = 2,
    mode: str = "simulation",
    timeout: float = 600,
    log: Logger | None = None,
    node_env: Callable[[int], Mapping[str, str]] | None = None,
    flower_log: Logger | None = None,
) -> DemoResult:
    """Run any Flower app whose run config has a `crate-dir` key, and return its crate.

    ``mode="simulation"``: our own ``flower-superlink --simulation`` with ``nodes``
    simulated SuperNodes. ``mode="deployment"``: a ``flower-superlink`` and ``nodes``
    real ``flower-supernode`` processes on 127.0.0.1 (own ports, ``--insecure``), each
    with ``partition-id`` / ``num-partitions`` in its node config and ``node_env(i)``
    added to its environment. Isolation and clean-up as described in the module doc.

    Raises:
        DemoError: the run failed, or did not finish within ``timeout`` seconds.
        MissingExtra: Flower is not installed.
    """
    [outcome] = run_apps(
        [AppRun(Path(app_dir), Path(out_dir), run_config)],
        nodes=nodes,
        mode=mode,
        timeout=timeout,
        log=log,
        node_env=node_env,
        flower_log=flower_log,
    )
    if isinstance(outcome, DemoError):
        raise outcome
    return outcome


def run_apps(
    apps: Sequence[AppRun],
    *,
    nodes: int = 2,
    mode: str = "simulation",
    timeout: float = 600,
    log: Logger | None = None,
    node_env: Callable[[int], Mapping[str, str]] | None = None,
    flower_log: Logger | None = None,
) -> list[DemoResult | DemoError]:
    """Run several apps one after another on one local federation (as :func:`run_app`).

    The SuperLink (and, in a deployment, the SuperNodes) start once and serve every
    ``flwr run``, so a second app costs its own run only, not a second start-up of the
    federation. One outcome per app, in order: its `DemoResult`, or the `DemoError` saying
    why it failed (the next app still runs). ``timeout`` covers the whole call.
    ``log`` receives the runner's notes, and Flower's output unless ``flower_log`` is given.

    Raises:
        DemoError: the federation itself could not start (then no app ran).
        MissingExtra: Flower is not installed.
    """
    if mode not in ("simulation", "deployment"):
        raise ValueError(f"mode must be 'simulation' or 'deployment', got {mode!r}")
    _require("flwr")
    _check_args(1, nodes, timeout)
    emit: Logger = log or (lambda _line: None)
    flower_emit: Logger = flower_log or emit
    started = time.monotonic()
    deadline = started + timeout
    bin_dir = _flower_bin_dir()

    work = _make_workdir()
    marker = uuid.uuid4().hex
    env = _child_env(work, bin_dir, marker)
    procs = ProcessGroupTracker(f"{MARKER_VAR}={marker}")
    launched: list[subprocess.Popen[bytes]] = []
    outcomes: list[DemoResult | DemoError] = []
    succeeded = False
    simulation = mode == "simulation"
    try:
        port = _start_superlink(work, bin_dir, env, procs, launched, deadline, emit, simulation)
        emit(f"SuperLink (pid {launched[-1].pid}) listening on 127.0.0.1:{port}")
        if not simulation:
            _start_supernodes(work, bin_dir, env, port, nodes, node_env, procs, launched)
            _wait_for_nodes(bin_dir, env, nodes, deadline, emit)
        for index, app in enumerate(apps):
            try:
                outcomes.append(
                    _run_one(
                        work, index, app, bin_dir, env, nodes if simulation else None,
                        procs, launched, deadline, emit, flower_emit,
                    )
                )  # fmt: skip
            except DemoError as exc:
                outcomes.append(exc)
        succeeded = all(isinstance(o, DemoResult) for o in outcomes)
    finally:
        leftovers = _shutdown(procs, launched, emit)
        if not succeeded:  # also on KeyboardInterrupt, which carries no message
            emit(f"scratch files kept for inspection in {work.root}")
    if succeeded:
        _remove(work.root)
        crates = ", ".join(str(o.crate_dir) for o in outcomes if isinstance(o, DemoResult))
        emit(f"demo finished in {time.monotonic() - started:.1f} s; crate at {crates}")
    # Every app's result names the processes that outlived the federation's shutdown.
    return [
        replace(outcome, leftover_pids=leftovers) if isinstance(outcome, DemoResult) else outcome
        for outcome in outcomes
    ]


def _run_one(
    work: _Workdir,
    index: int,
    app: AppRun,
    bin_dir: Path,
    env: dict[str, str],
    nodes: int | None,
    procs: ProcessGroupTracker,
    launched: list[subprocess.Popen[bytes]],
    deadline: float,
    emit: Logger,
    flower_emit: Logger,
) -> DemoResult:
    """`flwr run` one app on the running federation; its crate, or a `DemoError`."""
    started, started_wall = time.monotonic(), time.time()
    out_dir = Path(app.out_dir).expanduser().resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    crates_before = _crate_dirs(out_dir)
    app_copy, run_config = _copy_app(work, Path(app.app_dir), index)
    _write_run_config(run_config, {**app.run_config, "crate-dir": str(out_dir)})
    tail: collections.deque[str] = collections.deque(maxlen=_TAIL_LINES)
    returncode, run_id = _flwr_run(
        app_copy, run_config, bin_dir, env, nodes, procs, launched, deadline, tail, flower_emit
    )
    listed = _run_listing(bin_dir, env, run_id, deadline) if run_id else None
    status = str(listed.get("status")) if listed and listed.get("status") else None
    emit(f"Flower run {run_id}: {status or 'status unknown'}")
    crate = _new_crate(out_dir, crates_before, started_wall)
    if crate is None or returncode != 0 or (status and not status.endswith("completed")):
        raise DemoError(_failure_message(returncode, status, crate, out_dir, work, tail))
    return DemoResult(crate, time.monotonic() - started, "\n".join(tail), (), run_id, listed)


def _check_args(rounds: int, nodes: int, timeout: float) -> None:
    if rounds < 1:
        raise ValueError(f"rounds must be >= 1, got {rounds}")
    if nodes < 1:
        raise ValueError(f"nodes must be >= 1, got {nodes}")
    if timeout <= 0:
        raise ValueError(f"timeout must be > 0, got {timeout}")


def _flower_bin_dir() -> Path:
    """Directory with ``flwr`` and ``flower-superlink`` of *this* interpreter's environment.

    Not ``Path(sys.executable).resolve()``: a venv's python is a symlink to the
    base interpreter, and resolving it would leave the venv.
    """
    bin_dir = Path(sys.executable).parent
    scripts = ("flwr", "flower-superlink", "flower-superexec", "flwr-simulation")
    missing = [s for s in scripts if shutil.which(s, path=str(bin_dir)) is None]
    if missing:
        raise DemoError(
            f"Flower executables {missing} not found next to {sys.executable}; "
            "install the demo extra: pip install 'fedcrate[demo]'"
        )
    return bin_dir


def _make_workdir() -> _Workdir:
    # Short root under /tmp: Ray puts Unix sockets in its temp dir and socket paths
    # are limited to ~107 bytes (macOS' default TMPDIR is already ~50 bytes long).
    base = "/tmp" if os.name == "posix" and os.path.isdir("/tmp") else None
    root = Path(tempfile.mkdtemp(prefix="fcdemo-", dir=base))
    flwr_home = root / "flwr-home"
    ray_tmp = root / "ray"
    flwr_home.mkdir()
    ray_tmp.mkdir()
    return _Workdir(
        root=root,
        flwr_home=flwr_home,
        ray_tmp=ray_tmp,
        superlink_log=flwr_home / "superlink.log",
    )


def _copy_app(work: _Workdir, app_dir: Path, index: int) -> tuple[Path, Path]:
    """A private copy of the app (`flwr run` may rewrite its pyproject) and its run config."""
    suffix = f"-{index + 1}" if index else ""
    app = work.root / f"app{suffix}"
    shutil.copytree(
        app_dir, app, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.fab", ".*_cache")
    )
    return app, work.root / f"run-config{suffix}.toml"


def _toml_str(value: str) -> str:
    # JSON string escapes are a subset of TOML basic-string escapes.
    return json.dumps(value, ensure_ascii=False)


def _write_run_config(path: Path, config: Mapping[str, str | int | float | bool]) -> None:
    """Run-config overrides as a TOML file: no shell/regex quoting issues with odd paths.

    ``flwr run --run-config FILE.toml`` loads the file instead of ``k=v`` pairs;
    only keys declared in the app's ``[tool.flwr.app.config]`` are accepted.
    """
    lines = []
    for key, value in config.items():
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, (int, float)):
            text = repr(value)
        else:
            text = _toml_str(str(value))
        lines.append(f"{_toml_str(key)} = {text}\n")
    path.write_text("".join(lines), encoding="utf-8")


def _write_flower_config(flwr_home: Path, port: int) -> None:
    """Point the only (and default) connection at our SuperLink's Control API."""
    (flwr_home / "config.toml").write_text(
        "[superlink]\n"
        f'default = "{CONNECTION_NAME}"\n'
        "\n"
        f"[superlink.{CONNECTION_NAME}]\n"
        f'address = "127.0.0.1:{port}"\n'
        "insecure = true\n",
        encoding="utf-8",
    )


def _child_env(work: _Workdir, bin_dir: Path, marker: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("RAY_ADDRESS", None)  # would make ray.init() join an existing cluster
    env.update(
        {
            "FLWR_HOME": str(work.flwr_home),
            # The SuperLink starts flower-superexec / flwr-simulation by name.
            "PATH": os.pathsep.join([str(bin_dir), env.get("PATH", "")]),
            # Run the app in this environment instead of `uv sync`-ing a new one.
            "FLWR_DISABLE_RUNTIME_DEPENDENCY_INSTALLATION": "1",
            # No network: no update check, no telemetry, no Ray usage stats.
            "FLWR_DISABLE_UPDATE_CHECK": "1",
            "FLWR_TELEMETRY_ENABLED": "0",
            "RAY_USAGE_STATS_ENABLED": "0",
            # Ray's session files, sockets and logs go to our scratch dir, not /tmp/ray.
            "RAY_TMPDIR": str(work.ray_tmp),
            # Makes Ray use the loopback address as node IP instead of probing a route.
            "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
            "NO_PROXY": ",".join(filter(None, [env.get("NO_PROXY"), "127.0.0.1", "localhost"])),
            "PYTHONUNBUFFERED": "1",
            MARKER_VAR: marker,
        }
    )
    env["no_proxy"] = env["NO_PROXY"]
    _expose_fedcrate(env)
    return env


def _expose_fedcrate(env: dict[str, str]) -> None:
    """Make the ServerApp import the same ``fedcrate`` as this process.

    Needed when fedcrate runs from a source tree; skipped for site-packages,
    where prepending the whole directory to PYTHONPATH could shadow the stdlib.
    """
    root = Path(__file__).resolve().parents[2]
    site_dirs = {Path(p).resolve() for p in [*site.getsitepackages(), site.getusersitepackages()]}
    if root in site_dirs:
        return
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _spawn(
    cmd: list[str], env: dict[str, str], stdout: IO[bytes] | int, cwd: Path
) -> subprocess.Popen[bytes]:
    # Own session: a terminal Ctrl-C reaches only us, and we stop children in order.
    return subprocess.Popen(
        cmd,
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _start_superlink(
    work: _Workdir,
    bin_dir: Path,
    env: dict[str, str],
    procs: ProcessGroupTracker,
    launched: list[subprocess.Popen[bytes]],
    deadline: float,
    emit: Logger,
    simulation: bool = True,
) -> int:
    """Start a SuperLink on a free loopback port; retry if the port was taken.

    In flwr 1.42 one HTTP port serves the Runtime, Fleet and Control APIs.
    """
    for attempt in range(1, _PORT_ATTEMPTS + 1):
        port = _free_port()
        cmd = [
            str(bin_dir / "flower-superlink"),
            "--insecure",  # loopback only; no TLS material for a throwaway run
            *(["--simulation"] if simulation else ["--database", str(work.root / "state.db")]),
            "--isolation", "subprocess",
            "--host", "127.0.0.1",
            "--port", str(port),
            "--disable-runtime-dependency-installation",
        ]  # fmt: skip
        with work.superlink_log.open("ab") as log_file:
            proc = _spawn(cmd, env, log_file, cwd=work.root)
        launched.append(proc)
        procs.add_root(proc.pid)
        if _wait_healthy(proc, port, min(deadline, time.monotonic() + _SUPERLINK_START_S)):
            _write_flower_config(work.flwr_home, port)
            return port
        stop_popen(proc, _GRACE_S)
        emit(f"SuperLink attempt {attempt} on port {port} failed (exit code {proc.returncode})")
    raise DemoError(
        f"flower-superlink did not become ready; see {work.superlink_log}:\n"
        + _tail_of_file(work.superlink_log)
    )


def _start_supernodes(
    work: _Workdir,
    bin_dir: Path,
    env: dict[str, str],
    superlink_port: int,
    nodes: int,
    node_env: Callable[[int], Mapping[str, str]] | None,
    procs: ProcessGroupTracker,
    launched: list[subprocess.Popen[bytes]],
) -> None:
    """Start `nodes` SuperNodes on loopback, each on its own free port."""
    for index in range(nodes):
        cmd = [
            str(bin_dir / "flower-supernode"),
            "--insecure",
            "--superlink", f"127.0.0.1:{superlink_port}",
            "--host", "127.0.0.1",
            "--port", str(_free_port()),
            "--node-config", f"partition-id={index} num-partitions={nodes}",
        ]  # fmt: skip
        node_vars = {**env, **(dict(node_env(index)) if node_env else {})}
        with (work.flwr_home / f"supernode-{index}.log").open("ab") as log_file:
            proc = _spawn(cmd, node_vars, log_file, cwd=work.root)
        launched.append(proc)
        procs.add_root(proc.pid)


def _wait_for_nodes(
    bin_dir: Path, env: dict[str, str], nodes: int, deadline: float, emit: Logger
) -> None:
    """Wait until the SuperLink lists `nodes` online SuperNodes (so the run sees them all)."""
    cmd = [str(bin_dir / "flwr"), "supernode", "ls", CONNECTION_NAME, "--format", "json"]
    limit = min(deadline, time.monotonic() + _SUPERLINK_START_S * 2)
    online = 0
    while time.monotonic() < limit:
        try:
            out = subprocess.run(
                cmd, env=env, capture_output=True, text=True, timeout=30, check=False
            ).stdout
            listed = json.loads(out).get("nodes", [])
            online = sum(1 for n in listed if str(n.get("status", "")).lower() == "online")
        except (subprocess.TimeoutExpired, json.JSONDecodeError, AttributeError):
            online = 0
        if online >= nodes:
            emit(f"{online} SuperNodes online")
            return
        time.sleep(1.0)
    raise DemoError(f"only {online} of {nodes} SuperNodes came online; see their logs")


def _wait_healthy(proc: subprocess.Popen[bytes], port: int, deadline: float) -> bool:
    # A proxy-free opener: a configured HTTP proxy must not see loopback requests.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    url = f"http://127.0.0.1:{port}/health"
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with opener.open(url, timeout=1.0) as response:
                if response.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    return False


def _flwr_run(
    app: Path,
    run_config: Path,
    bin_dir: Path,
    env: dict[str, str],
    nodes: int | None,
    procs: ProcessGroupTracker,
    launched: list[subprocess.Popen[bytes]],
    deadline: float,
    tail: collections.deque[str],
    emit: Logger,
) -> tuple[int, str | None]:
    """Submit the app and stream its logs until the run ends; return (exit code, run id).

    `nodes` sizes a simulation; None for a deployment (its SuperNodes are already up).
    """
    cmd = [
        str(bin_dir / "flwr"), "run", str(app), CONNECTION_NAME, "--stream",
        "--run-config", str(run_config),
    ]  # fmt: skip
    if nodes is not None:
        # 1 CPU per ClientApp so that two nodes train in parallel on a 2-core machine.
        cmd += ["--federation-config", f"num-supernodes={nodes} client-resources-num-cpus=1"]
    proc = _spawn(cmd, env, subprocess.PIPE, cwd=app.parent)
    launched.append(proc)
    procs.add_root(proc.pid)
    run_id: list[str] = []
    reader = threading.Thread(target=_pump, args=(proc, tail, emit, run_id), daemon=True)
    reader.start()
    try:
        returncode = proc.wait(timeout=max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired as err:
        raise DemoError(
            f"Flower run did not finish before the demo timeout; scratch files kept in "
            f"{app.parent}. Last Flower output:\n" + "\n".join(tail)
        ) from err
    finally:
        procs.refresh()  # remember the tree while it is still connected
    reader.join(timeout=5)
    return returncode, (run_id[0] if run_id else None)


def _pump(
    proc: subprocess.Popen[bytes], tail: collections.deque[str], emit: Logger, run_id: list[str]
) -> None:
    assert proc.stdout is not None
    for raw in proc.stdout:
        line = _ANSI.sub("", raw.decode("utf-8", errors="replace")).rstrip()
        tail.append(line)
        if not run_id and (match := _RUN_ID.search(line)):
            run_id.append(match.group(1))
        try:
            emit(line)
        except Exception:  # a broken callback must not stop draining: a full pipe blocks flwr
            emit = _ignore


def _run_listing(
    bin_dir: Path, env: dict[str, str], run_id: str, deadline: float
) -> dict[str, object] | None:
    """The run as ``flwr ls`` reports it (status ``finished:completed`` etc.), or None."""
    cmd = [str(bin_dir / "flwr"), "ls", CONNECTION_NAME, "--run-id", run_id, "--format", "json"]
    try:
        out = subprocess.run(
            cmd,
            env=env,
            capture_output=True,
            text=True,
            timeout=max(5.0, min(30.0, deadline - time.monotonic())),
            check=False,
        ).stdout
        runs = json.loads(out).get("runs", [])
    except (subprocess.TimeoutExpired, json.JSONDecodeError, AttributeError):
        return None
    first = runs[0] if runs else None
    return dict(first) if isinstance(first, dict) else None


def _crate_dirs(out_dir: Path) -> dict[Path, float]:
    """Direct sub-folders of ``out_dir`` holding a crate, with the metadata's mtime."""
    if not out_dir.is_dir():
        return {}
    found: dict[Path, float] = {}
    for child in out_dir.iterdir():
        meta = child / CRATE_METADATA
        if meta.is_file():
            found[child] = meta.stat().st_mtime
    return found


def _new_crate(out_dir: Path, before: dict[Path, float], started_wall: float) -> Path | None:
    """The newest crate folder created (or rewritten) since ``started_wall``."""
    fresh = {
        path: mtime
        for path, mtime in _crate_dirs(out_dir).items()
        if path not in before or mtime > before[path] or mtime >= started_wall
    }
    return max(fresh, key=fresh.__getitem__) if fresh else None


def _failure_message(
    returncode: int,
    status: str | None,
    crate: Path | None,
    out_dir: Path,
    work: _Workdir,
    tail: collections.deque[str],
) -> str:
    reasons = []
    if returncode != 0:
        reasons.append(f"`flwr run` exited with code {returncode}")
    if status and not status.endswith("completed"):
        reasons.append(f"the Flower run ended as {status}")
    if crate is None:
        reasons.append(f"no new {CRATE_METADATA} was written under {out_dir}")
    note = f"A crate was still written (it records the failed run): {crate}\n" if crate else ""
    return (
        "fedcrate demo failed: "
        + "; ".join(reasons)
        + ".\n"
        + note
        + f"Scratch files kept in {work.root} (SuperLink log: {work.superlink_log}).\n"
        "Last Flower output:\n" + "\n".join(tail)
    )


def _shutdown(
    procs: ProcessGroupTracker, launched: list[subprocess.Popen[bytes]], emit: Logger
) -> tuple[int, ...]:
    """Stop the CLI first, then the SuperLink (which stops its SuperExec), then stragglers."""
    procs.refresh()
    for proc in reversed(launched):
        stop_popen(proc, _GRACE_S)
    survivors = procs.stop_all(_STRAGGLER_GRACE_S, emit)
    if survivors:
        emit(f"WARNING: processes still alive after SIGKILL: {[p.pid for p in survivors]}")
    return tuple(p.pid for p in survivors)


def _ignore(_line: str) -> None:
    return None


def _tail_of_file(path: Path, lines: int = _TAIL_LINES) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(_ANSI.sub("", line) for line in text.splitlines()[-lines:])


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
