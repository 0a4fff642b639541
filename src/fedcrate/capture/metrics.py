"""Metric names → IRIs of published vocabularies.

A metric's `propertyID` is what lets a query find "accuracy" across crates whatever the
app called it (`accuracy`, `eval_acc`, `train-accuracy`). The built-in registry only holds
IRIs that exist in published vocabularies (STATO, MEX-perf); the app's pyproject can add
or override mappings, and CURIEs expand through built-in and user prefixes.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fedcrate.capture.pyproject import tool_table
from fedcrate.errors import MetricIRIError
from fedcrate.record.run import Metric
from fedcrate.record.vocabularies import BUILTIN_PREFIXES, MEX_PERF, STATO

__all__ = [
    "BUILTIN_METRIC_IRIS",
    "MetricResolver",
    "expand_iri",
]

logger = logging.getLogger("fedcrate")

# Keys are normalised names (see `_normalise`). Each IRI was checked in the published
# ontology; loss, Dice and balanced accuracy have none and stay unmapped on purpose.
BUILTIN_METRIC_IRIS: dict[str, str] = {
    "accuracy": STATO + "STATO_0000415",
    "acc": STATO + "STATO_0000415",
    "precision": STATO + "STATO_0000416",
    "recall": STATO + "STATO_0000233",
    "sensitivity": STATO + "STATO_0000233",
    "tpr": STATO + "STATO_0000233",
    "true_positive_rate": STATO + "STATO_0000233",
    "specificity": STATO + "STATO_0000134",
    "tnr": STATO + "STATO_0000134",
    "true_negative_rate": STATO + "STATO_0000134",
    "auc": STATO + "STATO_0000209",
    "roc_auc": STATO + "STATO_0000209",
    "auroc": STATO + "STATO_0000209",
    "area_under_curve": STATO + "STATO_0000209",
    "mcc": STATO + "STATO_0000524",
    "matthews_corrcoef": STATO + "STATO_0000524",
    "r2": STATO + "STATO_0000564",
    "r_squared": STATO + "STATO_0000564",
    "f1": MEX_PERF + "fMeasure",
    "f1_score": MEX_PERF + "fMeasure",
    "f_measure": MEX_PERF + "fMeasure",
    "fmeasure": MEX_PERF + "fMeasure",
    "rmse": MEX_PERF + "rootMeanSquaredError",
    "root_mean_squared_error": MEX_PERF + "rootMeanSquaredError",
    "mse": MEX_PERF + "meanSquareError",
    "mean_squared_error": MEX_PERF + "meanSquareError",
    # MEX-perf names the regression mean absolute error "meanAbsoluteDeviation".
    "mae": MEX_PERF + "meanAbsoluteDeviation",
    "mean_absolute_error": MEX_PERF + "meanAbsoluteDeviation",
}

# Prefixes and suffixes that say *where* a metric was measured, not *what* it measures.
_SCOPE_PREFIXES = (
    "train_",
    "training_",
    "eval_",
    "evaluate_",
    "evaluation_",
    "val_",
    "valid_",
    "validation_",
    "test_",
    "centralized_",
    "centralised_",
    "federated_",
    "global_",
    "local_",
    "server_",
    "client_",
    "final_",
)
_SCOPE_SUFFIXES = ("_score", "_macro", "_micro", "_weighted")
# Schemes accepted as absolute IRIs as they stand; anything else with a colon must be a
# known CURIE prefix, so a typo such as `stat:STATO_1` is an error, not a bogus IRI.
_IRI = re.compile(r"^(https?|urn|ftp|tag|doi|info|file)://?[^\s<>\"{}|\\^`]+$|^urn:[^\s]+$", re.I)
_CURIE = re.compile(r"^([A-Za-z][\w.-]*):([^\s/][^\s]*)?$")


def _normalise(name: str) -> str:
    return re.sub(r"[\s\-.]+", "_", name.strip().lower())


def _registry_lookup(name: str) -> str | None:
    key = _normalise(name)
    candidates = [key]
    for prefix in _SCOPE_PREFIXES:
        if key.startswith(prefix):
            candidates.append(key[len(prefix) :])
    for candidate in list(candidates):
        for suffix in _SCOPE_SUFFIXES:
            if candidate.endswith(suffix) and candidate != suffix.strip("_"):
                candidates.append(candidate[: -len(suffix)])
    for candidate in candidates:
        if candidate in BUILTIN_METRIC_IRIS:
            return BUILTIN_METRIC_IRIS[candidate]
    return None


def expand_iri(value: str, prefixes: Mapping[str, str], *, where: str) -> str:
    """Return `value` as an absolute IRI, expanding a known CURIE; else `MetricIRIError`."""
    text = value.strip()
    curie = _CURIE.match(text)
    if curie and curie.group(1).lower() in prefixes and "://" not in text:
        return prefixes[curie.group(1).lower()] + (curie.group(2) or "")
    if _IRI.match(text):
        return text
    known = ", ".join(sorted(prefixes))
    raise MetricIRIError(
        f"{where} = {value!r} is neither an absolute IRI nor a CURIE with a known prefix "
        f"({known}); use e.g. 'http://purl.obolibrary.org/obo/STATO_0000415' or "
        "'stato:STATO_0000415', or declare the prefix under [tool.fedcrate.prefixes]."
    )


@dataclass
class MetricResolver:
    """Resolves metric names: user map first, then the built-in registry, else unmapped."""

    user_map: dict[str, str] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    """Metric name → unitCode, from `[tool.fedcrate.metric-units]`."""
    unmapped: frozenset[str] = frozenset()
    """Names declared to have no published term (`unmapped-metrics`): no warning for them."""
    _cache: dict[str, Metric] = field(default_factory=dict, repr=False)

    @classmethod
    def from_pyproject(cls, pyproject: Mapping[str, Any]) -> MetricResolver:
        """Read `[tool.fedcrate.metric-uris]`, `[tool.fedcrate.metric-units]` and
        `[tool.fedcrate] unmapped-metrics`.

        `unmapped-metrics` lists the metrics the app knows have no term in a published
        vocabulary (a cross-entropy `loss`): they are recorded with their name as
        `propertyID` like any unmapped metric, without the warning asking to map them,
        which their author has already answered.

        The legacy `[tool.flwrcrate]` and `[tool.fedacrate]` tables are read too.

        Raises:
            MetricIRIError: a value is not an IRI (the message names the offending key).
        """
        table = tool_table(dict(pyproject), "fedcrate", "flwrcrate", "fedacrate")
        prefixes = dict(BUILTIN_PREFIXES)
        user_prefixes = table.get("prefixes", {})
        if not isinstance(user_prefixes, dict):
            raise MetricIRIError("[tool.fedcrate.prefixes] must be a table of prefix = IRI")
        for prefix, base in user_prefixes.items():
            prefixes[str(prefix).lower()] = expand_iri(
                str(base), {}, where=f"[tool.fedcrate.prefixes] {prefix}"
            )
        raw = table.get("metric-uris", {})
        if not isinstance(raw, dict):
            raise MetricIRIError("[tool.fedcrate.metric-uris] must be a table of metric = IRI")
        user_map = {
            str(name): expand_iri(str(iri), prefixes, where=f"[tool.fedcrate.metric-uris] {name}")
            for name, iri in raw.items()
        }
        raw_units = table.get("metric-units", {})
        if not isinstance(raw_units, dict):
            raise MetricIRIError("[tool.fedcrate.metric-units] must be a table of metric = unit")
        units = {}
        for name, unit in raw_units.items():
            text = str(unit).strip()
            # A unit is a UN/CEFACT common code (short, no colon) or an IRI / CURIE.
            if ":" in text:
                text = expand_iri(text, prefixes, where=f"[tool.fedcrate.metric-units] {name}")
            elif not re.fullmatch(r"[A-Z0-9]{2,3}", text):
                raise MetricIRIError(
                    f"[tool.fedcrate.metric-units] {name} = {unit!r} is neither a UN/CEFACT "
                    "common code (e.g. 'KGM', 'MTR', 'C62' for 'one') nor a unit IRI"
                )
            units[str(name)] = text
        unmapped = table.get("unmapped-metrics", [])
        if not isinstance(unmapped, list) or not all(isinstance(n, str) for n in unmapped):
            raise MetricIRIError(
                "[tool.fedcrate] unmapped-metrics must be an array of metric names, "
                'e.g. unmapped-metrics = ["loss", "train_loss"]'
            )
        return cls(user_map=user_map, units=units, unmapped=frozenset(unmapped))

    def resolve(self, name: str) -> Metric:
        """The `Metric` for `name`; logs one warning per metric that stays unmapped."""
        cached = self._cache.get(name)
        if cached is not None:
            return cached
        iri = self.user_map.get(name) or _registry_lookup(name)
        if iri is None and name not in self.unmapped:
            logger.warning(
                "metric %r has no IRI; it is recorded with its name as propertyID. "
                "Map it under [tool.fedcrate.metric-uris] in the app's pyproject.toml, or "
                "list it in [tool.fedcrate] unmapped-metrics when no vocabulary has a term.",
                name,
            )
        metric = Metric(name=name, iri=iri, unit=self.units.get(name))
        self._cache[name] = metric
        return metric
