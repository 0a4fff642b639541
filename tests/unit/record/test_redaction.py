"""Secrets never reach a crate; home paths are shortened."""

from __future__ import annotations

import pytest

from fedcrate.record.redaction import REDACTED, redact_home, redact_parameter


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("api-token", "abc123"),
        ("hf_token", "hf_xxx"),
        ("apiKey", "k"),
        ("API_KEY", "k"),
        ("db_password", 1234),
        ("privateKey", "k"),
        ("private-key", "k"),
        ("client_secret", "s"),
        ("aws_access_key_id", "AKIA"),
        ("authToken", "t"),
        ("credentials", "u:p"),
    ],
)
def test_secret_keys_keep_name_and_lose_value(key: str, value: object) -> None:
    parameter = redact_parameter(key, value)  # type: ignore[arg-type]
    assert parameter.name == key
    assert parameter.value == REDACTED
    assert parameter.redacted


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("max-tokens", 512),
        ("tokenizer", "bert-base"),
        ("weighted_by_key", "num-examples"),
        ("arrayrecord_key", "arrays"),
        ("lr", 0.1),
        ("num-server-rounds", 3),
    ],
)
def test_ordinary_settings_are_kept(key: str, value: object) -> None:
    parameter = redact_parameter(key, value)  # type: ignore[arg-type]
    assert parameter.value == value
    assert not parameter.redacted


@pytest.mark.parametrize(
    "value",
    [
        "-----BEGIN RSA PRIVATE KEY-----\nMIIB...\n-----END RSA PRIVATE KEY-----",
        "https://alice:hunter2@data.example.org/shard",
        "postgresql://u:p@db:5432/x",
    ],
)
def test_secret_looking_values_are_redacted_under_any_key(value: str) -> None:
    assert redact_parameter("source", value).value == REDACTED


def test_home_paths_become_tilde_paths() -> None:
    home = "/home/alice"
    assert redact_home("/home/alice/data/x.csv", home) == "~/data/x.csv"
    assert redact_home("/home/alice", home) == "~"
    assert redact_home("/home/alicia/x", home) == "/home/alicia/x"
    assert redact_home("/data/shared", home) == "/data/shared"
    assert redact_home(3, home) == 3
