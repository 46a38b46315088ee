"""Encode a mixed table into a float32 matrix for the VAE and decode it back."""

# License: BSD 3-Clause

import copy
import warnings

import numpy as np
import pandas as pd
from sklearn.preprocessing import QuantileTransformer

from skvae._schema import (
    ColumnSchema,  # noqa: F401 (models pickled before 2026-11-30 name it here)
    _check_finite,
    _check_real,
    _infer_schema,
)

__all__ = ["TabularEncoder"]

SCALINGS = ("standard", "robust", "quantile", "none")
# Scaled numbers are bounded at this many scales from their column's centre:
# the encoded matrix is float32, where a finite value far enough out became
# inf (a NaN score, so an inlier to predict) and a squared residual past
# ~1e19 overflowed training. A likelihood loses nothing by the bound.
_SCALED_BOUND = 1e12


class TabularEncoder:
    """Map a DataFrame or array to a float32 matrix and back.

    Numeric columns are scaled, binary columns (bool, or two levels) become 0/1,
    categorical columns (object, string, category) are one-hot encoded. The encoded
    matrix is laid out as ``[numeric | binary | missing flags | one-hot blocks |
    mixture blocks]`` so that the network can treat each column type as one
    contiguous block.

    A numeric column in which an exact value holds at least
    ``point_mass_share`` of the training rows (0 in "capital gain", 40 in
    "hours per week") is modelled as a mixture: a categorical variable over
    {"continuous", value₁, …} (a one-hot block, level 0 "continuous") and the
    Gaussian for the continuous values, whose numeric entry is NaN where the
    cell holds a point mass. ``inverse_transform`` returns the point masses
    exactly.

    With ``max_modes > 1`` the continuous values of a numeric column may be
    modelled as several Gaussian modes (TVAE's mode-specific normalisation): a
    Bayesian Gaussian mixture fitted to them keeps its components of weight
    0.005 or more, each value is coded as its most likely mode (a level of
    the column's block, {mode₁, …, modeₖ, point masses…}) and its numeric
    entry is its distance from that mode's mean in the mode's standard
    deviations. A column with one mode (or point masses only) has a block
    with one "continuous" level, as above.

    Missing cells (NaN, None, ``pd.NA``) are encoded as NaN: a NaN entry, or a
    one-hot block of NaN. Each column with missing cells in fit also gets a
    0/1 "missing" flag, a binary variable of its own, so that the model learns
    where cells go missing. A category level not seen in fit is an error, or
    with ``handle_unknown="ignore"`` a missing cell whose flag (where the
    column has one) says present: the two can be told apart.

    Parameters
    ----------
    scaling : {"standard", "robust", "quantile", "none"}, default="standard"
        How numeric columns are scaled. ``"standard"`` subtracts the mean and divides
        by the standard deviation; ``"robust"`` uses the median and the interquartile
        range; ``"quantile"`` maps each column to a standard normal through its
        empirical quantiles (it clips values beyond the training range);
        ``"none"`` leaves numbers as they are.
    handle_unknown : {"error", "ignore"}, default="error"
        What a category level not seen in fit does in ``transform``.
    column_kinds : dict or None, default=None
        Kind to model a column as, by column name (DataFrames) or position
        (arrays), overriding the guess: ``"numeric"``, ``"binary"`` or
        ``"categorical"``.
    point_mass_share : float or None, default=None
        Smallest share of a numeric column's observed training values that an
        exact value must hold to become a point mass. None: none.
    max_point_masses : int, default=3
        Most point masses per column (the most frequent values).
    min_continuous_values : int, default=3
        Fewest distinct values a column keeps for its continuous part: a column
        of fewer than ``min_continuous_values + 1`` values has no point masses.
    max_modes : int, default=1
        Most Gaussian modes of a numeric column's continuous values; 1 models
        them as one Gaussian. Only with ``scaling`` "standard" or "robust"
        (quantile scaling makes every column Gaussian already).
    """

    # Encoders pickled before point masses or modes existed have none.
    point_mass_share = None
    max_modes = 1
    mixture_index_ = ()
    mixture_variables_ = mode_entries_ = mode_blocks_ = np.zeros(0, dtype=int)

    def __init__(
        self,
        scaling="standard",
        handle_unknown="error",
        column_kinds=None,
        point_mass_share=None,
        max_point_masses=3,
        min_continuous_values=3,
        max_modes=1,
    ):
        self.scaling = scaling
        self.handle_unknown = handle_unknown
        self.column_kinds = column_kinds
        self.point_mass_share = point_mass_share
        self.max_point_masses = max_point_masses
        self.min_continuous_values = min_continuous_values
        self.max_modes = max_modes

    def __setstate__(self, state):
        # Encoders pickled before modes existed named their mixture columns
        # after their point masses and had one "continuous" level per block.
        if "point_mass_index_" in state:
            state["mixture_index_"] = state.pop("point_mass_index_")
            state["mixture_variables_"] = state.pop("point_mass_variables_")
            state["mode_entries_"] = state.pop("continuous_entries_")
            state["mode_blocks_"] = np.arange(len(state["mode_entries_"]))
        self.__dict__.update(state)

    # -- fit ---------------------------------------------------------------------

    def fit(self, X):
        """Learn the column schema and the numeric scaling from ``X``."""
        if self.scaling not in SCALINGS:
            raise ValueError(
                f"scaling must be one of {SCALINGS}, got {self.scaling!r}."
            )
        self.is_dataframe_ = isinstance(X, pd.DataFrame)
        # An array comes back from inverse_transform as it came: float32 stays
        # float32, an object array of categories stays an object array.
        self.array_dtype_ = None if self.is_dataframe_ else np.asarray(X).dtype
        frame = _as_frame(X)
        _check_not_empty(frame.shape[0])
        if frame.shape[1] == 0:
            raise ValueError("Found a table with 0 columns; at least 1 is needed.")
        kinds = dict(self.column_kinds or {})
        unknown = [name for name in kinds if name not in set(frame.columns)]
        if unknown:
            raise ValueError(
                f"column_kinds names columns that X does not have: {unknown}."
            )
        self.columns_ = [
            _infer_schema(
                name,
                frame[name],
                kinds.get(name),
                (
                    self.point_mass_share,
                    self.max_point_masses,
                    self.min_continuous_values,
                ),
                self.max_modes if self.scaling in ("standard", "robust") else 1,
            )
            for name in frame.columns
        ]
        self._layout()
        numeric = self._numeric_block(frame)
        codes = self._mixture_codes(numeric)
        self._fit_scaling(self._without_point_masses(numeric, codes))
        return self

    def _layout(self):
        kinds = [c.kind for c in self.columns_]
        self.numeric_index_ = [i for i, k in enumerate(kinds) if k == "numeric"]
        self.binary_index_ = [i for i, k in enumerate(kinds) if k == "binary"]
        self.categorical_index_ = [i for i, k in enumerate(kinds) if k == "categorical"]
        self.flagged_index_ = [
            i for i, c in enumerate(self.columns_) if c.missing_rate > 0
        ]
        # Numeric columns with a block: point masses, or several modes.
        self.mixture_index_ = [
            i
            for i in self.numeric_index_
            if self.columns_[i].point_masses or self.columns_[i].modes
        ]
        # The input column of each "variable", in the order the network reports
        # them; a missing flag and a mixture block belong to their column.
        self.variable_index_ = (
            self.numeric_index_
            + self.binary_index_
            + self.flagged_index_
            + self.categorical_index_
            + self.mixture_index_
        )
        mixtures = [self.columns_[i] for i in self.mixture_index_]
        self.category_sizes_ = [
            len(self.columns_[i].levels) for i in self.categorical_index_
        ] + [c.n_modes + len(c.point_masses) for c in mixtures]
        self.n_numeric_ = len(self.numeric_index_)
        # Binary entries of the network: binary columns, then missing flags.
        self.n_binary_ = len(self.binary_index_) + len(self.flagged_index_)
        self.n_encoded_ = self.n_numeric_ + self.n_binary_ + sum(self.category_sizes_)
        # Positions among the variables of the numeric variables with a block
        # (a numeric variable's position is its encoded entry too), and the
        # encoded entries of the blocks' mode levels with the block of each:
        # all of a block's mode entries at 0 mean a point mass.
        numeric_position = {i: j for j, i in enumerate(self.numeric_index_)}
        self.mixture_variables_ = np.array(
            [numeric_position[i] for i in self.mixture_index_], dtype=int
        )
        sizes = np.array(self.category_sizes_[len(self.categorical_index_) :], int)
        starts = self.n_encoded_ - sizes.sum() + np.cumsum(sizes) - sizes
        n_modes = np.array([c.n_modes for c in mixtures], dtype=int)
        self.mode_blocks_ = np.repeat(np.arange(len(mixtures)), n_modes)
        self.mode_entries_ = (
            np.repeat(starts, n_modes)
            + np.arange(n_modes.sum())
            - np.repeat(np.cumsum(n_modes) - n_modes, n_modes)
        ).astype(int)

    def _fit_scaling(self, numeric):
        n_cols = numeric.shape[1]
        self.center_ = np.zeros(n_cols)
        self.scale_ = np.ones(n_cols)
        self.quantile_ = None
        if n_cols == 0 or self.scaling == "none":
            return
        # Missing cells (NaN) are left out of every statistic.
        if self.scaling == "standard":
            self.center_, scale = _nan_mean_std(numeric)
        elif self.scaling == "robust":
            self.center_ = np.nanmedian(numeric, axis=0)
            q75, q25 = np.nanpercentile(numeric, [75, 25], axis=0)
            # 1.349 makes the IQR a standard deviation for Gaussian data; columns
            # whose IQR is zero (mostly constant) fall back to their std.
            scale = (q75 - q25) / 1.349
            scale = np.where(scale > 0, scale, _nan_mean_std(numeric)[1])
        else:
            self.quantile_ = QuantileTransformer(
                output_distribution="normal",
                n_quantiles=min(1000, numeric.shape[0]),
                subsample=None,
            ).fit(numeric)
            return
        # A constant column keeps unit scale, as StandardScaler does.
        self.scale_ = np.where(scale > np.finfo(float).eps, scale, 1.0)

    @property
    def mode_log_scales_(self):
        """``log`` of each mode's standard deviation over its column's scale,
        for each of ``mode_entries_`` (0 in a block of one mode)."""
        scales = []
        for _, j, column in self._mixture_columns():
            if column.modes:
                stds = np.array(column.modes)[:, 2]
                scales.append(np.log(stds / self.scale_[j]))
            else:
                scales.append(np.zeros(1))
        return np.concatenate(scales) if scales else np.zeros(0)

    @property
    def point_mass_variables_(self):
        """Positions among the variables of the numeric variables with point
        masses: their numeric entry has holes (at the point masses)."""
        has_masses = [bool(self.columns_[i].point_masses) for i in self.mixture_index_]
        return self.mixture_variables_[np.array(has_masses, dtype=bool)]

    @property
    def flag_variables_(self):
        """Positions of the missing flags among the variables.

        Numeric and binary variables take one encoded entry each, so these are
        the flags' encoded entries too.
        """
        first = self.n_numeric_ + len(self.binary_index_)
        return np.arange(first, first + len(self.flagged_index_))

    def _mixture_columns(self):
        """``(block, numeric position, schema)`` of each column with a block."""
        return [
            (c, j, self.columns_[self.numeric_index_[j]])
            for c, j in enumerate(self.mixture_variables_)
        ]

    def _mixture_codes(self, numeric):
        """Each row's level in the block of each column with one, from the raw
        ``numeric`` values: ``(n_rows, len(mixture_index_))``. A continuous
        value takes its most likely mode (0 with one mode), the k-th point
        mass level ``n_modes + k - 1``; a missing cell 0."""
        codes = np.zeros((len(numeric), len(self.mixture_index_)), dtype=np.intp)
        for c, j, column in self._mixture_columns():
            if column.modes:
                codes[:, c] = _most_likely_mode(numeric[:, j], column.modes)
            for code, mass in enumerate(column.point_masses, start=column.n_modes):
                codes[numeric[:, j] == mass, c] = code
        return codes

    def _without_point_masses(self, numeric, codes):
        """``numeric`` (raw values) with the point-mass cells (``codes``) as NaN."""
        if not self.mixture_index_:
            return numeric
        numeric = numeric.copy()
        for c, j, column in self._mixture_columns():
            numeric[codes[:, c] >= column.n_modes, j] = np.nan
        return numeric

    def _mixture_blocks(self, numeric, codes):
        """One-hot blocks over {modes..., point masses...} of ``codes``; NaN
        rows where the raw ``numeric`` value is missing."""
        blocks = []
        for c, j, column in self._mixture_columns():
            block = np.eye(column.n_modes + len(column.point_masses))[codes[:, c]]
            block[np.isnan(numeric[:, j])] = np.nan
            blocks.append(block)
        return blocks

    def _encode_numeric(self, numeric):
        """Scaled numeric entries, point masses as holes, and the mixture
        blocks of the raw ``numeric`` values.

        A column with modes is scaled by the mode each value falls in."""
        codes = self._mixture_codes(numeric)
        continuous = self._without_point_masses(numeric, codes)
        scaled = self._scale(continuous)
        for c, j, column in self._mixture_columns():
            if column.modes:
                means, stds = _mode_of_rows(column, codes[:, c])
                scaled[:, j] = (continuous[:, j] - means) / stds
        self._bound_far_values(scaled)
        return scaled, self._mixture_blocks(numeric, codes)

    def _bound_far_values(self, scaled):
        """Move scaled values beyond ``_SCALED_BOUND`` to it, in place, with a
        warning that names their columns."""
        far = np.abs(scaled) > _SCALED_BOUND  # NaN (a hole) compares False
        if not far.any():
            return
        names = [
            self.columns_[self.numeric_index_[j]].name
            for j in np.flatnonzero(far.any(axis=0))
        ]
        warnings.warn(
            f"Columns {names} hold values more than {_SCALED_BOUND:.0e} times "
            "their training scale from their centre; they are modelled as that "
            "far out (the network computes in float32, which cannot hold "
            "them).",
            UserWarning,
            stacklevel=4,
        )
        np.clip(scaled, -_SCALED_BOUND, _SCALED_BOUND, out=scaled)

    @property
    def half_bins_(self):
        """Half the grid step of each numeric column in scaled units (0: none).

        Quantile scaling bends the grid, so its columns are all continuous, as
        are columns with modes (each mode has a scale of its own).
        """
        if self.quantile_ is not None:
            return np.zeros(self.n_numeric_)
        columns = [self.columns_[i] for i in self.numeric_index_]
        steps = np.array([0.0 if c.modes else c.step for c in columns])
        return 0.5 * steps / self.scale_ if len(steps) else np.zeros(0)

    # -- transform ---------------------------------------------------------------

    def transform(self, X, *, strict=False):
        """Encode ``X`` as a float32 matrix of shape ``(n_samples, n_encoded_)``.

        Missing cells become NaN entries (see the class description). With
        ``strict``, a category level not seen in fit raises ``ValueError``
        whatever ``handle_unknown`` says: rows that train a fitted model
        further must fit its schema. (Missing cells may fall in any column.)
        """
        if strict:
            encoded = _with_unknown_ignored(self).transform(X)
            self._check_fits_schema(X, encoded)
            return encoded
        if self._all_numeric_array(X):
            # The common case, without a DataFrame per call: inference encodes in
            # chunks and the per-column path cost as much as the network's pass.
            values = np.asarray(X, dtype=np.float64)
            _check_not_empty(values.shape[0])
            if np.isinf(values).any():
                for j, column in enumerate(self.columns_):
                    _check_finite(column.name, values[:, j])
            scaled, mixtures = self._encode_numeric(values)
            return np.hstack([scaled, *mixtures]).astype(np.float32)
        frame = _as_frame(X)
        _check_not_empty(frame.shape[0])
        if self.is_dataframe_:
            names = [c.name for c in self.columns_]
            if list(frame.columns) != names:
                missing = [n for n in names if n not in frame.columns]
                extra = [n for n in frame.columns if n not in names]
                raise ValueError(
                    "X's columns differ from the columns seen in fit: "
                    f"missing {missing}, unexpected {extra}."
                    if missing or extra
                    else "X's columns are in a different order than in fit."
                )
        elif frame.shape[1] != len(self.columns_):
            raise ValueError(
                f"X has {frame.shape[1]} columns, but the encoder was fitted with "
                f"{len(self.columns_)}."
            )
        scaled, mixtures = self._encode_numeric(self._numeric_block(frame))
        # Filled in place: one-hot blocks of many levels (a column of IDs)
        # made float64 copies and a stacked copy several times this size.
        encoded = np.empty((frame.shape[0], self.n_encoded_), dtype=np.float32)
        encoded[:, : scaled.shape[1]] = scaled
        at = scaled.shape[1]
        for i in self.binary_index_:
            codes = self._codes(i, frame.iloc[:, i])
            encoded[:, at] = np.where(codes >= 0, codes, np.nan)
            at += 1
        for i in self.flagged_index_:
            encoded[:, at] = frame.iloc[:, i].isna().to_numpy()
            at += 1
        for i in self.categorical_index_:
            codes = self._codes(i, frame.iloc[:, i])
            onehot = encoded[:, at : at + len(self.columns_[i].levels)]
            onehot[:] = 0.0
            known = codes >= 0
            onehot[np.flatnonzero(known), codes[known]] = 1.0
            onehot[~known] = np.nan
            at += onehot.shape[1]
        for block in mixtures:
            encoded[:, at : at + block.shape[1]] = block
            at += block.shape[1]
        return encoded

    def _check_fits_schema(self, X, encoded):
        """Raise ``ValueError`` naming the first column of ``X`` that holds a
        category level not seen in fit (``encoded`` has it as a hole)."""
        entry_sizes = [1] * (self.n_numeric_ + self.n_binary_) + self.category_sizes_
        entry_column = np.repeat(self.variable_index_, entry_sizes)
        entry_column[self.flag_variables_] = -1  # a flag is never a hole
        holes = np.isnan(encoded)
        frame = None
        # A categorical column's entries are all NaN together: read its first.
        columns, entries = np.unique(entry_column, return_index=True)
        for i, entry in zip(columns, entries, strict=True):
            if i < 0 or self.columns_[i].kind == "numeric":
                continue
            if not holes[:, entry].any():
                continue
            frame = _as_frame(X) if frame is None else frame
            values = frame.iloc[:, i].to_numpy(dtype=object)
            rows = np.flatnonzero(holes[:, entry] & ~pd.isna(values))
            if len(rows):
                raise ValueError(
                    f"Column {self.columns_[i].name!r} holds {values[rows[0]]!r} in "
                    f"row {rows[0]}, a category level not seen when the model's "
                    f"schema was fixed (known: {self.columns_[i].levels[:10]}). "
                    "Training further (partial_fit, warm_start) keeps the levels "
                    "of the first fit: give that first chunk every level."
                )

    def _codes(self, i, series):
        return _level_codes(
            self.columns_[i], series, ignore_unknown=self.handle_unknown == "ignore"
        )

    def _all_numeric_array(self, X):
        return (
            not self.is_dataframe_
            and not self.flagged_index_
            and self.n_numeric_ == len(self.columns_)
            and isinstance(X, np.ndarray)
            and X.ndim == 2
            and X.shape[1] == self.n_numeric_
            and np.issubdtype(X.dtype, np.number)
        )

    def _numeric_block(self, frame):
        if not self.numeric_index_:
            return np.zeros((frame.shape[0], 0))
        values = []
        for i in self.numeric_index_:
            name = self.columns_[i].name
            series = frame.iloc[:, i]
            if not (
                pd.api.types.is_numeric_dtype(series.dtype)
                or pd.api.types.is_bool_dtype(series.dtype)
            ):
                try:
                    series = pd.to_numeric(series, errors="raise")
                except (ValueError, TypeError) as exc:
                    raise ValueError(
                        f"Column {name!r} was numeric in fit but holds non-numeric "
                        f"values: {exc}"
                    ) from None
            _check_real(name, series)
            column = series.to_numpy(dtype=np.float64, na_value=np.nan)
            _check_finite(name, column)
            values.append(column)
        return np.column_stack(values)

    def _scale(self, numeric):
        if self.quantile_ is not None:
            return self.quantile_.transform(numeric)
        scaled = numeric - self.center_
        scaled /= self.scale_
        return scaled

    def _unscale(self, scaled):
        if self.quantile_ is not None:
            return self.quantile_.inverse_transform(scaled)
        return scaled * self.scale_ + self.center_

    # -- inverse -----------------------------------------------------------------

    def inverse_transform(self, encoded, clip=False, missing=False, on_grid=False):
        """Map an encoded matrix back to the original table.

        Binary entries are read as level 1 when at least 0.5, categorical blocks by
        their largest entry, mixture blocks as their point mass unless a mode
        ("continuous") is largest, and a column with modes is unscaled by the
        mode whose entry is largest. Integer columns are rounded; with ``clip=True``
        numeric values are clipped to their training range, and with
        ``on_grid=True`` those whose training values lie on a grid (whole
        numbers, half points) are rounded to it. With ``missing=True`` a cell
        whose missing flag is at least 0.5 is returned missing (NaN, None or
        ``pd.NA``, as the column's dtype holds them); else every cell is filled.

        Returns a DataFrame with the training columns and dtypes when the encoder was
        fitted on a DataFrame, else an array of the training array's dtype (an
        object array when that held categories).
        """
        encoded = np.asarray(encoded, dtype=np.float64)
        n_rows = encoded.shape[0]
        out = {}
        numeric = self._unscale(encoded[:, : self.n_numeric_])
        blocks = self._read_mixture_blocks(encoded)
        for (_, j, column), codes in zip(self._mixture_columns(), blocks, strict=True):
            if column.modes:
                means, stds = _mode_of_rows(column, codes)
                numeric[:, j] = means + stds * encoded[:, j]
        for j, i in enumerate(self.numeric_index_):
            column = self.columns_[i]
            values = numeric[:, j]
            if on_grid and column.step > 0:
                steps = np.rint((values - column.minimum) / column.step)
                values = column.minimum + steps * column.step
            if clip:
                values = np.clip(values, column.minimum, column.maximum)
            numeric[:, j] = values
        for (_, j, column), codes in zip(self._mixture_columns(), blocks, strict=True):
            if column.point_masses:
                at_mass = np.asarray([np.nan] * column.n_modes + [*column.point_masses])
                numeric[:, j] = np.where(
                    codes >= column.n_modes, at_mass[codes], numeric[:, j]
                )
        for j, i in enumerate(self.numeric_index_):
            out[i] = _restore_numeric(numeric[:, j], self.columns_[i])
        offset = self.n_numeric_
        for i in self.binary_index_:
            codes = (encoded[:, offset] >= 0.5).astype(int)
            out[i] = _restore_levels(codes, self.columns_[i])
            offset += 1
        holes = {}
        for i in self.flagged_index_:
            if missing:
                holes[i] = encoded[:, offset] >= 0.5
            offset += 1
        categorical_sizes = self.category_sizes_[: len(self.categorical_index_)]
        for i, size in zip(self.categorical_index_, categorical_sizes, strict=True):
            codes = encoded[:, offset : offset + size].argmax(axis=1)
            out[i] = _restore_levels(codes, self.columns_[i])
            offset += size
        if not self.is_dataframe_:
            dtype = self.array_dtype_
            if dtype.kind in "iub":
                dtype = np.dtype(np.float64)
            elif dtype.kind != "f":
                dtype = np.dtype(object)
            table = np.empty((n_rows, len(self.columns_)), dtype=dtype)
            for i in range(len(self.columns_)):
                table[:, i] = np.asarray(out[i], dtype=dtype)
                if i in holes:
                    table[holes[i], i] = np.nan if dtype.kind == "f" else None
            return table
        # Series with an explicit dtype: pandas would otherwise infer a string
        # dtype for object columns.
        columns = {}
        for i, column in enumerate(self.columns_):
            series = pd.Series(out[i], dtype=column.dtype)
            columns[column.name] = series.mask(holes[i]) if i in holes else series
        return pd.DataFrame(columns)

    def _read_mixture_blocks(self, encoded):
        """The level each mixture block of ``encoded`` holds (largest entry)."""
        codes = []
        sizes = self.category_sizes_[len(self.categorical_index_) :]
        first = self.n_encoded_ - sum(sizes)
        for size in sizes:
            codes.append(encoded[:, first : first + size].argmax(axis=1))
            first += size
        return codes

    def per_column(self, variable_values):
        """Sum per-variable values ``(n, n_variables)`` into input columns.

        A column's missing flag adds to its column.
        """
        result = np.zeros((variable_values.shape[0], len(self.columns_)))
        np.add.at(result.T, self.variable_index_, variable_values.T)
        return result


