"""The parameter and attribute text that the estimators' docstrings share."""

# License: BSD 3-Clause

import inspect

__all__ = ["fill_doc"]

_SHARED_PARAMETERS = """\
    n_components : int or "auto", default={n_components_default}
        Size of the latent space. ``"auto"`` takes {auto_latent_share} of the
        number of input columns, clipped to [{auto_latent_min}, {auto_latent_max}].

    hidden_layer_sizes : tuple of int or "auto", default="auto"
        Hidden layer widths of the encoder; the decoder mirrors them. ``"auto"``
        is ``(64, 32)``.

    activation : {{"elu", "relu", "gelu", "silu", "tanh", "leaky_relu"}}, \
default="elu"
        Activation after each hidden layer.

    dropout : float, default=0.0
        Dropout probability after each hidden layer, during training only.

    beta : float, default=1.0
        Weight of the KL term in the training objective (beta-VAE). 1 gives the
        ELBO.

    scaling : {{"standard", "robust", "quantile", "none"}}, default={scaling_default}
        Scaling of numeric columns before the network sees them: ``"standard"``
        subtracts the mean and divides by the standard deviation, ``"robust"``
        uses the median and the interquartile range, ``"quantile"`` maps each
        column to a standard normal through its quantiles (clipping values beyond
        the training range) and ``"none"`` leaves numbers as they are.
        Categorical and boolean columns are one-hot or 0/1 encoded whatever this
        says.

    handle_unknown : {{"ignore", "error"}}, default="ignore"
        What a category level not seen in fit does to a row given later.
        ``"ignore"`` treats the cell as missing (much as
        ``OneHotEncoder(handle_unknown="ignore")`` encodes it as all zeros), so
        one new level never fails a batch; ``"error"`` raises ``ValueError``.

    column_kinds : dict or None, default=None
        How to model some columns, overriding the guess: a dict from column name
        (DataFrames) or position (arrays) to ``"numeric"`` (a Gaussian; counts
        and ratings on a grid get bins where the estimator uses them),
        ``"binary"`` (a Bernoulli over two levels) or ``"categorical"`` (one
        level per distinct value). The guess: booleans binary, numbers numeric
        (0/1 numbers too), other columns categorical (binary with two levels);
        a column of numbers written as text warns, a column of dates, times
        or durations is an error. ``column_kinds_`` says what was used.

    point_mass_share : float in (0, 1] or None, default={point_mass_share_default}
        A numeric column in which an exact value holds at least this share of
        the observed training values (0 in "capital gain", 40 in "hours per
        week") models it as a point mass: the column becomes a categorical
        choice between "continuous" and its point masses ({max_point_masses}),
        plus a Gaussian for the continuous values, which keep at least
        {min_continuous_values} distinct values (columns of fewer keep one
        Gaussian). Samples and reconstructions return the point masses
        exactly, and a repeated value does not earn an ever-growing density.
        None models every numeric column as one Gaussian.

    batch_size : int, default=256
        Rows per optimiser step (capped at the number of training rows).

    learning_rate : float, default=1e-3
        Adam's step size.

    weight_decay : float, default=0.0
        Adam's L2 penalty on the weights.

    max_epochs : int or "auto", default="auto"
        Largest number of passes over the training rows. ``"auto"`` allows 100
        epochs or 3,000 optimiser steps, whichever comes first, but at least as
        many epochs as make {min_steps_auto:,} steps (small tables), and does not
        stop early before those {min_steps_auto:,} steps. A number given here warns
        (``ConvergenceWarning``) if training is still improving when it runs out.

    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the rows{validation_rule}
        ``n_iter_no_change`` epochs, {early_stopping_weights}. If False, stop
        when the training loss stops improving.

    validation_fraction : float, default=0.1
        Share of the rows held out for early stopping.

    n_iter_no_change : int, default=10
        Epochs without improvement before stopping.

    tol : float, default=1e-4
        Smallest improvement of what early stopping watches that counts.

    warm_start : bool, default=False
        If True, ``fit`` trains the fitted network further on the new rows
        (with the schema and scaling of the first fit, and a fresh optimiser)
        instead of starting anew. New rows must fit that schema (see
        ``partial_fit``).

    device : {{"auto", "cpu", "cuda"}}, str or torch.device, default="auto"
        Where the network trains and predicts. ``"auto"`` uses CUDA when available;
        ``"cuda:1"`` names one GPU. Other device types (MPS) are refused:
        predictions compute in float64. A fitted model pickles with CPU tensors
        and loads on a CPU-only machine.

    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, the validation split, batch order and the
        reparameterisation noise. Pass an int for reproducible results on one
        device.

    verbose : int, default=0
        1 prints about 20 progress lines per fit, 2 one line per epoch; any
        level prints one line per ``partial_fit`` call.

"""

