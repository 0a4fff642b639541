"""Federation facts a ServerApp can observe: runtime mode, run, FAB, nodes, security posture.

What flwr 1.42 lets the ServerApp see (and therefore what a crate can state):

* `grid.run` (`flwr.supercore.run.Run`): run id, FAB id / version / sha256, federation id.
* The grid's class: `InMemoryGrid` in the simulation runtime, `HttpGrid` (or the gRPC
  grid of older releases) in the deployment runtime.
* `grid.get_node_ids()` / `grid.get_nodes()`: the nodes available now. `NodeInfo.owner_aid`
  tells SuperNode authentication apart: self-registered nodes (authentication off) belong
  to Flower's no-account id; with `--enable-supernode-auth` an account registered them.
* The SuperLink address and TLS on/off of the ServerApp's own link to it (the grid is
  built from `flwr-serverapp --runtime-api-address … [--insecure]`).

What it cannot see: whether the Fleet API (SuperNode ↔ SuperLink) uses TLS, the
SuperNodes' `node_config`, their environment (e.g. FLIP's `SUPERNODE_NAME`) or isolation
mode. Those are not recorded rather than guessed.
"""

from __future__ import annotations

import hashlib
import logging
import sys
from typing import Any

from fedcrate.record.run import FederationFacts

__all__ = ["federation_facts", "node_id_digest"]

logger = logging.getLogger("fedcrate")

_SIMULATION_GRIDS = {"InMemoryGrid"}
_DEPLOYMENT_GRIDS = {"HttpGrid", "GrpcGrid"}
# flwr.common.constant.NOOP_FLWR_AID: the owner of SuperNodes that registered themselves.
_SELF_REGISTERED_OWNER = "<id:none>"


def node_id_digest(node_id: int) -> str:
    """SHA-256 of the node id's decimal form: stable across runs, not the id itself."""
    return hashlib.sha256(str(int(node_id)).encode("ascii")).hexdigest()


def _argv_option(name: str) -> str | None:
    argv = sys.argv
    for index, arg in enumerate(argv):
        if arg == name and index + 1 < len(argv):
            return argv[index + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


def _mode(grid: Any) -> str | None:
    names = {cls.__name__ for cls in type(grid).__mro__}
    if names & _SIMULATION_GRIDS:
        return "simulation"
    if names & _DEPLOYMENT_GRIDS:
        return "deployment"
    return None


def _link(grid: Any, mode: str | None) -> tuple[str | None, bool | None]:
    """(SuperLink address, TLS on?) of the ServerApp's own connection, deployment only."""
    if mode != "deployment":
        return None, None
    address = getattr(grid, "_addr", None) or _argv_option("--runtime-api-address")
    insecure = getattr(grid, "_insecure", None)
    if insecure is None and address is not None:
        insecure = "--insecure" in sys.argv
    return (str(address) if address else None), (None if insecure is None else not insecure)


def _node_authentication(grid: Any, mode: str | None) -> bool | None:
    """SuperNode authentication on? Every SuperNode has a key pair in flwr 1.42, so the key
    says nothing; but with authentication off, nodes register themselves and are owned by
    Flower's no-account id (`NOOP_FLWR_AID`), while with it on an account registered them."""
    if mode != "deployment":
        return None
    try:
        nodes = list(grid.get_nodes())
    except Exception as exc:
        logger.warning("node details not available from the grid (%s)", exc)
        return None
    owners = [str(getattr(node, "owner_aid", "") or "") for node in nodes]
    if not owners or not all(owners):
        return None
    return all(owner != _SELF_REGISTERED_OWNER for owner in owners)


def federation_facts(context: Any, grid: Any, num_rounds: int | None) -> FederationFacts:
    """Everything the Context and the Grid tell about the federation; never raises."""
    run = None
    if grid is not None:
        try:
            run = grid.run
        except Exception as exc:  # HttpGrid.run raises TypeError before set_run()
            logger.warning("run facts not available from the grid (%s)", exc)
    node_ids: list[int] | None = None
    if grid is not None:
        try:
            node_ids = [int(n) for n in grid.get_node_ids()]
        except Exception as exc:
            logger.warning("node ids not available from the grid (%s)", exc)
    mode = _mode(grid) if grid is not None else None
    address, tls = _link(grid, mode)
    run_id = getattr(run, "run_id", None) or getattr(context, "run_id", None)
    return FederationFacts(
        run_id=int(run_id) if run_id is not None else None,
        fab_id=getattr(run, "fab_id", None) or None,
        fab_version=getattr(run, "fab_version", None) or None,
        fab_hash=getattr(run, "fab_hash", None) or None,
        federation_id=getattr(run, "federation_id", None) or None,
        node_count=len(node_ids) if node_ids is not None else None,
        num_rounds=num_rounds,
        mode=mode,
        node_id_digests=tuple(sorted(node_id_digest(n) for n in node_ids or ())),
        superlink_address=address,
        tls_enabled=tls,
        node_authentication=_node_authentication(grid, mode),
    )
