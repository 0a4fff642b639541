"""Keep secrets out of crates.

Crates are made to be shared, so a run-config or strategy entry whose *key* says it holds
a secret, or whose *value* looks like one (a PEM block, credentials in a URL), is kept by
name with its value replaced by `REDACTED`: readers still see that the setting existed.
"""

from __future__ import annotations

import os
import re
from itertools import pairwise

from fedcrate.record.run import Parameter, ParameterValue

__all__ = [
    "REDACTED",
    "is_secret_key",
    "looks_secret_value",
    "redact_home",
    "redact_parameter",
    "scrub_text",
    "strip_url_credentials",
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
    "pwd",
    "privkey",
}
# Strong words also found inside a longer word (`SECRETKEY`, `dbpassword`); short ones
# (`pat`, `pem`) are not, or `path` and `temperature` would be secrets.
_STRONG_INFIXES = ("secret", "password", "passwd", "passphrase", "credential", "apikey",
                   "privatekey", "accesskey")  # fmt: skip
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
# Any PEM / OpenPGP armour: private keys of every kind (RSA, EC, OPENSSH, ENCRYPTED, PGP
# … KEY BLOCK) and certificates.
_PEM = re.compile(r"-----BEGIN [A-Z0-9 ]+-----")
# `scheme://user:password@` (or `scheme://:token@`) anywhere in the value.
_URL_CREDENTIALS = re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@]*:[^/\s@]+@", re.IGNORECASE)
# `password=…`, `?api_key=…`, `token: …` inside a value (libpq strings, URL queries, headers).
_EMBEDDED_SETTING = re.compile(r"([A-Za-z][A-Za-z0-9_.-]*)\s*[=:]\s*[\"']?([^\s&#;,\"'/?=]+)")
# Token formats that are secret whatever their key.
_TOKEN_FORMATS = re.compile(
    r"\bBearer\s+[A-Za-z0-9._~+/-]{8,}"
    r"|\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"  # AWS access key id
    r"|\bgh[pousr]_[A-Za-z0-9]{30,}"  # GitHub tokens
    r"|\bgithub_pat_[A-Za-z0-9_]{22,}"
    r"|\bglpat-[A-Za-z0-9_-]{20,}"  # GitLab
    r"|\bxox[abposr]-[A-Za-z0-9-]{10,}"  # Slack
    r"|\bhf_[A-Za-z0-9]{30,}"  # Hugging Face
    r"|\bsk-[A-Za-z0-9_-]{20,}"  # OpenAI-style secret keys
    r"|\bAIza[0-9A-Za-z_-]{35}"  # Google API keys
    r"|\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",  # JWT
)


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
    if any(infix in w for w in words for infix in _STRONG_INFIXES):
        return True
    weak = any(w in _WEAK_WORDS or w.endswith("token") for w in words)
    return weak and isinstance(value, str)


def looks_secret_value(value: ParameterValue) -> bool:
    """True for values that are secrets whatever their key.

    PEM blocks, `user:pass@` URLs, known token formats (AWS, GitHub, Bearer, JWT…) and
    settings inside the value whose name says secret (`host=db password=…`, `?token=…`).
    """
    if not isinstance(value, str):
        return False
    if _PEM.search(value) or _URL_CREDENTIALS.search(value) or _TOKEN_FORMATS.search(value):
        return True
    return any(
        is_secret_key(name, 0 if text.isdigit() else text)
        for name, text in _EMBEDDED_SETTING.findall(value)
    )


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


def scrub_text(text: str) -> str:
    """Free text (an error message) with credentials cut out: `user:password@` in URLs,
    `password=…`-style settings, known token formats and PEM blocks; home paths as `~/…`."""
    text = _URL_CREDENTIALS.sub(
        lambda m: m.group(0).split("://", 1)[0] + "://" + REDACTED + "@", text
    )
    text = re.sub(
        r"-----BEGIN [A-Z0-9 ]+-----.*?(-----END [A-Z0-9 ]+-----|$)", REDACTED, text, flags=re.S
    )
    text = _TOKEN_FORMATS.sub(REDACTED, text)

    def setting(match: re.Match[str]) -> str:
        name, value = match.group(1), match.group(2)
        return (
            match.group(0).replace(value, REDACTED)
            if is_secret_key(name, value)
            else match.group(0)
        )

    text = _EMBEDDED_SETTING.sub(setting, text)
    return str(redact_home(text))


def strip_url_credentials(url: str) -> str:
    """A URL without `user:password@` (a dataset URL must not publish its login)."""
    return _URL_CREDENTIALS.sub(lambda m: m.group(0).split("://", 1)[0] + "://", url)
