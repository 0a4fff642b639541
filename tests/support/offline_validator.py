"""Run the official RO-Crate validator (roc-validator) fully offline; print one JSON report.

Runs under the *validator* venv's python (it imports ``rocrate_validator`` and must not
import ``fedcrate``)::

    python offline_validator.py CRATE_DIR --profile ro-crate-1.2 \
        [--severity REQUIRED|RECOMMENDED|OPTIONAL] [--extra-profiles-path DIR] \
        [--context-file PATH] [--cache-dir DIR]

``--extra-profiles-path DIR`` adds the profiles found under DIR (each a folder with a
``profile.ttl``, e.g. the repo's ``shapes/``) to the validator's built-in ones, so
``--profile fl-crate-0.1`` validates against the Federated Learning profile shapes.

How it stays offline, in layers:

1. The validator runs in its own ``offline`` mode: every HTTP request goes through its
   ``requests_cache`` session with ``only_if_cached``, so a miss becomes a 504 / an
   ``OfflineCacheMissError`` instead of a network call.
2. That cache is a private sqlite file in a temp (or given) dir, pre-seeded with the
   bundled RO-Crate 1.2 context by doing a real ``requests_cache`` GET against a local
   transport adapter. Cache keys are therefore computed by requests_cache itself, exactly
   as if ``rocrate-validator cache warm`` had run online.
3. The validator downgrades offline misses to a log warning and silently skips the check,
   which could turn into a false "passed". We record every 504 and fail (exit 2) instead.
4. A ``sys.addaudithook`` guard refuses any DNS lookup / inet socket connect, so even a
   code path that bypasses the validator's HTTP layer (e.g. rdflib's urllib fallback)
   cannot reach the network; such attempts are also reported as exit 2.

Exit status: 0 when validation ran (passed or not), 2 on usage/internal/offline errors.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import socket
import sys
import tempfile
import traceback
from pathlib import Path
from typing import Any, TextIO

EXIT_ERROR = 2
CONTEXT_URL_1_2 = "https://w3id.org/ro/crate/1.2/context"
# tests/support/offline_validator.py -> repo root is two levels up.
DEFAULT_CONTEXT_FILE = (
    Path(__file__).resolve().parents[2]
    / "src"
    / "fedcrate"
    / "data"
    / "ro-crate-1.2-context.jsonld"
)


class OfflineError(RuntimeError):
    """Validation could not be completed without the network."""


class NetworkBlockedError(ConnectionRefusedError):
    # An OSError subclass so HTTP libraries treat it like a refused connection
    # (clean failure path) rather than crashing somewhere unexpected.
    pass


def _install_network_guard(attempts: list[str]) -> None:
    """Refuse DNS lookups and inet connects for the rest of this (one-shot) process."""
    inet = (socket.AF_INET, socket.AF_INET6)

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event == "socket.getaddrinfo":
            target = f"getaddrinfo {args[0]}:{args[1]}"
        elif event == "socket.connect" and getattr(args[0], "family", None) in inet:
            target = f"connect {args[1]!r}"
        else:
            return
        attempts.append(target)
        raise NetworkBlockedError(f"network access blocked by offline_validator ({target})")

    sys.addaudithook(hook)


def _seed_http_cache(cache_name: str, contexts: dict[str, Path]) -> None:
    """Store each bundled document in the validator's sqlite HTTP cache under its URL."""
    import requests
    import urllib3
    from requests_cache import CachedSession

    class BundledFileAdapter(requests.adapters.HTTPAdapter):
        # Serves the mapped URLs from disk; anything else is a hard error, never a fetch.
        def send(
            self, request: requests.PreparedRequest, *args: Any, **kwargs: Any
        ) -> requests.Response:
            url = str(request.url)
            if url not in contexts:
                raise requests.ConnectionError(f"offline: no bundled document for {url}")
            body = contexts[url].read_bytes()
            raw = urllib3.HTTPResponse(
                body=io.BytesIO(body),
                headers={"Content-Type": "application/ld+json", "Content-Length": str(len(body))},
                status=200,
                reason="OK",
                preload_content=False,
                request_url=url,
            )
            return self.build_response(request, raw)

    # Same backend/serializer defaults as rocrate_validator.utils.http.HttpRequester,
    # so keys and stored format match what the validator looks up.
    session = CachedSession(
        cache_name=cache_name, backend="sqlite", expire_after=-1, allowable_methods=("GET",)
    )
    adapter = BundledFileAdapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    try:
        for url in contexts:
            session.get(url, timeout=5).raise_for_status()
    finally:
        session.close()


class _MissRecordingSession:
    """Transparent proxy over the validator's HTTP session that remembers cache misses."""

    def __init__(self, inner: Any, misses: list[str], miss_status: int) -> None:
        self._inner = inner
        self._misses = misses
        self._miss_status = miss_status

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if name not in {"get", "head", "post", "put", "delete", "options", "patch", "request"}:
            return attr

        def call(url: Any, *args: Any, **kwargs: Any) -> Any:
            response = attr(url, *args, **kwargs)
            if getattr(response, "status_code", None) == self._miss_status:
                self._misses.append(f"{name.upper()} {url}")
            return response

        return call


def _issue_to_dict(issue: Any) -> dict[str, Any]:
    focus = issue.violatingEntity
    return {
        # The *effective* id (e.g. "ro-crate-1.1_5.3" when inherited), as --skip-checks takes it.
        "check": issue.identifier,
        "requirement": issue.check.requirement.name,
        "severity": issue.severity.name,
        "message": issue.message,
        "focus": None if focus is None else str(focus),
    }


