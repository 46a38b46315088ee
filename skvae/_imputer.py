"""VAEImputer: fill the missing cells of a mixed table from the VAE's conditional."""

# License: BSD 3-Clause

from numbers import Integral, Real

import numpy as np
import pandas as pd
import torch
from sklearn.base import TransformerMixin, _fit_context, clone
from sklearn.utils._param_validation import Interval, MissingValues, StrOptions
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted

from skvae._base import BaseVAE, _EncodedRows
from skvae._docstrings import fill_doc
from skvae._draws import shared_normal_draws
from skvae._missing_values import codes_are_holes, mark_missing
from skvae._residuals import (
    corrected_numbers,
    residual_regression,
    residual_sums,
)

__all__ = ["VAEImputer"]

# Decoder entries (rows x draws x encoded features) per chunk of
# importance_samples: 4M float64 values, 32 MiB per tensor of that shape.
_IMPORTANCE_CHUNK_ENTRIES = 2**22

# n_estimators="auto": three networks for tables under 10,000 rows, one from
# there on. Three lowered RMSE on every one of 29 dev tables and six of seven
# fresh ones (benchmarks/RESULTS.md, "Three networks"); the threshold is the
# imputer issue's time target, which is set on tables of 10,000 rows or more.
_AUTO_ESTIMATORS = 3
_AUTO_ENSEMBLE_BELOW_ROWS = 10_000


# The residual moments are taken over at most this many encoded entries of
# rows (a seeded sample of a larger fit or partial_fit chunk): each of their
# passes holds a few tensors of that size.
_RESIDUAL_ENTRIES = 2**22


