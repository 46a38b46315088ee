"""BaseVAE: parameters, fitting and pickling shared by the estimators."""

# License: BSD 3-Clause

import contextlib
import functools
import math
import warnings
from numbers import Integral, Real

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from skvae._device import float64_copy, resolve_device, rows_on_device, to_cpu
from skvae._hidden_cells import HiddenCellCheck
from skvae._incremental import RowReservoir, reservoir_capacity
from skvae._network import ACTIVATIONS, TabularVAE
from skvae._tabular import SCALINGS, TabularEncoder
from skvae._threads import limited_torch_threads
from skvae._training import CHUNK_ROWS as _CHUNK_ROWS
from skvae._training import (
    INDICATOR_BATCH_SIZE,
    INDICATOR_LR_FACTOR,
    INDICATOR_STEPS,
    TRIM_AFTER_STEPS_INCREMENTAL,
    check_finite_loss,
    indicator_batches,
    make_optimizer,
    train_epoch,
    train_indicators,
    train_vae,
    trim_start,
)

__all__ = ["BaseVAE", "auto_step_budget"]

# The rows that fit's indicator steps draw wait for the first input that needs
# the indicators only while they take at most this many bytes; more (very wide
# or large tables) and the steps run in fit, as a pickle would carry them.
_DEFERRED_INDICATOR_BYTES = 8 * 2**20

# Measured on the ADBench dev suite (benchmarks/RESULTS.md): tiny tables need a
# floor on optimiser steps, a fixed epoch count leaves them undertrained; 1,000
# steps scored as well as 3,000 at a third of the time. Large tables need no
# more than 3,000 steps once the numeric scales learn fast ("Speed" there):
# 100 epochs of 35,000 rows (12,000 steps) scored no better at 4x the time.
# hidden_layer_sizes="auto": (64, 32), mirrored by the decoder.
_AUTO_HIDDEN_LAYER_SIZES = (64, 32)
_MIN_STEPS_AUTO = 1000
_MAX_EPOCHS_AUTO = 100
_MAX_STEPS_AUTO = 3000


