"""Regenerate ../flwrcrate-quickstart/: the crate flwrCrate 0.4.0 writes for a real Flower run.

    python tests/data/crates/foreign/flwrcrate-app/make_crate.py [--out DIR] [--nodes 3]

Needs flwr 1.42 (with its simulation extra: Ray) and flwrcrate 0.4.0 in the running
interpreter's environment; runs offline. What it does:

1. copies this app (pyproject.toml + quickstartnumpy/) to a scratch dir under /tmp and
   puts that copy's absolute path in place of server_app.py's ``/absolute/path/to/...``
   placeholder, as flwrCrate's README asks (absolute ``output_dir``/``pyproject_path``);
2. starts its own ``flower-superlink --simulation`` on a free 127.0.0.1 port with a private
   ``FLWR_HOME`` (``~/.flwr`` is neither read nor written) and runs
   ``flwr run APP CONN --stream --federation-config num-supernodes=N``;
3. stops every process of the run by PID (those it launched, the sessions they lead, and
   anything carrying this run's marker in its environment: Ray's processes);
4. copies the crate flwrCrate wrote (``<output_dir>/ro-crate/``) to ``--out``, with every
   occurrence of the scratch dir's absolute path in its JSON files replaced by a placeholder
   (the only edit: the files are otherwise verbatim) and prints each replacement it made; it
   stops without touching ``--out`` if a JSON file still holds an absolute path or a
   secret-looking name. Payload files over 200 kB are left out (and reported).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE.parent / "flwrcrate-quickstart"
APP_FILES = ("pyproject.toml", "quickstartnumpy")
APP_PLACEHOLDER = "/absolute/path/to/flwrcrate-app"
PLACEHOLDER = "/absolute/path/to/flwrcrate-app"  # what the scratch app path becomes
SCRATCH_PLACEHOLDER = "/absolute/path/to/scratch"  # what the rest of the scratch dir becomes
# Property names that look like credentials (flwrCrate copies the run config verbatim).
SECRET_NAME = re.compile(r"token|secret|passw|credential|api[-_]?key", re.IGNORECASE)
CONNECTION = "flwrcrate-quickstart"
MARKER_VAR = "FLWRCRATE_QUICKSTART_RUN"
LARGE_PAYLOAD = 200_000  # bytes; larger payload files are left out of the copy


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthy(port: int) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"http://127.0.0.1:{port}/health", timeout=1.0) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _proc_table() -> dict[int, tuple[int, int, str]]:
    """pid -> (ppid, session id, start time) from /proc."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2 :].split()
        if fields[0] not in "ZX":
            table[int(entry.name)] = (int(fields[1]), int(fields[3]), fields[19])
    return table


class RunProcesses:
    """The processes of this run: launched by us, in sessions they lead, or marked."""

    def __init__(self, marker: str) -> None:
        self.marker = marker.encode()
        self.roots: list[subprocess.Popen[bytes]] = []
        self.seen: dict[int, str] = {}  # pid -> start time (guards against PID reuse)
        self.sessions: set[int] = set()

    def refresh(self) -> dict[int, str]:
        table = _proc_table()
        ours = {p.pid for p in self.roots if p.pid in table}
        grew = True
        while grew:  # descendants of ours
            new = {pid for pid, (ppid, _, _) in table.items() if ppid in ours} - ours
            ours |= new
            grew = bool(new)
        for pid in table:
            with contextlib.suppress(OSError):
                if self.marker in (Path("/proc") / str(pid) / "environ").read_bytes().split(b"\0"):
                    ours.add(pid)
        self.sessions |= {pid for pid in ours if table[pid][1] == pid} - {os.getsid(0)}
        ours |= {pid for pid, (_, sid, _) in table.items() if sid in self.sessions}
        ours.discard(os.getpid())
        for pid in ours:
            self.seen.setdefault(pid, table[pid][2])
        return {pid: s for pid, s in self.seen.items() if pid in table and table[pid][2] == s}

    def stop(self) -> None:
        self.refresh()
        for proc in reversed(self.roots):  # flwr CLI first, then the SuperLink
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=5)
        for sig, grace in ((None, 10.0), (signal.SIGTERM, 10.0), (signal.SIGKILL, 3.0)):
            alive = self.refresh()
            if sig is not None:
                for pid in alive:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, sig)
            deadline = time.monotonic() + grace
            while alive and time.monotonic() < deadline:
                time.sleep(0.2)
                alive = self.refresh()
            if not alive:
                return
        print(f"WARNING: still alive: {sorted(alive)}", file=sys.stderr)


