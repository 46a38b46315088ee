"""VAETransformer: encode rows into a small latent space and decode them back."""

# License: BSD 3-Clause

import numpy as np
import pandas as pd
import torch
from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin, _fit_context
from sklearn.utils.validation import check_is_fitted

from skvae._base import BaseVAE
from skvae._docstrings import fill_doc
from skvae._row_noise import row_normals

__all__ = ["VAETransformer"]


@fill_doc
class VAETransformer(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseVAE):
    """Nonlinear dimensionality reduction with a variational autoencoder.

    Like :class:`~sklearn.decomposition.PCA`, but the map to the latent space and
    back is a neural network, and a DataFrame may mix numeric, boolean and
    categorical columns. ``transform`` returns the posterior mean of each row's
    latent code; ``inverse_transform`` decodes latent codes back into the original
    table; ``score`` is the mean log-likelihood estimate per row, so that
    :class:`~sklearn.model_selection.GridSearchCV` can tune ``n_components`` and the
    architecture without labels, as it does for ``PCA``.

    Rows may have missing cells (NaN, None, ``pd.NA``) in ``fit`` and in
    ``transform``: the encoder reads the cells a row has, and
    ``inverse_transform`` returns complete rows. A category level not seen in
    fit is read as a missing cell (``handle_unknown="ignore"``).

    Parameters
    ----------
    sample_latent : bool, default=False
        If True, ``transform`` returns one draw from each row's posterior q(z|x)
        instead of its mean. A row's draw depends only on its values and the seed
        drawn from ``random_state`` at fit time, not on the other rows or its
        position among them: transforming the same row twice gives the same
        output.

    {vae_parameters}
    Attributes
    ----------
    {vae_attributes}
    See Also
    --------
    sklearn.decomposition.PCA : Linear dimensionality reduction, same API.
    sklearn.decomposition.KernelPCA : Nonlinear, kernel-based.
    skvae.VAEAnomalyDetector : The same VAE scoring rows as anomalies.

    Notes
    -----
    ``transform`` preserves a float32 or float64 input dtype. For DataFrame input,
    ``inverse_transform`` returns a DataFrame with the training columns, dtypes and
    category levels (the most likely level of each categorical column; integers
    rounded).

    Examples
    --------
    >>> from sklearn.datasets import load_wine
    >>> from skvae import VAETransformer
    >>> X = load_wine(as_frame=True).data
    >>> vae = VAETransformer(n_components=2, max_epochs=3, random_state=0)
    >>> Z = vae.fit_transform(X)
    >>> Z.shape
    (178, 2)
    >>> vae.get_feature_names_out()
    array(['vaetransformer0', 'vaetransformer1'], dtype=object)
    >>> vae.inverse_transform(Z).shape
    (178, 13)
    """

    _parameter_constraints: dict = {
        **BaseVAE._parameter_constraints,
        "sample_latent": ["boolean"],
    }

    def __init__(
        self,
        *,
        n_components=2,
        sample_latent=False,
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
        self.sample_latent = sample_latent

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the VAE on ``X``.

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
            Fitted transformer.
        """
        self._fit_vae(X)
        return self

    def transform(self, X):
        """Encode ``X`` into the latent space.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Rows to encode.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_components)
            Posterior means (or draws, with ``sample_latent=True``).
        """
        check_is_fitted(self)

        def encode(module, x):
            mu, logvar = module.encode(x)
            if not self.sample_latent:
                return mu
            eps = row_normals(x.cpu().numpy(), self._seed, mu.shape[1])
            return mu + torch.as_tensor(eps, device=mu.device) * (0.5 * logvar).exp()

        latent = self._run_chunked(encode, self._encode(X))
        return latent.astype(_output_dtype(X), copy=False)

    def inverse_transform(self, X):
        """Decode latent codes back into the original feature space.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Latent codes, e.g. the output of ``transform``.

        Returns
        -------
        X_original : DataFrame or ndarray of shape (n_samples, n_features)
            The decoder's most likely row for each code: a DataFrame with the
            training columns and dtypes if ``fit`` was given a DataFrame (and
            the index of ``X``, if a DataFrame), else a float ndarray.
        """
        check_is_fitted(self)
        Z = _check_latent(X, self.module_.n_components)

        def decode(module, z):
            return module.mode(module.decode(z))

        decoded = self._encoder.inverse_transform(self._run_chunked(decode, Z))
        if isinstance(X, pd.DataFrame) and isinstance(decoded, pd.DataFrame):
            decoded.index = X.index
        return decoded

    @property
    def _n_features_out(self):
        return self.n_components_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


def _output_dtype(X):
    dtype = getattr(X, "dtype", None)
    return dtype if dtype in (np.float32, np.float64) else np.float64


def _check_latent(X, n_components):
    if isinstance(X, pd.DataFrame):
        X = X.to_numpy()
    Z = np.asarray(X, dtype=np.float64)
    if Z.ndim != 2 or Z.shape[1] != n_components:
        raise ValueError(
            f"inverse_transform expects latent codes of shape (n_samples, "
            f"{n_components}), got {Z.shape}."
        )
    if not np.isfinite(Z).all():
        raise ValueError("Latent codes contain NaN or infinity.")
    return Z.astype(np.float32)
