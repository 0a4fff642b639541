"""Scale-out against a real Virtuoso 7 (open source): push, shipped queries, logins.

Virtuoso (Debian `virtuoso-opensource`, `tests/tools.sh` installs it) runs for this
module on two free 127.0.0.1 ports from its own database folder, with two accounts made
through `isql-vt`: `writer` (SPARQL_UPDATE) and `reader` (SPARQL_SELECT), each with a
random password. It is stopped with `checkpoint; shutdown;` and then by its PID.

Numbers are compared as numbers: Virtuoso 7.2 prints an `xsd:double` with 6 significant
digits in SPARQL JSON (and `STR()` with 16), so a value must equal the embedded engine's
rounded to one of those precisions. The bearer-token and HTTPS tests use tiny
`http.server`s on 127.0.0.1 instead of Virtuoso (which speaks neither here).
"""

from __future__ import annotations

import base64
import contextlib
import http.server
import json
import math
import os
import secrets
import shutil
import socket
import ssl
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fedcrate.cli import app
from fedcrate.errors import EndpointError
from fedcrate.index import CrateIndex, find_crates
from fedcrate.index.auth import Credentials, HttpClient
from fedcrate.index.quads import crate_nquads
from fedcrate.index.queries import load_named_query, named_queries
from fedcrate.index.remote import UNION_GRAPH, Endpoints, push, remote_query
from fedcrate.index.results import QueryResult, Value
from tests.unit.index.test_store import _finals, write_corpus

pytestmark = pytest.mark.integration

runner = CliRunner()
_MAX_ROWS = 3000  # ResultSetMaxRows: above every shipped query's rows on the corpus
_CREDENTIAL_VARS = ("FEDCRATE_SPARQL_USER", "FEDCRATE_SPARQL_PASSWORD", "FEDCRATE_SPARQL_TOKEN")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


INI = """\
[Database]
DatabaseFile = {db}/virtuoso.db
ErrorLogFile = {db}/virtuoso.log
LockFile = {db}/virtuoso.lck
TransactionFile = {db}/virtuoso.trx
xa_persistent_file = {db}/virtuoso.pxa
MaxCheckpointRemap = 2000
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {db}/virtuoso-temp.db
TransactionFile = {db}/virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DisableUnixSocket = 1
CaseMode = 2
DirsAllowed = ., {load}
NumberOfBuffers = {buffers}
MaxDirtyBuffers = {dirty}
ThreadsPerQuery = 2
CheckpointInterval = 60

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {root}/vsp
ServerThreads = 4
MaxClientConnections = 4
Charset = UTF-8
EnabledGzipContent = 0

[SPARQL]
ResultSetMaxRows = {max_rows}
MaxQueryExecutionTime = 600
MaxQueryCostEstimationTime = 0
"""


@dataclass
class Virtuoso:
    """One throwaway Virtuoso server: its folder, ports, process, and the accounts made."""

    root: Path
    http_port: int
    sql_port: int
    process: subprocess.Popen[bytes]
    passwords: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        """The anonymous SPARQL endpoint, as a user would pass it."""
        return f"http://127.0.0.1:{self.http_port}/sparql"

    @property
    def load_dir(self) -> Path:
        """The folder the bulk loader may read (DirsAllowed)."""
        return self.root / "load"

    def isql(self, statements: str, timeout: float = 600) -> str:
        """Run SQL as dba (the test server's default admin) through isql-vt; fail on errors."""
        done = subprocess.run(
            ["isql-vt", f"127.0.0.1:{self.sql_port}", "dba", "dba", f"exec={statements}"],
            capture_output=True, text=True, timeout=timeout, check=False,
        )  # fmt: skip
        output = done.stdout + done.stderr
        if done.returncode != 0 or "*** Error" in output:
            raise AssertionError(f"isql-vt failed: {output[-2000:]}")
        return output

    def stop(self) -> None:
        """`checkpoint; shutdown;`, then terminate / kill this PID if it is still there."""
        if self.process.poll() is None:
            # shutdown closes the connection mid-statement; the PID decides
            with contextlib.suppress(AssertionError, subprocess.TimeoutExpired):
                self.isql("checkpoint; shutdown;", timeout=60)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.terminate()
                try:
                    self.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()


