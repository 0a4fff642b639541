"""Canary secrets planted in tracker runs never reach the crates.

Canaries go into the run config (under secret-looking keys and as secret-looking values
under ordinary keys), into the environment, and into a real FedAvg subclass's attributes;
the tracker runs with a real Flower `Context`, `MetricRecord`s and a `Result`, writes its
crate, and every file of every crate is scanned for every canary, raw and encoded
(tests/support/canaries.py). No process is started: this runs in seconds.

The session-wide part (canaries in the environment of every test, every crate of the
session scanned at its end) lives in `canary_session_scan`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from flwr.app import ArrayRecord, Context, MetricRecord, RecordDict
from flwr.serverapp.strategy import FedAvg, Result

from fedcrate import FLCrateTracker
from fedcrate.record.redaction import REDACTED
from tests.support.canaries import (
    ENVIRONMENT_CANARIES,
    canary,
    scan_crate,
    scan_for_secret_patterns,
)

PYPROJECT = '[project]\nname = "canary-app"\ndependencies = ["flwr>=1.42", "numpy>=1.26"]\n'

# Made at import (random), so the test module copied into a crate as the strategy's source
# holds none of them.
SECRETS = {
    name: canary(name)
    for name in (
        "api-token",
        "db_password",
        "aws-secret",
        "pem",
        "pgp",
        "url-password",
        "dsn-password",
        "query-key",
        "bearer",
        "strategy-api-key",
        "strategy-password",
        "strategy-url",
        "strategy-private",
        "strategy-nested",
        "env-aws",
        "env-hf",
    )
}


def _pem(kind: str, body: str) -> str:
    return f"-----BEGIN {kind}-----\n{body}\n-----END {kind}-----\n"


def _run_config() -> dict[str, Any]:
    s = SECRETS
    return {
        "num-server-rounds": 2,
        "lr": 0.05,
        # Keys that say secret.
        "api-token": s["api-token"],
        "db_password": s["db_password"],
        "AWS_SECRET_ACCESS_KEY": s["aws-secret"],
        # Values that look secret, under keys that do not.
        "tls-material": _pem("RSA PRIVATE KEY", s["pem"]),
        "signing": _pem("PGP PRIVATE KEY BLOCK", s["pgp"]),
        "data-url": f"https://user:{s['url-password']}@data.example.org/shard",
        "db-dsn": f"host=db.example.org user=fl password={s['dsn-password']} dbname=runs",
        "weights-url": f"https://hub.example.org/w.npz?api_key={s['query-key']}&rev=3",
        "extra-header": f"Authorization: Bearer {s['bearer']}",
    }


class CanaryFedAvg(FedAvg):
    """FedAvg keeping credentials on the instance, as apps do."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.api_key = SECRETS["strategy-api-key"]
        self.db_password = SECRETS["strategy-password"]
        self.upload_to = f"s3://:{SECRETS['strategy-url']}@bucket.example.org/models"
        self._private_token = SECRETS["strategy-private"]
        self.credentials = {"token": SECRETS["strategy-nested"]}


def _result() -> Result:
    return Result(
        arrays=ArrayRecord([np.arange(4, dtype=np.float32)]),
        train_metrics_clientapp={r: MetricRecord({"train_loss": 1.0 / r}) for r in range(1, 3)},
        evaluate_metrics_clientapp={r: MetricRecord({"accuracy": 0.5}) for r in range(1, 3)},
        evaluate_metrics_serverapp={r: MetricRecord({"loss": 0.1 * r}) for r in range(3)},
    )


@pytest.fixture
def planted_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    planted = {
        "AWS_SECRET_ACCESS_KEY": SECRETS["env-aws"],
        "HF_TOKEN": SECRETS["env-hf"],
        **ENVIRONMENT_CANARIES,
    }
    for name, value in planted.items():
        monkeypatch.setenv(name, value)
    return planted


def _track(tmp_path: Path, strategy: FedAvg, **kwargs: Any) -> FLCrateTracker:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    context = Context(
        run_id=99, node_id=0, node_config={}, state=RecordDict(), run_config=_run_config()
    )
    return FLCrateTracker(
        context,
        strategy,
        output_dir=tmp_path / "crates",
        pyproject_path=tmp_path / "pyproject.toml",
        app_name="canary run",
        **kwargs,
    )


def _all_secrets(env: dict[str, str]) -> dict[str, str]:
    return {**SECRETS, **{f"env:{k}": v for k, v in env.items()}}


