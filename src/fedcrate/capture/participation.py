"""Participation per round, observed by wrapping the strategy instance the tracker is given.

The message API's `Strategy.start` calls `self.configure_train`, `self.aggregate_train`,
`self.configure_evaluate` and `self.aggregate_evaluate` once per round. Instance
attributes shadow those methods, so the user's class stays untouched: each wrapper counts
what passes through, hands the very same messages on (iterables are materialised into a
list once, which the original would have iterated anyway) and returns the original's
result. Counting faults are logged and never reach the training loop.

Counts only: no node id is kept per round. A `site` entry that ClientApps put in a reply's
ConfigRecord (FLIP apps report `SUPERNODE_NAME` this way) is collected as a set of names;
the graph states how many there were and the names only on opt-in.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

from fedcrate.record.run import RoundParticipation, Side

__all__ = ["ParticipationRecorder"]

logger = logging.getLogger("fedcrate")

_SITE_KEYS = ("site", "site-name", "supernode-name", "SUPERNODE_NAME")


class ParticipationRecorder:
    """Counts sampled nodes, replies, failed replies and aggregated examples per round."""

    def __init__(self, on_count: Callable[[int, Side, dict[str, int]], None] | None = None) -> None:
        self._on_count = on_count
        self._lock = threading.Lock()
        self._rounds: dict[tuple[int, Side], dict[str, int]] = {}
        self.sites: set[str] = set()
        self._wrapped: list[tuple[Any, str, Callable[..., Any]]] = []

    # -- bookkeeping ----------------------------------------------------------------

    def count(self, server_round: int, side: Side, **counts: int) -> None:
        """Add counts (nodes_sampled, replies_received, …) for one round and phase."""
        with self._lock:
            entry = self._rounds.setdefault((int(server_round), side), {})
            for name, value in counts.items():
                entry[name] = entry.get(name, 0) + int(value)
        if self._on_count is not None:
            self._on_count(int(server_round), side, {k: int(v) for k, v in counts.items()})

    def records(self) -> list[RoundParticipation]:
        """What was counted, ordered by round then phase."""
        with self._lock:
            items = sorted(self._rounds.items(), key=lambda kv: (kv[0][0], kv[0][1].value))
            return [RoundParticipation(round=r, side=side, **counts) for (r, side), counts in items]

    # -- message API --------------------------------------------------------------

    def wrap(self, strategy: Any) -> None:
        """Shadow the four per-round methods on this instance (not on its class).

        Message API: `configure_train` … `aggregate_evaluate`; classic API:
        `configure_fit` … `aggregate_evaluate` (told apart by `configure_train`).
        """
        if not hasattr(strategy, "configure_train") and hasattr(strategy, "configure_fit"):
            self._wrap_classic(strategy)
            return
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

    def _wrap_classic(self, strategy: Any) -> None:
        for phase, side in (("fit", Side.CLIENT_TRAIN), ("evaluate", Side.CLIENT_EVALUATE)):
            configure = getattr(strategy, f"configure_{phase}")
            aggregate = getattr(strategy, f"aggregate_{phase}")
            self._install(strategy, f"configure_{phase}", self._configure_wrapper(configure, side))
            self._install(strategy, f"aggregate_{phase}", self._classic_aggregate(aggregate, side))

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
            return original(server_round, results, failures)

        aggregate.__wrapped__ = original  # type: ignore[attr-defined]
        return aggregate

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
            messages = original(server_round, *args, **kwargs)
            if messages is None:
                return messages
            messages = list(messages)
            self._safely(self.count, server_round, side, nodes_sampled=len(messages))
            return messages

        configure.__wrapped__ = original  # type: ignore[attr-defined]
        return configure

    def _aggregate_wrapper(
        self, original: Callable[..., Any], side: Side, weight_key: str
    ) -> Callable[..., Any]:
        def aggregate(server_round: int, replies: Iterable[Any], *args: Any, **kwargs: Any) -> Any:
            replies = list(replies)
            self._safely(self._count_replies, server_round, side, replies, weight_key)
            return original(server_round, replies, *args, **kwargs)

        aggregate.__wrapped__ = original  # type: ignore[attr-defined]
        return aggregate

    def _count_replies(self, server_round: int, side: Side, replies: list[Any], key: str) -> None:
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
            logger.error("participation not recorded (%s: %s)", type(exc).__name__, exc)