@fill_doc
class VAEImputer(TransformerMixin, BaseVAE):
    """Fill missing cells with the VAE's estimate given the row's observed cells.

    Like :class:`~sklearn.impute.IterativeImputer` and
    :class:`~sklearn.impute.KNNImputer`, but one model of the whole table fills
    every column at once, and a DataFrame may mix numeric, boolean and
    categorical columns with holes in any of them. The VAE learns the table from
    its observed cells (the likelihood skips missing ones); to fill a row, its
    observed cells are encoded, and each hole gets the model's estimate given
    them (MIWAE's importance-weighted conditional mean, see
    ``importance_samples``): the expected value for a number, the most likely
    level for a category. A number is then moved by what the row's observed
    numbers left unexplained, where the training rows' residuals move
    together (``residual_shrinkage``). On tables under 10,000 rows three
    networks, fitted with different seeds, average their estimates
    (``n_estimators``).
    Observed cells come back unchanged, in their dtypes and category levels.

    Parameters
    ----------
    missing_values : int, float, str, np.nan, None or pandas.NA, default=np.nan
        The code of a missing cell, as in scikit-learn's imputers: with ``-1``
        or ``"?"`` the cells equal to it are filled (and NaN, None and
        ``pd.NA`` cells too, which are always missing here). An integer
        column with such holes is filled with integers, and the code is not
        a level a categorical column is filled with.

    importance_samples : int, default=50
        Latent codes behind each row's estimate. ``k > 0`` draws ``k`` codes
        from the row's posterior given its observed cells, widened 1.25x (an
        encoder's posteriors are too narrow), and weights each by how well it
        explains those cells, ``p(x_obs | z) p(z) / q(z | x_obs)`` with ``q``
        the widened posterior (Mattei and Frellsen, 2019); a number is filled
        with the weighted mean of the decoder's means, a category with the
        level of highest weighted probability. The draws are seeded by
        ``random_state`` and shared by all rows, so a row is filled as it
        would be alone. 0 decodes the posterior mean only: about ``k`` times
        faster to transform, less accurate where cells are missing at random
        (benchmarks/RESULTS.md).

    refine_steps : int, default=0
        With ``importance_samples > 0``: gradient steps (Adam) that move
        each row's posterior from the encoder's guess towards the one that
        best explains the row's observed cells (its ELBO under the trained
        decoder), before the ``k`` codes are drawn from it (semi-amortised
        inference, Kim et al., 2018). 15 steps about double ``transform``'s
        time; on the project's dev tables they filled holes better on both
        halves (most on mid-sized numeric tables, a little worse on the
        smallest), but not on the fresh tables of the check written down
        beforehand, so the default is 0, the encoder's posterior as it is
        (benchmarks/RESULTS.md, "Posteriors refined before the importance
        draws"). A row is still filled as it would be alone.

    residual_shrinkage : float in [0, 1], default=0.3
        Given its code, the decoder gives each numeric cell a Gaussian of its
        own, so what the code leaves out of linear relations among columns
        (dummies summing to one, shares of a whole, a row far from the
        training bulk in several columns) would be lost to the fill. So each
        missing number's standardised residual ``(x - mean) / scale`` is
        estimated by linear regression on the row's observed numbers'
        residuals, as Gaussian conditioning would with correlated decoder
        noise, and its fill moves by that residual times the column's scale.
        The regression's moments come from the training rows with one
        observed number hidden from the encoder at a time
        (``residual_cross_moments_``, ``residual_moments_``); this share
        shrinks them (the cross moments towards 0, the others towards their
        diagonal). 1 fills each number from its own Gaussian, as before
        2026-11-30; 0 trusts the moments in full. 0.3 lowered RMSE on both
        halves of the project's dev tables and on held-out ones, where 0 was
        worse, most on small tables (benchmarks/RESULTS.md, "The decoder's
        residuals, correlated"). With ``sample_posterior`` the draws are
        centred on the moved mean, with the decoder's own spread.

    sample_posterior : bool, default=False
        Fill holes with one draw instead of the estimate: a latent code drawn
        from the row's posterior (with ``importance_samples=k``, one of the
        ``k`` codes, drawn with probability its weight), then each missing
        cell drawn from the decoder's distribution there (a number's centred
        as ``residual_shrinkage`` says). The draws are seeded by
        ``random_state``, so imputers fitted with different seeds give
        multiple imputations.

    add_indicator : bool, default=False
        Append one 0/1 column per feature that had missing cells in ``fit``,
        saying where a cell was missing (as scikit-learn's imputers do).

    n_estimators : int or "auto", default="auto"
        Networks fitted on the table with different seeds. A hole gets their
        average estimate: the mean of their numbers, the level of highest
        mean probability; with ``sample_posterior``, the draw of one network
        picked at random for each row. Each network costs one fit and one
        pass of ``transform``. ``"auto"`` takes 3 when ``fit`` gets fewer
        than 10,000 rows and 1 otherwise, and for ``partial_fit`` (meant for
        tables larger than that); an integer applies to both.

    {vae_parameters}
    Attributes
    ----------
    indicator_features_ : ndarray of shape (n_indicators,)
        Positions of the features that get an indicator column with
        ``add_indicator=True`` (those with holes in ``fit``).

    residual_moments_ : ndarray of shape (n_numeric, n_numeric)
        Mean products of the standardised residuals of two numeric entries
        of the encoded table (numeric columns, in order) both seen by the
        encoder, over the training rows where both are observed, before
        ``residual_shrinkage``.

    residual_cross_moments_ : ndarray of shape (n_numeric, n_numeric)
        The same for an entry hidden from the encoder (row) and one seen
        (column). ``partial_fit`` accumulates both over its calls; ``fit``
        takes them anew.

    other_estimators_ : list of VAEImputer
        The networks of the ensemble besides this imputer's own ``module_``:
        ``n_estimators - 1`` imputers with ``n_estimators=1``, each fitted
        with a seed of its own; empty with one network.

    {vae_attributes}
    See Also
    --------
    sklearn.impute.IterativeImputer : One regression per column, in rounds.
    sklearn.impute.KNNImputer : Means of the nearest complete neighbours.

    Notes
    -----
    The training rows show the encoder rows with one cell hidden in half of
    them, so that it learns to infer a cell from the others (what imputation
    asks of it), and the missing cells of a row with several holes are filled
    together from one posterior.

    References
    ----------
    Kim, Y., Wiseman, S., Miller, A. C., Sontag, D. and Rush, A. M. (2018).
    Semi-Amortized Variational Autoencoders. ICML.

    Mattei, P.-A. and Frellsen, J. (2019). MIWAE: Deep Generative Modelling and
    Imputation of Incomplete Data Sets. ICML.

    Nazábal, A., Olmos, P. M., Ghahramani, Z. and Valera, I. (2020). Handling
    Incomplete Heterogeneous Data using VAEs. Pattern Recognition.

    Examples
    --------
    >>> import numpy as np
    >>> from skvae import VAEImputer
    >>> rng = np.random.RandomState(0)
    >>> x = rng.normal(size=200)
    >>> X = np.column_stack([x, 2 * x, rng.normal(size=200)])
    >>> X[0, 1] = np.nan
    >>> imputer = VAEImputer(max_epochs=50, random_state=0).fit(X)
    >>> filled = imputer.transform(X[:1])
    >>> bool(np.isnan(filled).any()), bool(filled[0, 0] == X[0, 0])
    (False, True)
    """

    # Hiding one cell in half the training rows teaches the encoder to read
    # partial rows (benchmarks/RESULTS.md, "Imputation").
    _hide_rate = 0.5
    # A latent space of half of the columns, clipped to [2, 16]: lower RMSE
    # on both halves of the 24 dev tables and on five fresh ones
    # (benchmarks/RESULTS.md, "The latent size, on a fresh set of tables").
    _columns_per_auto_latent = 2
    _auto_latent_range = (2, 16)
    # At least 3,000 steps (not 1,000): lower RMSE on both halves of the dev
    # tables and on the five fresh ones; tables of 7,680 rows or more train
    # 3,000 steps anyway (benchmarks/RESULTS.md, "A step floor of 3,000").
    _min_steps_auto = 3000
    # Early stopping watches the fills of validation cells hidden from the
    # encoder, not their ELBO: lower RMSE on both halves of the dev tables
    # (benchmarks/RESULTS.md, "Early stopping on hidden cells").
    _stop_on_hidden_cells = True
    # The importance draws come from each row's posterior widened 1.25x (the
    # weights account for it): the encoder's posteriors are narrower than
    # the true ones. Lower RMSE on both halves of the dev tables, on the
    # statsmodels tables and on 20 held-out R tables (benchmarks/RESULTS.md,
    # "A wider proposal for the importance draws").
    _proposal_scale = 1.25
    # Whether the importance draws are scrambled Sobol' points (randomised
    # quasi-Monte Carlo) rather than independent normal draws
    # (skvae._draws.shared_normal_draws).
    _quasi_random_draws = False

    _parameter_constraints: dict = {
        **BaseVAE._parameter_constraints,
        "missing_values": [MissingValues()],
        "importance_samples": [Interval(Integral, 0, None, closed="left")],
        "refine_steps": [Interval(Integral, 0, None, closed="left")],
        "residual_shrinkage": [Interval(Real, 0, 1, closed="both")],
        "sample_posterior": ["boolean"],
        "add_indicator": ["boolean"],
        "n_estimators": [
            Interval(Integral, 1, None, closed="left"),
            StrOptions({"auto"}),
        ],
    }

    def __init__(
        self,
        *,
        missing_values=np.nan,
        importance_samples=50,
        refine_steps=0,
        residual_shrinkage=0.3,
        sample_posterior=False,
        add_indicator=False,
        n_estimators="auto",
        n_components="auto",
        hidden_layer_sizes="auto",
        activation="elu",
        dropout=0.0,
        beta=1.0,
        scaling="standard",
        handle_unknown="ignore",
        column_kinds=None,
        point_mass_share=None,
        batch_size=256,
        learning_rate=1e-3,
        weight_decay=0.0,
        max_epochs="auto",
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        warm_start=False,
        device="auto",
        random_state=None,
        verbose=0,
    ):
        super().__init__(
            n_components=n_components,
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            dropout=dropout,
            beta=beta,
            scaling=scaling,
            handle_unknown=handle_unknown,
            column_kinds=column_kinds,
            point_mass_share=point_mass_share,
            batch_size=batch_size,
            learning_rate=learning_rate,
            weight_decay=weight_decay,
            max_epochs=max_epochs,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            tol=tol,
            warm_start=warm_start,
            device=device,
            random_state=random_state,
            verbose=verbose,
        )
        self.missing_values = missing_values
        self.importance_samples = importance_samples
        self.refine_steps = refine_steps
        self.residual_shrinkage = residual_shrinkage
        self.sample_posterior = sample_posterior
        self.add_indicator = add_indicator
        self.n_estimators = n_estimators

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the VAE on the observed cells of ``X``.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Training rows with missing cells (NaN, None or ``pd.NA``); a
            DataFrame may mix numeric, boolean and categorical columns.

        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            Fitted imputer.
        """
        data = self._fit_vae(mark_missing(X, self.missing_values))
        self._residual_sums = None
        self._add_residuals(data)
        self._fit_other_estimators(X, data.shape[0])
        return self

    def _add_residuals(self, data):
        """Add the residual sums of the encoded rows ``data`` (a seeded
        sample of at most ``_RESIDUAL_ENTRIES`` entries) to those of earlier
        calls, and refresh ``residual_moments_`` and
        ``residual_cross_moments_``."""
        sums, calls = getattr(self, "_residual_sums", None) or (None, 0)
        rng = np.random.RandomState(self._seed + calls)
        limit = max(1, _RESIDUAL_ENTRIES // max(1, data.shape[1]))
        if data.shape[0] > limit:
            data = data[np.sort(rng.choice(data.shape[0], limit, replace=False))]
        generator = torch.Generator().manual_seed(self._seed + calls)

        def refresh(holed):
            if self._needs_indicators(holed):
                self._complete_indicators()
            return self._module64

        with self._inference() as module:
            x = torch.as_tensor(data, dtype=torch.float64, device=self._device)
            more = residual_sums(module, x, generator, refresh)
        sums = more if sums is None else sums.add(more)
        self._residual_sums = (sums, calls + 1)
        self.residual_cross_moments_, self.residual_moments_ = sums.moments()
        self._residual_regressions = {}

    def _residual_regression(self, shrinkage):
        """:func:`~skvae._residuals.residual_regression` at ``shrinkage`` as
        float64 tensors on the device, or None where nothing is corrected
        (``shrinkage`` 1, no numeric column, or a network fitted before
        2026-11-30, which has no residual moments)."""
        if shrinkage == 1 or not hasattr(self, "residual_moments_"):
            return None
        cache = self.__dict__.setdefault("_residual_regressions", {})
        if shrinkage not in cache:
            cache[shrinkage] = residual_regression(
                self.residual_cross_moments_, self.residual_moments_, shrinkage
            )
        if cache[shrinkage] is None:
            return None
        return tuple(
            torch.as_tensor(m, dtype=torch.float64, device=self._device)
            for m in cache[shrinkage]
        )

    def _n_estimators(self, n_rows):
        """Networks of the ensemble for a ``fit`` on ``n_rows`` rows (None:
        ``partial_fit``)."""
        if self.n_estimators != "auto":
            return self.n_estimators
        if n_rows is not None and n_rows < _AUTO_ENSEMBLE_BELOW_ROWS:
            return _AUTO_ESTIMATORS
        return 1

    def _fit_other_estimators(self, X, n_rows):
        """Fit the ensemble's other networks on ``X`` (with ``warm_start``,
        further, where their number is unchanged)."""
        others = getattr(self, "other_estimators_", [])
        wanted = self._n_estimators(n_rows) - 1
        if not (self.warm_start and len(others) == wanted):
            others = self._new_other_estimators(wanted)
        for estimator in others:
            estimator.fit(X)
        self.other_estimators_ = others

    def _new_other_estimators(self, n):
        """``n`` unfitted imputers like this one, seeded after its own seed."""
        return [
            clone(self).set_params(n_estimators=1, random_state=self._seed + i)
            for i in range(1, n + 1)
        ]

    def _partial_fit_vae(self, X, *args, **kwargs):
        first = not hasattr(self, "module_")
        marked = mark_missing(X, self.missing_values)
        data = super()._partial_fit_vae(marked, *args, **kwargs)
        if first:
            self._residual_sums = None
        self._add_residuals(data)
        if first:
            self.other_estimators_ = self._new_other_estimators(
                self._n_estimators(None) - 1
            )
        for estimator in self.other_estimators_:
            estimator.partial_fit(X)
        return data

    def _schema_fixed(self):
        # Columns with holes when the schema was fixed, as MissingIndicator's
        # features_ are the columns with holes in fit.
        rates = np.array([c.missing_rate for c in self._encoder.columns_])
        self.indicator_features_ = np.flatnonzero(rates > 0)

    def transform(self, X):
        """Fill the missing cells of ``X``.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Rows with missing cells.

        Returns
        -------
        X_filled : DataFrame or ndarray of shape (n_samples, n_features_out)
            ``X`` with every missing cell filled and every observed cell as it
            was: a DataFrame with the training columns, dtypes and category
            levels for DataFrame input, else an array (float for numbers, object
            for categories). With ``add_indicator=True`` the indicator columns
            follow.
        """
        check_is_fitted(self)
        # validated once, read three times
        table = self._validated_table(mark_missing(X, self.missing_values))
        networks = [self, *getattr(self, "other_estimators_", [])]
        if len(networks) == 1:
            rows = self._filled_rows(table)
        elif self.sample_posterior:
            draws = np.stack(
                [network._filled_rows(table, settings=self) for network in networks]
            )
            rng = np.random.RandomState(self._seed)
            pick = rng.randint(len(networks), size=draws.shape[1])
            rows = draws[pick, np.arange(draws.shape[1])]
        else:
            mean = np.mean(
                [
                    network._filled_rows(table, probabilities=True, settings=self)
                    for network in networks
                ],
                axis=0,
            )
            rows = self.module_.mode(torch.from_numpy(mean), probabilities=True)
            rows = rows.numpy()
        estimate = self._encoder.inverse_transform(rows)
        # Holes given as a code were filled in a dtype that holds a hole (Int64
        # for an int64 column with -1); the filled column goes back to X's.
        coded = codes_are_holes(self.missing_values) and isinstance(X, pd.DataFrame)
        filled = _keep_observed(table, estimate, X.dtypes if coded else None)
        if not self.add_indicator:
            return filled
        return self._with_indicators(table, filled)

    def _filled_rows(self, table, probabilities=False, settings=None):
        """The encoded rows of the validated ``table`` with this network's fill
        in the rows that have a hole: its estimate, or its draw with
        ``sample_posterior``. With ``probabilities``, the estimate before its
        mode is taken (:meth:`TabularVAE.probabilities`), for averaging.
        ``settings``, the imputer whose ``transform`` runs (default: this
        one), gives ``importance_samples``, ``refine_steps``,
        ``residual_shrinkage`` and ``sample_posterior``, so that parameters
        set after ``fit`` apply to every network of the ensemble."""
        settings = self if settings is None else settings
        encoded = _EncodedRows(self._encoder, table)
        generator = None
        if settings.sample_posterior:
            generator = torch.Generator(device=self._device).manual_seed(self._seed)
        regression = self._residual_regression(settings.residual_shrinkage)
        if settings.importance_samples:
            fill, chunk_rows = self._importance_fill(
                generator,
                probabilities,
                settings.importance_samples,
                settings.refine_steps,
                regression,
            )
        else:
            chunk_rows = None

            def fill(module, x):
                mu, logvar = module.encode(x)
                if generator is None:
                    output = module.decode(mu)
                    output = corrected_numbers(module, x, output, regression)
                    if probabilities:
                        return module.probabilities(output)
                    return module.mode(output)
                noise = torch.randn(mu.shape, generator=generator, device=mu.device)
                z = mu + noise.to(mu.dtype) * (0.5 * logvar).exp()
                output = corrected_numbers(module, x, module.decode(z), regression)
                return module.draw(output, generator)

        return self._run_chunked(fill, encoded, chunk_rows=chunk_rows)

    def _importance_fill(self, generator, probabilities, k, refine_steps, regression):
        """The fill of ``importance_samples=k`` for :meth:`_run_chunked`, and
        its chunk size.

        The ``k`` draws come from ``random_state``, as the detector's do, and
        are shared by all rows; each row's posterior is refined first
        (``refine_steps``, :meth:`TabularVAE.refined_posterior`) and widened
        by ``_proposal_scale`` to make the proposal. The missing numbers are
        then moved by their estimated residuals (``regression``, see
        :func:`~skvae._residuals.corrected_numbers`; None: not moved). Rows
        without a hole are passed through (their cells are kept anyway), and
        chunks hold at most ``_IMPORTANCE_CHUNK_ENTRIES`` decoder entries.
        """
        n_features = self.module_.n_features
        eps = shared_normal_draws(
            k, self.module_.n_components, self._seed, self._quasi_random_draws
        )
        eps = torch.as_tensor(eps, dtype=torch.float64, device=self._device)

        def fill(module, x):
            filled = torch.nan_to_num(x)
            rows = torch.isnan(x).any(dim=1).nonzero().ravel()
            if not len(rows):
                return filled
            holed = x[rows]
            if generator is None:
                output = module.conditional_output(
                    holed, eps, refine_steps, self._proposal_scale
                )
                output = corrected_numbers(module, holed, output, regression)
                if probabilities:
                    filled[rows] = module.probabilities(output)
                else:
                    filled[rows] = module.mode(output)
            else:
                output = module.importance_resampled_output(
                    holed, eps, generator, refine_steps, self._proposal_scale
                )
                output = corrected_numbers(module, holed, output, regression)
                filled[rows] = module.draw(output, generator)
            return filled

        chunk_rows = max(1, _IMPORTANCE_CHUNK_ENTRIES // (k * n_features))
        return fill, chunk_rows

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns: the input's, then the indicators'.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Input feature names; by default those seen in ``fit``
            (``x0, x1, ...`` for arrays).

        Returns
        -------
        feature_names_out : ndarray of str objects
            The input names, followed with ``add_indicator=True`` by
            ``missingindicator_<name>`` for each feature in
            ``indicator_features_``.
        """
        check_is_fitted(self)
        names = _check_feature_names_in(self, input_features)
        if not self.add_indicator:
            return names
        extra = [f"missingindicator_{names[i]}" for i in self.indicator_features_]
        return np.concatenate([names, np.asarray(extra, dtype=object)])

    def _with_indicators(self, table, filled):
        holes = pd.isna(pd.DataFrame(table)).to_numpy()
        flags = holes[:, self.indicator_features_]
        if isinstance(filled, pd.DataFrame):
            names = self.get_feature_names_out()[len(filled.columns) :]
            indicators = pd.DataFrame(flags, columns=names, index=filled.index)
            return pd.concat([filled, indicators], axis=1)
        return np.hstack([filled, flags.astype(filled.dtype)])

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


