"""VAEAnomalyDetector: rank and flag unusual rows by their VAE log-likelihood."""

# License: BSD 3-Clause

import math
import warnings
from numbers import Integral, Real

import numpy as np
import pandas as pd
import torch
from sklearn.base import OutlierMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from skvae._base import BaseVAE
from skvae._docstrings import fill_doc
from skvae._draws import shared_normal_draws
from skvae._network import gaussian_kl

__all__ = ["VAEAnomalyDetector"]

# The explanation baseline is a median over training rows, computed by the
# first explain from rows fit keeps (after partial_fit, from its sample of the
# rows): at most 2,000 rows, fewer on wide tables (its cost per row grows with
# the width), but never under 256.
_EXPLAIN_BASELINE_ROWS = (256, 2000)
_EXPLAIN_BASELINE_CELLS = 2**17
# explain() holds a (rows, encoded width, layer width) tensor: bound its size.
_EXPLAIN_CHUNK_FLOATS = 2**22
# Added to the latent mixture's covariances (latent units are about 1).
_LATENT_MIXTURE_REG = 1e-4
# The latent mixture is fitted to a seeded sample of at most this many
# training rows: on 10^6 rows, fitted to all of them it took 29 s of a 50 s
# fit; a sample of 200,000 ranked planted anomalies as well (50,000: AP 0.006
# lower; benchmarks/RESULTS.md, "Large data"). Above the dev suite's largest
# table (35,000 rows), so its results are those of every row there.
_LATENT_MIXTURE_ROWS = 200_000