def _with_unknown_ignored(encoder):
    """A shallow copy of ``encoder`` that encodes unseen levels as holes."""
    ignoring = copy.copy(encoder)
    ignoring.handle_unknown = "ignore"
    return ignoring


def _as_frame(X):
    if isinstance(X, pd.DataFrame):
        return X
    array = np.asarray(X)
    if array.ndim != 2:
        raise ValueError(f"Expected a 2-D table, got an array of shape {array.shape}.")
    frame = pd.DataFrame(array)
    # In an object array, columns that hold only numbers are numeric.
    return frame.infer_objects() if array.dtype == object else frame


# A categorical column with at least this many distinct values, more than
# this share of its rows, is most likely an identifier (a name, a row number
# as text): fitting it is slow (a one-hot block as wide as the rows) and
# teaches nothing about new rows.
def _mode_of_rows(column, codes):
    """``(means, stds)``: the mode each row's block level ``codes`` codes its
    value in (a point-mass level, whose value is not scaled, the last mode)."""
    _, means, stds = np.array(column.modes).T
    mode = np.minimum(codes, column.n_modes - 1)
    return means[mode], stds[mode]


def _most_likely_mode(values, modes):
    """Index of the mode of highest posterior for each value (0 where NaN)."""
    weights, means, stds = np.array(modes).T
    # A value far past float64 squares to inf: -inf for every mode, no warning.
    with np.errstate(invalid="ignore", over="ignore"):
        log_density = (
            np.log(weights)
            - np.log(stds)
            - 0.5 * ((values[:, None] - means) / stds) ** 2
        )
    return np.nan_to_num(log_density, nan=0.0).argmax(axis=1)


