"""scikit-learn's estimator checks over each skvae estimator."""

import pytest
from sklearn.utils.estimator_checks import (
    check_param_validation,
    parametrize_with_checks,
)

from skvae import VAEAnomalyDetector, VAEAugmenter, VAETransformer

# Small networks and few epochs keep the ~50 checks per estimator fast.
SMALL = dict(hidden_layer_sizes=(8,), max_epochs=3, random_state=0)
ESTIMATORS = [
    VAEAnomalyDetector(**SMALL),
    VAETransformer(**SMALL),
    VAEAugmenter(**SMALL),
]

_FLOAT32_REASON = (
    "The network computes in float32; matrix products over a different number of "
    "rows round differently in the last bit (relative 1e-7), the check's tolerance. "
    "tests/test_anomaly.py checks the same invariance at rtol=1e-5."
)
EXPECTED_FAILED_CHECKS = {
    "VAEAnomalyDetector": {
        "check_methods_subset_invariance": _FLOAT32_REASON,
    },
    "VAETransformer": {
        "check_methods_subset_invariance": _FLOAT32_REASON,
    },
}


def _expected_failed_checks(estimator):
    return EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {})


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_param_validation(estimator):
    check_param_validation(type(estimator).__name__, estimator)
