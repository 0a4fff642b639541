"""Credentials for a remote SPARQL store, and the one HTTP client that carries them.

A team's shared store (Virtuoso, Oxigraph or QLever behind a proxy, Fuseki) usually wants
a login for writing and often for reading. Secrets come only from places other users of
the machine cannot see, never from command-line arguments (which `ps` shows to everyone):

1. `FEDCRATE_SPARQL_TOKEN`: a bearer token, sent as `Authorization: Bearer …`;
2. `FEDCRATE_SPARQL_USER` and `FEDCRATE_SPARQL_PASSWORD`: HTTP Basic or Digest, whichever
   the server's challenge asks for (Virtuoso's `-auth` endpoints use Digest);
3. the `netrc` file (`$NETRC`, else `~/.netrc`): the `machine` entry of the store's host.

The environment wins over the netrc file; a token together with a user or password is
ambiguous and refused. Secrets are never printed, logged or put into an error message
(`Credentials.redact` also scrubs them from text a server sends back), and `repr` of
these objects names only the user and where the secret came from.

Only the standard library speaks HTTP (urllib, and its Digest response computation). HTTPS
certificates are verified against the system's CAs (or an explicit `ca_file`); there is no
switch to turn verification off. A password in Basic, or a token, is cleartext on the
wire, so both are refused over plain `http://` to anything but this machine (Digest sends
only a hash and is allowed). Credentials go only to the store's own origin (scheme, host,
port): a redirect elsewhere does not carry them.
"""

from __future__ import annotations

import base64
import http.client
import ipaddress
import netrc
import os
import ssl
import stat
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import IO, Any

from fedcrate.errors import EndpointError

__all__ = [
    "ENV_PASSWORD",
    "ENV_TOKEN",
    "ENV_USER",
    "Credentials",
    "HttpClient",
    "Reply",
    "netrc_path",
    "resolve_credentials",
]

ENV_USER = "FEDCRATE_SPARQL_USER"
ENV_PASSWORD = "FEDCRATE_SPARQL_PASSWORD"
ENV_TOKEN = "FEDCRATE_SPARQL_TOKEN"
_REDACTED = "***"


@dataclass(frozen=True)
class Credentials:
    """A user and password, or a bearer token, and where they were found.

    `source` is what error messages show ("FEDCRATE_SPARQL_USER/…", "/home/me/.netrc
    (machine host)") so a user knows which setting to fix; the secret fields are left
    out of `repr` and `str`.
    """

    source: str
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)

    @property
    def kind(self) -> str:
        """`token` or `password`: which kind of secret these are."""
        return "token" if self.token is not None else "password"

    def describe(self) -> str:
        """Who and from where, for messages: never the secret."""
        if self.token is not None:
            return f"the bearer token from {self.source}"
        return f"user {self.user!r} (from {self.source})"

    def __str__(self) -> str:
        return self.describe()

    def redact(self, text: str) -> str:
        """`text` with every occurrence of the secret replaced by `***`.

        Servers sometimes echo what they received in an error page; whatever fedcrate
        shows from a reply passes through here first.
        """
        for secret in (self.password, self.token):
            if secret:
                text = text.replace(secret, _REDACTED)
        return text


def _value(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name)
    return value if value else None  # an empty variable counts as unset


def netrc_path(environ: Mapping[str, str] | None = None) -> tuple[Path, bool]:
    """The netrc file to read and whether it was named explicitly (by `$NETRC`)."""
    environ = os.environ if environ is None else environ
    named = _value(environ, "NETRC")
    if named:
        return Path(named).expanduser(), True
    home = _value(environ, "HOME") or os.path.expanduser("~")
    return Path(home) / ".netrc", False