def _check_not_empty(n_rows):
    if n_rows == 0:
        raise ValueError("Found an empty table (0 rows); at least 1 is needed.")


def _nan_mean_std(values):
    """Each column's mean and standard deviation over its observed cells.

    Columns of values near the float limit (1e300), whose sum or squares
    overflow, are measured in units of their largest magnitude instead.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        mean = np.nanmean(values, axis=0)
        std = np.nanstd(values, axis=0)
    overflowed = ~(np.isfinite(mean) & np.isfinite(std))
    if overflowed.any():
        part = values[:, overflowed]
        unit = np.nanmax(np.abs(part), axis=0)
        mean[overflowed] = unit * np.nanmean(part / unit, axis=0)
        std[overflowed] = unit * np.nanstd(part / unit, axis=0)
    return mean, std


# Codes of cells that hold no known level (see _level_codes).
_MISSING = -1
_UNKNOWN = -2


def _level_codes(column, series, ignore_unknown=False):
    """Each cell's level code; ``_MISSING`` for a missing cell and, with
    ``ignore_unknown``, ``_UNKNOWN`` for a level not seen in fit (else an error).
    """
    holes = series.isna().to_numpy()
    lookup = {level: code for code, level in enumerate(column.levels)}
    values = series.to_numpy(dtype=object)
    codes = np.full(len(values), _MISSING, dtype=np.intp)
    try:
        found = [lookup.get(v, _UNKNOWN) for v in values[~holes]]
    except TypeError as exc:
        raise TypeError(
            f"Column {column.name!r} holds an unhashable value: {exc}"
        ) from None
    codes[~holes] = found
    unknown = codes == _UNKNOWN
    if not unknown.any():
        return codes
    if ignore_unknown:
        _warn_of_level_types(column, values[unknown])
        return codes
    raise ValueError(
        f"Column {column.name!r} holds the category {values[unknown][0]!r}, which "
        f"was not seen in fit (known: {column.levels[:10]}"
        f"{' ...' if len(column.levels) > 10 else ''}). Pass "
        "handle_unknown='ignore' to treat unseen categories as missing cells."
    )


def _warn_of_level_types(column, unknown):
    """Warn when unseen values read as known levels once written as text
    (``'1'`` for ``1``, ``'True'`` for ``True``): a column parsed with another
    type than in fit, whose every cell would otherwise score as a new level
    without a word."""
    as_text = {str(level): level for level in column.levels}
    for value in unknown:
        level = as_text.get(str(value))
        if level is not None:
            warnings.warn(
                f"Column {column.name!r} holds {value!r} ({type(value).__name__}), "
                f"which fit saw as {level!r} ({type(level).__name__}): it is read "
                "as a level not seen in fit. Give the column the type it had in "
                "fit.",
                UserWarning,
                stacklevel=5,
            )
            return


def _restore_numeric(values, column):
    dtype = column.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "iu":
        info = np.iinfo(dtype)
        return np.clip(np.rint(values), info.min, info.max).astype(dtype)
    if pd.api.types.is_integer_dtype(dtype):
        return pd.array(np.rint(values).astype(np.int64), dtype=dtype)
    if isinstance(dtype, np.dtype):
        return values.astype(dtype)
    return pd.array(values, dtype=dtype)


def _restore_levels(codes, column):
    levels = np.empty(len(column.levels), dtype=object)
    levels[:] = column.levels
    values = levels[codes]
    dtype = column.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return pd.Categorical(values, dtype=dtype)
    if pd.api.types.is_bool_dtype(dtype):
        return values.astype(bool)
    return pd.array(values, dtype=dtype) if not isinstance(dtype, np.dtype) else values
