"""Shared fixtures: small real tables built once per session."""

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_wine


@pytest.fixture(params=[0])
def seed(request):
    """The seed every test draws from (never a global np.random.seed)."""
    return request.param


@pytest.fixture(scope="session")
def cancer():
    """Breast cancer features (569 x 30) and labels, as float arrays."""
    data = load_breast_cancer()
    return data.data, data.target


@pytest.fixture(scope="session")
def wine_mixed():
    """The wine table with a categorical, a boolean and integer columns (178 rows)."""
    wine = load_wine(as_frame=True)
    frame = wine.data[["alcohol", "malic_acid", "color_intensity", "proline"]].copy()
    frame["magnesium"] = wine.data["magnesium"].astype(np.int64)
    frame["cultivar"] = pd.Categorical(
        np.asarray(wine.target_names)[wine.target], categories=list(wine.target_names)
    )
    frame["strong"] = wine.data["alcohol"] > wine.data["alcohol"].median()
    frame["hue_level"] = pd.cut(
        wine.data["hue"], 3, labels=["low", "mid", "high"]
    ).astype(object)
    return frame


@pytest.fixture(scope="session")
def wine_spiky(wine_mixed):
    """``wine_mixed`` with point masses: "malic_acid" is 0 in 60% of the rows (as a
    censored measurement), "magnesium" is 100 in a quarter, and "proline" is
    whole numbers given as floats."""
    frame = wine_mixed.copy()
    rng = np.random.RandomState(0)
    zero = rng.permutation(len(frame))[: int(0.6 * len(frame))]
    frame.loc[frame.index[zero], "malic_acid"] = 0.0
    hundred = rng.permutation(len(frame))[: len(frame) // 4]
    frame.loc[frame.index[hundred], "magnesium"] = 100
    frame["proline"] = frame["proline"].astype(np.float64)
    return frame
