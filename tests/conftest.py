"""Shared fixtures: a realistic RunRecord built from plain facts (no Flower needed)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone

import pytest

from fedcrate.record import (
    DatasetRef,
    FederationFacts,
    License,
    Metric,
    Organization,
    Parameter,
    Person,
    RoundObservation,
    RunRecord,
    RunStatus,
    Side,
    SoftwareFacts,
    StrategyFacts,
)

STATO_ACCURACY = "http://purl.obolibrary.org/obo/STATO_0000415"
START = datetime(2026, 11, 25, 10, 0, 0, 123456, tzinfo=timezone.utc)


def make_record(rounds: int = 3, metrics: tuple[str, ...] = ("loss", "accuracy")) -> RunRecord:
    """A completed run with server- and client-side metrics for `rounds` rounds."""
    iris = {"accuracy": STATO_ACCURACY}
    observations = []
    for server_round in range(rounds + 1):
        for name in metrics:
            metric = Metric(name, iris.get(name))
            observations.append(
                RoundObservation(
                    server_round, Side.SERVER_EVALUATE, metric, 1.0 / (server_round + 2)
                )
            )
            if server_round:
                observations.append(RoundObservation(server_round, Side.CLIENT_TRAIN, metric, 0.5))
                observations.append(
                    RoundObservation(
                        server_round, Side.CLIENT_EVALUATE, metric, 0.25 * server_round
                    )
                )
    return RunRecord(
        name="unit run",
        started_at=START,
        ended_at=START + timedelta(seconds=42, microseconds=987654),
        run_uuid="1b4c5f2e-0000-4000-8000-000000000001",
        status=RunStatus.COMPLETED,
        author=Person(
            "Ada", "https://orcid.org/0000-0002-1825-0097", affiliation=Organization("Uni")
        ),
        license=License("https://spdx.org/licenses/MIT", "MIT"),
        flower=SoftwareFacts("flwr", "Flower", "1.42.0", url="https://flower.ai/"),
        frameworks=[
            SoftwareFacts("numpy", "NumPy", "2.4.6", "numpy>=1.26", "https://numpy.org/"),
        ],
        strategy=StrategyFacts(
            "FedProx",
            "flwr.serverapp.strategy.fedprox",
            (Parameter("proximal_mu", 0.1), Parameter("fraction_train", 0.5)),
            version="1.42.0",
            url="https://flower.ai/docs/framework/ref-api/flwr.serverapp.strategy.FedProx.html",
        ),
        datasets=[
            DatasetRef(
                "digits",
                "https://archive.ics.uci.edu/dataset/80/optical+recognition+of+handwritten+digits",
                "8x8 handwritten digits",
                "https://creativecommons.org/licenses/by/4.0/",
            )
        ],
        config=[
            Parameter("num_rounds", 3),
            Parameter("num-rounds", 4),
            Parameter("api-token", "[redacted by fedcrate]", redacted=True),
            Parameter("lr", 0.01),
        ],
        federation=FederationFacts(run_id=7, node_count=2, num_rounds=rounds),
        observations=observations,
    )


@pytest.fixture(scope="session", autouse=True)
def _isolated_user_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep the session out of the real ~/.cache: a default SPARQL index (and any other
    XDG cache) goes to a temporary folder, on every platform (FEDCRATE_INDEX_HOME)."""
    root = tmp_path_factory.mktemp("user-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(root))
        patch.setenv("FEDCRATE_INDEX_HOME", str(root / "fedcrate" / "index"))
        yield


@pytest.fixture
def record_factory() -> Callable[..., RunRecord]:
    return make_record


# Hypothesis profiles (tests/unit/test_properties.py, test_fuzz_cli.py): "ci" (default) keeps
# the property tests under a minute on 2 cores and writes no example database; "dev" runs
# 10x the examples and keeps failures in .hypothesis/ to replay them. HYPOTHESIS_PROFILE=dev.
def _register_hypothesis_profiles() -> None:
    import os

    from hypothesis import HealthCheck, settings

    slow = [HealthCheck.too_slow, HealthCheck.data_too_large]
    settings.register_profile(
        "ci", max_examples=100, deadline=None, database=None, suppress_health_check=slow
    )
    settings.register_profile("dev", max_examples=1000, deadline=None, suppress_health_check=slow)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


_register_hypothesis_profiles()

# Session-wide canary secrets in the environment, and a scan of every crate the session
# wrote for them (tests/support/canaries.py; FEDCRATE_CANARY_SCAN=0 turns it off).
from tests.support.canaries import canary_session_scan  # noqa: E402, F401