def _netrc_entry(host: str, environ: Mapping[str, str]) -> tuple[str, str, Path] | None:
    path, explicit = netrc_path(environ)
    try:
        info = path.stat()
    except FileNotFoundError:
        if explicit:
            raise EndpointError(
                f"NETRC names {path}, which does not exist; fix NETRC or unset it"
            ) from None
        return None
    except OSError as exc:
        raise EndpointError(f"{path}: cannot read the netrc file ({exc.strerror})") from None
    # The same rule as the standard library applies to ~/.netrc: a file others can read
    # (or that someone else owns) is not a place for passwords.
    if os.name == "posix":
        if info.st_uid != os.getuid():
            raise EndpointError(
                f"{path}: the netrc file belongs to another user; fedcrate reads only your own"
            )
        if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise EndpointError(
                f"{path}: the netrc file is readable by other users; run: chmod 600 {path}"
            )
    try:
        entries = netrc.netrc(str(path))
    except netrc.NetrcParseError as exc:
        # The parser's own message quotes the offending token, which may be a password.
        raise EndpointError(
            f"{path}, line {exc.lineno}: not a valid netrc file (fix that line)"
        ) from None
    except OSError as exc:
        raise EndpointError(f"{path}: cannot read the netrc file ({exc.strerror})") from None
    found = entries.authenticators(host)
    if found is None:
        return None
    login, _account, password = found
    if not login or not password:
        return None
    return login, password, path


def resolve_credentials(url: str, environ: Mapping[str, str] | None = None) -> Credentials | None:
    """The credentials to use for `url`: environment first, then the netrc file.

    Raises:
        EndpointError: the settings are contradictory or half-set (the message says which
            variable to set or unset), or the netrc file is unreadable, unsafe or malformed.
    """
    environ = os.environ if environ is None else environ
    token = _value(environ, ENV_TOKEN)
    user = _value(environ, ENV_USER)
    password = _value(environ, ENV_PASSWORD)
    if token is not None:
        if user is not None or password is not None:
            raise EndpointError(
                f"both {ENV_TOKEN} and {ENV_USER}/{ENV_PASSWORD} are set; "
                "unset the one the store does not use"
            )
        return Credentials(ENV_TOKEN, token=token)
    if password is not None:
        if user is None:
            raise EndpointError(f"{ENV_PASSWORD} is set but {ENV_USER} is not; set both")
        return Credentials(f"{ENV_USER}/{ENV_PASSWORD}", user=user, password=password)
    host = urllib.parse.urlsplit(url).hostname or ""
    entry = _netrc_entry(host, environ) if host else None
    if entry is not None:
        login, secret, path = entry
        if user is not None and login != user:
            raise EndpointError(
                f"{ENV_USER} is {user!r} but {path} has login {login!r} for {host}; "
                f"set {ENV_PASSWORD} too, or make them agree"
            )
        return Credentials(f"{path} (machine {host})", user=login, password=secret)
    if user is not None:
        raise EndpointError(
            f"{ENV_USER} is set but there is no password: set {ENV_PASSWORD}, "
            f"or add a 'machine {host or 'HOST'}' entry to {netrc_path(environ)[0]}"
        )
    return None


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or {"http": 80, "https": 443}.get(scheme)
    return scheme, (parts.hostname or "").lower(), port


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _refuse_cleartext(url: str, what: str) -> None:
    scheme, host, _port = _origin(url)
    if scheme == "http" and not _is_loopback(host):
        raise EndpointError(
            f"{url}: refusing to send {what} over unencrypted http to {host}; "
            "use the store's https:// address (Digest logins may use http)"
        )


class _BearerHandler(urllib.request.BaseHandler):
    """Adds `Authorization: Bearer` to requests for one origin only.

    An unredirected header: urllib copies ordinary headers onto a redirected request,
    which would hand the token to whichever host the redirect names.
    """

    handler_order = 400  # before the auth handlers (490, 500)

    def __init__(self, origin: tuple[str, str, int | None], token: str) -> None:
        self._origin = origin
        self._token = token

    def __repr__(self) -> str:
        return f"<bearer token for {self._origin[0]}://{self._origin[1]}>"

    def http_request(self, request: urllib.request.Request) -> urllib.request.Request:
        if _origin(request.full_url) == self._origin:
            _refuse_cleartext(request.full_url, "a bearer token")
            request.add_unredirected_header("Authorization", f"Bearer {self._token}")
        return request

    https_request = http_request


