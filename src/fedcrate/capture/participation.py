"""What a round produces, observed by wrapping the strategy instance the tracker is given.

The message API's `Strategy.start` calls `self.configure_train`, `self.aggregate_train`,
`self.configure_evaluate` and `self.aggregate_evaluate` once per round. Instance
attributes shadow those methods, so the user's class stays untouched: each wrapper looks
at what passes through, hands the very same messages on (iterables are materialised into a
list once, which the original would have iterated anyway) and returns the original's
result. Observer faults are logged and never reach the training loop. What is observed:

* **participation**: sampled nodes, replies, failed replies and aggregated examples;
* **aggregated metrics** as `aggregate_*` returns them, so a run that fails at round k
  keeps rounds < k although `start` never returns its `Result`;
* **the Grid** (and the number of rounds), from `start(grid=…, num_rounds=…)` and every
  `configure_*(…, grid)`; in the classic API from the client proxies `configure_fit`
  returns. flwrCrate's signature has no `grid=`: this is how its users get federation facts.

Counts only: no node id is kept per round. A `site` entry that ClientApps put in a reply's
ConfigRecord (FLIP apps report `SUPERNODE_NAME` this way) is collected as a set of names;
the graph states how many there were and the names only on opt-in.
"""

from __future__ import annotations

import inspect
import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from fedcrate.record.run import RoundParticipation, Side

__all__ = ["ParticipationRecorder", "RoundHooks", "is_grid"]

logger = logging.getLogger("fedcrate")

_SITE_KEYS = ("site", "site-name", "supernode-name", "SUPERNODE_NAME")
_MARK = "__fedcrate_wrapper__"


def is_grid(value: Any) -> bool:
    """A Flower `Grid` (message API; the simulation's and the deployment's alike)."""
    try:
        from flwr.serverapp import Grid
    except ImportError:  # pragma: no cover - flwr is a dependency
        return False
    return isinstance(value, Grid)


@dataclass(frozen=True)
class RoundHooks:
    """Where the observations go (the tracker); each hook is optional."""

    on_count: Callable[[int, Side, dict[str, int]], None] | None = None
    on_metrics: Callable[[int, Side, Mapping[str, Any]], None] | None = None
    on_grid: Callable[[Any], None] | None = None
    on_rounds: Callable[[int], None] | None = None
    wrap_evaluate: Callable[[Callable[..., Any]], Callable[..., Any]] | None = None
    on_replies: Callable[[int, Side, list[int], list[Any], str], None] | None = None
    """(round, side, sampled node ids, reply messages, weighting key): per-client
    contributions, message API (`None` skips the work)."""
    on_classic_replies: Callable[[int, Side, list[Any], list[Any]], None] | None = None
    """(round, side, results, failures) as the classic `aggregate_*` receives them."""
    on_arrays: Callable[[int, Any], None] | None = None
    """(state, arrays): the global model handed to `configure_*`; state r - 1 for round
    r's training, state r for its evaluation (lineage; `None` skips the lookup)."""


