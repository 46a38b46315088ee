"""What the encoder learns about each input column: how it is modelled
(its kind, guessed from its dtype and values), its levels, range, grid, point
masses and modes."""

# License: BSD 3-Clause

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.mixture import BayesianGaussianMixture

__all__ = ["KINDS", "ColumnSchema"]

KINDS = ("numeric", "binary", "categorical")
# Mode-specific normalisation: the mixture is fitted to at most this many of a
# column's continuous values, and keeps the components of at least this weight
# (as TVAE's and RDT's ClusterBasedNormalizer do).
_MODE_FIT_ROWS = 5000
_MIN_MODE_WEIGHT = 0.005


@dataclass
class ColumnSchema:
    """What the encoder learned about one input column.

    Attributes
    ----------
    name : str or int
        Column name (DataFrame input) or position (array input).
    kind : {"numeric", "binary", "categorical"}
        How the column is modelled: Gaussian, Bernoulli or categorical.
    dtype : object
        The column's dtype at fit time, restored by ``inverse_transform``.
    levels : list
        The category levels (binary and categorical columns), in encoded order.
    minimum, maximum : float
        Training range of a numeric column's continuous values (all its values
        when it has no point masses).
    step : float
        Spacing of the grid a numeric column's continuous training values lie
        on (1 for counts, 0.5 for half points), 0 if they lie on none or take
        fewer than three values; ``minimum`` lies on it.
    missing_rate : float
        Share of the training rows in which the column is missing. A column
        with missing cells in fit gets a "missing" flag that the model learns
        with the other columns.
    point_masses : tuple of float
        Exact values of a numeric column modelled as point masses (most frequent
        first): the column is a categorical variable over {"continuous",
        *point_masses} plus a Gaussian for the continuous values. The range,
        ``step``, the scaling and the Gaussian see only the continuous values.
    modes : tuple of (float, float, float)
        ``(weight, mean, std)`` of each mode of a numeric column's continuous
        values, by increasing mean, when they are modelled as several Gaussians
        (mode-specific normalisation); empty for one Gaussian.
    """

    name: object
    kind: str
    dtype: object
    levels: list = field(default_factory=list)
    minimum: float = 0.0
    maximum: float = 0.0
    step: float = 0.0
    missing_rate: float = 0.0
    point_masses: tuple = ()
    modes: tuple = ()

    @property
    def n_modes(self):
        """Gaussian modes of the continuous values (1 without ``modes``)."""
        return max(1, len(self.modes))


_IDENTIFIER_LEVELS = 50
_IDENTIFIER_SHARE = 0.5


def _infer_schema(name, series, kind=None, point_mass_rule=(None, 0, 0), max_modes=1):
    """The column's schema; ``kind`` overrides the guess from its dtype,
    ``point_mass_rule`` is ``(point_mass_share, max_point_masses,
    min_continuous_values)`` and ``max_modes`` bounds a numeric column's modes."""
    dtype = series.dtype
    holes = series.isna()
    missing_rate = float(holes.mean())
    if missing_rate == 1.0:
        raise ValueError(
            f"Column {name!r} holds no value in fit (every cell is missing); drop it."
        )
    observed = series[~holes]
    if kind is None:
        kind = _guess_kind(name, series)
    if kind not in KINDS:
        raise ValueError(
            f"column_kinds[{name!r}] must be one of {KINDS}, got {kind!r}."
        )
    if kind == "numeric":
        try:
            numbers = pd.to_numeric(observed, errors="raise")
        except (ValueError, TypeError) as exc:
            raise ValueError(
                f"Column {name!r} cannot be modelled as numeric: {exc}"
            ) from None
        _check_real(name, numbers)
        values = numbers.to_numpy(np.float64)
        _check_finite(name, values)
        point_masses = _point_masses(values, *point_mass_rule)
        continuous = values[~np.isin(values, point_masses)]
        return ColumnSchema(
            name,
            "numeric",
            dtype,
            minimum=continuous.min(),
            maximum=continuous.max(),
            step=_grid_step(continuous),
            missing_rate=missing_rate,
            point_masses=point_masses,
            modes=_modes(continuous, max_modes),
        )
    if pd.api.types.is_bool_dtype(dtype):
        levels = [False, True]
    elif isinstance(dtype, pd.CategoricalDtype):
        levels = list(dtype.categories)
    else:
        levels = _sorted_levels(observed.unique())
    if kind == "binary" and len(levels) > 2:
        raise ValueError(
            f"Column {name!r} cannot be modelled as binary: it has {len(levels)} "
            "levels."
        )
    if kind == "categorical" and len(levels) == 2:
        kind = "binary"  # the same distribution, one logit instead of two
    distinct = observed.nunique() if kind == "categorical" else 0
    if distinct >= _IDENTIFIER_LEVELS and distinct > _IDENTIFIER_SHARE * len(observed):
        warnings.warn(
            f"Column {name!r} holds {distinct} distinct values in "
            f"{len(observed)} rows: as a categorical column it names rows "
            "rather than describing them (each level is an input of its own, "
            "and new rows bring unseen levels). Drop it, or pass it as --id "
            "on the command line.",
            UserWarning,
            stacklevel=2,
        )
    return ColumnSchema(name, kind, dtype, levels=levels, missing_rate=missing_rate)


