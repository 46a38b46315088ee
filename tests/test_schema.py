import datetime
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


def _dates_held_by_pyarrow():
    pa = pytest.importorskip("pyarrow")
    days = [datetime.date(2026, 1, 1), None, datetime.date(2026, 1, 3)]
    times = [datetime.time(8), None, datetime.time(9)]
    return [
        pd.Series(days, dtype=pd.ArrowDtype(pa.date32())),
        pd.Series(pd.date_range("2026-01-01", periods=3)).astype(
            "timestamp[ns][pyarrow]"
        ),
        pd.Series(pd.to_timedelta([1, 2, 3], unit="D")).astype("duration[ns][pyarrow]"),
        pd.Series(times, dtype=pd.ArrowDtype(pa.time64("us"))),
    ]


@pytest.mark.parametrize(
    "series",
    [
        pd.Series(pd.date_range("2026-01-01", periods=3, tz="UTC")),
        pd.Series(pd.to_timedelta([1, 2, 3], unit="D")),
        pd.Series(pd.period_range("2026-01", periods=3, freq="M")),
        # Python objects, as `.dt.date` or a database driver gives them
        pd.Series([datetime.date(2026, 1, 1), None, datetime.date(2026, 1, 3)]),
        pd.Series([datetime.time(8), datetime.time(9)]),
        pd.Series([datetime.timedelta(1), datetime.timedelta(2)], dtype=object),
    ],
    ids=[
        "datetime-tz",
        "timedelta",
        "period",
        "date-objects",
        "time-objects",
        "timedelta-objects",
    ],
)
def test_dates_and_times_are_refused_however_they_are_held(series):
    with pytest.raises(ValueError, match="'t' holds dates or times"):
        _guess_kind("t", series)


def test_dates_and_times_held_by_pyarrow_are_refused():
    for series in _dates_held_by_pyarrow():
        with pytest.raises(ValueError, match="'t' holds dates or times"):
            _guess_kind("t", series)


def test_pyarrow_strings_are_levels_without_the_numbers_as_text_warning():
    pytest.importorskip("pyarrow")
    words = pd.Series(["x", None, "y", "z"]).convert_dtypes(dtype_backend="pyarrow")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _guess_kind("w", words) == "categorical"
    numbers = pd.Series(["1", "2", None]).convert_dtypes(dtype_backend="pyarrow")
    with pytest.warns(UserWarning, match="holds numbers as text"):
        assert _guess_kind("t", numbers) == "categorical"


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
