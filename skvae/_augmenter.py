"""VAEAugmenter: learn a table and draw new realistic rows, per class if asked."""

# License: BSD 3-Clause

from numbers import Integral, Real

import numpy as np
import pandas as pd
import torch
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d

from skvae._base import _CHUNK_ROWS, BaseVAE, fill_doc, fit_context
from skvae._threads import limited_torch_threads

__all__ = ["VAEAugmenter"]


@fill_doc()
class VAEAugmenter(BaseVAE):
    """Synthetic rows for mixed tables from a (class-conditional) VAE.

        ``fit(X)`` learns the table; ``sample(n)`` decodes draws from the prior into new
        rows with the training columns, order, dtypes and category levels (integers stay
        integers, booleans booleans, numbers within the training range). ``fit(X, y)``
        conditions encoder and decoder on the class, so that rows can be drawn per
        class, and ``fit_resample(X, y)`` balances classes the way imbalanced-learn's
        over-samplers do.

        Parameters
        ----------
        sampling_strategy : float, str or dict, default="auto"
            How ``fit_resample`` balances the classes, as in imbalanced-learn:
            ``"auto"`` or ``"not majority"`` raises every class but the majority to the
            majority's count; ``"minority"`` only the smallest class; ``"all"`` every
            class; a float (two classes only) is the wanted ratio of minority to
            majority rows after resampling; a dict maps a class to its wanted number
            of rows after resampling.

    {vae_parameters}
        Attributes
        ----------
        classes_ : ndarray of shape (n_classes,) or None
            Class labels seen in ``fit``; None after an unconditional fit.

        class_counts_ : ndarray of shape (n_classes,) or None
            Training rows per class.

    {vae_attributes}
        See Also
        --------
        sklearn.neighbors.KernelDensity : ``sample(n_samples, random_state)`` likewise.
        skvae.VAETransformer : The same VAE as a latent-space transformer.

        Notes
        -----
        The return type of ``sample`` depends on how the model was fitted, never on
        the call: after ``fit(X)`` it returns the new rows ``X_new``; after
        ``fit(X, y)`` it returns ``(X_new, y_new)``. ``X_new`` is a DataFrame when
        ``X`` was one, else an ndarray.

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

    _parameter_constraints: dict = {
        **BaseVAE._parameter_constraints,
        "sampling_strategy": [
            Interval(Real, 0, 1, closed="right"),
            StrOptions({"auto", "not majority", "minority", "all"}),
            dict,
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
        batch_size=256,
        learning_rate=1e-3,
        weight_decay=0.0,
        max_epochs="auto",
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
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
            batch_size=batch_size,
            learning_rate=learning_rate,
            weight_decay=weight_decay,
            max_epochs=max_epochs,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            tol=tol,
            device=device,
            random_state=random_state,
            verbose=verbose,
        )
        self.sampling_strategy = sampling_strategy

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the table ``X``, conditioned on the classes ``y`` if given.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Training rows; a DataFrame may mix numeric, boolean and categorical
            columns.

        y : array-like of shape (n_samples,), default=None
            Class labels. With them, rows can be drawn per class.

        Returns
        -------
        self : object
            Fitted augmenter.
        """
        condition, n_conditions = None, 0
        self.classes_ = self.class_counts_ = None
        if y is not None:
            y = _check_labels(y, X)
            self.classes_, self.class_counts_ = np.unique(y, return_counts=True)
            n_conditions = len(self.classes_)
            condition = self._one_hot(y)
        self._fit_vae(X, condition=condition, n_conditions=n_conditions)
        return self

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
        X_new : DataFrame or ndarray of shape (n_samples, n_features_in_)
            New rows; a DataFrame with the training columns and dtypes if ``fit``
            was given a DataFrame.

        y_new : ndarray of shape (n_samples,)
            Their classes; returned only after a conditional fit (``fit(X, y)``).
        """
        check_is_fitted(self)
        if not isinstance(n_samples, Integral) or n_samples < 1:
            raise ValueError(
                f"n_samples must be a positive integer, got {n_samples!r}."
            )
        rng = check_random_state(random_state)
        labels = self._labels_to_draw(n_samples, y, rng)
        generator = torch.Generator(device=self._device).manual_seed(
            int(rng.randint(np.iinfo(np.int32).max))
        )
        module = self.module_.eval()
        parts = []
        with torch.inference_mode(), limited_torch_threads():
            for start in range(0, n_samples, _CHUNK_ROWS):
                n = min(_CHUNK_ROWS, n_samples - start)
                condition = None
                if labels is not None:
                    condition = torch.as_tensor(
                        self._one_hot(labels[start : start + n]), device=self._device
                    )
                parts.append(module.sample(n, generator, condition).cpu().numpy())
        X_new = self._encoder.inverse_transform(np.concatenate(parts), clip=True)
        return X_new if labels is None else (X_new, labels)

    def fit_resample(self, X, y, *, sampling_strategy=None):
        """Fit on ``(X, y)`` and add synthetic rows until the classes are balanced.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Training rows.

        y : array-like of shape (n_samples,)
            Class labels.

        sampling_strategy : float, str or dict, default=None
            Overrides the ``sampling_strategy`` parameter for this call.

        Returns
        -------
        X_resampled : DataFrame or ndarray of shape (n_samples_new, n_features)
            The original rows followed by the synthetic ones.

        y_resampled : Series or ndarray of shape (n_samples_new,)
            Their labels.
        """
        self.fit(X, y)
        strategy = (
            self.sampling_strategy if sampling_strategy is None else sampling_strategy
        )
        wanted = _rows_to_add(strategy, self.classes_, self.class_counts_)
        labels = np.repeat(
            np.array(list(wanted), dtype=self.classes_.dtype), list(wanted.values())
        )
        if len(labels) == 0:
            return X, y
        X_new, y_new = self.sample(len(labels), y=labels, random_state=self._seed)
        if isinstance(X, pd.DataFrame):
            X_out = pd.concat([X, X_new.set_axis(X.columns, axis=1)], ignore_index=True)
        else:
            X_out = np.concatenate([np.asarray(X, dtype=np.float64), X_new])
        if isinstance(y, pd.Series):
            y_out = pd.concat([y, pd.Series(y_new, name=y.name)], ignore_index=True)
        else:
            y_out = np.concatenate([np.asarray(y), y_new])
        return X_out, y_out

    def _one_hot(self, labels):
        """Float32 one-hot rows ``(n, n_classes)`` for known class labels."""
        codes = np.searchsorted(self.classes_, labels)
        return np.eye(len(self.classes_), dtype=np.float32)[codes]

    def _labels_to_draw(self, n_samples, y, rng):
        if self.classes_ is None:
            if y is not None:
                raise ValueError(
                    "y was given, but the augmenter was fitted without classes; "
                    "fit(X, y) to draw rows per class."
                )
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
        unknown = set(labels.tolist()) - set(self.classes_.tolist())
        if unknown:
            raise ValueError(
                f"Unknown class(es) {sorted(unknown, key=str)}; the augmenter was "
                f"fitted on {self.classes_.tolist()}."
            )
        return labels.astype(self.classes_.dtype)


def _check_labels(y, X):
    y = column_or_1d(np.asarray(y), warn=True)
    check_classification_targets(y)
    n_rows = X.shape[0] if hasattr(X, "shape") else len(X)
    if len(y) != n_rows:
        raise ValueError(f"X has {n_rows} rows but y has {len(y)} labels.")
    return y


def _rows_to_add(strategy, classes, counts):
    """Synthetic rows to add per class, as imbalanced-learn's over-samplers do."""
    count = dict(zip(classes.tolist(), counts.tolist(), strict=True))
    majority = max(count, key=count.get)
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
    if strategy == "minority":
        minority = min(count, key=count.get)
        return {minority: count[majority] - count[minority]}
    chosen = (
        count
        if strategy == "all"
        else {c: n for c, n in count.items() if c != majority}
    )
    return {c: count[majority] - n for c, n in chosen.items() if n < count[majority]}
