import ast
import inspect
import re
import subprocess
import sys

import numpy as np
import pytest

import skvae
from skvae import VAEAnomalyDetector, VAEAugmenter, VAEImputer, VAETransformer


@pytest.mark.parametrize(
    "estimator_class",
    [
        skvae.VAEAnomalyDetector,
        skvae.VAETransformer,
        skvae.VAEAugmenter,
        skvae.VAEImputer,
    ],
    ids=lambda c: c.__name__,
)
def test_every_parameter_is_documented_with_its_true_default(estimator_class):
    doc = inspect.cleandoc(estimator_class.__doc__)
    section = doc.split("Parameters\n----------\n")[1].split("\nAttributes\n")[0]
    documented = dict(re.findall(r"^(\w+) : .*default=(.+)$", section, re.M))
    signature = inspect.signature(estimator_class.__init__).parameters
    expected = {name: p.default for name, p in signature.items() if name != "self"}
    assert documented.keys() == expected.keys()
    for name, default in expected.items():
        if documented[name] == "np.nan":
            assert np.isnan(default), name
        else:
            assert ast.literal_eval(documented[name]) == default, name
    # every entry of the shared text sits at the level of the class's own entries
    entries = re.findall(r"^( *)\w+ : ", section, re.M)
    assert set(entries) == {""}


def test_imports_with_docstrings_stripped():
    # python -OO sets every __doc__ to None; the shared docstring text must cope.
    subprocess.run([sys.executable, "-OO", "-c", "import skvae"], check=True)


@pytest.mark.parametrize(
    "estimator, share, top, floor, latent_of_20_columns",
    [
        (VAEAnomalyDetector, "a quarter", 8, "1,000", 5),
        (VAETransformer, "a quarter", 8, "1,000", 5),
        (VAEAugmenter, "a quarter", 8, "1,000", 5),
        (VAEImputer, "half", 16, "3,000", 10),
    ],
)
def test_auto_rules_are_documented_as_each_estimator_applies_them(
    estimator, share, top, floor, latent_of_20_columns
):
    doc = " ".join(estimator.__doc__.split())
    rule = f"takes {share} of the number of input columns, clipped to [2, {top}]."
    assert rule in doc
    assert f"many epochs as make {floor} steps" in doc
    assert estimator(n_components="auto")._n_components(20) == latent_of_20_columns
    assert estimator(n_components="auto")._n_components(1000) == top
