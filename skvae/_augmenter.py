"""VAEAugmenter: learn a table and draw new realistic rows, per class if asked."""

# License: BSD 3-Clause

from numbers import Integral, Real

import numpy as np
import pandas as pd
import torch
from sklearn.base import OneToOneFeatureMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import (
    Interval,
    StrOptions,
    validate_parameter_constraints,
)
from sklearn.utils.validation import _num_samples, check_is_fitted

from skvae._base import _CHUNK_ROWS, BaseVAE
from skvae._docstrings import fill_doc
from skvae._sampling import read_target, rows_to_add, with_sampler_tags

__all__ = ["VAEAugmenter"]


@fill_doc
class VAEAugmenter(OneToOneFeatureMixin, BaseVAE):
    """Synthetic rows for mixed tables from a (class-conditional) VAE.

    ``fit(X)`` learns the table; ``sample(n)`` decodes draws from the prior into new
    rows with the training columns, order, dtypes and category levels (integers stay
    integers, booleans booleans, numbers within the training range). ``fit(X, y)``
    conditions encoder and decoder on the class, so that rows can be drawn per
    class, and ``fit_resample(X, y)`` balances classes the way imbalanced-learn's
    over-samplers do.

    Missing cells (NaN, None, ``pd.NA``) are welcome: the likelihood is taken
    over the observed cells, and each column with holes in fit gets a
    "missing" flag modelled with the other columns, so that sampled rows have
    holes at about the training rate and where the training rows have them.

    Spikes are drawn as spikes: a value that holds at least
    ``point_mass_share`` of a numeric column (0 in "capital gain", 40 in
    "hours per week") is sampled exactly, at about its training share, and
    columns of whole numbers are sampled as whole numbers. The other values of
    a numeric column are modelled as up to five Gaussian modes, as TVAE does
    (mode-specific normalisation): a column with several humps or a long tail
    is drawn with them, not as one blurred Gaussian.

    Parameters
    ----------
    sampling_strategy : float, str, dict or callable, default="auto"
        How ``fit_resample`` balances the classes, as in imbalanced-learn:
        ``"auto"`` or ``"not majority"`` raises every class but the majority to the
        majority's count; ``"not minority"`` every class but the smallest;
        ``"minority"`` only the smallest class; ``"all"`` every class; a float
        (two classes only) is the wanted ratio of minority to majority rows after
        resampling; a dict maps a class to its wanted number of rows after
        resampling; a callable takes the training labels and returns such a dict.

    {vae_parameters}
    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,) or None
        Class labels seen in ``fit``; None after an unconditional fit.

    class_counts_ : ndarray of shape (n_classes,) or None
        Training rows per class.

    sampling_strategy_ : dict or None
        Rows that ``fit_resample`` adds per class (class label to count), from
        ``sampling_strategy`` or the override given to ``fit_resample``; None
        after an unconditional fit.

    {vae_attributes}
    See Also
    --------
    sklearn.neighbors.KernelDensity : ``sample(n_samples, random_state)`` likewise.
    skvae.VAETransformer : The same VAE as a latent-space transformer.

    Notes
    -----
    ``point_mass_share=0.1`` (up to three point masses per column, in columns
    that keep five distinct values or more for their Gaussian), over three
    seeds: SDMetrics' quality on adult 0.899 to 0.946 (column shapes 0.886 to
    0.970), on german_credit 0.936 either way; train-on-synthetic ROC-AUC 0.893
    to 0.894 and 0.753 to 0.759 (``benchmarks/RESULTS.md``, "Point masses").
    Up to five modes per column then raised adult's to 0.951 (column shapes
    0.977) and its train-on-synthetic ROC-AUC to 0.908, over three seeds;
    german_credit's stayed level over six (quality 0.931 against 0.932,
    ROC-AUC 0.759 against 0.751; "Modes").

    The return type of ``sample`` depends on how the model was fitted, never on
    the call: after ``fit(X)`` it returns the new rows ``X_new``; after
    ``fit(X, y)`` it returns ``(X_new, y_new)``.

    ``sample`` and ``fit_resample`` give rows and labels back in the containers
    ``fit`` was given, as imbalanced-learn's samplers do: a DataFrame with the
    training columns and dtypes, an ndarray of the training dtype (float32
    stays float32, an object array of categories stays one) or a list; labels
    as a Series (its name and dtype kept), a one-column DataFrame, an ndarray
    (1-D or a column), a list, or one-hot rows when ``y`` was a one-vs-all
    encoding. imbalanced-learn's sampler checks run in skvae's test suite;
    sparse input is not accepted (the network needs dense rows), and there is
    no ``sample_indices_``: every added row is new, none is a training row.

    Examples
    --------
    >>> from sklearn.datasets import load_wine
    >>> from skvae import VAEAugmenter
    >>> X, y = load_wine(return_X_y=True, as_frame=True)
    >>> augmenter = VAEAugmenter(max_epochs=3, random_state=0).fit(X, y)
    >>> X_new, y_new = augmenter.sample(5, y=2, random_state=0)
    >>> X_new.shape, y_new.tolist()
    ((5, 13), [2, 2, 2, 2, 2])
    >>> X_res, y_res = augmenter.fit_resample(X, y)
    >>> y_res.value_counts().tolist()
    [71, 71, 71]
    """

    # Point masses only in columns that keep five distinct values or more for
    # their Gaussian: german_credit's four-valued columns (installment rate,
    # existing credits) as a point mass beside a Gaussian over three values
    # lost column pair trends (quality 0.936 -> 0.921 over three seeds; 0.936
    # with five), adult's columns are the same either way (benchmarks/RESULTS.md,
    # "Point masses").
    _min_continuous_values = 5
    # Up to five Gaussian modes per numeric column (TVAE's mode-specific
    # normalisation, TabularEncoder.max_modes): adult's quality 0.946 -> 0.951
    # and train-on-synthetic ROC-AUC 0.894 -> 0.908 over three seeds,
    # german_credit level over six; ten modes lost column pair trends on both
    # (benchmarks/RESULTS.md, "Modes").
    _max_modes = 5

    _parameter_constraints: dict = {
        **BaseVAE._parameter_constraints,
        "sampling_strategy": [
            Interval(Real, 0, 1, closed="right"),
            StrOptions({"auto", "not majority", "not minority", "minority", "all"}),
            dict,
            callable,
        ],
    }

    def __init__(
        self,
        *,
        sampling_strategy="auto",
        n_components="auto",
        hidden_layer_sizes="auto",
        activation="elu",
        dropout=0.0,
        beta=1.0,
        scaling="standard",
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
        self.sampling_strategy = sampling_strategy

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the table ``X``, conditioned on the classes ``y`` if given.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Training rows; a DataFrame may mix numeric, boolean and categorical
            columns.

        y : array-like of shape (n_samples,) or (n_samples, n_classes), default=None
            Class labels (or their one-vs-all encoding). With them, rows can be
            drawn per class.

        Returns
        -------
        self : object
            Fitted augmenter.
        """
        if self.warm_start and hasattr(self, "module_"):
            self._check_same_conditioning(y)
            condition = self._learn_classes(y, _num_samples(X), self.classes_)
            self._set_sampling_strategy()
            self._fit_vae(X, condition=condition)
            return self
        condition, n_conditions = self._start_conditioning(X, y)
        self._fit_vae(X, condition=condition, n_conditions=n_conditions)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None, classes=None):
        """Train on one more chunk of rows: one pass over ``X``.

        The first call fixes the schema (columns, their kinds, category levels,
        which columns get a missing flag), the numeric scaling and the classes
        from its chunk, so make that chunk representative; a later chunk with a
        new level or a new class raises ``ValueError``. The optimiser's state
        carries over between calls (and through a pickle). ``class_counts_``
        counts every chunk. There is no early stopping: the caller decides how
        many passes to make.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            A chunk of training rows.

        y : array-like of shape (n_samples,) or (n_samples, n_classes), default=None
            Class labels of the chunk (or their one-vs-all encoding): given in
            every call or in none.

        classes : array-like of shape (n_classes,), default=None
            Every class label, for the first call when its chunk lacks some of
            them (as in scikit-learn's ``SGDClassifier.partial_fit``); ignored
            later.

        Returns
        -------
        self : object
            The augmenter, trained on one more chunk.
        """
        n_rows = _num_samples(X)
        if not hasattr(self, "module_"):
            known = None if classes is None else np.unique(np.asarray(classes))
            condition, n_conditions = self._start_conditioning(X, y, known)
            self._partial_fit_vae(X, condition=condition, n_conditions=n_conditions)
            return self
        self._check_same_conditioning(y)
        counts = self.class_counts_
        condition = self._learn_classes(y, n_rows, self.classes_)
        if counts is not None:
            self.class_counts_ = counts + self.class_counts_
        self._set_sampling_strategy()
        self._partial_fit_vae(X, condition=condition)
        return self

    def _start_conditioning(self, X, y, known=None):
        """For a first fit or partial_fit call: learn the classes of ``y``
        (:meth:`_learn_classes`) and what ``sample`` returns; return the
        one-hot condition (or None) and its width."""
        condition = self._learn_classes(y, _num_samples(X), known)
        self._set_sampling_strategy()
        self._rows_as_list = isinstance(X, list)
        return condition, (0 if self.classes_ is None else len(self.classes_))

    def _learn_classes(self, y, n_rows, known=None):
        """Set ``classes_`` and ``class_counts_`` from ``y`` (None: no
        classes) and reset ``sampling_strategy_``; return the one-hot condition
        or None.

        With ``known`` classes, a label outside them raises ``ValueError``
        before anything changes.
        """
        labels, target_format, classes, counts = None, None, None, None
        if y is not None:
            labels, target_format = read_target(y, n_rows)
            classes, counts = np.unique(labels, return_counts=True)
            if known is not None:
                new = np.setdiff1d(classes, known)
                if len(new):
                    raise ValueError(
                        f"y holds the class {new.tolist()[0]!r}, which the model "
                        f"was not trained with (classes: {known.tolist()}); the "
                        "first fit or partial_fit call fixes the classes (pass "
                        "classes=...)."
                    )
                found = np.zeros(len(known), dtype=counts.dtype)
                found[np.searchsorted(known, classes)] = counts
                classes, counts = known, found
        self.classes_, self.class_counts_ = classes, counts
        self.sampling_strategy_ = None
        self._target_format = target_format
        return None if labels is None else self._one_hot(labels)

    def _set_sampling_strategy(self):
        self.sampling_strategy_ = (
            None
            if self.classes_ is None
            else rows_to_add(self.sampling_strategy, self.classes_, self.class_counts_)
        )

    def _check_same_conditioning(self, y):
        """Training further needs labels exactly when the first fit had them."""
        if (y is None) != (self.classes_ is None):
            raise ValueError(
                "y must be given in every call or in none: the model was trained "
                + ("with" if self.classes_ is not None else "without")
                + " classes."
            )

    def sample(self, n_samples=1, *, y=None, random_state=None):
        """Draw new rows from the fitted model.

        Parameters
        ----------
        n_samples : int, default=1
            Number of rows to draw.

        y : label or array-like of shape (n_samples,), default=None
            Class of the rows to draw, after a conditional fit: one label for all
            rows, or one label per row. None draws classes with their training
            frequencies. Must be None after an unconditional fit.

        random_state : int, RandomState instance or None, default=None
            Seed of the draws; an int makes them repeatable.

        Returns
        -------
        X_new : DataFrame, ndarray or list of shape (n_samples, n_features)
            New rows, in the container ``fit`` was given (see Notes).

        y_new : Series, DataFrame, ndarray or list
            Their classes, in the container of ``fit``'s ``y``; returned only after
            a conditional fit (``fit(X, y)``).
        """
        check_is_fitted(self)
        if not isinstance(n_samples, Integral) or n_samples < 1:
            raise ValueError(
                f"n_samples must be a positive integer, got {n_samples!r}."
            )
        rng = check_random_state(random_state)
        labels = self._labels_to_draw(n_samples, y, rng)
        X_new = self._draw(n_samples, labels, rng)
        if self._rows_as_list:
            X_new = X_new.tolist()
        if labels is None:
            return X_new
        return X_new, self._target_format.restore(labels)

    def _draw(self, n_samples, labels, rng):
        """Decode prior draws into rows, as the encoder returns them.

        ``labels`` holds one class label per row (None after an unconditional fit).
        """
        generator = torch.Generator(device=self._device).manual_seed(
            int(rng.randint(np.iinfo(np.int32).max))
        )
        parts = []
        # Sampling draws in float32, as the network was trained.
        with self._inference(torch.float32) as module:
            for start in range(0, n_samples, _CHUNK_ROWS):
                n = min(_CHUNK_ROWS, n_samples - start)
                condition = None
                if labels is not None:
                    condition = torch.as_tensor(
                        self._one_hot(labels[start : start + n]), device=self._device
                    )
                parts.append(module.sample(n, generator, condition).cpu().numpy())
        # Columns with holes in fit get them back where the model draws its
        # missing flag, so rates and co-missingness follow the training rows;
        # whole-number columns are drawn as whole numbers.
        return self._encoder.inverse_transform(
            np.concatenate(parts), clip=True, missing=True, on_grid=True
        )

    def score_samples(self, X, y=None):
        """Log-likelihood estimate of each row (ELBO at the posterior mean).

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Rows to score.

        y : array-like of shape (n_samples,), default=None
            After a conditional fit, the rows' classes: the estimate is then of
            ``log p(x | y)``. Without them it is of ``log p(x)``, the classes
            summed out with their training frequencies,
            ``log sum_c p(c) exp(ELBO(x | c))``. Must be None after an
            unconditional fit.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            The estimate for each row.
        """
        check_is_fitted(self)
        data = self._encode(X)
        n_rows = data.shape[0]
        self._reject_labels_if_unconditional(y)
        if self.classes_ is None:
            return self._elbo(data)
        if y is not None:
            labels, _ = read_target(y, n_rows)
            return self._elbo(data, self._one_hot(self._known(labels)))
        log_prior = np.log(self.class_counts_ / self.class_counts_.sum())
        per_class = [
            self._elbo(data, np.tile(self._one_hot([c]), (n_rows, 1))) + log_p
            for c, log_p in zip(self.classes_, log_prior, strict=True)
        ]
        return np.logaddexp.reduce(np.column_stack(per_class), axis=1)

    def score(self, X, y=None):
        """Mean log-likelihood estimate per row; higher is a better model of ``X``.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Rows to score.

        y : array-like of shape (n_samples,), default=None
            Classes of the rows, after a conditional fit; see ``score_samples``.

        Returns
        -------
        score : float
            Mean of ``score_samples(X, y)``.
        """
        return float(np.mean(self.score_samples(X, y)))

    def fit_resample(self, X, y, *, sampling_strategy=None):
        """Fit on ``(X, y)`` and add synthetic rows until the classes are balanced.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Training rows.

        y : array-like of shape (n_samples,) or (n_samples, n_classes)
            Class labels, or their one-vs-all encoding.

        sampling_strategy : float, str, dict or callable, default=None
            Overrides the ``sampling_strategy`` parameter for this call; it takes
            the same values.

        Returns
        -------
        X_resampled : DataFrame, ndarray or list of shape (n_samples_new, n_features)
            The original rows followed by the synthetic ones, in ``X``'s container.

        y_resampled : Series, DataFrame, ndarray or list
            Their labels, in ``y``'s container.
        """
        labels, target = read_target(y, _num_samples(X))
        if len(np.unique(labels)) < 2:
            raise ValueError(
                "The target 'y' needs to have more than 1 class. Got 1 class instead."
            )
        if sampling_strategy is not None:
            validate_parameter_constraints(
                {"sampling_strategy": self._parameter_constraints["sampling_strategy"]},
                {"sampling_strategy": sampling_strategy},
                caller_name="fit_resample",
            )
        self.fit(X, y)
        if sampling_strategy is not None:
            self.sampling_strategy_ = rows_to_add(
                sampling_strategy, self.classes_, self.class_counts_
            )
        wanted = self.sampling_strategy_
        new_labels = np.repeat(
            np.array(list(wanted), dtype=self.classes_.dtype), list(wanted.values())
        )
        if len(new_labels) == 0:
            return X, y
        X_new = self._draw(len(new_labels), new_labels, check_random_state(self._seed))
        if isinstance(X, pd.DataFrame):
            X_out = pd.concat([X, X_new.set_axis(X.columns, axis=1)], ignore_index=True)
        else:
            X_out = np.concatenate([self._validate_X(X, reset=False), X_new])
            if self._rows_as_list:
                X_out = X_out.tolist()
        return X_out, target.restore(np.concatenate([labels, new_labels]))

    def __sklearn_tags__(self):
        return with_sampler_tags(super().__sklearn_tags__())

    def _one_hot(self, labels):
        """Float32 one-hot rows ``(n, n_classes)`` for known class labels."""
        codes = np.searchsorted(self.classes_, labels)
        return np.eye(len(self.classes_), dtype=np.float32)[codes]

    def _reject_labels_if_unconditional(self, y):
        if self.classes_ is None and y is not None:
            raise ValueError(
                "y was given, but the augmenter was fitted without classes; "
                "fit(X, y) to draw rows per class."
            )

    def _labels_to_draw(self, n_samples, y, rng):
        self._reject_labels_if_unconditional(y)
        if self.classes_ is None:
            return None
        if y is None:
            prior = self.class_counts_ / self.class_counts_.sum()
            return self.classes_[rng.choice(len(self.classes_), n_samples, p=prior)]
        labels = np.asarray(y)
        if labels.ndim == 0:
            labels = np.full(n_samples, labels.item())
        elif len(labels) != n_samples:
            raise ValueError(
                f"y holds {len(labels)} labels for n_samples={n_samples}; give one "
                "label or one per row."
            )
        return self._known(labels)

    def _known(self, labels):
        """``labels`` as the classes' dtype, after checking that each is known."""
        labels = np.asarray(labels)
        unknown = set(labels.tolist()) - set(self.classes_.tolist())
        if unknown:
            raise ValueError(
                f"Unknown class(es) {sorted(unknown, key=str)}; the augmenter was "
                f"fitted on {self.classes_.tolist()}."
            )
        return labels.astype(self.classes_.dtype)