class _LoginHandler(urllib.request.BaseHandler, urllib.request.AbstractDigestAuthHandler):
    """HTTP Basic or Digest for one origin: answers the first challenge, then logs in up front.

    urllib's own handlers answer every request's 401 anew, so each request is sent twice;
    for an upload that fails outright: Virtuoso answers the unauthenticated PUT with 401
    and closes the connection before reading the body (a broken pipe here). Once the store
    has challenged, this handler sends the answer with every later request (Digest:
    urllib's response computation, the nonce count advancing). Each request is retried at
    most once, so a wrong password ends in one 401, not a loop. Basic is refused over
    cleartext http to another machine.
    """

    handler_order = 480  # before urllib's defaults (never installed with the bearer one)

    def __init__(self, origin: tuple[str, str, int | None], user: str, password: str) -> None:
        passwords = urllib.request.HTTPPasswordMgrWithDefaultRealm()
        passwords.add_password(None, f"{origin[0]}://{origin[1]}:{origin[2]}/", user, password)
        urllib.request.AbstractDigestAuthHandler.__init__(self, passwords)
        self._origin = origin
        self._basic = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        self._scheme: str | None = None  # "basic" or "digest", once the store has asked
        self._challenge: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"<login for {self._origin[0]}://{self._origin[1]} ({self._scheme or 'not asked'})>"

    @property
    def negotiated(self) -> bool:
        """Whether the store has challenged (so requests now carry the login up front)."""
        return self._scheme is not None

    def forget(self) -> None:
        """Drop the remembered challenge (e.g. after the store closed the connection)."""
        self._scheme, self._challenge = None, {}

    def _header(self, request: urllib.request.Request) -> str | None:
        if self._scheme == "basic":
            _refuse_cleartext(request.full_url, "a password (HTTP Basic)")
            return f"Basic {self._basic}"
        if self._scheme == "digest":
            try:
                answer = self.get_authorization(request, self._challenge)
            except urllib.error.URLError:  # urllib's way of saying "qop not supported"
                raise EndpointError(
                    f"{request.full_url}: the store asks for a Digest variant fedcrate "
                    f"cannot answer (qop {self._challenge.get('qop')!r})"
                ) from None
            return f"Digest {answer}" if answer else None
        return None

    def http_request(self, request: urllib.request.Request) -> urllib.request.Request:
        if _origin(request.full_url) == self._origin and not request.has_header("Authorization"):
            header = self._header(request)
            if header is not None:
                request.add_unredirected_header("Authorization", header)
        return request

    https_request = http_request

    def http_error_401(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: http.client.HTTPMessage,
    ) -> Any:
        if _origin(req.full_url) != self._origin or getattr(req, "_fedcrate_retried", False):
            return None  # not ours, or already answered once: the 401 stands
        challenges = [c.strip() for c in headers.get_all("WWW-Authenticate") or [] if c.strip()]
        chosen: tuple[str, dict[str, str]] | None = None
        for challenge in challenges:
            scheme, _, rest = challenge.partition(" ")
            if scheme.lower() == "digest":
                fields = urllib.request.parse_http_list(rest)
                chosen = ("digest", urllib.request.parse_keqv_list([f for f in fields if f]))
                break
            if scheme.lower() == "basic" and chosen is None:
                chosen = ("basic", {})
        if chosen is None:
            offered = ", ".join(c.partition(" ")[0] for c in challenges) or "no scheme"
            raise EndpointError(
                f"{req.full_url}: the store asks for {offered} authentication; fedcrate "
                "speaks Basic, Digest and bearer tokens"
            )
        self._scheme, self._challenge = chosen
        header = self._header(req)
        if header is None:
            return None  # e.g. a Digest algorithm urllib does not implement
        setattr(req, "_fedcrate_retried", True)  # noqa: B010 - Request has no such field
        req.add_unredirected_header("Authorization", header)
        return self.parent.open(req, timeout=req.timeout)


@dataclass(frozen=True)
class Reply:
    """An HTTP answer, successful or not (the caller maps status codes to messages)."""

    status: int
    reason: str
    headers: Message
    body: bytes

    @property
    def content_type(self) -> str:
        """The `Content-Type` header ("" when absent)."""
        return self.headers.get("Content-Type", "") or ""