def auto_step_budget(n_train_rows, batch_size, min_steps=None):
    """``max_epochs="auto"``: return ``(max_epochs, min_steps)`` for a table.

    100 epochs or 3,000 optimiser steps, whichever comes first, but at least as
    many epochs as make ``min_steps`` steps (default 1,000), and no early stop
    before those steps.
    """
    min_steps = _MIN_STEPS_AUTO if min_steps is None else min_steps
    steps_per_epoch = max(1, n_train_rows // batch_size)
    in_budget = min(_MAX_EPOCHS_AUTO, math.ceil(_MAX_STEPS_AUTO / steps_per_epoch))
    floor = math.ceil(min_steps / steps_per_epoch)
    return max(in_budget, floor), min_steps


class BaseVAE(BaseEstimator):
    """Shared machinery of the skvae estimators; not for direct use."""

    # How much faster than the weights the numeric columns' Gaussian scales
    # learn. At 1x they take ~5,000 steps to settle, which keeps the objective
    # close to a squared error for longer: the transformer's reconstructions and
    # the augmenter's SDMetrics quality were better so (benchmarks/RESULTS.md,
    # "Speed"); the detector overrides it.
    _scale_lr_factor = 1.0

    # Whether numeric columns on a grid (counts, ratings) are scored by the
    # probability of their bin instead of a density (TabularEncoder.half_bins_).
    # Measured for the detector only so far (benchmarks/RESULTS.md); the
    # transformer and the augmenter keep densities until their benchmarks say.
    _bin_grid_columns = False

    # Optimiser steps that max_epochs="auto" takes at least (auto_step_budget);
    # the imputer takes more (benchmarks/RESULTS.md, "Imputation").
    _min_steps_auto = _MIN_STEPS_AUTO

    # n_components="auto": the input columns over this, clipped to the range.
    # The imputer takes a larger latent space (benchmarks/RESULTS.md,
    # "Imputation": "The latent size, on a fresh set of tables").
    _columns_per_auto_latent = 4
    _auto_latent_range = (2, 8)

    # Most point masses per numeric column (point_mass_share), and fewest
    # distinct values a column keeps for its Gaussian.
    _max_point_masses = 3
    _min_continuous_values = 3
    # Most Gaussian modes of a numeric column's continuous values
    # (TabularEncoder.max_modes); 1: one Gaussian.
    _max_modes = 1

    # Share of training rows in which one cell is hidden from the encoder
    # (TabularVAE.forward), so that the model learns to infer a cell from the
    # others. Off: hiding one cell in half the rows, or 10% or 25% of all cells,
    # did not rank anomalies better on both halves of the dev suite
    # (benchmarks/RESULTS.md, "Missing cells"; over five network seeds,
    # "Cells masked from the encoder").
    _hide_rate = 0.0
    # Posterior draws per training row: 1 trains on the ELBO, more on the
    # importance-weighted bound over that many (skvae._training.negative_elbo),
    # at about that many decoder passes a step.
    _training_draws = 1
    # Steps that teach the trained network what a hidden cell means in the
    # columns without holes in fit (skvae._training.train_indicators); complete
    # rows score as before. Measured in benchmarks/RESULTS.md ("Explanations").
    _indicator_steps = INDICATOR_STEPS
    # Whether early stopping ends on the weights of the best validation ELBO
    # (True) or on the last ones; the detector keeps the last ones.
    _restore_best_weights = True
    # Whether early stopping watches how well the network fills validation
    # cells hidden from it (HiddenCellCheck) instead of the validation ELBO.
    _stop_on_hidden_cells = False
    # Share of the learning rate that a cosine decay over the planned epochs
    # ends on (skvae._training.cosine_lr_factor); None: a constant rate. A
    # decay to a tenth ranked anomalies and filled holes worse on both halves
    # of the dev suite (benchmarks/RESULTS.md, "A falling learning rate").
    _final_lr_fraction = None

    _parameter_constraints: dict = {
        "n_components": [
            Interval(Integral, 1, None, closed="left"),
            StrOptions({"auto"}),
        ],
        "hidden_layer_sizes": ["array-like", StrOptions({"auto"})],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "beta": [Interval(Real, 0, None, closed="left")],
        "scaling": [StrOptions(set(SCALINGS))],
        "handle_unknown": [StrOptions({"ignore", "error"})],
        "column_kinds": [dict, None],
        "point_mass_share": [Interval(Real, 0, 1, closed="right"), None],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "max_epochs": [
            Interval(Integral, 1, None, closed="left"),
            StrOptions({"auto"}),
        ],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "warm_start": ["boolean"],
        "device": [str, torch.device],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
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
        self.n_components = n_components
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.dropout = dropout
        self.beta = beta
        self.scaling = scaling
        self.handle_unknown = handle_unknown
        self.column_kinds = column_kinds
        self.point_mass_share = point_mass_share
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.max_epochs = max_epochs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.warm_start = warm_start
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    # -- input -------------------------------------------------------------------

    def _validate_X(self, X, *, reset):
        """Check ``X``; return a DataFrame, a float ndarray or an object ndarray.

        An object or string array that converts to numbers is numeric, as
        scikit-learn reads it; one holding categories (strings) stays an object
        array, a table whose columns the encoder types one by one.
        """
        if isinstance(X, pd.Series):
            # Else a row of mixed values fails converting to floats, a message
            # that names the cell rather than the shape.
            raise ValueError(
                f"Expected a 2-dimensional table, got a pandas Series of {len(X)} "
                "values. Pass a DataFrame: X.to_frame().T for one row, "
                "X.to_frame() for one column."
            )
        if isinstance(X, pd.DataFrame):
            validate_data(self, X, reset=reset, skip_check_array=True)
            if X.shape[0] == 0:
                raise ValueError(
                    f"Found array with 0 sample(s) (shape={X.shape}) while a minimum "
                    "of 1 is required."
                )
            return X
        if _holds_categories(X):
            return validate_data(
                self, X, reset=reset, dtype=object, ensure_all_finite="allow-nan"
            )
        return validate_data(
            self,
            X,
            reset=reset,
            dtype=[np.float64, np.float32],
            ensure_all_finite="allow-nan",
        )

    def _encode(self, X, *, reset=False):
        """Validate ``X`` and return its float32 encoding.

        With ``reset`` the encoder is fitted first and the whole encoding is
        returned as an array (training needs it all); otherwise rows are encoded
        chunk by chunk as inference reads them (see :class:`_EncodedRows`).
        """
        X = self._validate_X(X, reset=reset)
        if reset:
            self._encoder = TabularEncoder(
                scaling=self.scaling,
                handle_unknown=self.handle_unknown,
                column_kinds=self.column_kinds,
                point_mass_share=self.point_mass_share,
                max_point_masses=self._max_point_masses,
                min_continuous_values=self._min_continuous_values,
                max_modes=self._max_modes,
            ).fit(X)
            self.column_kinds_ = {c.name: c.kind for c in self._encoder.columns_}
            return self._encoder.transform(X)
        return _EncodedRows(self._encoder, self._as_fitted_table(X))

    def _validated_table(self, X):
        """``X`` validated against the fit, in the form the encoder was fitted on."""
        return self._as_fitted_table(self._validate_X(X, reset=False))

    def _as_fitted_table(self, X):
        if not isinstance(X, pd.DataFrame) and self._encoder.is_dataframe_:
            # Fitted on a DataFrame, now given an array: sklearn allows this (with
            # a warning from validate_data) as long as the columns line up.
            X = pd.DataFrame(X, columns=[c.name for c in self._encoder.columns_])
        return X

    # -- fitting -----------------------------------------------------------------

    def _fit_vae(
        self, X, condition=None, n_conditions=0, trim_fraction=0.0, input_noise=0.0
    ):
        """Fit the encoder and the network on ``X``; return the encoded data.

        ``condition`` is an optional one-hot float array ``(n_samples,
        n_conditions)`` given to both encoder and decoder; ``trim_fraction`` and
        ``input_noise`` are passed to :func:`~skvae._training.train_vae`. With
        ``warm_start`` and a fitted network, the encoder and the network are
        kept and trained further.
        """
        warm = self.warm_start and hasattr(self, "module_")
        rng = check_random_state(self.random_state)
        if warm:
            self._complete_indicators()
            data = self._encode_more(X)
            seed = int(rng.randint(np.iinfo(np.int32).max))
        else:
            data = self._start_anew(X, n_conditions, rng)
            seed = self._seed
        val_rows, train_rows = self._validation_split(data.shape[0], rng)
        batch_size = min(self.batch_size, len(train_rows))
        if self.max_epochs == "auto":
            max_epochs, min_steps = auto_step_budget(
                len(train_rows), batch_size, self._min_steps_auto
            )
        else:
            max_epochs, min_steps = self.max_epochs, 0

        device = self._device
        with self._seeded(seed) as generator:
            if not warm:
                self.module_ = TabularVAE(**self._module_kwargs).to(device)
            pick = functools.partial(rows_on_device, device=device)
            X_val = pick(data, val_rows)
            history = train_vae(
                self.module_,
                pick(data, train_rows),
                X_val=X_val,
                condition=pick(condition, train_rows),
                condition_val=pick(condition, val_rows),
                batch_size=batch_size,
                learning_rate=self.learning_rate,
                weight_decay=self.weight_decay,
                max_epochs=max_epochs,
                min_steps=min_steps,
                n_iter_no_change=self.n_iter_no_change,
                tol=self.tol,
                beta=self.beta,
                generator=generator,
                verbose=self.verbose,
                # "auto" is a budget chosen on purpose; running it out is no news.
                warn_unconverged=self.max_epochs != "auto",
                scale_lr_factor=self._scale_lr_factor,
                trim_fraction=trim_fraction,
                hide_rate=self._hide_rate,
                restore_best=self._restore_best_weights,
                input_noise=input_noise,
                draws=self._training_draws,
                validation_check=(
                    None if X_val is None else self._validation_check(X_val, seed)
                ),
                final_lr_fraction=self._final_lr_fraction,
            )
            self._train_indicators(
                pick(data, train_rows),
                pick(condition, train_rows),
                self._indicator_steps,
                batch_size,
                generator,
                defer=True,
            )
        self.validation_scores_ = (
            history.validation_scores if val_rows is not None else None
        )
        # The optimiser and row sample of earlier partial_fit calls do not
        # carry over a fit (with warm_start too): a later call starts its own.
        self._optimizer = self._reservoir = None
        self._record_training(
            history.loss_curve, history.n_iter, history.n_steps, data.shape[0]
        )
        return data

    def _validation_check(self, X_val, seed):
        """What early stopping watches on the encoded validation rows
        ``X_val`` in place of their ELBO: a callable taking the network to a
        score (higher is better), or None for the ELBO."""
        if not self._stop_on_hidden_cells:
            return None
        check = HiddenCellCheck(self.module_, X_val, seed)
        return check if check.n_hidden else None

    def _record_training(self, losses, n_epochs, n_steps, n_rows):
        """Count one training run (a fit, or a partial_fit call) in the fitted
        attributes, refresh the float64 copy that predicts, and call the
        schema hook."""
        self._module64 = float64_copy(self.module_)
        self.loss_curve_ = self.loss_curve_ + list(losses)
        self.best_loss_ = min(self.loss_curve_)
        self.n_iter_ += n_epochs
        self._n_steps += n_steps
        self.n_samples_seen_ += n_rows
        self._schema_fixed()

    def _start_anew(self, X, n_conditions, rng):
        """Fit the encoder on ``X``; draw the seed from ``rng``, choose the
        device and the network's shape, and zero the training counters.
        Returns the encoded ``X``. The network itself is built under the seed.
        """
        data = self._encode(X, reset=True)
        self._device = resolve_device(self.device)
        self._seed = int(rng.randint(np.iinfo(np.int32).max))
        self._module_kwargs = self._network_shape(n_conditions)
        self.n_components_ = self._module_kwargs["n_components"]
        self.loss_curve_ = []
        self.n_iter_ = self._n_steps = self.n_samples_seen_ = 0
        self._optimizer = self._reservoir = None
        return data

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """Train on one more chunk of rows: one pass over ``X``.

        The first call fixes the schema (columns, their kinds, category levels,
        which columns get a missing flag) and the numeric scaling from its
        chunk, so make that chunk representative; a later chunk with a new
        level raises ``ValueError``. The optimiser's state carries over between
        calls (and through a pickle). There is no early stopping: the caller
        decides how many passes to make.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            A chunk of training rows (for ``VAEImputer``, with missing cells;
            they may fall in any column).

        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            The estimator, trained on one more chunk.
        """
        self._partial_fit_vae(X)
        return self

    def _schema_fixed(self):
        """Hook at the end of every fit and partial_fit call, for fitted
        attributes that follow the encoder's schema."""

    def _partial_fit_vae(
        self, X, condition=None, n_conditions=0, trim_fraction=0.0, input_noise=0.0
    ):
        """One pass over the rows of ``X``, from where the last call left off.

        The first call (on an unfitted estimator) fixes the encoder (schema and
        scaling) from ``X`` and builds the network; later calls encode strictly
        against it (:meth:`TabularEncoder.transform`). The Adam state carries
        over between calls, and pickles with the estimator. Each call is one
        epoch for ``n_iter_`` and for the trimming warm-up; there is no
        validation split or early stopping. The rows are offered to
        ``_reservoir``, a bounded uniform sample of every row seen. Returns the
        encoded chunk.
        """
        first = not hasattr(self, "module_")
        if first:
            data = self._start_anew(
                X, n_conditions, check_random_state(self.random_state)
            )
        else:
            self._complete_indicators()
            data = self._encode_more(X)
        device = self._device
        batch_size = min(self.batch_size, data.shape[0])
        # Seeded per call: the same chunks in the same order give the same model,
        # also across a pickle.
        with self._seeded(self._seed + self.n_iter_) as generator:
            if first:
                self.module_ = TabularVAE(**self._module_kwargs).to(device)
            optimizer = self._incremental_optimizer()
            x = rows_on_device(data, slice(None), device)
            cond = rows_on_device(condition, slice(None), device)
            self.module_.train()
            loss, n_batches = train_epoch(
                self.module_,
                optimizer,
                x,
                condition=cond,
                batch_size=batch_size,
                beta=self.beta,
                generator=generator,
                trim_fraction=trim_fraction,
                trim_from_batch=trim_start(
                    self.n_iter_ + 1, self._n_steps, TRIM_AFTER_STEPS_INCREMENTAL
                ),
                hide_rate=self._hide_rate,
                input_noise=input_noise,
                draws=self._training_draws,
            )
            self.module_.eval()
            check_finite_loss(loss, self.n_iter_ + 1)
            # The indicators follow the network as it trains; a share of the
            # chunk's steps keeps the cost of a call within a quarter more.
            steps = min(self._indicator_steps, math.ceil(n_batches / 4))
            self._train_indicators(x, cond, steps, batch_size, generator)
        if self.verbose:
            print(
                f"partial_fit call {self.n_iter_ + 1}: loss {loss:.4f} over "
                f"{data.shape[0]} rows",
                flush=True,
            )
        self.validation_scores_ = None
        self._record_training([loss], 1, n_batches, data.shape[0])
        if self._reservoir is None:
            self._reservoir = RowReservoir(reservoir_capacity(data.shape[1]))
        rng = np.random.RandomState((self._seed + self.n_iter_) % 2**32)
        self._reservoir.add(data, rng=rng)
        return data

    def _incremental_optimizer(self):
        """The Adam optimiser that partial_fit continues, restored after a pickle."""
        if getattr(self, "_optimizer", None) is None:
            self._optimizer = make_optimizer(
                self.module_,
                self.learning_rate,
                self.weight_decay,
                self._scale_lr_factor,
            )
            saved = getattr(self, "_optimizer_state", None)
            if saved is not None:
                self._optimizer.load_state_dict(saved)
                self._optimizer_state = None
        return self._optimizer

    @contextlib.contextmanager
    def _seeded(self, seed):
        """torch seeded with ``seed`` (its global state restored after), torch
        threads capped; yields a CPU generator seeded alike for batch order."""
        device = self._device
        fork_devices = [device.index or 0] if device.type == "cuda" else []
        with torch.random.fork_rng(devices=fork_devices), limited_torch_threads():
            torch.manual_seed(seed)
            yield torch.Generator().manual_seed(seed)

    def _train_indicators(
        self, x, condition, steps, batch_size, generator, defer=False
    ):
        """Train the indicators of the columns without holes in fit
        (:func:`~skvae._training.train_indicators`); those of columns with
        holes learned with the rest.

        With ``defer``, on CPU, the steps wait for the first input that needs
        them (a hole in such a column, ``explain``'s masking, more training;
        complete rows score the same either way): about 6% of a small table's
        fit. What they would use is kept: the rows their batches draw and
        torch's random state, so they make the same steps whenever they run.
        """
        self._pending_indicators = None
        never_missing = self._never_missing_variables()
        if not (steps and never_missing.any()):
            return
        batches = indicator_batches(
            x.shape[0], steps, min(batch_size, INDICATOR_BATCH_SIZE), generator
        )
        # On CUDA they run now: their random draws come from the device, and a
        # model loaded on a CPU-only machine could not repeat them.
        if defer and self._device.type == "cpu":
            drawn, positions = torch.unique(torch.cat(batches), return_inverse=True)
            if len(drawn) * x[0].nbytes <= _DEFERRED_INDICATOR_BYTES:
                self._pending_indicators = {
                    "rows": x.index_select(0, drawn),
                    "condition": None
                    if condition is None
                    else condition.index_select(0, drawn),
                    # one array: a list of views would pickle the whole index
                    # once per step
                    "batches": positions.view(len(batches), -1).numpy(),
                    "variables": never_missing,
                    "rng": torch.get_rng_state(),
                }
                return
        self._run_indicators(x, condition, batches, never_missing)

    def _run_indicators(self, x, condition, batches, never_missing):
        train_indicators(
            self.module_,
            x,
            condition=condition,
            batches=batches,
            learning_rate=INDICATOR_LR_FACTOR * self.learning_rate,
            beta=self.beta,
            variables=torch.as_tensor(never_missing, device=x.device),
        )

    def _complete_indicators(self):
        """Run the indicator steps that fit deferred, as fit would have, and
        refresh the float64 copy that predicts."""
        pending = getattr(self, "_pending_indicators", None)
        if pending is None:
            return
        # Called from inside prediction too, which runs without autograd. On
        # CPU, where fit deferred them, even if the model was loaded on a GPU.
        self.module_.cpu()
        try:
            with (
                torch.inference_mode(False),
                torch.enable_grad(),
                torch.random.fork_rng(devices=[]),
                limited_torch_threads(),
            ):
                torch.set_rng_state(pending["rng"])
                self._run_indicators(
                    pending["rows"],
                    pending["condition"],
                    [torch.as_tensor(rows) for rows in pending["batches"]],
                    pending["variables"],
                )
        finally:
            self.module_.to(self._device)
        self._pending_indicators = None
        self._module64 = float64_copy(self.module_)

    def _needs_indicators(self, x):
        """Whether encoded rows ``x`` hide a variable whose indicators fit
        deferred (a hole in a column that had none in fit)."""
        pending = getattr(self, "_pending_indicators", None)
        # Latent codes (inverse_transform) are no rows: they have other widths
        # or, being validated finite, no holes.
        if pending is None or x.shape[-1] != self.module_.n_features:
            return False
        holes = torch.isnan(x).index_select(-1, self.module_.variable_first_entry)
        variables = torch.as_tensor(pending["variables"], device=x.device)
        return bool(holes[:, variables].any())

    def _encode_more(self, X):
        """Validate and encode rows that train a fitted model further: they must
        fit its schema (:meth:`TabularEncoder.transform` with ``strict``)."""
        X = self._validated_table(X)
        return self._encoder.transform(X, strict=True)

    def _never_missing_variables(self):
        """Mask of the network's variables whose column had no hole in fit.

        A numeric variable with point masses has holes (at the point masses)."""
        encoder = self._encoder
        rates = np.array([c.missing_rate for c in encoder.columns_])
        never_missing = rates[encoder.variable_index_] == 0
        never_missing[encoder.point_mass_variables_] = False
        return never_missing

    def _network_shape(self, n_conditions):
        """Keyword arguments of :class:`TabularVAE` for the fitted encoder."""
        encoder = self._encoder
        return dict(
            n_numeric=encoder.n_numeric_,
            n_binary=encoder.n_binary_,
            category_sizes=encoder.category_sizes_,
            n_components=self._n_components(len(encoder.columns_)),
            hidden_layer_sizes=self._hidden_layer_sizes(),
            activation=self.activation,
            dropout=self.dropout,
            n_conditions=n_conditions,
            numeric_half_bins=(
                encoder.half_bins_.tolist() if self._bin_grid_columns else None
            ),
        )

    def _validation_split(self, n_rows, rng):
        """Return ``(validation rows or None, training rows)``, shuffled by ``rng``."""
        n_val = (
            math.floor(self.validation_fraction * n_rows) if self.early_stopping else 0
        )
        order = rng.permutation(n_rows)
        return (order[:n_val], order[n_val:]) if n_val else (None, order)

    def _n_components(self, n_columns):
        if self.n_components == "auto":
            smallest, largest = self._auto_latent_range
            return int(
                np.clip(n_columns // self._columns_per_auto_latent, smallest, largest)
            )
        return self.n_components

    def _hidden_layer_sizes(self):
        if isinstance(self.hidden_layer_sizes, str):
            return _AUTO_HIDDEN_LAYER_SIZES
        sizes = tuple(np.ravel(self.hidden_layer_sizes).tolist())
        if not all(isinstance(s, Integral) and s > 0 for s in sizes):
            raise ValueError(
                "hidden_layer_sizes must hold positive integers, got "
                f"{self.hidden_layer_sizes!r}."
            )
        return sizes

    # -- inference ---------------------------------------------------------------

    def _chunks(self, data, *arrays, chunk_rows=None, dtype=torch.float64):
        """Yield device tensors for bounded row chunks of ``data`` (and ``arrays``)."""
        chunk_rows = chunk_rows or _CHUNK_ROWS
        for start in range(0, data.shape[0], chunk_rows):
            rows = slice(start, start + chunk_rows)
            yield tuple(
                None
                if a is None
                else torch.as_tensor(a[rows], dtype=dtype, device=self._device)
                for a in (data, *arrays)
            )

    @contextlib.contextmanager
    def _inference(self, dtype=torch.float64):
        """Eval mode, no autograd, torch threads capped: where all prediction runs.

        Yields the network in ``dtype``. Predictions compute in float64 (a copy
        made when the network is trained or loaded): in float32 a row's result
        changed in the last bits with the number of rows scored beside it, as
        matrix products block differently; in float64 that is 1e-16 and a row
        scores as it would alone.
        Training and sampling use the float32 network.
        """
        check_is_fitted(self, "module_")
        module = self.module_ if dtype == torch.float32 else self._module64
        module.eval()
        with torch.inference_mode(), limited_torch_threads():
            yield module

    def _run_chunked(self, function, data, *arrays, chunk_rows=None):
        """Apply ``function(module, *chunk)`` to float64 chunks; stack as numpy."""
        results = []
        with self._inference() as module:
            for tensors in self._chunks(data, *arrays, chunk_rows=chunk_rows):
                if self._needs_indicators(tensors[0]):
                    self._complete_indicators()
                    module = self._module64
                results.append(function(module, *tensors).double().cpu().numpy())
        return np.concatenate(results, axis=0)

    def score_samples(self, X):
        """Log-likelihood estimate of each row (ELBO at the posterior mean).

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Rows to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            ``log p(x | z=mu) - KL(q(z|x) || p(z))`` for each row.
        """
        check_is_fitted(self)
        return self._score_encoded(self._encode(X))

    def score(self, X, y=None):
        """Mean log-likelihood estimate per row; higher is a better model of ``X``.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Rows to score.

        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        score : float
            Mean of ``score_samples(X)``.
        """
        return float(np.mean(self.score_samples(X)))

    def _score_encoded(self, data):
        return self._elbo(data)

    def _elbo(self, data, condition=None):
        """ELBO of each encoded row with the decoder at the posterior mean."""

        def elbo(module, x, c):
            loglik, kl = module(x, c, sample=False)
            return loglik.sum(dim=1) - kl

        return self._run_chunked(elbo, data, condition)

    # -- persistence -------------------------------------------------------------

    def __getstate__(self):
        state = dict(super().__getstate__())
        module = state.pop("module_", None)
        if module is not None:
            state["_module_state"] = {
                k: v.detach().cpu() for k, v in module.state_dict().items()
            }
        state.pop("_device", None)
        state.pop("_module64", None)
        optimizer = state.pop("_optimizer", None)
        if optimizer is not None:
            state["_optimizer_state"] = to_cpu(optimizer.state_dict())
        state["_skvae_version"] = _skvae_version()
        state["_torch_version"] = torch.__version__
        return state

    def __setstate__(self, state):
        state = dict(state)
        for key, now in (
            ("_skvae_version", _skvae_version()),
            ("_torch_version", torch.__version__),
        ):
            saved = state.get(key)
            if saved is not None and saved != now:
                warnings.warn(
                    f"This {type(self).__name__} was pickled with "
                    f"{key.strip('_').replace('_version', '')} {saved} and is loaded "
                    f"with {now}; results may differ.",
                    UserWarning,
                    stacklevel=2,
                )
        module_state = state.pop("_module_state", None)
        super().__setstate__(state)
        if module_state is not None:
            self._device = resolve_device(self.device, fallback_to_cpu=True)
            # Also for models pickled before the attribute (2026-11-30).
            self.n_components_ = self._module_kwargs["n_components"]
            module = TabularVAE(**self._module_kwargs)
            module.load_state_dict(module_state)
            self.module_ = module.to(self._device).eval()
            self._module64 = float64_copy(self.module_)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # DataFrames with categorical and boolean columns are modelled natively,
        # and so are missing cells.
        tags.input_tags.categorical = True
        tags.input_tags.allow_nan = True
        return tags


class _EncodedRows:
    """Rows of a validated table, encoded when sliced.

    Inference reads its input through this in bounded chunks, so its memory
    grows with the chunk, not with the number of rows (only the output does).
    """

    def __init__(self, encoder, X):
        self._encoder = encoder
        self._X = X
        self.shape = (X.shape[0], encoder.n_encoded_)

    def __getitem__(self, rows):
        if isinstance(self._X, pd.DataFrame):
            return self._encoder.transform(self._X.iloc[rows])
        return self._encoder.transform(self._X[rows])


def _holds_categories(X):
    """Whether ``X`` is an object or string array that does not convert to floats."""
    if not isinstance(X, np.ndarray):
        if hasattr(X, "dtype") or hasattr(X, "toarray"):  # pandas or sparse
            return False
        X = np.asarray(X)
    if X.dtype.kind not in "OUS":
        return False
    try:
        X.astype(np.float64)
    except ValueError:  # strings
        return True
    except TypeError:
        # None marks a missing cell, which the encoder names; any other object
        # (say, a dict) gets scikit-learn's TypeError from the numeric path.
        return bool(pd.isna(X).any())
    return False


def _skvae_version():
    from skvae import __version__

    return __version__
