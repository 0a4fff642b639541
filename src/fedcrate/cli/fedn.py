"""`fedcrate fedn …` commands: thin wrappers over `fedcrate.capture.fedn`'s modules."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fedcrate.cli.console import err, out

__all__ = ["fedn_app"]

fedn_app = typer.Typer(
    name="fedn",
    help="Record FEDn compute packages, local entry-point runs and sessions as crates.",
    no_args_is_help=True,
)

CrateOption = Annotated[
    Path,
    typer.Option(
        "--crate",
        help="Crate folder; created, or appended to when it holds an earlier FEDn crate.",
    ),
]
AuthorOption = Annotated[str | None, typer.Option(help="Author: a name or an ORCID iD (checked).")]
LicenseOption = Annotated[str | None, typer.Option(help="License of the crate: SPDX id or URL.")]


@fedn_app.command("package")
def package_command(
    path: Annotated[Path, typer.Argument(help="The compute package folder (with fedn.yaml).")],
    crate: CrateOption = Path("fedn-crate"),
    author: AuthorOption = None,
    license: LicenseOption = None,
    environment: Annotated[
        Path | None,
        typer.Option(help="A virtualenv (or its python) to read installed versions from."),
    ] = None,
    python_env: Annotated[
        str | None,
        typer.Option(help="The python_env file to record when fedn.yaml names none."),
    ] = None,
) -> None:
    """Describe a compute package and archive it as `fedn package create` does."""
    from fedcrate.capture.fedn.package import record_package

    staged = record_package(
        path,
        crate,
        author=author,
        license=license,
        environment=environment,
        python_env=python_env,
    )
    package = staged.record.package
    archive = package.archive if package else None
    out.print(f"RO-Crate {staged.path}", highlight=False, soft_wrap=True)
    if archive is not None:
        out.print(f"{archive.crate_path} sha256 {archive.sha256}", highlight=False, soft_wrap=True)


@fedn_app.command("run")
def run_command(
    entry_point: Annotated[str, typer.Argument(help="build, startup, train or validate.")],
    path: Annotated[Path, typer.Option("--path", "-p", help="The compute package folder.")],
    model_in: Annotated[
        Path | None, typer.Option("--input", "-i", help="Input model (train, validate).")
    ] = None,
    model_out: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Output model (train), validation JSON (validate), or the file a build "
            "entry point writes (e.g. the seed model), recorded as its result.",
        ),
    ] = None,
    crate: CrateOption = Path("fedn-crate"),
    author: AuthorOption = None,
    license: LicenseOption = None,
) -> None:
    """Run `fedn run ENTRY_POINT` and record it; the exit code is FEDn's."""
    from fedcrate.capture.fedn.local import run_entry_point

    result = run_entry_point(
        entry_point,
        path,
        model_in=model_in,
        model_out=model_out,
        crate_dir=crate,
        author=author,
        license=license,
    )
    err.print(f"RO-Crate {result.crate}", highlight=False, soft_wrap=True)
    if result.exit_code != 0:
        raise typer.Exit(result.exit_code)


@fedn_app.command("session")
def session_command(
    api: Annotated[str, typer.Option(help="The FEDn controller's API: HOST:PORT.")],
    session: Annotated[str, typer.Option(help="The session id.")],
    token: Annotated[
        str | None,
        typer.Option(
            envvar="FEDN_AUTH_TOKEN",
            help="API token (or $FEDN_AUTH_TOKEN); used to read, never written.",
            show_default=False,
        ),
    ] = None,
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder for the crate (ro-crate/, ro-crate-2/, …).")
    ] = Path("fedn-sessions"),
    client_names: Annotated[
        bool,
        typer.Option("--client-names", help="Name clients in the crate (default: counts only)."),
    ] = False,
    dataset: Annotated[
        list[str] | None,
        typer.Option(help="A dataset the clients trained on (URL or name); repeatable."),
    ] = None,
    author: AuthorOption = None,
    license: LicenseOption = None,
) -> None:
    """Record a finished FEDn session read through FEDn's APIClient."""
    from fedcrate.capture.fedn.session import record_session

    written = record_session(
        api,
        session,
        out_dir,
        token=token,
        client_names=client_names,
        author=author,
        license=license,
        datasets=dataset or [],
    )
    out.print(f"RO-Crate {written.path}", highlight=False, soft_wrap=True)
