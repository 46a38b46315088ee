import numpy as np
import pandas as pd
import pytest

from skvae._missing_values import codes_are_holes, mark_missing


@pytest.mark.parametrize("value", [np.nan, float("nan"), None, pd.NA])
def test_nan_none_and_pd_na_leave_the_table_as_it_is(value):
    frame = pd.DataFrame({"x": [1, -1]})
    assert not codes_are_holes(value)
    assert mark_missing(frame, value) is frame


def test_a_code_becomes_a_hole_in_a_dtype_that_holds_one():
    frame = pd.DataFrame(
        {
            "int": [1, -1, 3],
            "float": [0.5, -1.0, np.nan],
            "nullable": pd.array([1, -1, None], dtype="Int64"),
            "text": ["a", "b", "c"],
            "category": pd.Categorical(["x", "y", "x"]),
        }
    )
    marked = mark_missing(frame, -1)
    assert marked["int"].dtype == "Int64" and marked["int"].isna().tolist() == [
        False,
        True,
        False,
    ]
    assert marked["float"].isna().tolist() == [False, True, True]
    assert marked["nullable"].dtype == "Int64"
    assert marked["nullable"].isna().sum() == 2
    pd.testing.assert_frame_equal(
        marked[["text", "category"]], frame[["text", "category"]]
    )
    assert frame.loc[1, "int"] == -1  # the input is not changed


def test_a_text_code_leaves_a_categorical_columns_levels():
    frame = pd.DataFrame(
        {"level": pd.Categorical(["lo", "?", "hi"]), "note": ["a", "?", None]}
    )
    marked = mark_missing(frame, "?")
    assert list(marked["level"].cat.categories) == ["hi", "lo"]
    assert marked.isna().sum().tolist() == [1, 2]


def test_arrays_and_lists_with_a_code():
    marked = mark_missing(np.array([[1, -1], [2, 3]]), -1)
    assert marked.dtype == np.float64 and np.isnan(marked[0, 1])
    marked = mark_missing([["a", "?"], ["b", 1]], "?")
    assert marked.dtype == object and pd.isna(marked[0, 1]) and marked[1, 1] == 1
    untouched = np.array([[1.0, 2.0]])
    assert mark_missing(untouched, -1) is untouched