def _validate(
    crate_dir: Path,
    profile: str,
    context_file: Path,
    cache_dir: Path,
    severity_name: str,
    extra_profiles_path: Path | None = None,
    inherit: bool = True,
) -> dict[str, Any]:
    attempts: list[str] = []
    misses: list[str] = []
    _install_network_guard(attempts)

    try:
        from rocrate_validator import services
        from rocrate_validator.models import Severity, ValidationSettings
        from rocrate_validator.utils.http import OFFLINE_CACHE_MISS_STATUS, HttpRequester
    except ImportError as exc:
        raise OfflineError(
            f"cannot import rocrate_validator ({exc}); run this with the validator venv's python"
        ) from exc

    available = {
        p.identifier for p in services.get_profiles(extra_profiles_path=extra_profiles_path)
    }
    if profile not in available:
        raise OfflineError(
            f"unknown profile {profile!r}; available: {', '.join(sorted(available))}"
        )

    contexts = {CONTEXT_URL_1_2: context_file}
    cache_name = str(cache_dir / "http_cache")
    _seed_http_cache(cache_name, contexts)

    # Constructing the settings (re)builds the HttpRequester singleton's session.
    settings = ValidationSettings(
        rocrate_uri=str(crate_dir),
        profile_identifier=profile,
        extra_profiles_path=extra_profiles_path,
        requirement_severity=Severity[severity_name],
        offline=True,
        cache_path=Path(cache_name),
        # Remote data-entity availability cannot be judged offline; don't let it add noise.
        skip_availability_check=True,
        # Without inheritance only the profile's own checks run (5x faster for ours).
        enable_profile_inheritance=inherit,
    )
    requester = HttpRequester()
    for url in contexts:
        if not requester.has_cached(url):
            raise OfflineError(
                f"seeded cache entry for {url} is not visible to the validator"
                " (cache key mismatch?)"
            )
    requester.session = _MissRecordingSession(requester.session, misses, OFFLINE_CACHE_MISS_STATUS)

    try:
        result = services.validate(settings)
    finally:
        # Close the sqlite session before the temp dir goes away.
        HttpRequester.reset()

    if misses or attempts:
        raise OfflineError(
            "validation needed resources that are not available offline,"
            " so its result would be incomplete: " + "; ".join(dict.fromkeys(misses + attempts))
        )

    severity = Severity[severity_name]
    issues = [_issue_to_dict(i) for i in result.get_issues(severity)]
    return {"profile": profile, "passed": bool(result.passed(severity)), "issues": issues}


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "crate_dir", type=Path, help="RO-Crate directory containing ro-crate-metadata.json"
    )
    parser.add_argument(
        "--profile",
        required=True,
        help="validator profile id, e.g. ro-crate-1.2, or fl-crate-0.1 with --extra-profiles-path",
    )
    parser.add_argument(
        "--severity",
        choices=("REQUIRED", "RECOMMENDED", "OPTIONAL"),
        default="REQUIRED",
        help="lowest requirement level to check (default: REQUIRED)",
    )
    parser.add_argument(
        "--extra-profiles-path",
        type=Path,
        help="directory of additional validator profiles (e.g. the repo's shapes/)",
    )
    parser.add_argument(
        "--no-inheritance",
        action="store_true",
        help="run only the profile's own checks, not those of the profiles it inherits",
    )
    parser.add_argument(
        "--context-file", type=Path, default=DEFAULT_CONTEXT_FILE, help="RO-Crate 1.2 context"
    )
    parser.add_argument(
        "--cache-dir", type=Path, help="directory for the HTTP cache (default: a temp dir)"
    )
    args = parser.parse_args(argv)
    if not (args.crate_dir / "ro-crate-metadata.json").is_file():
        parser.error(f"{args.crate_dir} has no ro-crate-metadata.json")
    if not args.context_file.is_file():
        parser.error(f"context file not found: {args.context_file}")
    if args.extra_profiles_path is not None and not args.extra_profiles_path.is_dir():
        parser.error(f"extra profiles directory not found: {args.extra_profiles_path}")
    return args


def _claim_stdout() -> TextIO:
    """Return a private handle on the real stdout and point fd 1 at stderr.

    The validator prints a rich "Log Report" to stdout from an atexit hook (and rich may
    print elsewhere); routing fd 1 to stderr keeps our stdout a single JSON document.
    """
    sys.stdout.flush()
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    return out


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)  # exits 2 with a usage message on bad input
    out = _claim_stdout()
    # Anything that still consults the user cache dir lands in our temp dir, never ~/.cache.
    with tempfile.TemporaryDirectory(prefix="fedcrate-rocval-") as tmp:
        os.environ["XDG_CACHE_HOME"] = tmp
        os.environ["ROCRATE_VALIDATOR_AUTO_WARM"] = "0"
        cache_dir = args.cache_dir or Path(tmp)
        cache_dir.mkdir(parents=True, exist_ok=True)
        try:
            report = _validate(
                args.crate_dir.resolve(),
                args.profile,
                args.context_file.resolve(),
                cache_dir,
                args.severity,
                None if args.extra_profiles_path is None else args.extra_profiles_path.resolve(),
                inherit=not args.no_inheritance,
            )
        except OfflineError as exc:
            print(f"offline_validator: {exc}", file=sys.stderr)
            return EXIT_ERROR
        except Exception:
            print("offline_validator: internal error while running the validator:", file=sys.stderr)
            traceback.print_exc()
            return EXIT_ERROR
    json.dump(report, out, indent=2)
    out.write("\n")
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
