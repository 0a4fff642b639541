"""Flower's classic API (`ServerApp(server_fn=…)`, `flwr.server.strategy`), recorded.

Classic apps hand Flower a strategy and a `ServerConfig`; Flower's `Server.fit` then runs
every round and returns a `History`. There is no `with` block to put around the rounds, so
fedcrate supplies the `Server`: `tracked_components` returns the `ServerAppComponents`
whose server runs `fit` inside an `FLCrateTracker` and folds the `History` (centralised
and federated losses and metrics, per round) and the final parameters into the crate:

    def server_fn(context: Context) -> ServerAppComponents:
        strategy = FedAvg(fraction_fit=1.0, evaluate_fn=evaluate)
        return tracked_components(context, strategy, ServerConfig(num_rounds=3),
                                  output_dir="runs", author="0000-0002-1825-0097")

    app = ServerApp(server_fn=server_fn)

Participation per round comes from the strategy's `configure_fit` / `aggregate_fit` /
`configure_evaluate` / `aggregate_evaluate`, wrapped on the instance like the message API's.
"""

from __future__ import annotations

import logging
from typing import Any

from flwr.server import Server, ServerAppComponents
from flwr.server.client_manager import SimpleClientManager

from fedcrate.capture.flower import FLCrateTracker, caller_file
from fedcrate.capture.pyproject import find_pyproject
from fedcrate.record.run import Side

__all__ = ["TrackedServer", "record_history", "tracked_components"]

logger = logging.getLogger("fedcrate")

# History attribute → the side that produced it; losses become the metric "loss".
_HISTORY_METRICS = (
    ("metrics_distributed_fit", Side.CLIENT_TRAIN),
    ("metrics_distributed", Side.CLIENT_EVALUATE),
    ("metrics_centralized", Side.SERVER_EVALUATE),
)
_HISTORY_LOSSES = (
    ("losses_distributed", Side.CLIENT_EVALUATE),
    ("losses_centralized", Side.SERVER_EVALUATE),
)


def record_history(tracker: FLCrateTracker, history: Any, parameters: Any = None) -> None:
    """Fold a classic `History` (and the final `Parameters`, saved as the model) in."""
    try:
        for attribute, side in _HISTORY_LOSSES:
            for server_round, loss in getattr(history, attribute, None) or []:
                tracker.observe(int(server_round), side, {"loss": loss})
        for attribute, side in _HISTORY_METRICS:
            for name, series in (getattr(history, attribute, None) or {}).items():
                for server_round, value in series:
                    tracker.observe(int(server_round), side, {name: value})
    except Exception as exc:  # provenance must never break training
        logger.error("history not fully recorded (%s: %s)", type(exc).__name__, exc)
    if parameters is not None and getattr(parameters, "tensors", None):
        try:
            from flwr.app import ArrayRecord
            from flwr.common import parameters_to_ndarrays

            tracker.record_arrays(ArrayRecord(parameters_to_ndarrays(parameters)))
        except Exception as exc:
            logger.error("final parameters not recorded (%s: %s)", type(exc).__name__, exc)


class TrackedServer(Server):
    """A classic `flwr.server.Server` whose `fit` is recorded as one run."""

    def __init__(
        self, context: Any, strategy: Any, *, client_manager: Any = None, **tracker_kwargs: Any
    ) -> None:
        super().__init__(client_manager=client_manager or SimpleClientManager(), strategy=strategy)
        self._context = context
        self._tracker_kwargs = tracker_kwargs
        self.tracker: FLCrateTracker | None = None

    def fit(self, num_rounds: int, timeout: float | None) -> tuple[Any, float]:
        """Run Flower's own `fit` inside a tracker; a failure is recorded, then re-raised."""
        with FLCrateTracker(self._context, self.strategy, **self._tracker_kwargs) as tracker:
            self.tracker = tracker
            tracker.note_rounds(num_rounds)
            history, elapsed = super().fit(num_rounds, timeout)
            tracker.note_node_count(self.client_manager().num_available())
            record_history(tracker, history, self.parameters)
        return history, elapsed


def tracked_components(
    context: Any, strategy: Any, config: Any, **tracker_kwargs: Any
) -> ServerAppComponents:
    """`ServerAppComponents` for `server_fn`: Flower's classic loop, recorded by fedcrate.

    `tracker_kwargs` are `FLCrateTracker`'s (output_dir, app_name, author, license, …).
    """
    if tracker_kwargs.get("pyproject_path") is None:
        # The tracker is created later, from Flower's code: find the app's pyproject now,
        # from the server_fn that calls us.
        caller = caller_file()
        if caller is not None:
            tracker_kwargs["pyproject_path"] = find_pyproject(caller)
    server = TrackedServer(context, strategy, **tracker_kwargs)
    return ServerAppComponents(server=server, config=config)
