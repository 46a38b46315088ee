import warnings

import numpy as np
import pandas as pd
import pytest

from skvae._schema import _grid_step, _guess_kind, _infer_schema


@pytest.mark.parametrize(
    "values, step",
    [
        ([0, 1, 2, 5, 9], 1.0),  # counts
        ([1.5, 2.0, 3.5, 4.0], 0.5),  # half points
        ([0.1, 0.2, 0.5], 0.1),  # readings to one decimal, up to float rounding
        ([0, 1, 0, 1], 0.0),  # a 0/1 flag keeps its density
        ([0.0, 1.0, 2.5, 2.7], 0.0),  # no grid
    ],
)
def test_grid_step(values, step):
    assert _grid_step(np.asarray(values, dtype=float)) == pytest.approx(step)


def test_a_numeric_schema_holds_range_grid_point_masses_and_holes():
    values = pd.Series([0.0] * 6 + [1.0, 2.0, 3.0, 7.0] + [np.nan] * 2)
    schema = _infer_schema("x", values, point_mass_rule=(0.3, 3, 3))
    assert schema.kind == "numeric" and schema.point_masses == (0.0,)
    assert (schema.minimum, schema.maximum, schema.step) == (1.0, 7.0, 1.0)
    assert schema.missing_rate == pytest.approx(2 / 12)


@pytest.mark.parametrize(
    "series, kind, levels",
    [
        (pd.Series([True, False, None], dtype=object), "binary", [False, True]),
        (pd.Series(["b", "a", "b"]), "binary", ["a", "b"]),  # two levels
        (pd.Series(["c", "a", "b"]), "categorical", ["a", "b", "c"]),
        (pd.Series(pd.Categorical(["x"], categories=["y", "x"])), "binary", ["y", "x"]),
    ],
)
def test_levels_and_kinds_of_non_numeric_columns(series, kind, levels):
    schema = _infer_schema("c", series)
    assert (schema.kind, schema.levels) == (kind, levels)


def test_guesses_warn_where_a_column_is_probably_not_what_it_seems():
    with pytest.warns(UserWarning, match="holds numbers as text"):
        assert _guess_kind("t", pd.Series(["1", "2", "3"])) == "categorical"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _guess_kind("n", pd.Series([1, pd.NA, 3], dtype=object)) == "numeric"
    with pytest.warns(UserWarning, match="names rows rather than describing them"):
        _infer_schema("id", pd.Series([f"row{i}" for i in range(60)]))
    with pytest.raises(ValueError, match="holds dates or times"):
        _guess_kind("d", pd.Series(pd.date_range("2026-01-01", periods=3)))


def test_columns_that_cannot_be_modelled_are_refused_by_name():
    with pytest.raises(ValueError, match="'e' holds no value in fit"):
        _infer_schema("e", pd.Series([np.nan, np.nan]))
    with pytest.raises(ValueError, match=r"column_kinds\['k'\] must be one of"):
        _infer_schema("k", pd.Series([1.0, 2.0]), kind="ordinal")
    with pytest.raises(ValueError, match="'b' cannot be modelled as binary"):
        _infer_schema("b", pd.Series(["x", "y", "z"]), kind="binary")
    with pytest.raises(ValueError, match="'z' holds complex numbers"):
        _infer_schema("z", pd.Series([1 + 2j, 3j]))
    with pytest.raises(ValueError, match="'i' contains infinity"):
        _infer_schema("i", pd.Series([1.0, np.inf]))
