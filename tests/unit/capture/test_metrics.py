"""Metric names resolve to IRIs of published vocabularies, or stay named."""

from __future__ import annotations

import logging

import pytest

from fedcrate.capture.metrics import BUILTIN_METRIC_IRIS, MetricResolver
from fedcrate.errors import MetricIRIError
from fedcrate.record.vocabularies import shorten_iri

STATO_ACCURACY = "http://purl.obolibrary.org/obo/STATO_0000415"


@pytest.mark.parametrize(
    ("name", "iri"),
    [
        ("accuracy", STATO_ACCURACY),
        ("eval_acc", STATO_ACCURACY),
        ("train-accuracy", STATO_ACCURACY),
        ("Val Accuracy", STATO_ACCURACY),
        ("f1_score", "http://mex.aksw.org/mex-perf#fMeasure"),
        ("test_f1_macro", "http://mex.aksw.org/mex-perf#fMeasure"),
        ("rmse", "http://mex.aksw.org/mex-perf#rootMeanSquaredError"),
        ("mse", "http://mex.aksw.org/mex-perf#meanSquareError"),
        ("mae", "http://mex.aksw.org/mex-perf#meanAbsoluteDeviation"),
        ("recall", "http://purl.obolibrary.org/obo/STATO_0000233"),
        ("sensitivity", "http://purl.obolibrary.org/obo/STATO_0000233"),
        ("specificity", "http://purl.obolibrary.org/obo/STATO_0000134"),
        ("roc_auc", "http://purl.obolibrary.org/obo/STATO_0000209"),
        ("mcc", "http://purl.obolibrary.org/obo/STATO_0000524"),
        ("r2", "http://purl.obolibrary.org/obo/STATO_0000564"),
        ("precision", "http://purl.obolibrary.org/obo/STATO_0000416"),
    ],
)
def test_builtin_registry(name: str, iri: str) -> None:
    assert MetricResolver().resolve(name).iri == iri


def test_registry_holds_only_published_vocabularies() -> None:
    allowed = ("http://purl.obolibrary.org/obo/STATO_", "http://mex.aksw.org/mex-perf#")
    assert all(iri.startswith(allowed) for iri in BUILTIN_METRIC_IRIS.values())


@pytest.mark.parametrize("name", ["loss", "dice", "balanced_accuracy", "train_loss"])
def test_metrics_without_a_published_iri_stay_unmapped(name: str) -> None:
    assert MetricResolver().resolve(name).iri is None


def test_unmapped_metric_warns_once(caplog: pytest.LogCaptureFixture) -> None:
    resolver = MetricResolver()
    with caplog.at_level(logging.WARNING, logger="fedcrate"):
        for _ in range(5):
            resolver.resolve("dice")
    assert caplog.text.count("'dice' has no IRI") == 1


def test_user_map_overrides_and_expands_curies() -> None:
    resolver = MetricResolver.from_pyproject(
        {
            "tool": {
                "fedcrate": {
                    "prefixes": {"ex": "https://example.org/metrics#"},
                    "metric-uris": {
                        "accuracy": "ex:acc",
                        "dice": "stato:STATO_0000415",
                        "loss": "https://example.org/loss",
                    },
                }
            }
        }
    )
    assert resolver.resolve("accuracy").iri == "https://example.org/metrics#acc"
    assert resolver.resolve("dice").iri == STATO_ACCURACY
    assert resolver.resolve("loss").iri == "https://example.org/loss"
    assert resolver.resolve("eval_acc").iri == STATO_ACCURACY  # registry still applies


def test_legacy_tables_are_read_and_new_one_wins() -> None:
    resolver = MetricResolver.from_pyproject(
        {
            "tool": {
                "fedacrate": {"metric-uris": {"a": "https://old.example/a", "b": "https://x/b"}},
                "flwrcrate": {"metric-uris": {"a": "https://mid.example/a", "c": "https://x/c"}},
                "fedcrate": {"metric-uris": {"a": "https://new.example/a"}},
            }
        }
    )
    assert resolver.user_map == {
        "a": "https://new.example/a",
        "b": "https://x/b",
        "c": "https://x/c",
    }


@pytest.mark.parametrize("bad", ["accuracy", "stat:STATO_0000415", "not an iri", "http//x"])
def test_value_that_is_no_iri_names_the_key(bad: str) -> None:
    with pytest.raises(MetricIRIError, match=r"metric-uris\] my_metric = .*known prefix"):
        MetricResolver.from_pyproject({"tool": {"fedcrate": {"metric-uris": {"my_metric": bad}}}})


def test_iris_shorten_to_curies_for_display() -> None:
    assert shorten_iri(STATO_ACCURACY) == "stato:STATO_0000415"
    assert shorten_iri("http://mex.aksw.org/mex-perf#fMeasure") == "mexperf:fMeasure"
    assert shorten_iri("https://example.org/m") == "https://example.org/m"


def test_units_from_pyproject() -> None:
    resolver = MetricResolver.from_pyproject(
        {
            "tool": {
                "fedcrate": {
                    "metric-units": {"rmse": "KGM", "mae": "qudt:MilliM_HG"},
                    "prefixes": {"qudt": "http://qudt.org/vocab/unit/"},
                }
            }
        }
    )
    assert resolver.resolve("rmse").unit == "KGM"
    assert resolver.resolve("mae").unit == "http://qudt.org/vocab/unit/MilliM_HG"
    assert resolver.resolve("accuracy").unit is None


def test_bad_unit_names_the_key() -> None:
    with pytest.raises(MetricIRIError, match=r"metric-units\] rmse = 'kilograms'"):
        MetricResolver.from_pyproject(
            {"tool": {"fedcrate": {"metric-units": {"rmse": "kilograms"}}}}
        )
