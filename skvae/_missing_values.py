"""scikit-learn imputers' ``missing_values``: a code that marks a hole.

The network's holes are NaN, None and ``pd.NA``. A table whose holes are a
code (-1, ``"?"``, 999) is read with those cells as holes, in dtypes that
hold a hole and keep the rest of the column as it was: an integer column
becomes pandas' nullable integer, a categorical column loses the code as a
level.
"""

# License: BSD 3-Clause

import numbers

import numpy as np
import pandas as pd

__all__ = ["codes_are_holes", "mark_codes_in_columns", "mark_missing"]


def codes_are_holes(missing_values):
    """Whether ``missing_values`` is a code rather than NaN, None or pd.NA."""
    if missing_values is None or missing_values is pd.NA:
        return False
    return not (isinstance(missing_values, numbers.Real) and np.isnan(missing_values))


def mark_missing(X, missing_values):
    """``X`` with the cells equal to ``missing_values`` as holes.

    NaN, None and ``pd.NA`` stay holes as well. ``X`` itself is not changed; it
    is returned as it is when ``missing_values`` is not a code.
    """
    if not codes_are_holes(missing_values):
        return X
    if isinstance(X, pd.DataFrame):
        columns = {}
        for position in range(X.shape[1]):
            columns[position] = _marked_column(X.iloc[:, position], missing_values)
        marked = pd.DataFrame(columns, index=X.index)
        marked.columns = X.columns
        return marked
    array = np.asarray(X)
    if array.dtype.kind in "OUS":
        array = np.asarray(X, dtype=object)
    hits = _equal(array, missing_values)
    if not hits.any():
        return X
    if array.dtype.kind in "biu":
        array = array.astype(np.float64)
    else:
        array = array.copy()
    array[hits] = np.nan
    return array


def mark_codes_in_columns(frame, codes):
    """``frame`` with the cells of each column of ``codes`` (a dict of column
    to codes given as text, as on a command line) as holes.

    A code matches the text itself and, where it reads as a number, that
    number: ``"-1"`` is a hole in a column of integers and in one of text.
    """
    if not codes:
        return frame
    frame = frame.copy()
    for name, texts in codes.items():
        column = frame[name]
        for text in texts:
            for code in (text, *_as_number(text)):
                column = _marked_column(column, code)
        frame[name] = column
    return frame


def _as_number(text):
    try:
        return (float(text),)
    except ValueError:
        return ()


def _marked_column(column, missing_values):
    hits = _equal(column.to_numpy(), missing_values)
    if not hits.any():
        return column
    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.cat.remove_categories([missing_values])
    if isinstance(column.dtype, np.dtype) and column.dtype.kind in "biu":
        # pandas' nullable integers (and booleans) hold a hole without
        # turning the column into floats.
        column = pd.Series(pd.array(column.to_numpy()), index=column.index)
    return column.mask(hits)


def _equal(values, missing_values):
    """Elementwise ``values == missing_values`` as a bool array (holes: False)."""
    values = np.asarray(values)
    if values.dtype.kind in "biuf":
        # Numbers compare in numpy; a text code matches none of them.
        if isinstance(missing_values, str):
            return np.zeros(values.shape, dtype=bool)
        return values == missing_values
    with np.errstate(invalid="ignore"):
        hits = pd.Series(np.ravel(values, order="C"), dtype=object) == missing_values
    return hits.fillna(False).to_numpy(dtype=bool).reshape(np.shape(values))