def test_no_canary_reaches_a_completed_run(tmp_path: Path, planted_env: dict[str, str]) -> None:
    logging.getLogger("fedcrate").setLevel(logging.ERROR)
    strategy = CanaryFedAvg(fraction_train=0.5)
    with _track(tmp_path, strategy) as tracker:
        result = _result()
        evaluate = tracker.wrap_evaluate(lambda rnd, arrays: result.evaluate_metrics_serverapp[rnd])
        for server_round in range(3):
            evaluate(server_round, result.arrays)
        tracker.record_result(result)
        # Mid-run, the output folder holds the run's journal (what a killed run leaves).
        in_flight = scan_crate(tmp_path / "crates", _all_secrets(planted_env))
        assert any((tmp_path / "crates").iterdir()), "nothing written mid-run"
        assert not in_flight, "\n".join(map(str, in_flight))
    assert tracker.crate is not None
    crate = tracker.crate.path
    # And nothing else in the output folder (journals, staging leftovers) holds one.
    everything = scan_crate(tmp_path, _all_secrets(planted_env))
    assert not everything, "\n".join(map(str, everything))
    # The crate is complete: model, metrics log, preview, the strategy's source file.
    names = {p.relative_to(crate).as_posix() for p in crate.rglob("*") if p.is_file()}
    assert {"ro-crate-metadata.json", "final_model.npz", "metrics-by-round.csv"} <= names
    assert "ro-crate-preview.html" in names and any(n.startswith("code/") for n in names)

    leaks = scan_crate(crate, _all_secrets(planted_env)) + scan_for_secret_patterns(crate)
    assert not leaks, "\n".join(map(str, leaks))

    # Redaction keeps every name, so readers still see that the setting existed.
    metadata = (crate / "ro-crate-metadata.json").read_text(encoding="utf-8")
    for key in _run_config():
        assert f'"name": "{key}"' in metadata, key
    for attribute in ("api_key", "db_password", "upload_to"):
        assert f'"name": "{attribute}"' in metadata, attribute
    assert metadata.count(REDACTED) >= 12
    assert "_private_token" not in metadata and '"credentials"' not in metadata


def test_no_canary_reaches_a_failed_run(tmp_path: Path, planted_env: dict[str, str]) -> None:
    # A failed run's crate records the error; the config and strategy stay redacted.
    with pytest.raises(RuntimeError), _track(tmp_path, CanaryFedAvg()) as tracker:
        raise RuntimeError("round 1 diverged")
    assert tracker.crate is not None
    leaks = scan_crate(tracker.crate.path, _all_secrets(planted_env))
    assert not leaks, "\n".join(map(str, leaks))


def test_an_error_message_quoting_a_credentialled_url_is_redacted(tmp_path: Path) -> None:
    secret = canary("error-url")
    with pytest.raises(ConnectionError), _track(tmp_path, FedAvg()) as tracker:
        raise ConnectionError(f"cannot reach https://fl:{secret}@db.example.org:5432/runs")
    assert tracker.crate is not None
    leaks = scan_crate(tracker.crate.path, {"error-url": secret})
    assert not leaks, "\n".join(map(str, leaks))


def test_dataset_urls_lose_their_credentials(tmp_path: Path) -> None:
    secret = canary("dataset-url")
    url = f"https://reader:{secret}@data.example.org/digits.csv"
    with _track(tmp_path, FedAvg(), datasets=[url]) as tracker:
        pass
    assert tracker.crate is not None
    leaks = scan_crate(tracker.crate.path, {"dataset-url": secret})
    assert not leaks, "\n".join(map(str, leaks))


def test_the_scanner_finds_encoded_canaries(tmp_path: Path) -> None:
    # The scan itself must work: plant each encoded form and find it.
    import base64
    from urllib.parse import quote

    secret = canary("self-test")
    for index, blob in enumerate(
        [
            secret.encode(),
            base64.b64encode(b"x" + secret.encode() + b"y"),
            base64.urlsafe_b64encode(b"xy" + secret.encode()),
            quote(f"k={secret}/", safe="").encode(),
            secret.encode().hex().upper().encode(),
        ]
    ):
        folder = tmp_path / str(index)
        folder.mkdir()
        (folder / "file.bin").write_bytes(b"\x00prefix " + blob + b" suffix\xff")
        assert scan_crate(folder, {"self-test": secret}), blob
    (tmp_path / "clean").mkdir()
    (tmp_path / "clean" / "file.txt").write_text("nothing to see", encoding="utf-8")
    assert not scan_crate(tmp_path / "clean", {"self-test": secret})