_SHARED_ATTRIBUTES = """\
    column_kinds_ : dict
        How each input column is modelled, by column name (DataFrames) or
        position (arrays): ``"numeric"``, ``"binary"`` or ``"categorical"``.

    n_components_ : int
        Size of the latent space: ``n_components``, or what ``"auto"`` chose.

    module_ : torch.nn.Module
        The trained network (encoder, posterior, decoder and likelihood heads).

    loss_curve_ : list of float
        Mean training loss (negative ELBO per row) after each epoch.

    validation_scores_ : list of float or None
        {validation_scores}

    best_loss_ : float
        The smallest value of ``loss_curve_``.

    n_iter_ : int
        Number of epochs run (with ``warm_start``, over all fits); each
        ``partial_fit`` call counts as one.

    n_samples_seen_ : int
        Number of rows trained on: the rows of ``fit`` (with ``warm_start``,
        of all fits) and of every ``partial_fit`` call.

    n_features_in_ : int
        Number of features seen during ``fit``.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``. Defined only when ``X``
        has feature names that are all strings.

"""


# How early stopping and validation_scores_ are described, by what is watched.
_ELBO_RULE = """ and stop when their ELBO has
        not improved by ``tol`` for"""
_HIDDEN_CELLS_RULE = """, hide each of their cells
        from the network in turn, and stop when the mean squared error
        of its fills (in scaled units; a Brier score for binary and
        categorical cells) has not fallen by ``tol`` for"""
_ELBO_SCORES = """Mean validation ELBO per row after each epoch; None without early
        stopping."""
_HIDDEN_CELLS_SCORES = (
    "After each epoch, minus the mean squared error of the network's\n"
    "        fills of the validation cells hidden from it (a Brier score for\n"
    "        binary and categorical cells); None without early stopping."
)


def fill_doc(cls):
    """Put the shared parameter and attribute text into a class docstring.

    The docstring holds ``{vae_parameters}`` and ``{vae_attributes}`` on lines of
    their own, indented as its sections are. The defaults of ``n_components``
    and ``scaling``, which differ between the estimators, are read from
    ``cls.__init__``; ``tests/test_docstrings.py`` checks every documented default
    against the signature.
    """
    if cls.__doc__ is None:  # python -OO strips docstrings
        return cls
    defaults = {
        name: parameter.default
        for name, parameter in inspect.signature(cls.__init__).parameters.items()
    }
    parameters = _SHARED_PARAMETERS.format(
        n_components_default=_doc_default(defaults["n_components"]),
        auto_latent_share={2: "half", 4: "a quarter"}.get(
            cls._columns_per_auto_latent, f"1/{cls._columns_per_auto_latent}"
        ),
        min_steps_auto=cls._min_steps_auto,
        auto_latent_min=cls._auto_latent_range[0],
        auto_latent_max=cls._auto_latent_range[1],
        scaling_default=_doc_default(defaults["scaling"]),
        point_mass_share_default=_doc_default(defaults["point_mass_share"]),
        max_point_masses=(
            "the most frequent value"
            if cls._max_point_masses == 1
            else f"the {cls._max_point_masses} most frequent values at most"
        ),
        min_continuous_values=cls._min_continuous_values,
        validation_rule=(
            _HIDDEN_CELLS_RULE if cls._stop_on_hidden_cells else _ELBO_RULE
        ),
        early_stopping_weights=(
            "restoring the best weights"
            if cls._restore_best_weights
            else "keeping the last weights (not the best ones)"
        ),
    )
    attributes = _SHARED_ATTRIBUTES.format(
        validation_scores=(
            _HIDDEN_CELLS_SCORES if cls._stop_on_hidden_cells else _ELBO_SCORES
        )
    )
    cls.__doc__ = cls.__doc__.replace("    {vae_parameters}\n", parameters).replace(
        "    {vae_attributes}\n", attributes
    )
    return cls


def _doc_default(value):
    """A default as numpydoc writes it: strings in double quotes."""
    return f'"{value}"' if isinstance(value, str) else repr(value)
