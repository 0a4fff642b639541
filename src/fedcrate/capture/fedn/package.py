"""FEDn compute packages: what `fedn.yaml` and `python_env.yaml` declare, and the archive.

The archive is built by FEDn itself (`fedn package create`, which tars the folder minus
`.fednignore` patterns into `package.tgz`), and its checksum is computed the way FEDn does
it (`fedn.utils.checksum.sha`: SHA-256 over the archive's bytes) — the value a FEDn
controller reports for the package and clients check against.
"""

from __future__ import annotations

import json
import logging
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from fedcrate.capture.environment import KNOWN_SOFTWARE
from fedcrate.capture.fedn.crate_state import StagedCrate, update_local_crate
from fedcrate.capture.fedn.runner import fedn_environment, fedn_version, require_fedn
from fedcrate.errors import FednProjectError
from fedcrate.record import (
    FednEntryPoint,
    FednLocalRecord,
    FednPackageFacts,
    SoftwareFacts,
    utc_now,
)
from fedcrate.record.normalize import parse_license, parse_person

__all__ = [
    "describe_package",
    "installed_versions",
    "read_project",
    "record_package",
]

logger = logging.getLogger("fedcrate")

ARCHIVE_NAME = "package.tgz"


def _yaml(path: Path) -> dict[str, Any]:
    try:
        import yaml
    except ImportError:  # pragma: no cover - PyYAML ships with the `fedn` extra
        raise FednProjectError(
            "reading fedn.yaml needs PyYAML: pip install 'fedcrate[fedn]'"
        ) from None
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FednProjectError(
            f"{path}: not found; pass the compute package folder (the one with fedn.yaml)"
        ) from None
    except (OSError, yaml.YAMLError) as exc:
        raise FednProjectError(f"{path}: cannot be read as YAML ({exc})") from None
    if not isinstance(loaded, dict):
        raise FednProjectError(f"{path}: expected a mapping at the top level")
    return loaded


def read_project(package: Path) -> tuple[dict[str, Any], list[FednEntryPoint]]:
    """`fedn.yaml` of a package folder and its entry points (in file order)."""
    config = _yaml(Path(package) / "fedn.yaml")
    entries = config.get("entry_points") or {}
    if not isinstance(entries, dict):
        raise FednProjectError(f"{package}/fedn.yaml: `entry_points` must be a mapping")
    points = []
    for name, spec in entries.items():
        command = spec.get("command") if isinstance(spec, dict) else None
        if not isinstance(command, str) or not command.strip():
            raise FednProjectError(
                f"{package}/fedn.yaml: entry point {name!r} has no `command` "
                "(write e.g. `train: {command: python train.py}`)"
            )
        points.append(FednEntryPoint(str(name), command.strip()))
    return config, points


