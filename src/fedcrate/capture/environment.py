"""Declared dependencies (the app's pyproject) against what is installed.

A crate that says "scikit-learn>=1.3" is only half the story: the run used one version,
so each dependency is recorded with both its declared requirement and its installed
version.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable
from importlib import metadata

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from fedcrate.record.run import SoftwareFacts

__all__ = ["INFRASTRUCTURE", "KNOWN_SOFTWARE", "declared_software", "installed_version"]

logger = logging.getLogger("fedcrate")

# Packages that run the federation or build the project rather than define the model.
# Flower itself is recorded separately (its own instrument); Ray is Flower's simulation
# backend; the rest are packaging and provenance tooling.
INFRASTRUCTURE = frozenset(
    canonicalize_name(n)
    for n in (
        "flwr", "flwr-nightly", "ray", "fedcrate", "flwrcrate", "fl-crate-generator",
        "rocrate", "tomli", "hatchling", "setuptools", "wheel", "pip", "build", "uv",
    )
)  # fmt: skip

# Friendly names and homepages for common ML software; others get their PyPI page.
KNOWN_SOFTWARE: dict[str, tuple[str, str]] = {
    "torch": ("PyTorch", "https://pytorch.org/"),
    "torchvision": ("TorchVision", "https://pytorch.org/vision/"),
    "pytorch-lightning": ("PyTorch Lightning", "https://lightning.ai/"),
    "lightning": ("Lightning", "https://lightning.ai/"),
    "scikit-learn": ("scikit-learn", "https://scikit-learn.org/"),
    "tensorflow": ("TensorFlow", "https://www.tensorflow.org/"),
    "keras": ("Keras", "https://keras.io/"),
    "jax": ("JAX", "https://docs.jax.dev/"),
    "flax": ("Flax", "https://flax.readthedocs.io/"),
    "numpy": ("NumPy", "https://numpy.org/"),
    "pandas": ("pandas", "https://pandas.pydata.org/"),
    "xgboost": ("XGBoost", "https://xgboost.readthedocs.io/"),
    "lightgbm": ("LightGBM", "https://lightgbm.readthedocs.io/"),
    "transformers": ("Transformers", "https://huggingface.co/docs/transformers"),
    "datasets": ("Hugging Face Datasets", "https://huggingface.co/docs/datasets"),
    "flwr-datasets": ("Flower Datasets", "https://flower.ai/docs/datasets/"),
    "monai": ("MONAI", "https://monai.io/"),
}


@functools.lru_cache(maxsize=256)
def installed_version(distribution: str) -> str | None:
    """The installed version of a distribution, or None when it is not installed.

    Cached: a metadata lookup scans sys.path (~1 ms each, several per tracker), and what
    is installed does not change under a running ServerApp.
    """
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def declared_software(requirements: Iterable[str]) -> list[SoftwareFacts]:
    """One `SoftwareFacts` per declared requirement that applies here.

    Requirements whose environment marker is false on this interpreter, or that are not
    installed, are skipped (they did not take part in the run); unparsable ones are logged
    and skipped, never fatal.
    """
    found: dict[str, SoftwareFacts] = {}
    for text in requirements:
        try:
            requirement = Requirement(text)
        except InvalidRequirement as exc:
            logger.warning("skipping dependency %r: not PEP 508 (%s)", text, exc)
            continue
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        key = canonicalize_name(requirement.name)
        if key in INFRASTRUCTURE or key in found:
            continue
        version = installed_version(requirement.name)
        if version is None:
            # Declared but absent here: the ServerApp did not use it, and a crate must not
            # claim software it cannot version.
            logger.warning("declared dependency %s is not installed; not recorded", requirement)
            continue
        name, url = KNOWN_SOFTWARE.get(key, (requirement.name, f"https://pypi.org/project/{key}/"))
        found[key] = SoftwareFacts(
            key=key, name=name, installed_version=version, declared_spec=str(requirement), url=url
        )
    return list(found.values())