class ParticipationRecorder:
    """Counts participation per round and passes each round's aggregates on at once."""

    def __init__(self, hooks: RoundHooks | None = None, *, count: bool = True) -> None:
        self._hooks = hooks or RoundHooks()
        self._counting = count
        self._lock = threading.Lock()
        self._rounds: dict[tuple[int, Side], dict[str, int]] = {}
        self.sites: set[str] = set()
        self._wrapped: list[tuple[Any, str, Callable[..., Any]]] = []
        self._grid_seen = False
        self._sampled: dict[tuple[int, Side], list[int]] = {}

    # -- bookkeeping ----------------------------------------------------------------

    def count(self, server_round: int, side: Side, **counts: int) -> None:
        """Add counts (nodes_sampled, replies_received, …) for one round and phase."""
        if not self._counting:
            return
        with self._lock:
            entry = self._rounds.setdefault((int(server_round), side), {})
            for name, value in counts.items():
                entry[name] = entry.get(name, 0) + int(value)
        if self._hooks.on_count is not None:
            self._hooks.on_count(int(server_round), side, {k: int(v) for k, v in counts.items()})

    def records(self) -> list[RoundParticipation]:
        """What was counted, ordered by round then phase."""
        with self._lock:
            items = sorted(self._rounds.items(), key=lambda kv: (kv[0][0], kv[0][1].value))
            return [RoundParticipation(round=r, side=side, **counts) for (r, side), counts in items]

    def _metrics(self, server_round: int, side: Side, metrics: Any) -> None:
        if metrics is not None and self._hooks.on_metrics is not None:
            self._hooks.on_metrics(int(server_round), side, metrics)

    def _grid(self, grid: Any) -> None:
        if grid is None or self._grid_seen or self._hooks.on_grid is None:
            return
        self._grid_seen = True
        self._hooks.on_grid(grid)

    # -- message API --------------------------------------------------------------

    def wrap(self, strategy: Any) -> None:
        """Shadow the per-round methods (and `start`) on this instance (not on its class).

        Message API: `start`, `configure_train` … `aggregate_evaluate`; classic API:
        `configure_fit` … `aggregate_evaluate` and `evaluate` (told apart by
        `configure_train`).
        """
        if not hasattr(strategy, "configure_train") and hasattr(strategy, "configure_fit"):
            self._wrap_classic(strategy)
            return
        if callable(getattr(strategy, "start", None)):
            self._install(strategy, "start", self._start_wrapper(strategy.start))
        weight_key = getattr(strategy, "weighted_by_key", None) or "num-examples"
        for name, side in (
            ("configure_train", Side.CLIENT_TRAIN),
            ("configure_evaluate", Side.CLIENT_EVALUATE),
        ):
            self._install(strategy, name, self._configure_wrapper(getattr(strategy, name), side))
        for name, side in (
            ("aggregate_train", Side.CLIENT_TRAIN),
            ("aggregate_evaluate", Side.CLIENT_EVALUATE),
        ):
            wrapper = self._aggregate_wrapper(getattr(strategy, name), side, str(weight_key))
            self._install(strategy, name, wrapper)

    def _start_wrapper(self, original: Callable[..., Any]) -> Callable[..., Any]:
        try:
            signature: inspect.Signature | None = inspect.signature(original)
        except (TypeError, ValueError):
            signature = None

        def start(*args: Any, **kwargs: Any) -> Any:
            if signature is not None:
                self._safely(self._note_start, signature, args, kwargs)
                kwargs = self._wrapped_evaluate_fn(signature, args, kwargs)
            return original(*args, **kwargs)

        start.__wrapped__ = original  # type: ignore[attr-defined]
        return start

    def _note_start(self, signature: inspect.Signature, args: Any, kwargs: Any) -> None:
        bound = signature.bind_partial(*args, **kwargs)
        bound.apply_defaults()
        self._grid(bound.arguments.get("grid"))
        rounds = bound.arguments.get("num_rounds")
        if isinstance(rounds, int) and not isinstance(rounds, bool) and self._hooks.on_rounds:
            self._hooks.on_rounds(rounds)

    def _wrapped_evaluate_fn(
        self, signature: inspect.Signature, args: Any, kwargs: dict[str, Any]
    ) -> dict[str, Any]:
        """`evaluate_fn` the app did not pass through `tracker.wrap_evaluate`, wrapped here:
        its metrics are then journaled as each round ends, like the client-side ones."""
        wrap = self._hooks.wrap_evaluate
        if wrap is None or "evaluate_fn" not in signature.parameters:
            return kwargs
        try:
            bound = signature.bind_partial(*args, **kwargs)
        except TypeError:
            return kwargs
        evaluate_fn = bound.arguments.get("evaluate_fn")
        if evaluate_fn is None or getattr(evaluate_fn, _MARK, False):
            return kwargs
        if "evaluate_fn" not in kwargs:  # passed positionally: leave the call as it is
            return kwargs
        return {**kwargs, "evaluate_fn": wrap(evaluate_fn)}

    def _wrap_classic(self, strategy: Any) -> None:
        for phase, side in (("fit", Side.CLIENT_TRAIN), ("evaluate", Side.CLIENT_EVALUATE)):
            configure = getattr(strategy, f"configure_{phase}")
            aggregate = getattr(strategy, f"aggregate_{phase}")
            self._install(strategy, f"configure_{phase}", self._configure_wrapper(configure, side))
            self._install(strategy, f"aggregate_{phase}", self._classic_aggregate(aggregate, side))
        if callable(getattr(strategy, "evaluate", None)):
            self._install(strategy, "evaluate", self._classic_evaluate(strategy.evaluate))

    def _classic_aggregate(self, original: Callable[..., Any], side: Side) -> Callable[..., Any]:
        def aggregate(server_round: int, results: Any, failures: Any) -> Any:
            results, failures = list(results), list(failures)
            self._safely(
                self.count,
                server_round,
                side,
                replies_received=len(results) + len(failures),
                replies_failed=len(failures),
                examples_aggregated=sum(int(res.num_examples) for _, res in results),
            )
            if self._hooks.on_classic_replies is not None:
                self._safely(self._hooks.on_classic_replies, server_round, side, results, failures)
            aggregated = original(server_round, results, failures)
            self._safely(self._classic_metrics, server_round, side, aggregated)
            return aggregated

        aggregate.__wrapped__ = original  # type: ignore[attr-defined]
        return aggregate

    def _classic_metrics(self, server_round: int, side: Side, aggregated: Any) -> None:
        """(parameters, metrics) from aggregate_fit; (loss, metrics) from aggregate_evaluate
        and evaluate, the loss named "loss" as Flower's History names it."""
        if not isinstance(aggregated, tuple) or len(aggregated) != 2:
            return
        first, metrics = aggregated
        values = dict(metrics or {})
        if side is not Side.CLIENT_TRAIN and first is not None:
            values = {"loss": first, **values}
        if values:
            self._metrics(server_round, side, values)

    def _classic_evaluate(self, original: Callable[..., Any]) -> Callable[..., Any]:
        def evaluate(server_round: int, parameters: Any) -> Any:
            outcome = original(server_round, parameters)
            self._safely(self._classic_metrics, server_round, Side.SERVER_EVALUATE, outcome)
            return outcome

        evaluate.__wrapped__ = original  # type: ignore[attr-defined]
        return evaluate

    def unwrap(self) -> None:
        """Remove the instance attributes again (the class methods show through)."""
        for instance, name, wrapper in reversed(self._wrapped):
            try:
                if vars(instance).get(name) is wrapper:
                    delattr(instance, name)
            except Exception as exc:  # an odd strategy must not break the run's end
                logger.warning("could not restore %s.%s (%s)", type(instance).__name__, name, exc)
        self._wrapped.clear()

    def _install(self, instance: Any, name: str, wrapper: Callable[..., Any]) -> None:
        setattr(instance, name, wrapper)
        self._wrapped.append((instance, name, wrapper))

    def _configure_wrapper(self, original: Callable[..., Any], side: Side) -> Callable[..., Any]:
        def configure(server_round: int, *args: Any, **kwargs: Any) -> Any:
            if not self._grid_seen:
                self._safely(self._grid_from_arguments, args, kwargs)
            if self._hooks.on_arrays is not None:
                self._safely(self._arrays_from_arguments, server_round, side, args, kwargs)
            messages = original(server_round, *args, **kwargs)
            if messages is None:
                return messages
            messages = list(messages)
            if not self._grid_seen:
                self._safely(self._grid_from_proxies, messages)
            self._safely(self.count, server_round, side, nodes_sampled=len(messages))
            if self._hooks.on_replies is not None:
                self._safely(self._note_sampled, server_round, side, messages)
            return messages

        configure.__wrapped__ = original  # type: ignore[attr-defined]
        return configure

    def _arrays_from_arguments(
        self, server_round: int, side: Side, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        """The global model: `arrays` (message API) or `parameters` (classic), first after
        the round number either way."""
        arrays = kwargs.get("arrays", kwargs.get("parameters"))
        if arrays is None and args:
            arrays = args[0]
        if arrays is not None and self._hooks.on_arrays is not None:
            state = server_round - 1 if side is Side.CLIENT_TRAIN else server_round
            self._hooks.on_arrays(state, arrays)

    def _note_sampled(self, server_round: int, side: Side, messages: list[Any]) -> None:
        nodes = [int(m.metadata.dst_node_id) for m in messages if hasattr(m, "metadata")]
        with self._lock:
            self._sampled[(int(server_round), side)] = nodes

    def _grid_from_arguments(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        for value in (kwargs.get("grid"), *args):
            if value is not None and is_grid(value):
                self._grid(value)
                return

    def _grid_from_proxies(self, instructions: list[Any]) -> None:
        """Classic API: `configure_fit` returns (ClientProxy, FitIns) pairs; the proxies of
        Flower's compatibility layer hold the Grid they talk through."""
        for item in instructions:
            proxy = item[0] if isinstance(item, tuple) and item else None
            grid = getattr(proxy, "grid", None)
            if grid is not None and is_grid(grid):
                self._grid(grid)
                return

    def _aggregate_wrapper(
        self, original: Callable[..., Any], side: Side, weight_key: str
    ) -> Callable[..., Any]:
        def aggregate(server_round: int, replies: Iterable[Any], *args: Any, **kwargs: Any) -> Any:
            replies = list(replies)
            self._safely(self._count_replies, server_round, side, replies, weight_key)
            if self._hooks.on_replies is not None:
                with self._lock:
                    sampled = self._sampled.pop((int(server_round), side), [])
                hook = self._hooks.on_replies
                self._safely(hook, server_round, side, sampled, replies, weight_key)
            aggregated = original(server_round, replies, *args, **kwargs)
            # aggregate_train → (arrays, metrics); aggregate_evaluate → metrics.
            metrics = aggregated[1] if isinstance(aggregated, tuple) else aggregated
            self._safely(self._metrics, server_round, side, metrics)
            return aggregated

        aggregate.__wrapped__ = original  # type: ignore[attr-defined]
        return aggregate

    def _count_replies(self, server_round: int, side: Side, replies: list[Any], key: str) -> None:
        if not self._counting:
            return
        failed = examples = 0
        for reply in replies:
            if reply.has_error():
                failed += 1
                continue
            content = reply.content
            for record in content.metric_records.values():
                if key in record:
                    examples += int(record[key])
                    break
            for record in content.config_records.values():
                for site_key in _SITE_KEYS:
                    site = record.get(site_key)
                    if isinstance(site, str) and site:
                        self.sites.add(site)
        self.count(
            server_round,
            side,
            replies_received=len(replies),
            replies_failed=failed,
            examples_aggregated=examples,
        )

    @staticmethod
    def _safely(step: Callable[..., None], *args: Any, **kwargs: Any) -> None:
        try:
            step(*args, **kwargs)
        except Exception as exc:  # provenance must never break training
            logger.error("round not fully observed (%s: %s)", type(exc).__name__, exc)
