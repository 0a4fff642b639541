"""Where a remote store's credentials come from, and that they never show.

Environment first (a token, or a user and password), then the netrc file (`$NETRC`, else
`~/.netrc`); contradictory or half settings are one clear error; no secret appears in a
`repr`, a `str` or an error message. No request leaves this machine: the cleartext
refusal happens before any connection is opened.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fedcrate.errors import EndpointError
from fedcrate.index.auth import Credentials, HttpClient, netrc_path, resolve_credentials
from fedcrate.index.remote import UNION_GRAPH, Endpoints, detect_store

URL = "http://127.0.0.1:8890/sparql"
SECRET = "s3cret-Pa55"


def _netrc(folder: Path, text: str, mode: int = 0o600, name: str = ".netrc") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def test_no_settings_means_anonymous(tmp_path: Path) -> None:
    assert resolve_credentials(URL, {"HOME": str(tmp_path)}) is None


def test_token_from_the_environment() -> None:
    found = resolve_credentials(URL, {"FEDCRATE_SPARQL_TOKEN": SECRET})
    assert found is not None and found.token == SECRET and found.user is None
    assert found.source == "FEDCRATE_SPARQL_TOKEN" and found.kind == "token"


def test_environment_wins_over_netrc(tmp_path: Path) -> None:
    _netrc(tmp_path, "machine 127.0.0.1 login fromnetrc password netrcpass\n")
    env = {
        "HOME": str(tmp_path),
        "FEDCRATE_SPARQL_USER": "fromenv",
        "FEDCRATE_SPARQL_PASSWORD": SECRET,
    }
    found = resolve_credentials(URL, env)
    assert found is not None and (found.user, found.password) == ("fromenv", SECRET)
    assert "FEDCRATE_SPARQL_USER" in found.source


def test_netrc_in_home_by_host_ignoring_the_port(tmp_path: Path) -> None:
    path = _netrc(
        tmp_path,
        "machine other.example login no password no\nmachine 127.0.0.1 login writer password "
        f"{SECRET}\n",
    )
    found = resolve_credentials(URL, {"HOME": str(tmp_path)})
    assert found is not None and (found.user, found.password) == ("writer", SECRET)
    assert str(path) in found.source and "machine 127.0.0.1" in found.source


def test_netrc_named_by_NETRC_wins_over_home(tmp_path: Path) -> None:
    _netrc(tmp_path, "machine 127.0.0.1 login home password homepass\n")
    named = _netrc(tmp_path, f"default login team password {SECRET}\n", name="team.netrc")
    env = {"HOME": str(tmp_path), "NETRC": str(named)}
    assert netrc_path(env) == (named, True)
    found = resolve_credentials(URL, env)
    assert found is not None and found.user == "team"


def test_user_from_environment_and_password_from_netrc(tmp_path: Path) -> None:
    _netrc(tmp_path, f"machine 127.0.0.1 login writer password {SECRET}\n")
    env = {"HOME": str(tmp_path), "FEDCRATE_SPARQL_USER": "writer"}
    found = resolve_credentials(URL, env)
    assert found is not None and found.password == SECRET
    with pytest.raises(EndpointError, match="has login 'writer'"):
        resolve_credentials(URL, {**env, "FEDCRATE_SPARQL_USER": "someone"})


@pytest.mark.parametrize(
    ("env", "says"),
    [
        (
            {"FEDCRATE_SPARQL_TOKEN": SECRET, "FEDCRATE_SPARQL_USER": "u"},
            "both FEDCRATE_SPARQL_TOKEN",
        ),
        ({"FEDCRATE_SPARQL_PASSWORD": SECRET}, "FEDCRATE_SPARQL_USER is not"),
        ({"FEDCRATE_SPARQL_USER": "u"}, "no password"),
    ],
    ids=["token and user", "password alone", "user alone"],
)
def test_half_or_contradictory_settings_are_one_clear_error(
    tmp_path: Path, env: dict[str, str], says: str
) -> None:
    with pytest.raises(EndpointError, match=says) as caught:
        resolve_credentials(URL, {"HOME": str(tmp_path), **env})
    assert SECRET not in str(caught.value)


def test_empty_variables_count_as_unset(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path), "FEDCRATE_SPARQL_TOKEN": "", "FEDCRATE_SPARQL_USER": ""}
    assert resolve_credentials(URL, env) is None


def test_a_missing_NETRC_file_is_an_error_a_missing_home_netrc_is_not(tmp_path: Path) -> None:
    assert resolve_credentials(URL, {"HOME": str(tmp_path)}) is None
    with pytest.raises(EndpointError, match="NETRC names"):
        resolve_credentials(URL, {"HOME": str(tmp_path), "NETRC": str(tmp_path / "nope")})


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_a_netrc_others_can_read_is_refused(tmp_path: Path) -> None:
    path = _netrc(tmp_path, f"machine 127.0.0.1 login w password {SECRET}\n", mode=0o644)
    with pytest.raises(EndpointError, match="chmod 600") as caught:
        resolve_credentials(URL, {"HOME": str(tmp_path)})
    assert str(path) in str(caught.value) and SECRET not in str(caught.value)


def test_a_malformed_netrc_names_the_line_not_its_content(tmp_path: Path) -> None:
    _netrc(tmp_path, f"machine 127.0.0.1 login w password\n{SECRET} stray\n")
    try:
        found = resolve_credentials(URL, {"HOME": str(tmp_path)})
    except EndpointError as exc:
        assert "line" in str(exc) and SECRET not in str(exc)
    else:  # some Python versions read the stray word as the password
        assert found is not None and SECRET not in repr(found)
    # The standard library's own message would quote the stray token: "bad toplevel token".
    _netrc(tmp_path, f"{SECRET} machine 127.0.0.1 login w password p\n")
    with pytest.raises(EndpointError, match="line 1") as caught:
        resolve_credentials(URL, {"HOME": str(tmp_path)})
    assert SECRET not in str(caught.value)


def test_nothing_secret_in_repr_or_str() -> None:
    for credentials in (
        Credentials("FEDCRATE_SPARQL_USER/FEDCRATE_SPARQL_PASSWORD", user="w", password=SECRET),
        Credentials("FEDCRATE_SPARQL_TOKEN", token=SECRET),
    ):
        client = HttpClient(URL, credentials)
        for text in (repr(credentials), str(credentials), repr(client), str(client)):
            assert SECRET not in text
        assert SECRET not in repr(vars(client).get("credentials"))
        assert credentials.redact(f"server said: {SECRET}!") == "server said: ***!"


def test_secrets_are_not_sent_in_cleartext_to_another_machine() -> None:
    client = HttpClient("http://store.invalid/query", Credentials("env", token=SECRET))
    with pytest.raises(EndpointError, match="unencrypted http") as caught:
        client.request("http://store.invalid/query", method="GET")
    assert SECRET not in str(caught.value)


def test_a_bad_ca_file_is_one_clear_error(tmp_path: Path) -> None:
    bogus = tmp_path / "ca.pem"
    bogus.write_text("not a certificate")
    with pytest.raises(EndpointError, match="CA bundle"):
        HttpClient("https://127.0.0.1/", None, ca_file=bogus)


# -- which store a URL names -----------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("http://host:8890/sparql", "virtuoso"),
        ("https://host/sparql-auth", "virtuoso"),
        ("http://host:8890", "virtuoso"),
        ("http://127.0.0.1:7878", "oxigraph"),
        ("http://host:3030/ds/sparql", "generic"),
        ("http://host:7001/api/query", "generic"),
    ],
)
def test_store_detection_from_the_url(url: str, kind: str) -> None:
    assert detect_store(url) == kind


def test_virtuoso_endpoints_and_their_authenticated_siblings() -> None:
    anonymous = Endpoints.from_url("http://host:8890/sparql/")
    assert (anonymous.query, anonymous.graph_store, anonymous.update) == (
        "http://host:8890/sparql",
        "http://host:8890/sparql-graph-crud",
        "http://host:8890/sparql",
    )
    assert anonymous.default_graph == UNION_GRAPH and anonymous.store == "virtuoso"
    logged_in = Endpoints.from_url("http://host:8890/sparql", authenticated=True)
    assert logged_in.query.endswith("/sparql-auth")
    assert logged_in.graph_store.endswith("/sparql-graph-crud-auth")
    explicit = Endpoints.from_url("http://host:1234/", store="virtuoso")
    assert explicit.query == "http://host:1234/sparql"


def test_oxigraph_and_generic_endpoints_keep_the_store_default_graph() -> None:
    oxigraph = Endpoints.from_url("http://127.0.0.1:7878")
    assert (oxigraph.query, oxigraph.graph_store, oxigraph.update) == (
        "http://127.0.0.1:7878/query",
        "http://127.0.0.1:7878/store",
        "http://127.0.0.1:7878/update",
    )
    assert oxigraph.default_graph is None
    fuseki = Endpoints.from_url("http://host:3030/ds/data")
    assert (fuseki.update, fuseki.store, fuseki.default_graph) == (
        "http://host:3030/ds/update",
        "generic",
        None,
    )
    with pytest.raises(EndpointError, match="--store 'qlever'"):
        Endpoints.from_url("http://host/", store="qlever")
