"""The commands about runs and crates: `demo`, `validate`, `verify`, `recover`.

Each parses its options and calls one library function; a `FedcrateError` it raises
becomes one line and its exit code in `cli.app`'s handler.
"""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from fedcrate.cli.console import err, fail, out, print_error
from fedcrate.record.run import side_label, side_order
from fedcrate.record.vocabularies import shorten_iri
from fedcrate.validate.shacl import Level

__all__ = ["register"]


def demo(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the crate.")] = Path(
        "fedcrate-demo"
    ),
    rounds: Annotated[int, typer.Option(min=1, help="Federated rounds.")] = 3,
    nodes: Annotated[int, typer.Option(min=2, help="Simulated SuperNodes.")] = 2,
    timeout: Annotated[float, typer.Option(help="Give up after this many seconds.")] = 600.0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only print the path.")] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Also print Flower's and Ray's own log.")
    ] = False,
    no_preview: Annotated[
        bool, typer.Option("--no-preview", help="Leave out ro-crate-preview.html.")
    ] = False,
) -> None:
    """Run the bundled Flower app (FedAvg on scikit-learn's digits) and record it."""
    from fedcrate.cli.progress import demo_log
    from fedcrate.demo.runner import run_demo

    try:
        with demo_log(err, rounds=rounds, quiet=quiet, verbose=verbose) as log:
            result = run_demo(
                out_dir,
                rounds=rounds,
                nodes=nodes,
                timeout=timeout,
                log=log.note if log else None,
                flower_log=log.flower if log else None,
                preview=not no_preview,
            )
    except OSError as exc:
        raise fail(str(exc), 2) from None
    if quiet:
        out.print(str(result.crate_dir), highlight=False, markup=False, soft_wrap=True)
        return
    _print_summary(result.crate_dir)


class OutputFormat(str, enum.Enum):
    text = "text"
    json = "json"
    junit = "junit"


def validate(
    crates: Annotated[
        list[Path],
        typer.Argument(
            help="Crate folders, ro-crate-metadata.json files, zipped crates, or folders "
            "holding crates (each crate in them is validated)."
        ),
    ],
    profile: Annotated[
        str | None,
        typer.Option(
            "--profile",
            metavar="PROFILE",
            help=(
                "Profile token to validate against, e.g. fl-crate-0.1 or fedcrate-0.1 (a "
                "profile brings the shapes of the profiles it builds on). Default: the most "
                "specific shipped profile the crate claims in conformsTo, else fl-crate-0.1."
            ),
        ),
    ] = None,
    level: Annotated[
        Level,
        typer.Option(
            help=(
                "Strictest level that fails: must (default), should or may. Every level is "
                "checked; findings below it are printed as warnings and notes."
            )
        ),
    ] = Level.MUST,
    strict: Annotated[
        bool, typer.Option("--strict", help="Fail on SHOULD findings too (= --level should).")
    ] = False,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="text, json, or junit (JUnit XML) for CI.")
    ] = OutputFormat.text,
    no_inference: Annotated[
        bool, typer.Option("--no-inference", help="Skip the schema.org/PROV-O RDFS closure.")
    ] = False,
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs",
            min=1,
            help="Processes to validate with. Default: one per core for many crates, else 1.",
        ),
    ] = None,
) -> None:
    """Check crates against a profile's SHACL shapes (all levels; --level sets what fails).

    Exit codes: 0 valid, 1 a finding at a failing level, 2 unusable input (not a crate).
    """
    from fedcrate.crate.locate import crates_named
    from fedcrate.errors import NotACrate
    from fedcrate.validate.batch import validate_many
    from fedcrate.validate.reports import render_json, render_junit, render_text
    from fedcrate.validate.shacl import Outcome

    if strict and level is Level.MUST:
        level = Level.SHOULD
    # A folder of crates stands for each crate in it; an unusable path is an outcome too,
    # reported in its place while the others are validated.
    named: list[Path | Outcome] = []
    for path in crates:
        try:
            named.extend(crates_named(path))
        except NotACrate as exc:
            named.append(Outcome(str(path), error=str(exc)))
    reports = iter(
        validate_many(
            [p for p in named if isinstance(p, Path)],
            profile=profile,
            level=level,
            inference=not no_inference,
            jobs=jobs,
        )
    )
    outcomes = [next(reports) if isinstance(item, Path) else item for item in named]
    if output_format is OutputFormat.json:
        print(render_json(outcomes))
    elif output_format is OutputFormat.junit:
        print(render_junit(outcomes))
    else:
        render_text(outcomes, out)
    if any(o.report is None for o in outcomes):
        raise typer.Exit(2)
    if any(o.report is not None and not o.report.conforms for o in outcomes):
        raise typer.Exit(1)


