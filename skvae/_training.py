"""The epoch loop: minibatches on the device, Adam, early stopping, history."""

# License: BSD 3-Clause

import functools
import math
import time
import warnings
from dataclasses import dataclass, field

import torch
from sklearn.exceptions import ConvergenceWarning

from skvae._network import FIND_MISSING

__all__ = [
    "CHUNK_ROWS",
    "TrainingHistory",
    "train_vae",
    "train_epoch",
    "make_optimizer",
    "trim_start",
    "check_finite_loss",
    "TRIM_AFTER_STEPS_INCREMENTAL",
    "negative_elbo",
    "trimmed_rows",
    "train_indicators",
    "indicator_batches",
    "adam_step",
    "clear_gradients",
]

# Rows per chunk wherever rows are evaluated without gradients (validation here,
# scoring and transforms in the estimators): bounds memory, not the result.
CHUNK_ROWS = 8192

# Trimming (trim_fraction) starts once a model has seen each row this often and
# taken this many steps: an autoencoder learns the inliers first and memorises
# the outliers only after many passes (the "inlier memorisation" that ODIM
# builds on), and trimming earlier cost the large tables, which train for ~20
# epochs (11_donors ROC-AUC 0.86 -> 0.79 trimmed from step 200, 0.84 from
# epoch 10; benchmarks/RESULTS.md).
TRIM_AFTER_EPOCHS = 10
TRIM_AFTER_STEPS = 200
# partial_fit cannot tell an epoch from a chunk: it trims after 10 calls and
# this many steps, about 10 epochs of the largest dev tables (35,000 rows).
# Counting calls alone trimmed from the second pass over 5,000-row blocks and
# cost 10_cover 0.02 ROC-AUC against fit (benchmarks/RESULTS.md, "Large data").
TRIM_AFTER_STEPS_INCREMENTAL = 1000
TRIM_MADS = 3.0

# Steps of train_indicators after the fit, their rows, and their learning rate
# relative to the fit's (the weights start at 0 and must travel as far as the
# others). 100 steps of 64 rows explained planted cells as well as 200 of 256
# (benchmarks/bench_explain.py on adult, 12_fault, 23_mammography) at a
# fraction of the cost: about 0.2 s on a small table's fit.
INDICATOR_STEPS = 100
INDICATOR_BATCH_SIZE = 64
INDICATOR_LR_FACTOR = 10.0


@dataclass
class TrainingHistory:
    """What the training loop reports back to the estimator."""

    loss_curve: list = field(default_factory=list)
    validation_scores: list = field(default_factory=list)
    n_iter: int = 0
    n_steps: int = 0
    stopped_early: bool = False


def negative_elbo(
    module,
    x,
    condition=None,
    beta=1.0,
    sample=True,
    trim_fraction=0.0,
    hide_rate=0.0,
    observed=FIND_MISSING,
    input_noise=0.0,
    draws=1,
):
    """Mean over rows of -(log-likelihood - beta * KL).

    With ``sample`` and ``draws > 1``, of the importance-weighted bound over
    that many draws per row instead (Burda et al., 2016; MIWAE's objective
    where cells are missing, Mattei and Frellsen, 2019), with ``beta`` on
    ``log p(z) - log q(z | x)``. With ``trim_fraction > 0`` the mean leaves
    out the rows that :func:`trimmed_rows` marks; ``hide_rate``,
    ``input_noise`` and ``observed`` (for an ``x`` split already, see
    :meth:`TabularVAE.split_missing`) are passed to the module.
    """
    loglik, kl = module(
        x,
        condition,
        sample=sample,
        hide_rate=hide_rate,
        observed=observed,
        input_noise=input_noise,
        draws=draws,
    )
    if loglik.dim() == 3:
        bound = torch.logsumexp(loglik.sum(dim=-1) - beta * kl, dim=1)
        loss = math.log(loglik.shape[1]) - bound
    else:
        loss = -(loglik.sum(dim=1) - beta * kl)
    if trim_fraction > 0:
        # The mean over the rows kept, as weights: indexing them out (and its
        # backward) cost a tenth of a small table's step.
        kept = (~trimmed_rows(loss.detach(), trim_fraction)).to(loss.dtype)
        return (loss * kept).sum() / kept.sum()
    return loss.mean()