class HttpClient:
    """Sends requests to one store with its credentials (if any) and verified TLS.

    Build it with `HttpClient.from_environment(url)`; `authenticated` tells callers (e.g.
    `Endpoints.from_url`) to pick a store's authenticated endpoints.
    """

    def __init__(
        self, base_url: str, credentials: Credentials | None = None, *, ca_file: Path | None = None
    ) -> None:
        self.base_url = base_url
        self.credentials = credentials
        self.ca_file = ca_file
        try:
            context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
        except (OSError, ssl.SSLError) as exc:
            raise EndpointError(
                f"{ca_file}: cannot use it as a CA bundle ({getattr(exc, 'strerror', None) or exc})"
            ) from None
        handlers: list[urllib.request.BaseHandler] = [urllib.request.HTTPSHandler(context=context)]
        if credentials is not None and credentials.token is not None:
            handlers.append(_BearerHandler(_origin(base_url), credentials.token))
        self._login: _LoginHandler | None = None
        if credentials is not None and credentials.token is None:
            user, password = credentials.user or "", credentials.password or ""
            self._login = _LoginHandler(_origin(base_url), user, password)
            handlers.append(self._login)
        self._opener = urllib.request.build_opener(*handlers)

    @classmethod
    def from_environment(
        cls,
        url: str,
        *,
        ca_file: Path | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> HttpClient:
        """A client for the store at `url` with the credentials `resolve_credentials` finds.

        Raises:
            EndpointError: the credential settings are unusable, or `ca_file` is not a
                readable CA bundle.
        """
        return cls(url, resolve_credentials(url, environ), ca_file=ca_file)

    @property
    def authenticated(self) -> bool:
        """Whether requests carry credentials."""
        return self.credentials is not None

    def __repr__(self) -> str:
        who = self.credentials.describe() if self.credentials else "anonymous"
        return f"HttpClient({self.base_url!r}, {who})"

    def redact(self, text: str) -> str:
        """`text` without this client's secrets (see `Credentials.redact`)."""
        return self.credentials.redact(text) if self.credentials else text

    def request(
        self,
        url: str,
        *,
        method: str,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = 300.0,
    ) -> Reply:
        """Send one request; any HTTP status comes back as a `Reply`.

        With a login and a body (an upload, an update), the store's challenge is fetched
        first with a `HEAD` to the same URL, so the body goes out once, authenticated; if
        the store still drops the connection mid-upload (a stale Digest nonce), the
        challenge is fetched again and the request sent once more.

        Raises:
            EndpointError: the store cannot be reached, its certificate does not verify,
                it asks for an authentication scheme fedcrate does not speak, or
                credentials would travel in cleartext.
        """
        login = self._login
        if login is not None and body and not login.negotiated:
            primed = self._send(url, "HEAD", None, {}, timeout)  # only for the challenge
            if primed.status == 401:
                return primed  # the login is refused: say so without uploading anything
        try:
            return self._send(url, method, body, headers or {}, timeout)
        except _Dropped:
            if login is None or not body:
                raise EndpointError(
                    f"{url}: the SPARQL store closed the connection mid-request; is it "
                    "overloaded, or is a proxy limiting the upload size?"
                ) from None
        login.forget()
        primed = self._send(url, "HEAD", None, {}, timeout)
        if primed.status == 401:
            return primed
        try:
            return self._send(url, method, body, headers or {}, timeout)
        except _Dropped:
            raise EndpointError(
                f"{url}: the SPARQL store closed the connection before reading the upload "
                f"(did it refuse {self.credentials}?); check the login and the "
                "store's upload limits"
            ) from None

    def _send(
        self, url: str, method: str, body: bytes | None, headers: Mapping[str, str], timeout: float
    ) -> Reply:
        request = urllib.request.Request(url, data=body, method=method, headers=dict(headers))
        try:
            with self._opener.open(request, timeout=timeout) as response:
                return Reply(response.status, response.reason, response.headers, response.read())
        except EndpointError:
            raise  # raised by a handler here (cleartext refused, unknown scheme): explained
        except urllib.error.HTTPError as exc:
            with exc:
                return Reply(exc.code, str(exc.reason), exc.headers, exc.read())
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, (BrokenPipeError, ConnectionResetError)):
                raise _Dropped from None
            if isinstance(reason, ssl.SSLCertVerificationError):
                raise EndpointError(
                    f"{url}: the server's TLS certificate does not verify "
                    f"({reason.verify_message}); if the store uses a private CA, pass its "
                    "certificate with --ca-file"
                ) from None
            raise EndpointError(
                f"{url}: cannot reach the SPARQL store ({self.redact(str(reason))}); "
                "is it running, and is the URL right?"
            ) from None
        except (BrokenPipeError, ConnectionResetError):
            raise _Dropped from None
        except (OSError, http.client.HTTPException) as exc:
            raise EndpointError(
                f"{url}: the connection to the SPARQL store failed ({self.redact(str(exc))})"
            ) from None


class _Dropped(Exception):
    """The store closed the connection while the request was being sent or answered."""
