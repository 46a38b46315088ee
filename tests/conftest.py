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
