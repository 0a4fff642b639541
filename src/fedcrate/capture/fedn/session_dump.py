"""Read one finished FEDn session through FEDn's own `APIClient`; print it as JSON.

This file runs in FEDn's interpreter (`python -m fedcrate.capture.fedn.session_dump` is not
possible there: fedcrate is not installed beside fedn), so `fedcrate.capture.fedn.session` runs it
by path. It imports only the standard library and fedn. The token comes from the
environment (`FEDN_AUTH_TOKEN`, read by APIClient itself), never from argv, so it does
not show in process listings, and it is not part of the output.

Usage: python session_dump.py HOST PORT SESSION_ID [--secure] [--download DIR]

With `--download DIR` the session's newest model is saved as `DIR/<model_id>.npz` and
named in the output's `downloaded_model`.
"""

from __future__ import annotations

import json
import sys
from typing import Any

SCHEMA = "fedcrate.capture.fedn.session-dump/1"


def _all(response: Any) -> list[Any]:
    if isinstance(response, dict) and "result" in response:
        return list(response["result"] or [])
    return list(response or []) if isinstance(response, list) else []


def dump(
    host: str,
    port: int | None,
    session_id: str,
    secure: bool = False,
    download: str | None = None,
) -> dict[str, Any]:
    from fedn import APIClient  # FEDn's interpreter only

    client = APIClient(host, port, secure=secure, verify=secure)
    session = client.get_session(id=session_id)
    if not isinstance(session, dict) or not session.get("session_id"):
        raise SystemExit(f"session {session_id!r} not found: {json.dumps(session)[:300]}")
    models = _all(client.get_models(session_id=session_id))
    # The newest model of the session ends its trail; ancestors run back to the seed.
    newest = max(models, key=lambda m: str(m.get("committed_at", "")), default=None)
    trail = _all(client.get_model_trail(id=newest["model_id"])) if newest else []
    session_models = {m.get("model_id") for m in models}
    rounds = [
        r
        for r in _all(client.get_rounds())
        if r.get("session_id") == session_id
        or (r.get("round_config") or {}).get("session_id") == session_id
        or r.get("model_id") in session_models
    ]
    validations = _all(client.get_validations(session_id=session_id))
    statuses = _all(client.get_statuses(session_id=session_id))
    downloaded = None
    if download and newest:
        import os

        target = os.path.join(download, f"{newest['model_id']}.npz")
        client.download_model(newest["model_id"], target)
        downloaded = target if os.path.isfile(target) else None
    from importlib.metadata import version

    return {
        "fedn_version": version("fedn"),
        "downloaded_model": downloaded,
        "schema": SCHEMA,
        "api": {"host": host, "port": port, "secure": secure},
        "session": session,
        "session_status": client.get_session_status(session_id),
        "models": models,
        "model_trail": trail,
        "rounds": rounds,
        "validations": validations,
        "statuses": statuses,
        "clients": _all(client.get_clients()),
        "combiners": _all(client.get_combiners()),
        "package": client.get_active_package(),
        "package_checksum": client.get_package_checksum(),
        "controller_status": client.get_controller_status(),
    }


def main(argv: list[str]) -> int:
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    host, port, session_id = argv[0], argv[1], argv[2]
    options = argv[3:]
    download = options[options.index("--download") + 1] if "--download" in options else None
    document = dump(host, int(port) if port else None, session_id, "--secure" in options, download)
    json.dump(document, sys.stdout, indent=1, sort_keys=True, default=str)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
