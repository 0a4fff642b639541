"""Per-client contributions: what each sampled node gave one phase of one round (opt-in).

FL provenance is about who contributed what to the model; the aggregates a strategy
returns say only what the federation did as a whole. With `record_clients=True` the
tracker keeps, for every node a round sampled, whether it replied, the examples it
reported and the metrics in its reply, from the very messages `aggregate_*` receives.

What is never kept: the node's id (its SHA-256 is, as for the run's nodes), the error's
message (it may quote data, paths or credentials; only Flower's error code name and the
exception's class are), and anything in a reply that is not a scalar metric.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from fedcrate.capture.deployment import node_id_digest
from fedcrate.record.redaction import scrub_text
from fedcrate.record.run import ClientContribution, ContributionMetric, Metric, ReplyStatus, Side

__all__ = ["classic_contributions", "error_kind", "message_contributions"]

# Flower's ClientApp error reason: "<class 'RuntimeError'>:<'the message'>" from a SuperNode;
# in the simulation Ray wraps the class ("ray.exceptions.RayTaskError(ClientAppException)")
# and Flower's actor has already replaced the app's exception by a ClientAppException.
_EXCEPTION_CLASS = re.compile(r"<class '([^']+)'>")
_WRAPPED = re.compile(r"\(([A-Za-z_][\w.]*)\)$")


def _error_code_names() -> dict[int, str]:
    try:
        from flwr.common.constant import ErrorCode
    except ImportError:  # pragma: no cover - flwr is a dependency
        return {}
    return {
        value: name
        for name, value in vars(ErrorCode).items()
        if name.isupper() and isinstance(value, int)
    }


def error_kind(error: Any) -> str:
    """`CLIENT_APP_RAISED_EXCEPTION: RuntimeError`-like: the kind, never the message."""
    code = getattr(error, "code", None)
    name = _error_code_names().get(code, f"error code {code}") if code is not None else "error"
    found = _EXCEPTION_CLASS.search(str(getattr(error, "reason", "") or ""))
    if found is None:
        return name
    cls = found.group(1)
    wrapped = _WRAPPED.search(cls)
    cls = (wrapped.group(1) if wrapped else cls).rsplit(".", 1)[-1]
    kind = f"{name}: {cls}" if re.fullmatch(r"[A-Za-z_]\w*", cls) else name
    return scrub_text(kind)


def _scalar(value: Any) -> float | int | None:
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value


def _metrics(
    records: Iterable[Any], weight_key: str, resolve: Callable[[str], Metric]
) -> tuple[int | None, tuple[ContributionMetric, ...]]:
    examples: int | None = None
    values: dict[str, ContributionMetric] = {}
    for record in records:
        for name, value in dict(record).items():
            plain = _scalar(value)
            if plain is None:
                continue
            if name == weight_key:
                examples = int(plain) if examples is None else examples
                continue
            metric = resolve(str(name))
            values.setdefault(metric.name, ContributionMetric(metric, plain))
    return examples, tuple(values[k] for k in sorted(values))


def message_contributions(
    server_round: int,
    side: Side,
    sampled: Sequence[int],
    replies: Sequence[Any],
    weight_key: str,
    resolve: Callable[[str], Metric],
) -> list[ClientContribution]:
    """One contribution per sampled node (message API), in node-digest order.

    A reply from a node that was not sampled (a custom strategy may send more messages
    than `configure_*` returned) is kept too; a sampled node with no reply is NO_REPLY.
    """
    by_node: dict[int, ClientContribution] = {}
    for reply in replies:
        node = int(reply.metadata.src_node_id)
        digest = node_id_digest(node)
        if reply.has_error():
            by_node[node] = ClientContribution(
                server_round, side, digest, ReplyStatus.FAILED, error_kind=error_kind(reply.error)
            )
            continue
        examples, metrics = _metrics(reply.content.metric_records.values(), weight_key, resolve)
        by_node[node] = ClientContribution(
            server_round, side, digest, ReplyStatus.REPLIED, examples=examples, metrics=metrics
        )
    for node in sampled:
        if int(node) not in by_node:
            by_node[int(node)] = ClientContribution(
                server_round, side, node_id_digest(int(node)), ReplyStatus.NO_REPLY
            )
    return sorted(by_node.values(), key=lambda c: c.node_digest)


def _proxy_node(proxy: Any) -> int | None:
    node = getattr(proxy, "node_id", None)
    if node is None:
        cid = getattr(proxy, "cid", None)
        node = int(cid) if isinstance(cid, str) and cid.isdigit() else None
    return int(node) if isinstance(node, int) else None


def classic_contributions(
    server_round: int,
    side: Side,
    results: Sequence[Any],
    failures: Sequence[Any],
    resolve: Callable[[str], Metric],
) -> list[ClientContribution]:
    """The classic API's `(ClientProxy, FitRes | EvaluateRes)` results and failures.

    A failure that is a bare exception names no node and is left to the counts; an
    evaluation's loss is its metric "loss", as Flower's History names it.
    """
    out: list[ClientContribution] = []
    for proxy, res in results:
        node = _proxy_node(proxy)
        if node is None:
            continue
        values = dict(getattr(res, "metrics", None) or {})
        loss = getattr(res, "loss", None)
        if loss is not None:
            values = {"loss": loss, **values}
        _, metrics = _metrics([values], "", resolve)
        examples = getattr(res, "num_examples", None)
        out.append(
            ClientContribution(
                server_round,
                side,
                node_id_digest(node),
                ReplyStatus.REPLIED,
                examples=int(examples) if isinstance(examples, int) else None,
                metrics=metrics,
            )
        )
    for failure in failures:
        if not isinstance(failure, tuple):
            continue
        proxy, res = failure
        node = _proxy_node(proxy)
        if node is None:
            continue
        status = getattr(res, "status", None)
        kind = scrub_text(f"status {getattr(getattr(status, 'code', None), 'name', 'error')}")
        out.append(
            ClientContribution(
                server_round, side, node_id_digest(node), ReplyStatus.FAILED, error_kind=kind
            )
        )
    return sorted(out, key=lambda c: c.node_digest)
