"""The run views on a terminal (`fedcrate show`), drawn with rich."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fedcrate.record.run import side_label
from fedcrate.record.vocabularies import shorten_iri
from fedcrate.views.model import (
    PersonView,
    RunView,
    format_duration,
    format_value,
    sparkline,
)

__all__ = ["NO_MODEL", "render_terminal"]


def _person_text(person: PersonView) -> str:
    if person.name and person.orcid:
        return f"{person.name} ({person.orcid})"
    return person.name or person.orcid or "?"


def _yes_no(flag: bool | None) -> str | None:
    return None if flag is None else ("yes" if flag else "no")


NO_MODEL = "none recorded (the run's result holds no model file)"
"""What `show` says of a run that recorded no model: said plainly, never left out."""


def _size_text(size: int) -> str:
    if size < 1000:
        return f"{size} bytes"
    scaled = float(size)
    for unit in ("kB", "MB", "GB"):
        scaled /= 1000
        if scaled < 1000 or unit == "GB":
            break
    return f"{scaled:.1f} {unit}"


def _models_text(view: RunView) -> str:
    """The model files: name, size and the start of the sha256 (verify checks it all)."""
    parts = []
    for model in view.models:
        details = [_size_text(model.size) if model.size is not None else None]
        details.append(f"sha256 {model.sha256[:12]}…" if model.sha256 else "no sha256")
        parts.append(f"{model.name} ({', '.join(d for d in details if d)})")
    return "; ".join(parts)


def render_terminal(views: Sequence[RunView], console: Any, crate: str | None = None) -> None:
    """Draw the views on a rich `Console`."""
    from rich.markup import escape
    from rich.table import Table

    if crate:
        console.print(f"[bold]RO-Crate[/] {escape(crate)}", highlight=False)
    for view in views:
        colour = {"Completed": "green", "Failed": "red"}.get(view.status, "yellow")
        console.print(
            f"\n[bold]{escape(view.name)}[/]  [{colour}]{escape(view.status)}[/]", highlight=False
        )
        facts = Table.grid(padding=(0, 2))
        facts.add_column(style="bold")
        facts.add_column()
        rows: list[tuple[str, str | None]] = [
            ("error", view.error),
            ("started", view.start),
            ("ended", view.end),
            ("duration", format_duration(view.duration_s) if view.duration_s is not None else None),
            ("agent", ", ".join(_person_text(p) for p in view.agents) or None),
            ("author", ", ".join(_person_text(p) for p in view.authors) or None),
            ("license", view.license),
            ("identifier", view.crate_identifier),
            ("strategy", view.strategy_class or view.strategy),
            ("model", _models_text(view) or NO_MODEL),
        ]
        fed = view.federation
        rows += [
            ("mode", fed.runtime_mode),
            ("superlink", fed.superlink_address),
            ("TLS", _yes_no(fed.tls_enabled)),
            ("node auth", _yes_no(fed.node_authentication_enabled)),
            ("nodes", None if fed.node_count is None else str(fed.node_count)),
            ("rounds", None if view.rounds is None else str(view.rounds)),
            ("Flower run", fed.run_id),
            ("federation", fed.federation_id),
            ("FAB", " ".join(x for x in (fed.fab_id, fed.fab_version) if x) or None),
        ]
        for label, value in rows:
            if value:
                style = "red" if label == "error" else "yellow" if value == NO_MODEL else ""
                facts.add_row(label, f"[{style}]{escape(value)}[/]" if style else escape(value))
        console.print(facts)

        if view.hyperparameters or view.config:
            settings = Table("kind", "name", "value", title="strategy and run config")
            for kind, items in (("strategy", view.hyperparameters), ("config", view.config)):
                for item in items:
                    value = (
                        "[dim]redacted[/]" if item.redacted else escape(format_value(item.value))
                    )
                    settings.add_row(kind, escape(item.name), value)
            console.print(settings)

        if view.software:
            software = Table("software", "installed", "declared", title="frameworks")
            for tool in view.software:
                software.add_row(
                    escape(tool.name), escape(tool.version or "?"), escape(tool.requirement or "")
                )
            console.print(software)

        if fed.participation:
            part = Table(
                "round", "side", "sampled", "replied", "failed", "examples", title="participation"
            )
            for p in fed.participation:
                part.add_row(
                    str(p.round),
                    side_label(p.side),
                    *p.count_cells(),
                )
            console.print(part)

        if view.final_metrics:
            final = Table("side", "metric", "value", "propertyID", title="final metrics")
            for metric in view.final_metrics:
                final.add_row(
                    side_label(metric.side),
                    escape(metric.metric),
                    escape(format_value(metric.value)),
                    escape(shorten_iri(metric.property_id)),
                )
            console.print(final)

        if view.history:
            trend = Table("metric", "side", "rounds", "first", "last", "trend", title="per round")
            for series in view.history:
                known = [v for v in series.values if v is not None]
                trend.add_row(
                    escape(series.metric),
                    side_label(series.side),
                    f"{series.rounds[0]}–{series.rounds[-1]}" if series.rounds else "",
                    format_value(known[0]) if known else "",
                    format_value(known[-1]) if known else "",
                    sparkline(series.values),
                )
            console.print(trend)