def installed_versions(python: Path, names: Iterable[str]) -> dict[str, str | None]:
    """Installed versions of distributions in the environment of interpreter `python`."""
    wanted = sorted(set(names))
    if not wanted:
        return {}
    script = (
        "import json, sys\nfrom importlib import metadata\nout = {}\n"
        "for name in sys.argv[1:]:\n"
        "    try:\n        out[name] = metadata.version(name)\n"
        "    except metadata.PackageNotFoundError:\n        out[name] = None\n"
        "print(json.dumps(out))\n"
    )
    try:
        result = subprocess.run(
            [str(python), "-c", script, *wanted],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        found = json.loads(result.stdout)
    except (OSError, subprocess.SubprocessError, json.JSONDecodeError) as exc:
        raise FednProjectError(
            f"{python}: cannot list installed versions ({exc}); pass the environment's "
            "Python interpreter or virtualenv folder"
        ) from None
    return {str(k): (str(v) if v else None) for k, v in found.items()}


def _environment_python(environment: Path) -> Path:
    environment = Path(environment)
    if environment.is_dir():
        for candidate in ("bin/python", "bin/python3", "Scripts/python.exe"):
            if (environment / candidate).is_file():
                return environment / candidate
        raise FednProjectError(f"{environment}: no bin/python; pass a virtualenv or interpreter")
    if not environment.is_file():
        raise FednProjectError(f"{environment}: no such interpreter or virtualenv")
    return environment


def _software(
    specs: Iterable[Any], versions: dict[str, str | None], where: str
) -> tuple[SoftwareFacts, ...]:
    found: dict[str, SoftwareFacts] = {}
    for spec in specs:
        text = str(spec).strip()
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            # pip options (`-r requirements.txt`, `--extra-index-url …`) are not packages.
            logger.warning("%s: %r is not a PEP 508 requirement; not recorded", where, text)
            continue
        key = canonicalize_name(requirement.name)
        if key in found:
            continue
        name, url = KNOWN_SOFTWARE.get(key, (requirement.name, f"https://pypi.org/project/{key}/"))
        found[key] = SoftwareFacts(
            key=key,
            name=name,
            installed_version=versions.get(key),
            declared_spec=str(requirement),
            url=url,
        )
    return tuple(found.values())


def describe_package(
    package: Path, *, environment: Path | None = None, python_env: str | None = None
) -> FednPackageFacts:
    """What a compute package declares: entry points and its python_env dependencies.

    `python_env` overrides the file `fedn.yaml` names (to record a declared environment
    that local runs do not build); `environment` (a virtualenv or its interpreter) adds
    the installed version of each dependency.
    """
    package = Path(package).resolve()
    config, entry_points = read_project(package)
    env_file = python_env or config.get("python_env") or None
    facts = FednPackageFacts(name=package.name, entry_points=tuple(entry_points))
    if not env_file:
        return facts
    env = _yaml(package / str(env_file))
    dependencies = env.get("dependencies") or []
    build_dependencies = env.get("build_dependencies") or []
    versions: dict[str, str | None] = {}
    if environment is not None:
        names = []
        for spec in (*dependencies, *build_dependencies):
            try:
                names.append(canonicalize_name(Requirement(str(spec)).name))
            except InvalidRequirement:
                continue
        versions = installed_versions(_environment_python(environment), names)
    where = f"{package.name}/{env_file}"
    return FednPackageFacts(
        name=package.name,
        entry_points=tuple(entry_points),
        python_env=str(env_file),
        environment_name=str(env["name"]) if env.get("name") else None,
        python_version=str(env["python"]) if env.get("python") else None,
        dependencies=_software(dependencies, versions, where),
        build_dependencies=_software(build_dependencies, versions, where),
    )


def create_archive(package: Path, output_dir: Path, fedn: Path | None = None) -> Path:
    """`fedn package create` into `output_dir`; the path of the `package.tgz` it wrote."""
    fedn = fedn or require_fedn()
    result = subprocess.run(
        [str(fedn), "package", "create", "--path", str(package), "--output", str(output_dir)],
        capture_output=True,
        text=True,
        env=fedn_environment(fedn),
        timeout=300,
    )
    archive = Path(output_dir) / ARCHIVE_NAME
    # fedn logs tar errors and still exits 0: the archive's existence is the real check.
    if result.returncode != 0 or not archive.is_file():
        tail = (result.stderr or result.stdout).strip()[-1500:]
        raise FednProjectError(f"`fedn package create` failed ({result.returncode}): {tail}")
    return archive


def stage_package(
    staged: StagedCrate, package: Path, facts: FednPackageFacts, fedn: Path
) -> FednPackageFacts:
    """Archive the package into the crate and copy what packaging read; return the facts
    with the archive (its sha256 is FEDn's checksum)."""
    started = utc_now()
    with tempfile.TemporaryDirectory(prefix="fedcrate-package-") as folder:
        archive = create_archive(package, Path(folder), fedn)
        ended = utc_now()
        archived = staged.add_file(
            archive,
            staged.free_path("package", ARCHIVE_NAME),
            f"Compute package {facts.name}",
            f"The compute package {facts.name} as `fedn package create` archives it; its "
            "sha256 is the checksum FEDn computes for the package.",
            "package",
        )
    sources = [
        staged.add_file(
            package / "fedn.yaml",
            staged.free_path("package", "fedn.yaml"),
            "fedn.yaml",
            f"The FEDn project file of {facts.name}: entry points and environment.",
            "package-source",
        )
    ]
    if facts.python_env and (package / facts.python_env).is_file():
        sources.append(
            staged.add_file(
                package / facts.python_env,
                staged.free_path("package", Path(facts.python_env).name),
                facts.python_env,
                f"The declared Python environment of {facts.name}.",
                "package-source",
            )
        )
    staged.record.packaged = (started, ended)
    staged.record.package_sources = tuple(sources)
    return FednPackageFacts(
        name=facts.name,
        entry_points=facts.entry_points,
        python_env=facts.python_env,
        environment_name=facts.environment_name,
        python_version=facts.python_version,
        dependencies=facts.dependencies,
        build_dependencies=facts.build_dependencies,
        archive=archived,
    )


def new_record(
    package_name: str, author: Any = None, license: Any = None, fedn: Path | None = None
) -> FednLocalRecord:
    """An empty record for a new crate about `package_name`."""
    version = fedn_version(fedn) if fedn else None
    return FednLocalRecord(
        name=f"FEDn compute package {package_name}",
        author=parse_person(author, role="author"),
        license=parse_license(license),
        fedn=SoftwareFacts(
            key="fedn", name="FEDn", installed_version=version, url=FEDN_URL, declared_spec=None
        ),
    )


FEDN_URL = "https://github.com/scaleoutsystems/fedn"


def record_package(
    package: Path,
    crate_dir: Path,
    *,
    author: Any = None,
    license: Any = None,
    environment: Path | None = None,
    python_env: str | None = None,
) -> StagedCrate:
    """Describe and archive a compute package into the crate at `crate_dir`.

    A new folder becomes a new crate; an existing fedcrate FEDn crate gets the package
    (re)described and archived again, keeping its recorded runs.

    Raises:
        FednProjectError: `package` is not a usable compute package, or packaging failed.
        FednNotFound: no `fedn` executable is found.
        CrateWriteError: the crate cannot be written.
    """
    package = Path(package).resolve()
    fedn = require_fedn()
    facts = describe_package(package, environment=environment, python_env=python_env)
    with update_local_crate(crate_dir, new_record(facts.name, author, license, fedn)) as staged:
        staged.record.package = stage_package(staged, package, facts, fedn)
        _refresh_people(staged.record, author, license)
    return staged


def _refresh_people(record: FednLocalRecord, author: Any, license: Any) -> None:
    if author is not None:
        record.author = parse_person(author, role="author")
    if license is not None:
        record.license = parse_license(license)