def _guess_kind(name, series):
    """Booleans are binary (also as objects with holes), numbers numeric
    (also as objects: pandas' ``pd.NA`` keeps a column of numbers an object
    column), anything else categorical.

    A column of dates, times or durations has no sensible guess (its levels
    would be one-hot encoded), whether numpy, pyarrow or Python objects hold
    them; an object column of numbers written as text is modelled as
    categorical, with a warning.
    """
    dtype = series.dtype
    if _holds_dates(dtype):
        _refuse_dates(name, dtype)
    if pd.api.types.is_bool_dtype(dtype):
        return "binary"
    if pd.api.types.is_numeric_dtype(dtype):
        return "numeric"
    if not isinstance(dtype, pd.CategoricalDtype):
        observed = series.dropna()
        # True/False with holes: what masking a bool column gives in pandas.
        inferred = pd.api.types.infer_dtype(observed) if len(observed) else None
        if inferred in _DATE_LIKE:
            _refuse_dates(name, f"{dtype} of {inferred} values")
        if inferred == "boolean":
            return "binary"
        if inferred in ("integer", "floating", "mixed-integer-float", "decimal"):
            return "numeric"
        # Through objects: on pyarrow strings pandas coerces a failed value
        # to NaN rather than a null, which notna() would count as a number.
        as_numbers = pd.to_numeric(observed.to_numpy(dtype=object), errors="coerce")
        if len(observed) and pd.notna(as_numbers).all():
            warnings.warn(
                f"Column {name!r} holds numbers as text ({observed.iloc[0]!r}, ...); "
                "it is modelled as categorical, one level per distinct value. Pass "
                f"column_kinds={{{name!r}: 'numeric'}} to model it as a number.",
                UserWarning,
                stacklevel=2,
            )
    return "categorical"


# What infer_dtype calls dates and times held as objects (or pyarrow times).
_DATE_LIKE = (
    "datetime64",
    "datetime",
    "date",
    "timedelta64",
    "timedelta",
    "time",
    "period",
)


def _holds_dates(dtype):
    if isinstance(dtype, pd.ArrowDtype):
        import pyarrow as pa  # an ArrowDtype exists only where pyarrow does

        return pa.types.is_temporal(dtype.pyarrow_dtype)
    # kind "M"/"m": numpy's datetimes (with or without a time zone) and durations
    return dtype.kind in ("M", "m") or isinstance(dtype, pd.PeriodDtype)


def _refuse_dates(name, what):
    raise ValueError(
        f"Column {name!r} holds dates or times ({what}); skvae does not guess "
        "how to model them. Convert it to numbers (say, days since a date, or "
        "the year and month as columns of their own), or pass "
        f"column_kinds={{{name!r}: 'categorical'}} to treat each value as a "
        "level. On the command line, leave it out with --drop."
    )