def virtuoso_binary() -> str | None:
    """`virtuoso-t` if installed (with `isql-vt`, which the fixture needs too)."""
    binary = shutil.which("virtuoso-t")
    return binary if binary and shutil.which("isql-vt") else None


def start_virtuoso(root: Path, *, buffers: int = 20000, max_rows: int = _MAX_ROWS) -> Virtuoso:
    """Start a fresh server in `root` on free 127.0.0.1 ports; wait until it answers."""
    binary = virtuoso_binary()
    assert binary is not None
    for folder in ("db", "load", "vsp"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    http_port, sql_port = _free_port(), _free_port()
    ini = root / "virtuoso.ini"
    ini.write_text(
        INI.format(
            db=root / "db", load=root / "load", root=root, sql_port=sql_port,
            http_port=http_port, buffers=buffers, dirty=buffers * 3 // 4, max_rows=max_rows,
        ),
        encoding="utf-8",
    )  # fmt: skip
    log = (root / "server.log").open("wb")
    process = subprocess.Popen(
        [binary, "+foreground", "+configfile", str(ini)],
        cwd=root / "db", stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    log.close()
    server = Virtuoso(root, http_port, sql_port, process)
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{server.url}?query=ASK%7B%7D", timeout=2):
                break
        except (urllib.error.URLError, OSError):
            if process.poll() is not None or time.monotonic() > deadline:
                server.stop()
                pytest.fail(f"virtuoso-t did not start: {(root / 'server.log').read_text()}")
            time.sleep(0.2)
    return server


@pytest.fixture(scope="module")
def virtuoso(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Virtuoso]:
    if virtuoso_binary() is None:
        message = (
            "Virtuoso is not installed: apt-get install virtuoso-opensource "
            "(tests/tools.sh does it)"
        )
        if os.environ.get("CI"):
            pytest.fail(message)  # CI installs it; missing there is a defect
        pytest.skip(message)
    server = start_virtuoso(tmp_path_factory.mktemp("virtuoso"))
    try:
        server.passwords = {
            "writer": secrets.token_urlsafe(12),
            "reader": secrets.token_urlsafe(12),
        }
        server.isql(
            f"DB.DBA.USER_CREATE('writer', '{server.passwords['writer']}'); "
            'GRANT SPARQL_UPDATE TO "writer"; '
            f"DB.DBA.USER_CREATE('reader', '{server.passwords['reader']}'); "
            'GRANT SPARQL_SELECT TO "reader";'
        )
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_corpus(tmp_path_factory.mktemp("crates"))


@pytest.fixture(scope="module")
def embedded(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CrateIndex]:
    with CrateIndex(corpus, index=tmp_path_factory.mktemp("index")) as index:
        index.refresh()
        yield index


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No credential variables and an empty home: only what a test sets is used."""
    for name in _CREDENTIAL_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("NETRC", raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home


def _writer(server: Virtuoso) -> HttpClient:
    credentials = Credentials("test", user="writer", password=server.passwords["writer"])
    return HttpClient(server.url, credentials)


# -- comparing results: numbers as numbers ---------------------------------------------


def _same_number(remote: float, local: float) -> bool:
    """`remote` is `local` as Virtuoso prints it: exactly, or to 6 or 16 significant digits."""
    if remote == local:
        return True
    return any(remote == float(f"{local:.{digits}g}") for digits in (6, 16)) or math.isclose(
        remote, local, rel_tol=5e-6
    )


def _same_value(remote: Value, local: Value) -> bool:
    if (
        isinstance(remote, float)
        and isinstance(local, (int, float))
        and not isinstance(local, bool)
    ):
        return _same_number(remote, float(local))
    return remote == local


def _same_finals(remote: Value, local: Value) -> bool:
    """run-summary's "side metric=value; …": the same keys, each value the same number."""
    mine, theirs = _finals(remote), _finals(local)
    return mine.keys() == theirs.keys() and all(
        _same_number(mine[key], theirs[key]) for key in mine
    )


def _same_row(columns: list[str], remote: tuple[Value, ...], local: tuple[Value, ...]) -> bool:
    for column, mine, theirs in zip(columns, remote, local, strict=True):
        if column == "finalMetrics" and mine is not None and theirs is not None:
            if not _same_finals(mine, theirs):
                return False
        elif not _same_value(mine, theirs):
            return False
    return True


def assert_same_result(remote: QueryResult, local: QueryResult, name: str) -> None:
    """Equal as multisets of rows, numbers compared as numbers (row order may differ
    among rows the query does not order)."""
    assert remote.columns == local.columns, name
    assert len(remote) == len(local), name

    def key(row: tuple[Value, ...]) -> tuple[str, ...]:
        return tuple(
            "#" if isinstance(value, float) or column == "finalMetrics" else repr(value)
            for column, value in zip(remote.columns, row, strict=True)
        )

    unmatched: dict[tuple[str, ...], list[tuple[Value, ...]]] = {}
    for row in local.rows:
        unmatched.setdefault(key(row), []).append(row)
    for row in remote.rows:
        candidates = unmatched.get(key(row), [])
        match = next(
            (i for i, other in enumerate(candidates) if _same_row(remote.columns, row, other)),
            None,
        )
        assert match is not None, f"{name}: Virtuoso's row {row} is not among the embedded rows"
        candidates.pop(match)
    assert not any(unmatched.values()), name


def _count(server_endpoints: Endpoints, client: HttpClient, text: str) -> int:
    value = remote_query(server_endpoints, text, client=client).rows[0][0]
    assert isinstance(value, int)
    return value


_CRATE_QUADS = (
    'SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } FILTER(STRSTARTS(STR(?g), "arcp:")) }'
)
_DEFAULT_TRIPLES = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


# -- push and the shipped queries ------------------------------------------------------


def test_push_is_idempotent_and_every_shipped_query_equals_embedded(
    virtuoso: Virtuoso, corpus: Path, embedded: CrateIndex
) -> None:
    client = _writer(virtuoso)
    endpoints = Endpoints.from_url(virtuoso.url, authenticated=True)
    assert endpoints.graph_store.endswith("/sparql-graph-crud-auth")
    assert endpoints.default_graph == UNION_GRAPH
    report = push([corpus], endpoints, client=client)
    assert len(report.pushed) == 3 and not report.errors

    quads = _count(endpoints, client, _CRATE_QUADS)
    union = _count(endpoints, client, _DEFAULT_TRIPLES)
    stated = [set(crate_nquads(path)[1].splitlines()) for path in find_crates([corpus])]
    assert quads == sum(len(lines) for lines in stated)  # one graph per crate, whole
    assert union == len(set().union(*stated))  # their merge, not a bag
    assert embedded.query(_DEFAULT_TRIPLES).rows == [(union,)]  # as the embedded index
    again = push([corpus], endpoints, client=client)
    assert len(again.pushed) == 3
    assert _count(endpoints, client, _CRATE_QUADS) == quads  # replaced, not duplicated
    assert _count(endpoints, client, _DEFAULT_TRIPLES) == union

    for name in sorted(named_queries()):
        query = load_named_query(name)
        remote = remote_query(endpoints, query, client=client)
        assert len(remote) > 0, name
        assert_same_result(remote, embedded.query(query), name)
    for metric in ("loss", "accuracy"):
        assert_same_result(
            remote_query(endpoints, "best-runs", {"metric": metric}, client=client),
            embedded.query("best-runs", {"metric": metric}),
            f"best-runs {metric}",
        )


def test_a_cut_result_is_an_error_not_a_short_answer(virtuoso: Virtuoso, corpus: Path) -> None:
    client = _writer(virtuoso)
    endpoints = Endpoints.from_url(virtuoso.url, authenticated=True)
    push([corpus], endpoints, client=client)
    with pytest.raises(EndpointError, match="ResultSetMaxRows"):
        remote_query(endpoints, "SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }", client=client)


def test_a_large_upload_through_digest_is_sent_once_authenticated(virtuoso: Virtuoso) -> None:
    """Virtuoso answers an unauthenticated PUT with 401 and closes before reading the
    body: the client must learn the challenge first (HEAD), not upload twice."""
    client = _writer(virtuoso)
    endpoints = Endpoints.from_url(virtuoso.url, authenticated=True)
    body = "".join(f'<urn:t:{i}> <urn:p> "{"x" * 100}" .\n' for i in range(20000)).encode()
    target = f"{endpoints.graph_store}?graph=urn%3Afedcrate-test%3Abig"
    reply = client.request(
        target, method="PUT", body=body, headers={"Content-Type": "application/n-triples"}
    )
    assert reply.status in (200, 201, 204), reply
    assert client.request(target, method="DELETE").status in (200, 204)


# -- the CLI with credentials ----------------------------------------------------------


def _cli(args: list[str], env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """Exit code, output (stderr included) with rich's line wrapping undone, raw output."""
    result = runner.invoke(app, args, env=env)
    return result.exit_code, _unwrapped(result.output), result.output


def _login(user: str, password: str) -> dict[str, str]:
    return {"FEDCRATE_SPARQL_USER": user, "FEDCRATE_SPARQL_PASSWORD": password}


def _unwrapped(text: str) -> str:
    # rich wraps at the terminal width; a secret is searched in the text with the line
    # breaks removed (so a wrap inside it cannot hide it) and messages with them as spaces.
    return text.replace("\n", "") + "\n" + " ".join(text.split())


def test_cli_push_and_sparql_with_digest_credentials_from_the_environment(
    virtuoso: Virtuoso, corpus: Path, no_credentials: Path
) -> None:
    env = {
        "FEDCRATE_SPARQL_USER": "writer",
        "FEDCRATE_SPARQL_PASSWORD": virtuoso.passwords["writer"],
    }
    code, output, raw = _cli(["push", str(corpus), "--endpoint", virtuoso.url, "-q"], env)
    assert code == 0, output
    assert "sparql-graph-crud-auth" in output  # credentials → Virtuoso's Digest endpoints
    code, output, raw = _cli(
        ["sparql", "failed-runs", "--endpoint", virtuoso.url, "--format", "json"], env
    )
    assert code == 0, output
    assert [(r["name"], r["error"]) for r in json.loads(raw)] == [("run c", "boom")]
    assert virtuoso.passwords["writer"] not in output


def test_cli_credentials_from_a_netrc_file(
    virtuoso: Virtuoso, corpus: Path, no_credentials: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    password = virtuoso.passwords["writer"]
    netrc = no_credentials / "team.netrc"
    netrc.write_text(f"machine 127.0.0.1\n  login writer\n  password {password}\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    code, output, raw = _cli(["push", str(corpus), "--endpoint", virtuoso.url, "-q"])
    assert code == 0, output
    monkeypatch.delenv("NETRC")
    (no_credentials / ".netrc").write_text(netrc.read_text())  # the default: ~/.netrc
    (no_credentials / ".netrc").chmod(0o600)
    code, output, raw = _cli(["sparql", "runs", "--endpoint", virtuoso.url, "--format", "csv"])
    assert code == 0, output
    assert raw.count("\n") == 4 and password not in output


def test_read_only_user_cannot_push_one_clear_error(
    virtuoso: Virtuoso, corpus: Path, no_credentials: Path
) -> None:
    env = {
        "FEDCRATE_SPARQL_USER": "reader",
        "FEDCRATE_SPARQL_PASSWORD": virtuoso.passwords["reader"],
    }
    code, output, raw = _cli(["push", str(corpus), "--endpoint", virtuoso.url, "-q"], env)
    assert code == 2, output
    assert raw.count("error:") == 1
    assert "user 'reader'" in output and "SPARQL_UPDATE" in output
    assert virtuoso.passwords["reader"] not in output
    code, output, _ = _cli(["sparql", "frameworks", "--endpoint", virtuoso.url], env)
    assert code == 0, output  # reading is allowed


def test_wrong_password_exit_2_and_never_echoed(
    virtuoso: Virtuoso, corpus: Path, no_credentials: Path
) -> None:
    wrong = "wrong-" + secrets.token_urlsafe(9)
    env = _login("writer", wrong)
    for args in (
        ["push", str(corpus), "--endpoint", virtuoso.url, "-q"],
        ["push", str(corpus), "--endpoint", virtuoso.url, "-q", "--no-default-graph"],
        ["sparql", "runs", "--endpoint", virtuoso.url],
    ):
        result = runner.invoke(app, args, env=env)
        assert result.exit_code == 2, result.output
        output = _unwrapped(result.output)
        assert "rejected user 'writer'" in output and "wrong password" in output
        assert wrong not in output
        assert wrong not in _unwrapped(result.stdout)
        assert wrong not in _unwrapped(result.stderr)


def test_anonymous_push_is_refused_with_a_hint(
    virtuoso: Virtuoso, corpus: Path, no_credentials: Path
) -> None:
    code, output, _ = _cli(["push", str(corpus), "--endpoint", virtuoso.url, "-q"])
    assert code == 2, output
    assert "FEDCRATE_SPARQL_USER" in output


# -- bearer tokens and HTTPS, against local stand-ins ----------------------------------


_ANSWER = json.dumps(
    {"head": {"vars": ["n"]}, "results": {"bindings": [{"n": {"type": "literal", "value": "ok"}}]}}
).encode()


class _TokenServer(http.server.ThreadingHTTPServer):
    """Answers SPARQL JSON only to `Authorization: <expected>` (anyone when `expected` is
    None), else 401 with `challenge`; records the Authorization header of every request."""

    def __init__(
        self,
        token: str | None,
        redirect_to: str | None = None,
        *,
        expected: str | None = None,
        challenge: str = 'Bearer realm="sparql"',
    ) -> None:
        self.expected = expected or (f"Bearer {token}" if token else None)
        self.challenge = challenge
        self.redirect_to = redirect_to
        self.seen: list[str | None] = []
        super().__init__(("127.0.0.1", 0), _TokenHandler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/query"


class _TokenHandler(http.server.BaseHTTPRequestHandler):
    server: _TokenServer

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        authorization = self.headers.get("Authorization")
        self.server.seen.append(authorization)
        if self.server.redirect_to:
            self.send_response(303)
            self.send_header("Location", self.server.redirect_to)
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.server.expected is None or authorization == self.server.expected:
            self.send_response(200)
            self.send_header("Content-Type", "application/sparql-results+json")
            self.send_header("Content-Length", str(len(_ANSWER)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(_ANSWER)
        else:
            self.send_response(401)
            self.send_header("WWW-Authenticate", self.server.challenge)
            self.send_header("Content-Length", "0")
            self.end_headers()

    do_GET = _answer
    do_POST = _answer
    do_HEAD = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def serve() -> Iterator[Callable[[http.server.ThreadingHTTPServer], None]]:
    """Starts servers in threads; shuts each down (and joins its thread) after the test."""
    started: list[tuple[http.server.ThreadingHTTPServer, threading.Thread]] = []

    def start(server: http.server.ThreadingHTTPServer) -> None:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        started.append((server, thread))

    try:
        yield start
    finally:
        for server, thread in started:
            server.shutdown()
            server.server_close()
            thread.join(timeout=10)


def test_bearer_token_is_sent_as_authorization_header(
    serve: Callable[[http.server.ThreadingHTTPServer], None], no_credentials: Path
) -> None:
    token = secrets.token_urlsafe(16)
    server = _TokenServer(token)
    serve(server)
    code, output, raw = _cli(
        ["sparql", "SELECT ?n WHERE {}", "--endpoint", server.url, "--format", "csv"],
        {"FEDCRATE_SPARQL_TOKEN": token},
    )
    assert code == 0, output
    assert raw.splitlines() == ["n", "ok"]
    assert server.seen == [f"Bearer {token}"]

    wrong = secrets.token_urlsafe(16)
    code, output, raw = _cli(
        ["sparql", "SELECT ?n WHERE {}", "--endpoint", server.url],
        {"FEDCRATE_SPARQL_TOKEN": wrong},
    )
    assert code == 2, output
    assert "rejected the bearer token from FEDCRATE_SPARQL_TOKEN" in output
    assert wrong not in output and token not in output


def test_bearer_token_does_not_follow_a_redirect_to_another_origin(
    serve: Callable[[http.server.ThreadingHTTPServer], None], no_credentials: Path
) -> None:
    token = secrets.token_urlsafe(16)
    elsewhere = _TokenServer(None)  # answers anyone; records the header it got
    serve(elsewhere)
    first = _TokenServer(token, redirect_to=elsewhere.url)
    serve(first)
    client = HttpClient(first.url, Credentials("test", token=token))
    result = remote_query(Endpoints.from_url(first.url), "SELECT ?n WHERE {}", client=client)
    assert result.rows == [("ok",)]
    assert first.seen == [f"Bearer {token}"]
    assert elsewhere.seen == [None]  # another port is another origin: no token


def test_basic_login_answers_the_challenge_then_sends_it_up_front(
    serve: Callable[[http.server.ThreadingHTTPServer], None], no_credentials: Path
) -> None:
    password = secrets.token_urlsafe(12)
    basic = "Basic " + base64.b64encode(f"team:{password}".encode()).decode()
    server = _TokenServer(None, expected=basic, challenge='Basic realm="sparql"')
    serve(server)
    code, output, raw = _cli(
        ["sparql", "SELECT ?n WHERE {}", "--endpoint", server.url, "--format", "csv"],
        _login("team", password),
    )
    assert code == 0, output
    assert raw.splitlines() == ["n", "ok"]
    # HEAD without, HEAD answered, then the query sent once, logged in from the start
    assert server.seen == [None, basic, basic]
    code, output, _ = _cli(
        ["sparql", "SELECT ?n WHERE {}", "--endpoint", server.url], _login("team", "nope-x1")
    )
    assert code == 2 and "rejected user 'team'" in output and "nope-x1" not in output


def _self_signed(folder: Path) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        message = "openssl is not installed (needed to make a test certificate)"
        if os.environ.get("CI"):
            pytest.fail(message)  # CI machines have it; missing there is a defect
        pytest.skip(message)
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
         "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return key, cert


def test_https_certificates_are_verified_unless_the_ca_is_given(
    serve: Callable[[http.server.ThreadingHTTPServer], None], no_credentials: Path, tmp_path: Path
) -> None:
    key, cert = _self_signed(tmp_path)
    token = secrets.token_urlsafe(16)
    server = _TokenServer(token)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    serve(server)
    url = server.url.replace("http://", "https://")
    env = {"FEDCRATE_SPARQL_TOKEN": token}
    code, output, raw = _cli(["sparql", "SELECT ?n WHERE {}", "--endpoint", url], env)
    assert code == 2, output
    assert "certificate" in output and "--ca-file" in output
    assert server.seen == []  # the token never left before the certificate was checked
    code, output, raw = _cli(
        ["sparql", "SELECT ?n WHERE {}", "--endpoint", url, "--ca-file", str(cert),
         "--format", "csv"],
        env,
    )  # fmt: skip
    assert code == 0, output
    assert raw.splitlines() == ["n", "ok"] and server.seen == [f"Bearer {token}"]
