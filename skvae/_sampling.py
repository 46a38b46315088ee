"""imbalanced-learn's sampler conventions: targets, their containers, strategies.

imbalanced-learn's samplers give ``X`` and ``y`` back in the containers they
were given: a Series keeps its name and dtype, a one-column DataFrame stays
one, lists stay lists, and a one-vs-all (one-hot) target stays one-hot. They
carry a ``sampler_tags`` entry in their tags. This module holds those rules
for :class:`~skvae.VAEAugmenter`, without importing imbalanced-learn.
"""

# License: BSD 3-Clause

from collections.abc import Mapping
from dataclasses import dataclass, fields
from numbers import Real

import numpy as np
import pandas as pd
from sklearn.utils import InputTags, Tags
from sklearn.utils.multiclass import check_classification_targets, type_of_target

__all__ = [
    "SamplerTags",
    "TargetFormat",
    "read_target",
    "rows_to_add",
    "with_sampler_tags",
]


@dataclass(slots=True)
class SamplerTags:
    """The sampler entry of imbalanced-learn's tags.

    ``sample_indices`` is False: a generative sampler draws new rows, so there
    are no indices of kept rows (``sample_indices_``) to report.
    """

    sample_indices: bool = False


@dataclass(slots=True)
class _SamplerInputTags(InputTags):
    dataframe: bool = True


@dataclass(slots=True)
class _SamplerTagsHolder(Tags):
    sampler_tags: SamplerTags | None = None


def _as_dict(tags):
    return {f.name: getattr(tags, f.name) for f in fields(tags)}


def with_sampler_tags(tags):
    """scikit-learn's ``tags`` with what imbalanced-learn's tags add.

    That is ``sampler_tags`` and an ``input_tags.dataframe`` entry (True: the
    augmenter takes DataFrames and gives them back).
    """
    values = _as_dict(tags)
    values["input_tags"] = _SamplerInputTags(**_as_dict(tags.input_tags))
    return _SamplerTagsHolder(**values, sampler_tags=SamplerTags())


@dataclass(frozen=True)
class TargetFormat:
    """How a target was given, so that labels can be returned the same way.

    ``kind`` is ``"array"`` (1-D), ``"column"`` (an ``(n, 1)`` array),
    ``"one_vs_all"`` (one-hot rows, one column per class), ``"series"`` or
    ``"frame"`` (a one-column DataFrame); ``as_list`` for a list.
    """

    kind: str
    dtype: object
    name: object = None
    n_columns: int = 0
    as_list: bool = False

    def restore(self, labels):
        """Labels ``(n,)`` in this format."""
        labels = np.asarray(labels)
        if self.kind == "series":
            return pd.Series(labels, name=self.name, dtype=self.dtype)
        if self.kind == "frame":
            return pd.DataFrame({self.name[0]: labels}).astype(self.dtype)
        if self.kind == "one_vs_all":
            out = np.eye(self.n_columns, dtype=self.dtype)[labels.astype(int)]
        elif self.kind == "column":
            out = labels.astype(self.dtype).reshape(-1, 1)
        else:
            out = labels.astype(self.dtype)
        return out.tolist() if self.as_list else out


def read_target(y, n_rows):
    """Return ``(labels, format)``: 1-D class labels and how ``y`` was given.

    A one-column DataFrame or ``(n, 1)`` array is a column of labels; a 2-D
    array of 0/1 with exactly one 1 per row is a one-vs-all encoding whose
    labels are the column indices. Other 2-D targets (multilabel,
    multioutput) are rejected.
    """
    if isinstance(y, pd.Series):
        labels, target = y.to_numpy(), TargetFormat("series", y.dtype, y.name)
    elif isinstance(y, pd.DataFrame):
        if y.shape[1] != 1:
            raise ValueError(
                f"y as a DataFrame needs exactly one column, got {y.shape[1]}."
            )
        labels = y.iloc[:, 0].to_numpy()
        target = TargetFormat("frame", y.dtypes.iloc[0], list(y.columns))
    else:
        array = np.asarray(y)
        as_list = isinstance(y, list)
        if array.ndim == 1:
            labels, target = array, TargetFormat("array", array.dtype, as_list=as_list)
        elif array.ndim == 2 and array.shape[1] == 1:
            labels = array[:, 0]
            target = TargetFormat("column", array.dtype, as_list=as_list)
        elif array.ndim == 2 and type_of_target(array) == "multilabel-indicator":
            if (array.sum(axis=1) != 1).any():
                raise ValueError(
                    "y holds several labels per row (multilabel); only one class "
                    "per row is supported, as labels or one-vs-all (one-hot)."
                )
            labels = array.argmax(axis=1)
            target = TargetFormat(
                "one_vs_all", array.dtype, n_columns=array.shape[1], as_list=as_list
            )
        else:
            raise ValueError(
                "y should be a 1d array of class labels, a column or a one-vs-all "
                f"(one-hot) encoding, got an array of shape {array.shape}."
            )
    missing = int(pd.isna(labels).sum())
    if missing:
        # Sorting the classes would fail on them with a bare TypeError.
        raise ValueError(
            f"y holds {missing} missing labels (NaN or None); every row needs a "
            "class. Drop those rows, or give them a class of their own."
        )
    check_classification_targets(labels)
    if len(labels) != n_rows:
        raise ValueError(f"X has {n_rows} rows but y has {len(labels)} labels.")
    return labels, target


def rows_to_add(strategy, classes, counts):
    """Synthetic rows to add per class, as imbalanced-learn's over-samplers do.

    A callable ``strategy`` is called with the training labels (grouped by
    class: after ``partial_fit`` only the counts are kept) and must return a
    dict of wanted rows per class, as in imbalanced-learn.
    """
    count = dict(zip(classes.tolist(), counts.tolist(), strict=True))
    majority = max(count, key=count.get)
    if callable(strategy):
        wanted = strategy(np.repeat(classes, counts))
        if not isinstance(wanted, Mapping):
            raise TypeError(
                "A callable sampling_strategy must return a dict of wanted rows "
                f"per class, got {type(wanted).__name__}."
            )
        strategy = dict(wanted)
    if isinstance(strategy, dict):
        unknown = set(strategy) - set(count)
        if unknown:
            raise ValueError(f"sampling_strategy names unknown classes {unknown}.")
        shrink = {c: n for c, n in strategy.items() if n < count[c]}
        if shrink:
            raise ValueError(
                "sampling_strategy asks for fewer rows than a class already has "
                f"({shrink}); an over-sampler only adds rows."
            )
        return {c: n - count[c] for c, n in strategy.items() if n > count[c]}
    if isinstance(strategy, Real) and not isinstance(strategy, bool):
        if len(count) != 2:
            raise ValueError("A float sampling_strategy needs exactly two classes.")
        minority = min(count, key=count.get)
        target = int(np.ceil(strategy * count[majority]))
        if target < count[minority]:
            raise ValueError(
                f"sampling_strategy={strategy} would remove rows from the minority "
                f"class (it has {count[minority]}, the ratio asks for {target})."
            )
        return {minority: target - count[minority]} if target > count[minority] else {}
    minority = min(count, key=count.get)
    if strategy == "minority":
        return {minority: count[majority] - count[minority]}
    if strategy == "all":
        chosen = count
    else:
        left_out = minority if strategy == "not minority" else majority
        chosen = {c: n for c, n in count.items() if c != left_out}
    return {c: count[majority] - n for c, n in chosen.items() if n < count[majority]}