def _point_masses(values, share, most, keep):
    """The values that each hold at least ``share`` of ``values``, most
    frequent first, ``most`` at most, leaving ``keep`` distinct values or more
    for the continuous part.

    The detector keeps three: with two, the Gaussian's scale would shrink onto
    them, the spikes this is meant to take out (a column of few values keeps
    one Gaussian and, in the detector, its grid).
    """
    if share is None:
        return ()
    distinct, counts = np.unique(values, return_counts=True)
    if len(distinct) <= keep:
        return ()
    order = np.argsort(-counts, kind="stable")[:most]
    frequent = [float(distinct[o]) for o in order if counts[o] >= share * len(values)]
    return tuple(frequent[: len(distinct) - keep])


def _modes(values, most):
    """``(weight, mean, std)`` of the Gaussian modes of ``values``, by mean;
    empty for one mode.

    A Bayesian Gaussian mixture with a Dirichlet-process prior of ``most``
    components, fitted to at most ``_MODE_FIT_ROWS`` of the values, keeps the
    components of weight ``_MIN_MODE_WEIGHT`` or more (TVAE's rule).
    """
    if most <= 1 or len(np.unique(values)) <= most:
        return ()
    if len(values) > _MODE_FIT_ROWS:
        values = np.random.RandomState(0).choice(values, _MODE_FIT_ROWS, replace=False)
    shift, unit = 0.0, 1.0
    with np.errstate(over="ignore"):
        overflows = not np.isfinite(np.var(values))
    if overflows:
        # Values near the float limit (1e300) overflow the mixture's variances:
        # fit those in units of their largest distance from the median.
        shift = float(np.median(values))
        unit = float(np.max(np.abs(values - shift)))
        values = (values - shift) / unit
    with warnings.catch_warnings():
        # Too few iterations to converge is fine: the modes only shape the coding.
        warnings.simplefilter("ignore")
        mixture = BayesianGaussianMixture(
            n_components=most,
            weight_concentration_prior_type="dirichlet_process",
            weight_concentration_prior=1e-3,
            max_iter=100,
            random_state=0,
        ).fit(values[:, None])
    kept = mixture.weights_ >= _MIN_MODE_WEIGHT
    if kept.sum() < 2:
        return ()
    weights = mixture.weights_[kept] / mixture.weights_[kept].sum()
    means = shift + unit * mixture.means_[kept, 0]
    stds = unit * np.sqrt(mixture.covariances_[kept].ravel())
    order = np.argsort(means)
    return tuple((float(weights[k]), float(means[k]), float(stds[k])) for k in order)


def _grid_step(values):
    """The spacing of the grid that all ``values`` lie on, or 0 if there is none.

    The spacing is the smallest gap between distinct values; the values lie on
    its grid when each is a whole number of gaps from the smallest (up to float
    rounding). A column of two values (a 0/1 flag given as numbers) gets none:
    binned, such flags ranked anomalies worse on the dev suite (8_celeba ROC-AUC
    0.80 -> 0.62, benchmarks/RESULTS.md), while counts and ratings gained.
    """
    distinct = np.unique(values)
    if len(distinct) < 3:
        return 0.0
    step = float(np.diff(distinct).min())
    steps = (distinct - distinct[0]) / step
    return step if np.allclose(steps, np.rint(steps), rtol=0, atol=1e-6) else 0.0


def _sorted_levels(values):
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=lambda v: (type(v).__name__, str(v)))


def _check_real(name, series):
    """Complex numbers are an error: casting them to float would drop their
    imaginary parts without a word."""
    if pd.api.types.is_complex_dtype(series.dtype):
        raise ValueError(
            f"Column {name!r} holds complex numbers ({series.dtype}); skvae models "
            "real numbers only. Give its real and imaginary parts (or its "
            "magnitude and angle) columns of their own."
        )


def _check_finite(name, values):
    """Infinity is an error; NaN is a missing cell."""
    if np.isinf(values).any():
        raise ValueError(
            f"Column {name!r} contains infinity; only finite numbers and missing "
            "values (NaN) can be modelled."
        )
