"""Federation facts from Flower's own grid classes (no network: nothing is connected)."""

from __future__ import annotations

import hashlib
import logging

import pytest
from flwr.app import Context, RecordDict
from flwr.superlink.grid.http_grid import HttpGrid

from fedcrate.capture.deployment import federation_facts, node_id_digest


def _context() -> Context:
    return Context(run_id=77, node_id=0, node_config={}, state=RecordDict(), run_config={})  # type: ignore[arg-type]


def test_node_id_digest_is_sha256_of_the_decimal_id() -> None:
    assert node_id_digest(1234567890123) == hashlib.sha256(b"1234567890123").hexdigest()
    assert len(node_id_digest(1)) == 64


def test_without_a_grid_only_the_context_speaks() -> None:
    facts = federation_facts(_context(), None, num_rounds=3)
    assert (facts.run_id, facts.num_rounds, facts.mode, facts.node_count) == (77, 3, None, None)
    assert facts.tls_enabled is None and facts.node_authentication is None


@pytest.mark.parametrize("insecure", [True, False])
def test_deployment_grid_states_mode_address_and_tls(
    insecure: bool, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    grid = HttpGrid(runtime_api_address="127.0.0.1:9", insecure=insecure, token="t")

    # A grid that cannot reach its SuperLink: the fault is injected so no retry loop runs.
    def unreachable() -> list[int]:
        raise ConnectionError("SuperLink unreachable")

    monkeypatch.setattr(grid, "get_node_ids", unreachable)
    monkeypatch.setattr(grid, "get_nodes", unreachable)
    with caplog.at_level(logging.WARNING, logger="fedcrate"):
        facts = federation_facts(_context(), grid, num_rounds=None)
    assert facts.mode == "deployment"
    assert facts.superlink_address == "127.0.0.1:9"
    assert facts.tls_enabled is (not insecure)
    # Unobservable facts stay unknown instead of guessed; the run id comes from the context.
    assert facts.node_count is None and facts.node_authentication is None
    assert facts.run_id == 77
    assert "not available" in caplog.text
