"""A real FEDn network on loopback, without Docker: what the session tests capture.

Processes (each its own PID, stopped by that PID): an S3-compatible object store
(`moto_server`, PyPI `moto[server]`), the FEDn controller (REST API) and one combiner
sharing a SQLite state store, and two clients running `tests/data/fedn-package`.

FEDn binds its API to 0.0.0.0 and its gRPC servers to [::] with no option to change it;
`_launch.py`-style shims (`LAUNCH_*` below) start the same FEDn code with those binds
rewritten to 127.0.0.1, so nothing here listens beyond loopback.
Run `python -m tests.integration.fedn_network` (fedcrate's venv) to try it by hand.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from fedcrate.capture.fedn.runner import find_fedn, find_fedn_python

PACKAGE = Path(__file__).resolve().parents[1] / "data" / "fedn-package"
REPO = Path(__file__).resolve().parents[2]


def use_fedn() -> Path:
    """FEDn's `fedn` for the tests: `$FEDCRATE_FEDN`, the repo's `.venv-fedn`, or PATH.

    Skips when FEDn is not installed, except in CI, where `.ci/run` installs it.
    """
    local = REPO / ".venv-fedn" / "bin" / "fedn"
    if not os.environ.get("FEDCRATE_FEDN") and local.is_file():
        os.environ["FEDCRATE_FEDN"] = str(local)
    fedn = find_fedn()
    if fedn is None:
        message = (
            "FEDn is not installed: `python3.11 -m venv .venv-fedn && .venv-fedn/bin/pip "
            "install 'fedn==0.33.*' 'moto[server]'` (or set FEDCRATE_FEDN)"
        )
        if os.environ.get("CI"):
            pytest.fail(message)  # CI installs it; missing there is a defect
        pytest.skip(message)
    return fedn


# The controller and the combiner, started from FEDn's own entry functions with their
# listening addresses pinned to loopback.
# fedn 0.33 writes ISO strings ("2026-…Z", str(datetime.now())) into DateTime columns
# (combiner registration, statuses, telemetry) and "True" into Boolean ones (round
# configs); SQLite's types accept only datetime / bool objects, so these shims parse
# such strings first. With MongoDB (FEDn's
# default) the strings pass through unchanged.
SQLITE_DATETIME_FIX = textwrap.dedent(
    """
    from datetime import datetime as _datetime
    from sqlalchemy.dialects.sqlite import base as _sqlite

    _bind_processor = _sqlite.DATETIME.bind_processor

    def _accepting_strings(self, dialect):
        process = _bind_processor(self, dialect)

        def coerce(value):
            if isinstance(value, str):
                value = _datetime.fromisoformat(value.replace("Z", "+00:00"))
            return process(value) if process else value

        return coerce

    _sqlite.DATETIME.bind_processor = _accepting_strings

    # The combiner's round config arrives as strings ("True"); SQL Boolean wants bools.
    from sqlalchemy.sql import sqltypes as _types

    _bool_processor = _types.Boolean.bind_processor

    def _bool_accepting_strings(self, dialect):
        process = _bool_processor(self, dialect)

        def coerce(value):
            if isinstance(value, str) and value.lower() in ("true", "false"):
                value = value.lower() == "true"
            return process(value) if process else value

        return coerce

    _types.Boolean.bind_processor = _bool_accepting_strings
    """
)
LAUNCH_CONTROLLER = SQLITE_DATETIME_FIX + textwrap.dedent(
    """
    import sys
    from fedn.common.config import get_controller_config, get_modelstorage_config
    from fedn.common.config import get_network_config, get_statestore_config
    from fedn.network.api import server
    from fedn.network.controller.control import Control
    from fedn.network.storage.dbconnection import DatabaseConnection
    from fedn.network.storage.s3.repository import Repository

    # fedn 0.33's client posts `preferred_combiner`, the API reads `combiner_preferred`,
    # so a new client row gets NULL in a NOT NULL column of the SQL state store.
    from fedn.network.storage.statestore.stores.client_store import SQLClientStore

    _client_add = SQLClientStore.add

    def _add_client(self, item):
        if getattr(item, "combiner_preferred", "") is None:
            item.combiner_preferred = ""
        return _client_add(self, item)

    SQLClientStore.add = _add_client

    config = get_controller_config()
    db = DatabaseConnection(get_statestore_config(), get_network_config(), connect=False)
    storage = get_modelstorage_config()
    repository = Repository(storage["storage_config"], storage_type=storage["storage_type"])
    Control.create_instance(get_network_config(), repository, db)
    db.initialize_connection()
    server.app.run(debug=False, use_reloader=False, host="127.0.0.1", port=int(config["port"]))
    """
)
LAUNCH_LOOPBACK_GRPC = SQLITE_DATETIME_FIX + textwrap.dedent(
    """
    import sys
    import grpc._server

    _add = grpc._server._Server.add_insecure_port

    def _loopback(self, address):
        return _add(self, address.replace("[::]:", "127.0.0.1:"))

    grpc._server._Server.add_insecure_port = _loopback

    from fedn.cli.main import main
    sys.argv = ["fedn", *sys.argv[1:]]
    main()
    """
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_port(port: int, process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"port {port} not open after {timeout} s:\n{log.read_text()[-3000:]}")


@dataclass
class FednNetwork:
    """A running network: where its API answers, and the processes to stop."""

    root: Path
    python: Path
    api_port: int = 0
    combiner_port: int = 0
    s3_port: int = 0
    env: dict[str, str] = field(default_factory=dict)
    processes: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)

    def start(self, name: str, args: list[str], cwd: Path, extra: dict[str, str] | None = None):
        log = self.root / f"{name}.log"
        handle = log.open("wb")
        env = {**self.env, **(extra or {})}
        process = subprocess.Popen(
            [str(self.python), *args],
            cwd=cwd,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes.append((name, process))
        return process, log

    def stop(self) -> None:
        for _name, process in reversed(self.processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)  # its own session: it and its children
        for _name, process in reversed(self.processes):
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)


def _settings(root: Path, api_port: int, s3_port: int) -> Path:
    path = root / "settings.yaml"
    path.write_text(
        textwrap.dedent(
            f"""
            network_id: fedcrate-test
            controller:
              host: 127.0.0.1
              port: {api_port}
              debug: False
            statestore:
              type: SQLite
              sqlite_config:
                dbname: {root / "state.db"}
            storage:
              storage_type: BOTO3
              storage_config:
                storage_endpoint: http://127.0.0.1:{s3_port}
                storage_access_key: testing
                storage_secret_key: testing
                storage_bucket: fedn-models
                context_bucket: fedn-context
                storage_secure_mode: False
                storage_verify_ssl: False
            """
        )
    )
    return path


@contextmanager
def fedn_network(root: Path, clients: int = 2) -> Iterator[FednNetwork]:
    """Start the network under `root`; stop every process it started on exit."""
    python = find_fedn_python()
    if python is None:
        raise RuntimeError("FEDn is not installed (set FEDCRATE_FEDN or create .venv-fedn)")
    root.mkdir(parents=True, exist_ok=True)
    net = FednNetwork(root=root, python=python)
    net.api_port, net.combiner_port, net.s3_port = free_port(), free_port(), free_port()
    settings = _settings(root, net.api_port, net.s3_port)
    bin_dir = str(python.parent)
    net.env = {
        "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
        "HOME": str(root),
        "STATESTORE_CONFIG": str(settings),
        "MODELSTORAGE_CONFIG": str(settings),
        "FEDN_CONNECT_API_SECURE": "false",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "FEDN_OBJECT_STORAGE_REGION": "eu-west-1",
        "NO_PROXY": "127.0.0.1,localhost",
        "PYTHONUNBUFFERED": "1",
    }
    try:
        process, log = net.start(
            "s3",
            ["-m", "moto.server", "-H", "127.0.0.1", "-p", str(net.s3_port)],
            root,
        )
        _wait_port(net.s3_port, process, log, 60)
        controller_dir = root / "controller"
        controller_dir.mkdir(exist_ok=True)
        process, log = net.start("controller", ["-c", LAUNCH_CONTROLLER], controller_dir)
        _wait_port(net.api_port, process, log, 90)
        process, log = net.start(
            "combiner",
            [
                "-c",
                LAUNCH_LOOPBACK_GRPC,
                "combiner",
                "start",
                "--host",
                "127.0.0.1",
                "--port",
                str(net.combiner_port),
                "--name",
                "combiner",
            ],
            root,
        )
        _wait_port(net.combiner_port, process, log, 90)
        _upload(net)
        for index in range(clients):
            client_dir = root / f"client-{index}"
            client_dir.mkdir(exist_ok=True)
            net.start(
                f"client-{index}",
                [
                    "-c",
                    LAUNCH_LOOPBACK_GRPC,
                    "client",
                    "start",
                    "--api-url",
                    "http://127.0.0.1",
                    "--api-port",
                    str(net.api_port),
                    "--name",
                    f"client-{index}",
                ],
                client_dir,
                {"FEDN_CLIENT_INDEX": str(index), "FEDN_PACKAGE_EXTRACT_DIR": "package"},
            )
        yield net
    finally:
        net.stop()


def _upload(net: FednNetwork) -> None:
    """Package the test compute package, build its seed model, set both active."""
    work = net.root / "upload"
    work.mkdir(exist_ok=True)
    package_copy = work / "client"
    shutil.copytree(PACKAGE, package_copy, dirs_exist_ok=True)
    with tarfile.open(work / "package.tgz", "w:gz") as tar:
        for path in sorted(package_copy.rglob("*")):
            if path.is_file():
                tar.add(path, arcname=str(path.relative_to(package_copy)))
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(package_copy)!r})
        from model import init_seed
        from fedn import APIClient
        init_seed({str(work / "seed.npz")!r})
        client = APIClient("127.0.0.1", {net.api_port})
        print(client.set_active_package({str(work / "package.tgz")!r}, "numpyhelper", "test"))
        print(client.set_active_model({str(work / "seed.npz")!r}))
        """
    )
    result = subprocess.run(
        [str(net.python), "-c", script],
        env=net.env,
        cwd=work,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode != 0:
        raise RuntimeError(f"upload failed: {result.stdout}\n{result.stderr}")
    (net.root / "upload.log").write_text(result.stdout + result.stderr)


def run_session(net: FednNetwork, rounds: int = 2, timeout: float = 300) -> str:
    """Start a `rounds`-round session on the network, wait until it ends, return its id."""
    script = textwrap.dedent(
        f"""
        import json, time
        from fedn import APIClient
        client = APIClient("127.0.0.1", {net.api_port})
        deadline = time.monotonic() + 120
        while client.get_active_clients().get("count", 0) < 2:
            if time.monotonic() > deadline:
                raise SystemExit("clients did not connect: " + json.dumps(client.get_clients()))
            time.sleep(1)
        # APIClient.start_session leaves `rounds` out of the session config, which the
        # SQL state store requires (NOT NULL): post the same two requests with it.
        import requests
        base = "http://127.0.0.1:{net.api_port}/api/v1/"
        model_id = client.get_active_model()["model_id"]
        config = {{"aggregator": "fedavg", "aggregator_kwargs": None, "round_timeout": 60,
                   "buffer_size": -1, "model_id": model_id, "delete_models_storage": True,
                   "clients_required": 2, "requested_clients": 2, "validate": True,
                   "helper_type": "numpyhelper", "server_functions": None,
                   "rounds": {rounds}}}
        created = requests.post(base + "sessions/", json={{"name": "fedcrate-test",
                                "seed_model_id": model_id, "session_config": config}})
        if created.status_code != 201:
            raise SystemExit("session not created: " + created.text)
        session_id = created.json()["session_id"]
        started = requests.post(base + "sessions/start", json={{"session_id": session_id,
                                "rounds": {rounds}, "round_timeout": 60}}).json()
        deadline = time.monotonic() + {timeout}
        while not client.session_is_finished(session_id):
            if time.monotonic() > deadline:
                raise SystemExit("session did not finish: " + json.dumps(started))
            time.sleep(1)
        # A session is "Finished" when its last model is committed; the clients'
        # validations of that model arrive a moment later.
        deadline = time.monotonic() + 60
        while len(client.get_validations(session_id=session_id).get("result", [])) < {rounds} * 2:
            if time.monotonic() > deadline:
                raise SystemExit("validations missing after the session finished")
            time.sleep(0.5)
        print(session_id)
        """
    )
    result = subprocess.run(
        [str(net.python), "-c", script],
        env=net.env,
        cwd=net.root,
        capture_output=True,
        text=True,
        timeout=timeout + 150,
    )
    if result.returncode != 0:
        raise RuntimeError(f"session failed: {result.stdout}\n{result.stderr}")
    return result.stdout.strip().splitlines()[-1]


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/fedn-network")
    with fedn_network(target) as network:
        print("API on", network.api_port, flush=True)
        session = run_session(network)
        print("session", session, flush=True)
        dumper = Path(__file__).resolve().parents[2] / "src/fedcrate/fedn/session_dump.py"
        dumped = subprocess.run(
            [
                str(network.python),
                str(dumper),
                "127.0.0.1",
                str(network.api_port),
                session,
                "--download",
                str(target),
            ],
            env=network.env,
            capture_output=True,
            text=True,
            check=True,
        )
        (target / "session.json").write_text(dumped.stdout)
        print("dumped to", target / "session.json", flush=True)