def _env(flwr_home: Path, ray_tmp: Path, marker: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("RAY_ADDRESS", None)  # would make ray.init() join an existing cluster
    bin_dir = str(Path(sys.executable).parent)  # flwr, flower-superlink, flwr-simulation
    env.update(
        {
            "FLWR_HOME": str(flwr_home),
            "PATH": os.pathsep.join([bin_dir, env.get("PATH", "")]),
            "FLWR_DISABLE_RUNTIME_DEPENDENCY_INSTALLATION": "1",
            "FLWR_DISABLE_UPDATE_CHECK": "1",
            "FLWR_TELEMETRY_ENABLED": "0",
            "RAY_USAGE_STATS_ENABLED": "0",
            "RAY_TMPDIR": str(ray_tmp),
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
            "PYTHONUNBUFFERED": "1",
            MARKER_VAR: marker,
        }
    )
    return env


def run(nodes: int, scratch: Path) -> Path:
    """Run the app in a private simulation; return flwrCrate's crate directory."""
    app = scratch / "app"
    app.mkdir()
    for name in APP_FILES:
        src = HERE / name
        if src.is_dir():
            shutil.copytree(src, app / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, app / name)
    server_app = app / "quickstartnumpy" / "server_app.py"
    text = server_app.read_text(encoding="utf-8")
    assert APP_PLACEHOLDER in text
    server_app.write_text(text.replace(APP_PLACEHOLDER, str(app)), encoding="utf-8")

    flwr_home, ray_tmp = scratch / "flwr-home", scratch / "ray"
    flwr_home.mkdir()
    ray_tmp.mkdir()
    marker = uuid.uuid4().hex
    env = _env(flwr_home, ray_tmp, marker)
    procs = RunProcesses(f"{MARKER_VAR}={marker}")
    try:
        port = _free_port()
        superlink_cmd = [
            "flower-superlink", "--insecure", "--simulation", "--isolation", "subprocess",
            "--host", "127.0.0.1", "--port", str(port),
            "--disable-runtime-dependency-installation",
        ]  # fmt: skip
        with (scratch / "superlink.log").open("ab") as log:
            superlink = subprocess.Popen(
                superlink_cmd,
                env=env,
                cwd=scratch,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        procs.roots.append(superlink)
        deadline = time.monotonic() + 60
        while not _healthy(port):
            if superlink.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"flower-superlink did not start; see {scratch / 'superlink.log'}")
            time.sleep(0.3)
        (flwr_home / "config.toml").write_text(
            f'[superlink]\ndefault = "{CONNECTION}"\n\n'
            f'[superlink.{CONNECTION}]\naddress = "127.0.0.1:{port}"\ninsecure = true\n',
            encoding="utf-8",
        )
        cmd = [
            "flwr", "run", str(app), CONNECTION, "--stream",
            "--federation-config", f"num-supernodes={nodes}",
        ]  # fmt: skip
        print("+", " ".join(cmd), flush=True)
        flwr_run = subprocess.Popen(
            cmd, env=env, cwd=scratch, stdin=subprocess.DEVNULL, start_new_session=True
        )
        procs.roots.append(flwr_run)
        procs.refresh()
        code = flwr_run.wait(timeout=900)
        procs.refresh()
        if code != 0:
            sys.exit(f"flwr run exited with {code}; scratch kept in {scratch}")
    finally:
        procs.stop()
    crate = app / "fl_crate_out" / "ro-crate"
    if not (crate / "ro-crate-metadata.json").is_file():
        sys.exit(f"flwrCrate wrote no crate; scratch kept in {scratch}")
    return crate


def _strings(node: object):
    """Every string (keys and values) in a parsed JSON document."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield key
            yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)


def _check(rel: Path, text: str) -> None:
    """Refuse to publish an absolute path or a secret-looking property that is still there."""
    for value in _strings(json.loads(text)):
        if value.startswith("/") and not value.startswith((PLACEHOLDER, SCRATCH_PLACEHOLDER)):
            sys.exit(f"{rel}: absolute path {value!r} left in the crate: add a placeholder")
        if SECRET_NAME.search(value):
            sys.exit(f"{rel}: secret-looking name {value!r} in the crate: redact it")


def publish(crate: Path, scratch: Path, out: Path) -> None:
    """Copy the crate to ``out``: scratch paths replaced by placeholders, large payloads left out.

    Every file is read and checked before ``out`` is touched.
    """
    needles = {str(scratch / "app"): PLACEHOLDER, str(scratch): SCRATCH_PLACEHOLDER}
    files: dict[Path, bytes] = {}
    for src in sorted(crate.rglob("*")):
        if not src.is_file():
            continue
        rel = src.relative_to(crate)
        size = src.stat().st_size
        if size > LARGE_PAYLOAD and rel.name != "ro-crate-metadata.json":
            print(f"left out {rel} ({size} bytes > {LARGE_PAYLOAD})")
            continue
        data = src.read_bytes()
        if src.suffix == ".json":
            text = data.decode("utf-8")
            for needle, replacement in sorted(needles.items(), key=lambda kv: -len(kv[0])):
                if count := text.count(needle):
                    print(f"edit {rel}: {needle!r} -> {replacement!r} ({count}x)")
                    text = text.replace(needle, replacement)
            _check(rel, text)
            data = text.encode("utf-8")
        files[rel] = data
    if out.exists():
        shutil.rmtree(out)
    for rel, data in files.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_bytes(data)
        print(f"wrote {out / rel} ({len(data)} bytes)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--nodes", type=int, default=3, help="simulated SuperNodes")
    parser.add_argument("--keep", action="store_true", help="keep the scratch dir")
    args = parser.parse_args()
    # Short path under /tmp: Ray's Unix socket paths are limited to ~107 bytes.
    scratch = Path(tempfile.mkdtemp(prefix="flwrcrate-", dir="/tmp"))
    crate = run(args.nodes, scratch)
    publish(crate, scratch, args.out.resolve())
    if not args.keep:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