def trimmed_rows(loss, trim_fraction):
    """Mask of the rows whose loss is an outlier of the batch, at most a share.

    A row is trimmed when its loss lies more than ``TRIM_MADS`` scaled median
    absolute deviations above the batch's median and among the
    ``trim_fraction`` highest. The first rule spares batches without outliers;
    the cap keeps heavy-tailed but ordinary rows in: uncapped, the rule trimmed
    ~9% of 2_annthyroid's rows and its ROC-AUC fell 0.87 -> 0.70.
    """
    median = loss.median()
    spread = 1.4826 * (loss - median).abs().median()
    beyond = loss > median + TRIM_MADS * spread
    return beyond & (loss > torch.quantile(loss, 1.0 - trim_fraction))


def train_vae(
    module,
    X,
    *,
    X_val=None,
    condition=None,
    condition_val=None,
    batch_size=256,
    learning_rate=1e-3,
    weight_decay=0.0,
    max_epochs=100,
    min_steps=0,
    n_iter_no_change=10,
    tol=1e-4,
    beta=1.0,
    generator=None,
    verbose=0,
    warn_unconverged=True,
    scale_lr_factor=1.0,
    trim_fraction=0.0,
    hide_rate=0.0,
    restore_best=True,
    input_noise=0.0,
    draws=1,
    validation_check=None,
    final_lr_fraction=None,
):
    """Fit ``module`` on the rows of ``X`` (a tensor already on the module's device).

    Each epoch shuffles row indices and takes contiguous index slices as batches.
    With ``X_val`` the loop stops once the validation ELBO has not improved by
    ``tol`` for ``n_iter_no_change`` epochs and, with ``restore_best``, restores
    the weights of the best validation ELBO (else it keeps the last ones, as
    Keras' ``EarlyStopping`` does by default); without it, the training loss
    plays that role (as scikit-learn's MLP does). Stopping is
    never considered before ``min_steps`` optimiser steps: tiny tables would
    otherwise stop after a dozen steps. Reaching ``max_epochs`` first warns
    (``ConvergenceWarning``) when ``warn_unconverged`` is set. The Gaussian
    scales of numeric columns learn at ``scale_lr_factor`` times
    ``learning_rate``. With ``trim_fraction > 0`` each batch's outlying rows
    (:func:`trimmed_rows`) are left out of the gradient after a warm-up of
    ``TRIM_AFTER_EPOCHS`` epochs and ``TRIM_AFTER_STEPS`` steps. ``hide_rate``
    hides that share of the cells from the encoder in each training step
    and ``input_noise`` adds Gaussian noise of that standard deviation to the
    numeric cells it sees (:meth:`TabularVAE.forward`); validation sees every
    cell as it is. ``draws > 1`` trains on the importance-weighted bound over
    that many posterior draws per row (:func:`negative_elbo`); validation
    keeps the ELBO at the posterior mean. ``validation_check``, a callable
    taking ``module`` to a score (higher is better), is watched in place of
    the validation ELBO where given (with ``X_val``). With
    ``final_lr_fraction`` the learning rates fall along a half cosine from
    their own value to that share of it over the ``max_epochs`` planned
    epochs (:func:`cosine_lr_factor`); None keeps them constant.

    Returns a :class:`TrainingHistory`. Raises ``FloatingPointError`` if the loss
    becomes NaN or infinite.
    """
    n_rows = X.shape[0]
    batch_size = min(batch_size, n_rows)
    optimizer = make_optimizer(module, learning_rate, weight_decay, scale_lr_factor)
    # The holes are found once: point masses make them common, and finding
    # them per batch cost a tenth of a small table's step.
    X, observed = module.split_missing(X)
    if X_val is not None:
        X_val, observed_val = module.split_missing(X_val)
    has_dropout = _has_dropout(module)
    schedule = None
    if final_lr_fraction is not None:
        planned = max_epochs * max(1, n_rows // batch_size)
        schedule = functools.partial(
            set_cosine_lr,
            optimizer,
            [group["lr"] for group in optimizer.param_groups],
            planned_steps=planned,
            final_fraction=final_lr_fraction,
        )
    history = TrainingHistory()
    best_score, best_state, no_improvement = -math.inf, None, 0
    watched = "validation ELBO" if validation_check is None else "validation score"
    report_every = 1 if verbose >= 2 else max(1, max_epochs // 20)
    for epoch in range(1, max_epochs + 1):
        start = time.perf_counter()
        if has_dropout:
            module.train()
        epoch_loss, n_batches = train_epoch(
            module,
            optimizer,
            X,
            condition=condition,
            batch_size=batch_size,
            beta=beta,
            generator=generator,
            trim_fraction=trim_fraction,
            trim_from_batch=trim_start(epoch, history.n_steps),
            hide_rate=hide_rate,
            observed=observed,
            input_noise=input_noise,
            draws=draws,
            schedule=schedule,
            steps_taken=history.n_steps,
        )
        check_finite_loss(epoch_loss, epoch)
        history.loss_curve.append(epoch_loss)
        history.n_iter = epoch
        history.n_steps += n_batches

        if X_val is None:
            score = -epoch_loss
        else:
            if validation_check is None:
                score = -evaluate_loss(
                    module,
                    X_val,
                    condition_val,
                    beta=beta,
                    set_eval=has_dropout,
                    observed=observed_val,
                )
            else:
                if has_dropout:
                    module.eval()
                score = validation_check(module)
            history.validation_scores.append(score)
        if score > best_score + tol:
            best_score, no_improvement = score, 0
            if X_val is not None and restore_best:
                # Plain tensor copies: deepcopy of the state dict cost 1.6 ms a
                # time, a tenth of a small table's fit, which improves often.
                best_state = {
                    k: v.detach().clone() for k, v in module.state_dict().items()
                }
        else:
            no_improvement += 1

        if verbose and (epoch % report_every == 0 or epoch == 1):
            line = f"Epoch {epoch}/{max_epochs}: loss {epoch_loss:.4f}"
            if X_val is not None:
                line += f", {watched} {score:.4f}"
            print(f"{line} ({time.perf_counter() - start:.2f}s)", flush=True)

        if no_improvement >= n_iter_no_change and history.n_steps >= min_steps:
            history.stopped_early = True
            if verbose:
                print(f"Stopped early after epoch {epoch}.", flush=True)
            break
    else:
        if warn_unconverged:
            watched = watched if X_val is not None else "loss"
            warnings.warn(
                f"Training stopped at max_epochs={max_epochs} before the {watched} "
                "stopped improving; consider raising max_epochs.",
                ConvergenceWarning,
                stacklevel=3,
            )
    if best_state is not None:
        module.load_state_dict(best_state)
    module.eval()
    return history


def make_optimizer(module, learning_rate, weight_decay=0.0, scale_lr_factor=1.0):
    """Adam over ``module``'s parameters, the Gaussian scales at their own rate.

    Adam moves a parameter by about its learning rate per step; a numeric
    column's log-scale may have to travel ~5 units (scale 1 -> 0.01) where
    weights travel ~0.1, so the scales learn at ``scale_lr_factor`` times
    ``learning_rate``.
    """
    scales = module.scale_parameters()
    weights = [p for p in module.parameters() if all(p is not q for q in scales)]
    return _fastest_adam(
        [
            {"params": weights},
            {"params": scales, "lr": learning_rate * scale_lr_factor},
        ],
        lr=learning_rate,
        weight_decay=weight_decay,
    )


def cosine_lr_factor(step, planned_steps, final_fraction):
    """Share of its learning rate a step takes on a half cosine from 1 at
    step 0 to ``final_fraction`` at ``planned_steps`` (and after)."""
    progress = min(step, planned_steps) / max(planned_steps, 1)
    return final_fraction + (1.0 - final_fraction) * 0.5 * (
        1.0 + math.cos(math.pi * progress)
    )


def set_cosine_lr(optimizer, base_rates, step, *, planned_steps, final_fraction):
    """Set each parameter group's learning rate to its ``base_rates`` entry
    times :func:`cosine_lr_factor` of ``step``."""
    factor = cosine_lr_factor(step, planned_steps, final_fraction)
    for group, rate in zip(optimizer.param_groups, base_rates, strict=True):
        group["lr"] = rate * factor


def trim_start(epoch, steps_taken, after_steps=TRIM_AFTER_STEPS):
    """First batch of epoch ``epoch`` (1-based) from which trimming applies, or
    None, after ``steps_taken`` steps in the epochs before: once past
    ``TRIM_AFTER_EPOCHS`` epochs and ``after_steps`` steps."""
    if epoch <= TRIM_AFTER_EPOCHS:
        return None
    return max(0, after_steps - steps_taken)


def train_epoch(
    module,
    optimizer,
    X,
    *,
    condition=None,
    batch_size=256,
    beta=1.0,
    generator=None,
    trim_fraction=0.0,
    trim_from_batch=None,
    hide_rate=0.0,
    observed=FIND_MISSING,
    input_noise=0.0,
    draws=1,
    schedule=None,
    steps_taken=0,
):
    """One shuffled pass over the rows of ``X`` in minibatches, one step each.

    Batches from ``trim_from_batch`` on (None: none) leave out their outlying
    rows (:func:`trimmed_rows`); ``draws`` is :func:`negative_elbo`'s.
    ``observed`` is the mask of an ``X`` split already
    (:meth:`TabularVAE.split_missing`). Returns ``(mean loss per row, steps
    taken)``. ``schedule``, where given, is called with the number of steps
    taken before each step (``steps_taken`` before this epoch's first) to set
    the learning rates.
    """
    n_rows = X.shape[0]
    batch_size = min(batch_size, n_rows)
    order = torch.randperm(n_rows, generator=generator, device="cpu").to(X.device)
    # One gather per epoch, then contiguous slices: cheaper than gathering
    # each batch with advanced indexing.
    shuffled = X.index_select(0, order)
    if observed is FIND_MISSING:
        shuffled, observed = module.split_missing(shuffled)
    elif observed is not None:
        observed = observed.index_select(0, order)
    shuffled_cond = condition.index_select(0, order) if condition is not None else None
    total = 0.0
    # A last batch of one row would make a noisy step: fold it into the previous.
    n_batches = max(1, n_rows // batch_size)
    for b in range(n_batches):
        stop = (b + 1) * batch_size if b < n_batches - 1 else n_rows
        rows = slice(b * batch_size, stop)
        cond = shuffled_cond[rows] if shuffled_cond is not None else None
        trim = trim_from_batch is not None and b >= trim_from_batch
        loss = negative_elbo(
            module,
            shuffled[rows],
            cond,
            beta=beta,
            trim_fraction=trim_fraction if trim else 0.0,
            hide_rate=hide_rate,
            observed=observed[rows] if observed is not None else None,
            input_noise=input_noise,
            draws=draws,
        )
        clear_gradients(optimizer)
        loss.backward()
        if schedule is not None:
            schedule(steps_taken + b)
        adam_step(optimizer)
        total += loss.detach() * (stop - b * batch_size)
    return float(total) / n_rows, n_batches


def indicator_batches(n_rows, steps, batch_size, generator=None):
    """The random row batches of :func:`train_indicators`: ``steps`` index
    tensors of ``min(batch_size, n_rows)`` rows each, drawn with
    ``generator``."""
    batch_size = min(batch_size, n_rows)
    return [
        torch.randint(n_rows, (batch_size,), generator=generator) for _ in range(steps)
    ]


def train_indicators(
    module,
    X,
    *,
    condition=None,
    steps=INDICATOR_STEPS,
    batch_size=256,
    learning_rate=1e-2,
    beta=1.0,
    generator=None,
    variables=None,
    batches=None,
):
    """Teach a trained ``module`` what a hidden cell means, changing nothing else.

    Only the first layer's weights on the "not seen" indicators of
    ``variables`` (a boolean mask over the module's variables; all if None)
    learn, for ``steps`` Adam steps on random batches of ``X`` in which one cell
    per row is hidden from the encoder and still scored. A row without holes
    encodes and scores exactly as before (its indicators are 0); a row with one
    gets a posterior that allows for it. Missing cells and ``explain``'s masking
    use this. ``batches`` (row indices of ``X``, one tensor per step) replaces
    the batches drawn with ``generator``: drawn beforehand by
    :func:`indicator_batches`, they make the same steps (nothing else here
    draws from ``generator``).
    """
    if batches is None:
        batches = indicator_batches(X.shape[0], steps, batch_size, generator)
    frozen = [p for p in module.parameters() if p is not module.indicator_weight]
    for p in frozen:
        p.requires_grad_(False)
    optimizer = torch.optim.Adam([module.indicator_weight], lr=learning_rate)
    try:
        for rows in batches:
            rows = rows.to(X.device)
            cond = condition.index_select(0, rows) if condition is not None else None
            loss = negative_elbo(
                module, X.index_select(0, rows), cond, beta=beta, hide_rate=1.0
            )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if variables is not None:
                # A zero gradient leaves Adam's moments, and so the weight, at 0.
                module.indicator_weight.grad[:, ~variables] = 0.0
            optimizer.step()
    finally:
        for p in frozen:
            p.requires_grad_(True)
    module.eval()


def evaluate_loss(
    module,
    X,
    condition=None,
    beta=1.0,
    chunk_size=CHUNK_ROWS,
    set_eval=True,
    observed=FIND_MISSING,
):
    """Deterministic negative ELBO (posterior mean) averaged over the rows of X.

    ``observed`` is the mask of an ``X`` split already
    (:meth:`TabularVAE.split_missing`).
    """
    if set_eval:
        module.eval()
    total = 0.0
    with torch.inference_mode():
        for start in range(0, X.shape[0], chunk_size):
            rows = slice(start, start + chunk_size)
            x = X[rows]
            cond = condition[rows] if condition is not None else None
            seen = observed[rows] if torch.is_tensor(observed) else observed
            loss = negative_elbo(
                module, x, cond, beta=beta, sample=False, observed=seen
            )
            total += float(loss) * len(x)
    return total / X.shape[0]


def _fastest_adam(parameters, **options):
    """Adam, fused where this torch and device have the kernel (CPU: torch>=2.4).

    The fused kernel took 13% off a step of the default network on CPU against
    ``foreach`` (benchmarks/RESULTS.md, "Speed and scale"), which took more off
    the default per-parameter loop.
    """
    try:
        return torch.optim.Adam(parameters, fused=True, **options)
    except RuntimeError:
        return torch.optim.Adam(parameters, foreach=True, **options)


def clear_gradients(optimizer):
    """``optimizer.zero_grad(set_to_none=True)`` without its profiling hooks."""
    for group in optimizer.param_groups:
        for p in group["params"]:
            p.grad = None


@torch.no_grad()
def adam_step(optimizer):
    """``optimizer.step()`` for :func:`make_optimizer`'s Adam: the same fused
    kernel on the same state, without the bookkeeping around it.

    ``Optimizer.step`` wraps torch's fused Adam in hooks, profiling records and
    a regrouping of the tensors by device and dtype; on the default network
    that cost about 0.25 ms of a 3.5 ms step (benchmarks/RESULTS.md). Here the
    state is kept as ``Adam`` keeps it (``state_dict`` and pickles are
    unchanged), and the kernel gets the same arguments, so the weights come
    out identical. Other optimizers (not fused) take their own ``step``.
    """
    defaults = optimizer.defaults
    if (
        not defaults.get("fused")
        or defaults.get("amsgrad")
        or defaults.get("decoupled_weight_decay")
    ):
        optimizer.step()
        return
    for group in optimizer.param_groups:
        params, grads, averages, squares, steps = [], [], [], [], []
        for p in group["params"]:
            if p.grad is None:  # unused this step: no update, no step counted
                continue
            state = optimizer.state[p]
            if not state:  # as Adam's lazy initialisation, fused
                state["step"] = torch.zeros((), dtype=torch.float32, device=p.device)
                state["exp_avg"] = torch.zeros_like(
                    p, memory_format=torch.preserve_format
                )
                state["exp_avg_sq"] = torch.zeros_like(
                    p, memory_format=torch.preserve_format
                )
            params.append(p)
            grads.append(p.grad)
            averages.append(state["exp_avg"])
            squares.append(state["exp_avg_sq"])
            steps.append(state["step"])
        if not params:
            continue
        beta1, beta2 = group["betas"]
        torch._foreach_add_(steps, 1)
        torch._fused_adam_(
            params,
            grads,
            averages,
            squares,
            [],
            steps,
            amsgrad=False,
            lr=group["lr"],
            beta1=beta1,
            beta2=beta2,
            weight_decay=group["weight_decay"],
            eps=group["eps"],
            maximize=group["maximize"],
            grad_scale=None,
            found_inf=None,
        )


def _has_dropout(module):
    # train()/eval() walk every submodule; without dropout they change nothing,
    # and on small tables (one step per epoch) the walk cost a tenth of the fit.
    return any(isinstance(m, torch.nn.Dropout) for m in module.modules())


def check_finite_loss(loss, epoch):
    if not math.isfinite(loss):
        raise FloatingPointError(
            f"The training loss became {loss} in epoch {epoch}. Try a smaller "
            "learning_rate, scaling='robust' or 'quantile' for heavy-tailed columns, "
            "or check the input for extreme values."
        )