def _cell_floors(cells, percentile):
    """Each variable's ``percentile``-th percentile of the training rows'
    ``cells`` (as the score sums them, NaN at holes); -inf for a variable
    never observed."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
        floor = np.nanpercentile(cells, percentile, axis=0)
    return np.nan_to_num(floor, nan=-np.inf)


@fill_doc
class VAEAnomalyDetector(OutlierMixin, BaseVAE):
    """Anomaly detection with a variational autoencoder.

    The VAE learns the distribution of the training rows (numeric, boolean and
    categorical columns, each with its own likelihood). A row's score is a lower
    bound on its log-likelihood under the model: rows the model finds improbable are
    anomalies. The training data may hold anomalies; trimming the most
    improbable rows of each batch out of the gradient (``trim_fraction``), early
    stopping on held-out rows and a small latent space keep the model from
    learning them.

    Parameters
    ----------
    contamination : "auto" or float, default="auto"
        Sets the threshold ``offset_`` on the training scores. A float in
        (0, 0.5] is the share of training rows to flag as anomalies. ``"auto"``
        flags rows below the lower Tukey fence of the training scores,
        ``Q1 - 1.5 * (Q3 - Q1)``, so the share flagged follows the data.

    trim_fraction : float, default=0.03
        Largest share of each training batch left out of the gradient, so
        that the model does not learn the anomalies hidden among the training
        rows. After a warm-up (10 epochs and 200 steps; with ``partial_fit``,
        10 calls and 1,000 steps) a row is left out
        when its loss is more than 3 scaled median absolute deviations above
        the batch's median and among the ``trim_fraction`` highest. 0 trains
        on every row. ``loss_curve_`` then averages the rows kept.

    input_noise : float, default=0.0
        Standard deviation of the Gaussian noise added, in each training step,
        to the numeric cells the encoder sees (in the scaled units of
        ``scaling``); the likelihood still scores the cells as they are, and
        scoring adds no noise. A denoising encoder: a code that a small change
        of a few cells cannot move far. 0 (the default) trains on the cells as
        they are; 0.3 ranked anomalies better on the dev suite averaged over
        network seeds but not on every check (see the user guide).

    importance_samples : int, default=0
        0 scores a row with the ELBO at the posterior mean (deterministic).
        ``k > 0`` uses the importance-weighted bound of Burda et al. (2016) with
        ``k`` draws, fixed at fit time and shared by all rows, so scores stay
        deterministic and independent of the other rows scored with them.

    {vae_parameters}
    Attributes
    ----------
    offset_ : float
        Threshold on ``score_samples``: ``decision_function = score_samples -
        offset_``, negative for anomalies.

    {vae_attributes}
    See Also
    --------
    sklearn.ensemble.IsolationForest : Tree-based outlier detector, same API.
    skvae.VAETransformer : The same VAE as a latent-space transformer.

    Notes
    -----
    ``score_samples`` follows scikit-learn: higher means more normal. It estimates
    ``log p(x)`` in the scaled space the network sees, so scores are comparable
    between rows of one model, not between models fitted with different scalings.
    ``explain`` splits the likelihood part of the score by input column.

    Missing cells (NaN, None, ``pd.NA``): the encoder reads the cells a row
    has, and a hole in a column with holes in fit counts as the column's
    typical (median) training value, so rows with and without holes compare.
    A hole in a column never missing in fit, or a category level not seen in
    fit (``handle_unknown="ignore"``), scores as the column's least likely
    training value times ``1 / (n_train + 1)``: always less likely than any
    value seen in fit.

    A numeric column whose training values lie on a grid of three or more
    values (counts, ratings, whole numbers) is scored by the probability its
    Gaussian gives the value's bin, ``x +- step / 2``, instead of a density:
    its log-likelihood is at most 0, so a value shared by many rows cannot
    earn an ever larger reward as the learned scale shrinks. Columns of two
    values keep the density (measured: binned, they ranked anomalies worse).

    A numeric column whose most frequent value holds at least
    ``point_mass_share`` of the training rows (a spike at 0, a default value)
    models that value as a point mass: a cell there is scored by the
    probability of the point mass alone, other cells by the probability of
    "not the point mass" times the Gaussian of the remaining values. The
    single Gaussian it replaces gave the spike an ever-growing density,
    drowning the cells that are really off.

    The score's latent term is not the KL to the N(0, I) prior the network
    was trained with, but the density of the latent code under the
    training rows' own latent distribution: a five-component Gaussian
    mixture fitted, after training, to the posterior means of the 75% of
    the training rows that the prior's score finds least outlying (the
    robust fit that makes MCD strong, here in the latent space; on more than
    200,000 training rows, of a seeded sample of 200,000). A row whose
    code falls where few typical training rows lie scores lower, even if the
    decoder reconstructs it well; a cluster of anomalies gets no component
    of its own.

    References
    ----------
    Kingma, D. P. and Welling, M. (2014). Auto-Encoding Variational Bayes. ICLR.

    An, J. and Cho, S. (2015). Variational Autoencoder based Anomaly Detection
    using Reconstruction Probability. SNU Data Mining Center.

    Burda, Y., Grosse, R. and Salakhutdinov, R. (2016). Importance Weighted
    Autoencoders. ICLR.

    Zhou, C. and Paffenroth, R. C. (2017). Anomaly Detection with Robust Deep
    Autoencoders. KDD.

    Rousseeuw, P. J. and Van Driessen, K. (1999). A Fast Algorithm for the
    Minimum Covariance Determinant Estimator. Technometrics.

    Ghosh, P., Sajjadi, M. S. M., Vergari, A., Black, M. and Schölkopf, B.
    (2020). From Variational to Deterministic Autoencoders. ICLR (ex-post
    density estimation in the latent space).

    Examples
    --------
    >>> import numpy as np
    >>> from skvae import VAEAnomalyDetector
    >>> rng = np.random.RandomState(0)
    >>> X = np.vstack([rng.normal(size=(200, 3)), [[8.0, 8.0, 8.0]]])
    >>> detector = VAEAnomalyDetector(max_epochs=5, random_state=0).fit(X)
    >>> detector.predict(X[-2:])
    array([ 1, -1])
    >>> detector.explain(X[-1:]).shape
    (1, 3)
    """

    # Scales that settle fast let large tables train in the 3,000-step budget:
    # dev-suite ROC-AUC 0.762 at 10x against 0.760 at 1x (benchmarks/RESULTS.md).
    _scale_lr_factor = 10.0
    # Counts and ratings scored by their bins' probability: dev-suite ROC-AUC
    # 0.7570 -> 0.7603 and 0.7670 -> 0.7702 on the two halves, AP up on both.
    _bin_grid_columns = True
    # point_mass_share=0.1 with the most frequent value as the only point mass:
    # dev-suite ROC-AUC 0.7618 -> 0.7961 and 0.7734 -> 0.7785 on the two
    # halves, AP up on both; three point masses gained a little less on both
    # (benchmarks/RESULTS.md, "Point masses").
    _max_point_masses = 1

    # Early stopping keeps the last weights, not those of the best validation
    # ELBO: dev-suite ROC-AUC 0.7961 -> 0.8094 and 0.7785 -> 0.7828 on the two
    # halves, AP up on both, at the same number of steps (benchmarks/RESULTS.md,
    # "Early stopping"). The validation rows hold anomalies too; the small
    # tables, with 5 to 24 validation rows, gained most.
    _restore_best_weights = False

    # The score's latent term is the density of a Gaussian mixture of this
    # many components fitted to the posterior means of the least outlying
    # share of the training rows, not the N(0, I) prior's KL: dev-suite
    # ROC-AUC 0.8096 -> 0.8186 and 0.7821 -> 0.7860 on the two halves, AP up
    # on both; fitted to all rows it lost on one half, to half or 90% of them
    # on one half too (benchmarks/RESULTS.md, "The latent mixture").
    # 0 components: the prior's KL, as trained.
    _latent_prior_components = 5
    _latent_prior_keep = 0.75

    # A number p floors each cell's log-likelihood in the score at its
    # column's p-th percentile over the training rows. 0.1 was the default
    # for a day: up on both halves of the dev suite (+0.003 and +0.0008
    # ROC-AUC), but on anomalies made of one or two extreme cells it lost
    # 0.015 ROC-AUC and 0.05 AP on both halves, and 0.008 and 0.03 on 20
    # held-out tables: the training rows' rarest cells are the contamination's
    # own (benchmarks/RESULTS.md, "Cells floored at their training rows'
    # rarest"). None: no floor.
    _cell_floor_percentile = None

    _parameter_constraints: dict = {
        **BaseVAE._parameter_constraints,
        "contamination": [StrOptions({"auto"}), Interval(Real, 0, 0.5, closed="right")],
        "trim_fraction": [Interval(Real, 0, 0.5, closed="left")],
        "input_noise": [Interval(Real, 0, None, closed="left")],
        "importance_samples": [Interval(Integral, 0, None, closed="left")],
    }

    def __init__(
        self,
        *,
        contamination="auto",
        trim_fraction=0.03,
        input_noise=0.0,
        importance_samples=0,
        n_components="auto",
        hidden_layer_sizes="auto",
        activation="elu",
        dropout=0.0,
        beta=1.0,
        scaling="robust",
        handle_unknown="ignore",
        column_kinds=None,
        point_mass_share=0.1,
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
        self.contamination = contamination
        self.trim_fraction = trim_fraction
        self.input_noise = input_noise
        self.importance_samples = importance_samples

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the VAE on ``X`` and set the threshold ``offset_``.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Training rows; a DataFrame may mix numeric, boolean and categorical
            columns.

        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        data = self._fit_vae(
            X, trim_fraction=self.trim_fraction, input_noise=self.input_noise
        )
        self._learn_scoring(data)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """Train on one more chunk of rows: one pass over ``X``.

        The first call fixes the schema (columns, their kinds, category levels,
        which columns get a missing flag) and the numeric scaling from its
        chunk, so make that chunk representative: a later chunk with a new
        level raises ``ValueError``, and a hole in a column that had none in
        the first chunk trains as a missing cell but scores as a cell the
        model cannot account for (see Notes). The optimiser's state carries
        over between calls (and through a pickle). ``offset_`` and the score
        statistics come from a bounded uniform sample of all rows seen (at
        most 10,000), not from a pass over them, and are computed when first
        needed after a call, so a call costs no more than its training. There
        is no early stopping: the caller decides how many passes to make.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            A chunk of training rows.

        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            The detector, trained on one more chunk.
        """
        self._partial_fit_vae(
            X, trim_fraction=self.trim_fraction, input_noise=self.input_noise
        )
        self._scoring_learned = False
        return self

    @property
    def offset_(self):
        """The threshold (see the class attributes)."""
        self._learn_scoring_if_needed()
        try:
            return self._offset
        except AttributeError:
            raise AttributeError(
                f"'{type(self).__name__}' object has no attribute 'offset_'"
            ) from None

    def __setstate__(self, state):
        state = dict(state)
        if "offset_" in state:  # pickled when offset_ was a plain attribute
            state["_offset"] = state.pop("offset_")
        super().__setstate__(state)

    def _learn_scoring_if_needed(self):
        """After partial_fit: learn the score statistics from its sample."""
        if not getattr(self, "_scoring_learned", True):
            reservoir = self._reservoir
            self._learn_scoring(
                reservoir.rows, n_seen=reservoir.n_seen, keep_baseline_rows=False
            )

    def _learn_scoring(self, data, n_seen=None, keep_baseline_rows=True):
        """Set ``offset_`` and the score and explanation statistics from the
        encoded training rows ``data`` (a sample of ``n_seen``, if given)."""
        self._scoring_learned = True
        n_seen = data.shape[0] if n_seen is None else n_seen
        # A cell the model cannot account for (an unseen category level, a hole
        # in a column never missing in fit) scores as its column's least likely
        # training value, times the chance of an event seen in none of the n
        # training rows, 1 / (n + 1): always below every value seen in fit.
        floored = self._cell_floor_percentile is not None
        # The cells as the score sums them only serve the floor (off by
        # default); kept otherwise, they would copy every training cell.
        channels = slice(None) if floored else slice(0, 1)
        training = self._run_chunked(
            lambda module, x: self._training_cells(module, x)[:, channels], data
        )
        cells = training[:, 0]
        worst = np.nan_to_num(np.nanmin(cells, axis=0, initial=np.inf), posinf=0.0)
        self._unexpected_log_prob = worst - math.log(n_seen + 1.0)
        # A hole in a column with holes in fit counts as the column's typical
        # (median) training value, so that rows with and without holes compare.
        self._typical_cell = np.nan_to_num(_nanmedian(cells))
        self._flag_entry = self._flag_entries()
        self._iw_eps = None
        if self.importance_samples:
            self._iw_eps = shared_normal_draws(
                self.importance_samples, self.module_.n_components, self._seed
            ).astype(np.float32)
        # The explanation baseline is computed by the first explain (it cost a
        # tenth of a small table's fit): fit keeps the rows it will use,
        # partial_fit draws them then from its sample.
        self._column_baseline = None
        self._baseline_rows = None
        if keep_baseline_rows:
            self._baseline_rows = self._baseline_sample(data)
        self._latent_mixture = None
        self._cell_floor = None
        # The importance-weighted bound keeps the N(0, I) prior.
        if self._latent_prior_components and self._iw_eps is None:
            self._latent_mixture = self._fit_latent_mixture(data)
        # After the mixture, whose core the unfloored score chose when the
        # floor was measured; the core leaves out the most outlying rows,
        # the only ones the floor moves.
        if floored:
            self._cell_floor = _cell_floors(training[:, 1], self._cell_floor_percentile)
        scores = self._score_encoded(data)
        if self.contamination == "auto":
            q1, q3 = np.percentile(scores, [25, 75])
            self._offset = float(q1 - 1.5 * (q3 - q1))
        else:
            self._offset = float(np.percentile(scores, 100.0 * self.contamination))

    def score_samples(self, X):
        """Log-likelihood estimate of each row; the lower, the more abnormal.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Rows to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            With ``importance_samples=0``, ``log p(x | z=mu) + log g(mu) -
            log q(mu | x)`` up to a constant: the decoder's likelihood at the
            posterior mean plus the latent code's density under ``g``, a
            Gaussian mixture fitted in ``fit`` to the posterior means of the
            75% least outlying training rows, in place of the N(0, I) prior's
            KL (see Notes); else the importance-weighted bound (N(0, I)
            prior).
        """
        return super().score_samples(X)

    def decision_function(self, X):
        """Score shifted by ``offset_``: negative for anomalies, positive for inliers.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Rows to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            ``score_samples(X) - offset_``.
        """
        return self.score_samples(X) - self.offset_

    def predict(self, X):
        """Label each row +1 (inlier) or -1 (anomaly).

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Rows to label.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            -1 where ``decision_function(X) < 0``, else +1.
        """
        return np.where(self.decision_function(X) < 0, -1, 1)

    def explain(self, X):
        """How much each input column makes each row unusual.

        The contribution of a column is its log-likelihood given the other
        columns, minus the median of that over the training rows: near 0 for a
        typical value, strongly negative for the columns that make a row unusual.
        To score column ``j`` the row is encoded with ``j`` hidden, as a missing
        cell is, so an odd value cannot pull the latent code towards itself and
        hide, and ``j``'s actual value is scored under the decoder from there. A
        categorical column counts once, whatever its number of levels; a missing
        cell contributes 0 (a typical value), or its floor where the model
        cannot account for it (see Notes). The cost per row grows linearly with
        the number of columns (about one network pass per column, after the
        first layer). The first call also computes the training median, over a
        sample of at most 2,000 training rows that ``fit`` keeps for it.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Rows to explain.

        Returns
        -------
        contributions : DataFrame or ndarray of shape (n_samples, n_features)
            A DataFrame with X's index and the training column names when ``X`` is
            a DataFrame, else an ndarray.
        """
        check_is_fitted(self)
        self._learn_scoring_if_needed()
        self._complete_indicators()  # masking hides every column in turn
        if self._column_baseline is None:
            rows = getattr(self, "_baseline_rows", None)
            if rows is None:  # after partial_fit: from its sample
                rows = self._baseline_sample(self._reservoir.rows)
            self._column_baseline = self._baseline(rows)
            self._baseline_rows = None
        baseline = torch.as_tensor(
            self._column_baseline, dtype=torch.float64, device=self._device
        )
        flags = torch.as_tensor(self._encoder.flag_variables_, device=self._device)

        def contribution(module, x):
            cells, observed = self._conditional_cells(module, x)
            observed = self._point_masses_as_observed(x, observed)
            # A hole contributes its column's typical value (0 here), plus the
            # floor where the model cannot account for it; flags are not scored.
            cells = torch.nan_to_num(cells - baseline, nan=0.0).index_fill(1, flags, 0)
            return cells + self._unexpected(x, observed)

        variables = self._run_chunked(
            contribution, self._encode(X), chunk_rows=self._explain_chunk_rows()
        )
        contributions = self._encoder.per_column(variables)
        if isinstance(X, pd.DataFrame):
            return pd.DataFrame(
                contributions,
                index=X.index,
                columns=[c.name for c in self._encoder.columns_],
            )
        return contributions

    def _baseline_sample(self, data):
        """The encoded training rows the explanation baseline is taken over.

        A random subsample (the first rows of sorted data would bias it)
        bounds the baseline's cost.
        """
        fewest, most = _EXPLAIN_BASELINE_ROWS
        n_rows = int(
            np.clip(_EXPLAIN_BASELINE_CELLS // self.module_.n_features, fewest, most)
        )
        return self._seeded_rows(data, n_rows)

    def _seeded_rows(self, data, n_rows):
        """``n_rows`` rows of ``data`` drawn at random with the fit's seed, in
        their order (all of them, if fewer)."""
        rows = np.random.RandomState(self._seed).permutation(data.shape[0])
        return data[np.sort(rows[:n_rows])]

    def _baseline(self, sample):
        """Each column's median conditional log-likelihood over ``sample``.

        Contributions are reported relative to a typical training row, so a
        wide numeric column and a 20-level categorical one read alike.
        """
        cells = self._run_chunked(
            lambda module, x: self._conditional_cells(module, x)[0],
            sample,
            chunk_rows=self._explain_chunk_rows(),
        )
        return np.nan_to_num(_nanmedian(cells))

    def _explain_chunk_rows(self):
        hidden = self._module_kwargs["hidden_layer_sizes"]
        widest = max([2 * self.module_.n_components, *hidden])
        return max(1, _EXPLAIN_CHUNK_FLOATS // (self.module_.n_features * widest))

    def _conditional_cells(self, module, x):
        """Each variable's log-likelihood given the other columns, NaN at
        holes, and the observed mask (None: no holes).

        A numeric column's value and its point-mass block are hidden together:
        the column is explained given the other columns."""
        encoder = self._encoder
        groups = np.arange(module.n_variables)
        n_blocks = len(encoder.mixture_index_)
        if n_blocks:
            groups[-n_blocks:] = encoder.mixture_variables_
        values = module.conditional_log_likelihood(x, groups=groups)
        values = values + self._mode_log_jacobian(x)
        _, observed = module.split_missing(x)
        if observed is not None:
            values = torch.where(observed > 0, values, torch.nan)
        return values, observed

    def _score_encoded(self, data):
        self._learn_scoring_if_needed()
        eps = None
        if self._iw_eps is not None:
            eps = torch.as_tensor(
                self._iw_eps, dtype=torch.float64, device=self._device
            )

        # None unless _cell_floor_percentile is set (or a pickle of the day
        # when a floor was the default); absent from older pickles.
        floor = getattr(self, "_cell_floor", None)
        if floor is not None:
            floor = torch.as_tensor(floor, device=self._device)

        def score(module, x):
            _, observed = module.split_missing(x)
            observed = self._point_masses_as_observed(x, observed)
            if eps is not None:
                bound = module.importance_weighted_bound(x, eps)
            else:
                loglik, mu, logvar = module.posterior_mean_pass(x)
                loglik = loglik + self._mode_log_jacobian(x)
                if floor is not None:
                    loglik = torch.maximum(loglik, floor.to(loglik.dtype))
                bound = self._with_typical_holes(loglik, observed).sum(dim=1)
                bound = bound + self._latent_log_prior(mu, logvar)
            return bound + self._unexpected(x, observed).sum(dim=1)

        return self._run_chunked(score, data)

    def _fit_latent_mixture(self, data):
        """A Gaussian mixture fitted to the posterior means of the least
        outlying training rows ``data`` (of a seeded sample of
        ``_LATENT_MIXTURE_ROWS`` of them, if more): ``(log weights, means,
        precision Choleskys)``, or None for a single row."""
        if data.shape[0] > _LATENT_MIXTURE_ROWS:
            data = self._seeded_rows(data, _LATENT_MIXTURE_ROWS)
        means = self._run_chunked(lambda module, x: module.encode(x)[0], data)
        if self._latent_prior_keep < 1:
            # Fitted to the least outlying rows by the N(0, I) prior's score,
            # so that a cluster of anomalies gets no component of its own (as
            # MCD fits its Gaussian to the least outlying rows).
            scores = self._score_encoded(data)
            means = means[scores >= np.quantile(scores, 1 - self._latent_prior_keep)]
        if len(means) < 2:
            return None  # one row: the N(0, I) prior's KL
        with warnings.catch_warnings():
            # A few EM steps short of convergence cost nothing here.
            warnings.simplefilter("ignore", ConvergenceWarning)
            mixture = GaussianMixture(
                n_components=min(self._latent_prior_components, len(means)),
                covariance_type="full",
                reg_covar=_LATENT_MIXTURE_REG,
                random_state=self._seed,
            ).fit(means)
        return (
            np.log(mixture.weights_),
            mixture.means_,
            mixture.precisions_cholesky_,
        )

    def _latent_log_prior(self, mu, logvar):
        """The latent part of a row's score: ``-KL(q(z|x) || N(0, I))``, or
        with a latent mixture (``_latent_prior_components``) the mixture's
        log-density at the posterior mean plus the posterior's entropy term,
        ``log g(mu) - log q(mu | x)`` up to a constant."""
        mixture = getattr(self, "_latent_mixture", None)
        if mixture is None:
            return -gaussian_kl(mu, logvar)
        log_weights, means, cholesky = (
            torch.as_tensor(a, dtype=mu.dtype, device=mu.device) for a in mixture
        )
        # (n, k, d): the whitened distance of each row from each component
        centred = mu.unsqueeze(1) - means
        whitened = torch.einsum("nkd,kde->nke", centred, cholesky)
        log_det = torch.diagonal(cholesky, dim1=-2, dim2=-1).log().sum(-1)
        log_density = log_weights + log_det - 0.5 * whitened.pow(2).sum(-1)
        return torch.logsumexp(log_density, dim=1) + 0.5 * logvar.sum(dim=1)

    def _mode_log_jacobian(self, x):
        """``(n, n_variables)``: ``-log`` of the scale each numeric cell was
        coded in, relative to its column's, where columns have modes (else 0);
        the scalar 0 when no column has modes.

        A value coded by its mode (``TabularEncoder.max_modes``) is scaled by
        the mode's standard deviation: its density in the column's own units
        is the network's density of the coded value over that scale, so that
        values in a narrow mode are not made more likely than values in a
        wide one by the coding alone.
        """
        encoder = self._encoder
        log_scales = encoder.mode_log_scales_
        if not np.any(log_scales):
            return 0.0  # no column has modes (the detector's default)
        per_block = self._sum_over_modes(x, log_scales)
        variables = torch.as_tensor(encoder.mixture_variables_, device=x.device)
        jacobian = x.new_zeros((x.shape[0], self.module_.n_variables))
        # A missing cell's block is NaN: it scores 0 wherever it is counted.
        return jacobian.index_copy(1, variables, -torch.nan_to_num(per_block))

    def _sum_over_modes(self, x, weights=None):
        """``(n, n_mixture_blocks)``: each mixture block's mode entries of the
        encoded rows ``x`` summed (times ``weights``, one per mode entry)."""
        encoder = self._encoder
        values = x.index_select(
            1, torch.as_tensor(encoder.mode_entries_, device=x.device)
        )
        if weights is not None:
            values = values * torch.as_tensor(weights, dtype=x.dtype, device=x.device)
        blocks = torch.as_tensor(encoder.mode_blocks_, device=x.device)
        totals = x.new_zeros((x.shape[0], len(encoder.mixture_variables_)))
        return totals.index_add(1, blocks, values)

    def _training_cells(self, module, x):
        """Each cell's log-likelihood at the posterior mean, ``(n, 2,
        n_variables)``: ``[:, 0]`` NaN where the cell is missing or at a point
        mass (whose Gaussian part the likelihood leaves out); ``[:, 1]`` NaN
        only where missing, each cell as the score sums it (a point mass's
        Gaussian part at 0)."""
        loglik, _, _ = module.posterior_mean_pass(x)
        loglik = loglik + self._mode_log_jacobian(x)
        _, observed = module.split_missing(x)
        if observed is None:
            return torch.stack([loglik, loglik], dim=1)
        scored = self._point_masses_as_observed(x, observed)
        return torch.stack(
            [
                torch.where(observed > 0, loglik, torch.nan),
                torch.where(scored > 0, loglik, torch.nan),
            ],
            dim=1,
        )

    def _point_masses_as_observed(self, x, observed):
        """``observed`` with each numeric cell that holds a point mass counted
        as observed: the point-mass block scores it, and its Gaussian part,
        left out of the likelihood, contributes 0 (not a hole's typical value,
        nor the floor of an unexpected hole)."""
        variables = self._encoder.mixture_variables_
        if observed is None or not len(variables):
            return observed
        # A missing cell's block is NaN, which equals nothing.
        at_mass = (self._sum_over_modes(x) == 0).to(observed.dtype)
        observed = observed.clone()
        observed[:, variables] = torch.maximum(observed[:, variables], at_mass)
        return observed

    def _with_typical_holes(self, loglik, observed):
        """Per-variable log-likelihoods with each hole at its column's typical
        value and the missing flags left out.

        Scoring the flags ranked anomalies worse: on the dev suite with 10% of
        the cells missing at random, ROC-AUC 0.7291 and 0.7403 on the two halves
        against 0.7514 and 0.7614 without them (benchmarks/RESULTS.md), as
        holes that fall at random say nothing of a row; and a hole left at 0
        raised a row above the rows whose cell is observed.
        ``observed`` comes from :meth:`TabularVAE.split_missing` (None: no holes).
        """
        if observed is None:
            return loglik
        typical = torch.as_tensor(
            self._typical_cell, dtype=loglik.dtype, device=loglik.device
        )
        loglik = loglik + (1.0 - observed) * typical
        flags = torch.as_tensor(self._encoder.flag_variables_, device=loglik.device)
        return loglik.index_fill(1, flags, 0.0)

    def _flag_entries(self):
        """For each variable, the encoded entry of its column's missing flag or -1."""
        encoder = self._encoder
        entries = np.full(len(encoder.variable_index_), -1)
        flags = encoder.flag_variables_
        flag_of_column = dict(zip(encoder.flagged_index_, flags, strict=True))
        for variable, column in enumerate(encoder.variable_index_):
            if variable not in flags:  # a flag itself is always observed
                entries[variable] = flag_of_column.get(column, -1)
        return entries

    def _unexpected(self, x, observed):
        """The floor ``_unexpected_log_prob`` of each cell the model cannot
        account for, else 0.

        Those are the variables not observed (missing or an unseen level) whose
        column has no missing flag, or whose flag says the cell is present
        (then the level is unseen). ``observed`` comes from
        :meth:`TabularVAE.split_missing` (None: no holes). ``(n, n_variables)``.
        """
        if observed is None:
            return x.new_zeros((x.shape[0], len(self._flag_entry)))
        entries = torch.as_tensor(self._flag_entry, device=x.device)
        flagged = entries >= 0
        flag_value = torch.zeros_like(observed)
        flag_value[:, flagged] = x[:, entries[flagged]]
        floor = torch.as_tensor(
            self._unexpected_log_prob, dtype=x.dtype, device=x.device
        )
        return (1.0 - observed) * (1.0 - flag_value) * floor


def _nanmedian(values):
    """Column medians over the non-NaN entries; NaN for a column of NaN only."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
        return np.nanmedian(values, axis=0)