def _print_summary(crate_dir: Path) -> None:
    from fedcrate.cli.summary import summarize
    from fedcrate.crate.reader import read_crate

    runs = summarize(read_crate(crate_dir))
    out.print(f"[bold]RO-Crate[/] {crate_dir}", highlight=False)
    for run in runs:
        out.print(
            f"[bold]{run.name}[/]: {run.status}, strategy {run.strategy or '?'}, "
            f"{run.rounds or '?'} rounds, {run.nodes or '?'} nodes",
            highlight=False,
        )
        table = Table("side", "metric", "value", "propertyID", title="final metrics")
        # `show`'s order and wording: server evaluation, client evaluation, client training.
        for metric in sorted(run.final_metrics, key=lambda m: (side_order(m.side), m.metric)):
            table.add_row(
                side_label(metric.side),
                metric.metric,
                _short_number(metric.value),
                shorten_iri(metric.property_id),
            )
        out.print(table)


def _short_number(text: str) -> str:
    try:
        return f"{float(text):.4g}"
    except ValueError:
        return text


def verify(
    crates: Annotated[
        list[Path],
        typer.Argument(
            help="Crate folders, zipped crates, or folders holding crates (each is checked)."
        ),
    ],
) -> None:
    """Re-check every payload file's size and sha256, and the model lineage's chain when the
    crate has one; say so when a run recorded no model (exit 0 intact, 1 mismatch or broken
    chain, 2 unusable)."""
    from fedcrate.crate.locate import crates_named
    from fedcrate.crate.verify import verify_crate

    mismatched = False
    named = [crate for path in crates for crate in crates_named(path)]  # all usable first
    for crate in named:
        report = verify_crate(crate)
        for check in report.checks:
            if check.problem is None:
                out.print(
                    f"ok        {crate}: {check.entity}",
                    highlight=False,
                    markup=False,
                    soft_wrap=True,
                )
            else:
                mismatched = True
                out.print(
                    f"MISMATCH  {crate}: {check.problem}",
                    highlight=False,
                    markup=False,
                    soft_wrap=True,
                )
        if not report.checks:
            out.print(
                f"{crate}: records no file checksums", highlight=False, markup=False, soft_wrap=True
            )
        if report.runs and not report.models:
            out.print(
                f"NO MODEL  {crate}: the run recorded no model file (its result holds none), "
                "so the crate does not say what the run trained",
                highlight=False,
                markup=False,
                soft_wrap=True,
            )
        for problem in report.lineage_problems:
            mismatched = True
            out.print(f"BROKEN    {crate}: model lineage: {problem}", markup=False, soft_wrap=True)
        if report.lineage_states and not report.lineage_problems:
            out.print(
                f"ok        {crate}: model lineage, {report.lineage_states} states chained",
                highlight=False,
                markup=False,
                soft_wrap=True,
            )
    if mismatched:
        raise typer.Exit(1)


def recover(
    folder: Annotated[Path, typer.Argument(help="The tracker's output_dir.")],
    no_preview: Annotated[
        bool, typer.Option("--no-preview", help="Leave out ro-crate-preview.html.")
    ] = False,
) -> None:
    """Write crates for runs that were killed before they closed their tracker (from journals)."""
    from fedcrate.crate.recovery import recover_runs

    report = recover_runs(folder, preview=not no_preview)
    for journal, written in report.recovered:
        out.print(
            f"recovered {journal.name} → {written.path}",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
    for problem in report.problems:
        print_error(problem)
    if not report.recovered and not report.problems:
        out.print(
            f"{folder}: no run journals to recover", highlight=False, markup=False, soft_wrap=True
        )
    if report.problems:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add these commands to the `fedcrate` app."""
    for command in (demo, validate, verify, recover):
        app.command()(command)
