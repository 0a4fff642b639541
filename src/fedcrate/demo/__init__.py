"""``fedcrate demo``: a bundled Flower app run in a private local simulation.

The app itself lives in ``app/`` (a complete Flower app directory shipped as
package data); :func:`run_demo` runs a copy of it and returns the crate path.
"""

from fedcrate.demo.runner import APP_DIR, DemoResult, run_demo
from fedcrate.errors import DemoError

__all__ = ["APP_DIR", "DemoError", "DemoResult", "run_demo"]