def _keep_observed(X, estimate, dtypes=None):
    """``estimate`` where ``X`` has a hole, ``X`` itself elsewhere; a
    DataFrame's columns in ``dtypes`` (default: the estimate's) where each can
    hold its values."""
    if isinstance(estimate, pd.DataFrame):
        estimate.index = X.index
        dtypes = estimate.dtypes if dtypes is None else dtypes
        out = {}
        for name in estimate.columns:
            observed = X[name].notna()
            try:
                column = X[name].where(observed, estimate[name])
            except (TypeError, ValueError):
                # X's dtype cannot hold the fills (a column fitted as floats,
                # given as integers): combined as objects, cast below.
                column = (
                    X[name]
                    .astype(object)
                    .where(observed, estimate[name].astype(object))
                )
            out[name] = _cast_if_lossless(column, dtypes[name])
        return pd.DataFrame(out, index=X.index)
    values = np.asarray(X)
    dtype = values.dtype if values.dtype.kind == "f" else estimate.dtype
    return np.where(pd.isna(values), estimate, values).astype(dtype)


def _cast_if_lossless(column, dtype):
    """``column`` in the training dtype, unless that would change a value.

    An observed cell the training dtype cannot hold (3.5 in an integer column, a
    new level of a categorical one) keeps the column in the dtype that holds it.
    """
    try:
        cast = column.astype(dtype)
    except (TypeError, ValueError):
        return column
    same = (cast.astype(object) == column.astype(object)) | column.isna()
    return cast if same.all() else column
