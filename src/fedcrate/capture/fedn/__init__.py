"""FEDn adapter: compute packages, local entry-point runs and sessions as crates.

    from fedcrate.capture.fedn import record_package, run_entry_point, record_session

FEDn itself is never imported here (it needs its own venv): these functions run FEDn's
`fedn` executable (`$FEDCRATE_FEDN`, else PATH) and its interpreter as subprocesses.
Names resolve lazily, so `import fedcrate.capture.fedn` stays cheap for the CLI.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = [
    "describe_package",
    "read_session",
    "record_package",
    "record_session",
    "run_entry_point",
    "session_record",
]

_HOMES = {
    "describe_package": "package",
    "record_package": "package",
    "run_entry_point": "local",
    "read_session": "session",
    "record_session": "session",
    "session_record": "session",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'fedcrate.capture.fedn' has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{home}"), name)
