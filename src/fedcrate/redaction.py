"""Keep secrets out of crates.

Crates are made to be shared, so a run-config or strategy entry whose *key* says it holds
a secret, or whose *value* looks like one (a PEM block, credentials in a URL), is kept by
name with its value replaced by `REDACTED`: readers still see that the setting existed.
"""

from __future__ import annotations

import os
import re
from itertools import pairwise

from .record import Parameter, ParameterValue

__all__ = [
    "REDACTED",
    "is_secret_key",
    "looks_secret_value",
    "redact_home",
    "redact_parameter",
]

REDACTED = "[redacted by fedcrate]"

# Words that make a setting secret. "token" alone is weaker: `max-tokens` or
# `token-length` are numbers, so a number under a "token" key is kept (see below).
_STRONG_WORDS = {
    "secret",
    "password",
    "passwd",
    "passphrase",
    "credential",
    "credentials",
    "apikey",
    "privatekey",
    "bearer",
    "cookie",
    "pem",
    "pat",
}
_WEAK_WORDS = {"token", "auth"}
_KEY_BIGRAMS = {
    ("api", "key"),
    ("private", "key"),
    ("access", "key"),
    ("secret", "key"),
    ("auth", "key"),
    ("session", "key"),
    ("signing", "key"),
    ("client", "secret"),
}
_WORD_SPLIT = re.compile(r"[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])")
_PEM = re.compile(r"-----BEGIN [A-Z ]*(PRIVATE KEY|CERTIFICATE|KEY)-----")
_URL_CREDENTIALS = re.compile(r"^[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@", re.IGNORECASE)


def _words(key: str) -> list[str]:
    return [w.lower() for w in _WORD_SPLIT.split(key) if w]


def is_secret_key(key: str, value: ParameterValue = "") -> bool:
    """True when a setting's name says it holds a secret (token, password, api key…).

    Numbers and booleans under a merely "token"-like key (`max-tokens`) are not secrets.
    """
    words = _words(key)
    if any(w in _STRONG_WORDS for w in words) or any(
        pair in _KEY_BIGRAMS for pair in pairwise(words)
    ):
        return True
    weak = any(w in _WEAK_WORDS or w.endswith("token") for w in words)
    return weak and isinstance(value, str)


def looks_secret_value(value: ParameterValue) -> bool:
    """True for values that are secrets whatever their key: PEM blocks, user:pass@ URLs."""
    return isinstance(value, str) and bool(_PEM.search(value) or _URL_CREDENTIALS.match(value))


def redact_home(value: ParameterValue, home: str | None = None) -> ParameterValue:
    """Rewrite paths under the user's home as `~/…`: a user name is personal data."""
    if not isinstance(value, str):
        return value
    home = (home or os.path.expanduser("~")).rstrip("/")
    if len(home) < 2 or home not in value:
        return value
    return re.sub(re.escape(home) + r"(?=/|$|\s|[\"'])", "~", value)


def redact_parameter(name: str, value: ParameterValue, *, paths: bool = True) -> Parameter:
    """A `Parameter` safe to publish: secrets replaced by `REDACTED`, and (with `paths`)
    home paths as `~/…`."""
    if is_secret_key(name, value) or looks_secret_value(value):
        return Parameter(name=name, value=REDACTED, redacted=True)
    return Parameter(name=name, value=redact_home(value) if paths else value)
