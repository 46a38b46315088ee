import numpy as np
import pandas as pd
import pytest

from skvae._sampling import read_target, rows_to_add


def test_rows_to_add_matches_imbalanced_learn_semantics():
    classes, counts = np.array(["a", "b", "c"]), np.array([10, 4, 2])
    assert rows_to_add("auto", classes, counts) == {"b": 6, "c": 8}
    assert rows_to_add("not majority", classes, counts) == {"b": 6, "c": 8}
    assert rows_to_add("not minority", classes, counts) == {"b": 6}
    assert rows_to_add("all", classes, counts) == {"b": 6, "c": 8}
    assert rows_to_add("minority", classes, counts) == {"c": 8}
    assert rows_to_add({"b": 5}, classes, counts) == {"b": 1}
    assert rows_to_add(0.5, np.array([0, 1]), np.array([10, 2])) == {1: 3}
    with pytest.raises(ValueError, match="exactly two classes"):
        rows_to_add(0.5, classes, counts)
    with pytest.raises(ValueError, match="fewer rows than a class already has"):
        rows_to_add({"a": 3}, classes, counts)


def test_a_callable_strategy_gets_the_labels_and_returns_wanted_counts():
    classes, counts = np.array(["a", "b", "c"]), np.array([10, 4, 2])

    def double_the_smaller(y):
        labels, n = np.unique(y, return_counts=True)
        return {c: 2 * k for c, k in zip(labels, n, strict=True) if k < n.max()}

    assert rows_to_add(double_the_smaller, classes, counts) == {"b": 4, "c": 2}
    with pytest.raises(TypeError, match="must return a dict.*got list"):
        rows_to_add(lambda y: [1, 2], classes, counts)
    with pytest.raises(ValueError, match="unknown classes"):
        rows_to_add(lambda y: {"z": 40}, classes, counts)


@pytest.mark.parametrize(
    "y",
    [
        np.array([2, 0, 2], dtype=np.int32),
        [2, 0, 2],
        np.array([[2], [0], [2]]),
        pd.Series([2, 0, 2], name="label", dtype="int16"),
        pd.DataFrame({"label": [2, 0, 2]}),
    ],
    ids=["array", "list", "column", "series", "frame"],
)
def test_read_target_restores_the_container(y):
    labels, target = read_target(y, 3)
    np.testing.assert_array_equal(labels, [2, 0, 2])
    restored = target.restore(np.array([2, 0, 2, 0]))
    assert type(restored) is type(y)
    if isinstance(y, pd.Series):
        assert restored.name == "label" and restored.dtype == "int16"
    elif isinstance(y, pd.DataFrame):
        assert list(restored.columns) == ["label"]
    elif isinstance(y, np.ndarray):
        assert restored.dtype == y.dtype and restored.shape[1:] == y.shape[1:]


def test_read_target_reads_one_vs_all_rows_as_column_indices():
    one_hot = np.array([[0, 1, 0], [0, 0, 1], [0, 1, 0]])
    labels, target = read_target(one_hot, 3)
    np.testing.assert_array_equal(labels, [1, 2, 1])
    np.testing.assert_array_equal(target.restore(labels), one_hot)


def test_read_target_rejects_what_is_not_one_label_per_row():
    with pytest.raises(ValueError, match="several labels per row"):
        read_target(np.array([[1, 1], [0, 1]]), 2)
    with pytest.raises(ValueError, match="exactly one column"):
        read_target(pd.DataFrame({"a": [0, 1], "b": [1, 0]}), 2)
    with pytest.raises(ValueError, match="3 rows but y has 2"):
        read_target([0, 1], 3)
    with pytest.raises(ValueError, match="Unknown label type"):
        read_target([0.5, 1.5], 2)


@pytest.mark.parametrize(
    "y", [["a", None, "b"], np.array([0.0, np.nan, 1.0]), pd.Series(["a", "b", pd.NA])]
)
def test_read_target_names_missing_labels(y):
    with pytest.raises(ValueError, match="y holds 1 missing labels"):
        read_target(y, 3)
