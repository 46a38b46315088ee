"""Levers of the detector's model and training that have no parameter.

Runs ``bench_anomaly.py`` (same protocol, splits and output) with the
training loop of ``skvae._training`` patched for one lever, so that a lever
is measured on the whole dev suite before any of it becomes code. Scoring
is the default detector's throughout: each lever changes only how the
network is built or trained. ``--lever`` (the rest of the command line goes
to ``bench_anomaly.py``):

- ``core:Q``: once, at the first epoch past the trimming warm-up with 500
  steps taken, the share ``Q`` of training rows with the highest
  deterministic negative ELBO is dropped for the rest of the fit (MCD's
  concentration step, applied to the network);
- ``cell:PI,S``: a per-cell outlier mixture in the training loss only (the
  robust VAE of Eduardo et al., 2020): each numeric cell's log-likelihood
  ``l`` becomes ``log(PI e^l + (1 - PI) b)`` with ``b`` a broad N(0, S^2)
  over the scaled value (times the bin's width for binned columns), so
  that a cell the model explains worse than ``b`` stops pulling the decoder;
- ``dpd:B``: each numeric cell's log-likelihood in the training loss is
  replaced by its density power divergence term (Basu et al., 1998; the
  robust VAE of Akrami et al., 2022): ``(1 + 1/B) f^B - int f^(1+B) - 1/B``
  with ``f`` the cell's Gaussian density, which tends to ``log f`` as ``B``
  goes to 0 and is bounded below by about ``-1/B - 1``. A cell the model
  explains badly keeps a gradient weight of ``f^B``, near 0, instead of 1,
  so no single wild cell pulls the decoder; the Gaussian's scale stays
  consistent through the integral term. Binned columns count with their
  bin's probability over its width as ``f``; the other column kinds, the
  indicator steps and the score are the default's;
- ``klwarm:N``: the KL term's weight rising linearly from 0 to 1 over the
  first ``N`` steps (KL annealing, against unused latent dimensions);
- ``noise:S``: Gaussian noise of standard deviation ``S`` (scaled units) on
  the numeric cells the encoder sees in training steps, the likelihood
  still scoring the clean values (a denoising encoder); the detector's
  ``input_noise=S`` now, also in the indicator steps here;
- ``hide:P``: in a share ``P`` of each batch's rows one cell, chosen at
  random, is hidden from the encoder and still scored (the imputer's
  ``hide_rate``);
- ``mask:P``: every visible cell is hidden from the encoder with
  probability ``P`` and still scored (masked autoencoding);
- ``fewcat:K``: numeric columns with 3 to ``K`` distinct values in the
  training rows modelled as categorical (a level's probability in place of a
  binned Gaussian; an unseen value scores as an unseen level);
- ``twobin:1``: numeric columns with exactly two distinct values in the
  training rows (0/1 flags that arrive as floats, as every ADBench table's)
  modelled as binary (one Bernoulli logit) in place of a Gaussian with a
  learned scale, whose density at the common value grows without bound as
  the scale shrinks; an unseen third value scores as an unseen level;
- ``flagfloor:R``: each numeric column with exactly two distinct training
  values keeps its Gaussian, but its scale is floored at the gap between
  the two values over ``R`` (the module's own floor, 0.01, elsewhere), so
  that the density at the common value is bounded and a mismatched cell
  costs at most about ``R² / 2`` nats;
- ``floor:N``: ``max_epochs="auto"`` trains at least ``N`` optimiser steps
  before early stopping may fire, in place of 1,000 (``auto_step_budget``);
- ``latent:C,M``: ``n_components="auto"`` as one latent dimension per ``C``
  input columns in [2, ``M``], in place of 4 and 8;
- ``synthval:M``: early stopping and the weights kept follow how well the
  network's ELBO ranks ``M`` copies of the validation rows, each variable
  shuffled across the rows on its own (dependency anomalies: every value
  ordinary, their combination not), below the validation rows themselves
  (ROC-AUC), in place of keeping the last weights.
- ``hetero:1``: each numeric cell's Gaussian scale comes from the decoder,
  ``min_scale + softplus(raw_scale + W h)`` with ``h`` the decoder's last
  hidden layer (``W`` started at 0, so training starts from the default's
  per-column scales): a heteroscedastic decoder, in training and scoring;
- ``mixprior:K``: the prior of training is a mixture of ``K`` diagonal
  Gaussians whose weights, means and scales are learned with the network
  (GMVAE/VaDE's prior), in place of N(0, I); the KL term is the closed-form
  upper bound ``-log sum_k pi_k exp(-KL(q || p_k))`` (Hershey and Olsen,
  2007), so the objective stays a lower bound on the log-likelihood. The
  score is the default's (the mixture fitted to the core's codes after
  training); the core is chosen with the trained prior's KL in place of
  N(0, I)'s.
- ``growbatch:G,CAP``: the batch grows by the factor ``G`` each epoch from
  ``batch_size``, up to ``CAP`` rows (ALTBI's batch increment, Cho et al.,
  2024: the later, trimmed batches hold more rows, so the share trimmed is
  estimated better and fewer anomalies slip into the gradient). The epoch
  budget is the default's, so a fit sees as many rows as before in fewer,
  larger steps; the 1,000-step floor then ends at ``max_epochs``.
- ``ematrim:D``: trimming chooses each batch's outlying rows by their loss
  under a slowly updated copy of the network (an exponential moving
  average of the weights, decay ``D`` per step, started at the initial
  weights; its deterministic ELBO at the posterior mean), not under the
  network being trained (the detector issue's "chosen by a slowly updated
  (EMA) copy of the model"): rows that the network has begun to learn
  still look outlying to the slow copy for a while, so they stay out of
  the gradient. The score is the trained network's, as by default.
- ``celltrim:K``: trimming ranks each batch's rows by how many of their
  cells are unusual rather than by their total loss: each cell's negative
  log-likelihood is cut off at its column's batch median plus ``K`` scaled
  MADs before the row's sum (the KL term as it is), and the rows beyond
  trimming's fence on that sum (at most ``trim_fraction``) leave the
  gradient. A row with one wild cell then counts as one unusual cell, not
  as a thousand nats, and does not take the trimmed share from rows that
  are off in many cells. Training's loss and the score are the default's.
- ``huber:C,H``: rows whose loss lies beyond ``C`` scaled MADs above the
  batch median keep a weight of ``C / z`` in the gradient (``z`` their
  distance from the median in scaled MADs), as an M-estimator's Huber
  weights shrink a residual's pull, instead of trimming's all-or-nothing;
  with ``H`` = 1 the top rows that trimming drops (beyond 3 MADs, at most
  ``trim_fraction``) are still dropped, and only the others beyond ``C``
  are weighted; with ``H`` = 0 no row is dropped and no share is capped.
  From the trimming warm-up on, as trimming.
- ``imsep:S``: the weights kept are those of the epoch whose training rows'
  losses separate best into two groups (ODIM's choice of when to stop, Kim
  et al., ICML 2024: a network learns its inliers before its anomalies, so
  the loss of the training rows is most clearly two-humped before the
  anomalies are learned too). After each epoch from ``S`` steps on, a
  two-component Gaussian mixture is fitted to the deterministic negative
  ELBO of (at most 2,048 seeded) training rows; the criterion is the
  2-Wasserstein distance between its components over the losses' standard
  deviation (scale-free, so that the falling loss does not decide it).
  Early stopping watches it in place of the validation ELBO, and the best
  epoch's weights are restored. Scoring is the default's.
- ``shortens:K,S,R``: where ``fit`` gets ``R`` rows or more, ``K``
  networks (the detector's own seed and the ``K - 1`` next ones), each
  trained for about ``S`` optimiser steps (``max_epochs="auto"``'s
  budget and floor both ``S``), and the score is the mean of their
  ``score_samples``: the steps of one long fit spent on an ensemble of
  shorter ones (less time for each to learn its anomalies, as ODIM's
  under-fitted models; ROBOD's ensembles at the same cost). Smaller
  tables are fitted and scored as by default.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/explore_detector_training.py \\
        --lever noise:0.1 --methods skvae --datasets 14_glass --out noise.csv
"""

import argparse
import contextlib
import copy
import math
import runpy
import sys
from pathlib import Path

import numpy as np
import torch
from sklearn.base import clone

import skvae._anomaly as anomaly
import skvae._base as base
import skvae._network as network
import skvae._schema as schema
import skvae._training as training
from skvae import VAEAnomalyDetector
from skvae._network import FIND_MISSING, TabularVAE

_LOG_2PI = math.log(2.0 * math.pi)
# Steps before the core is chosen (at the first epoch past the warm-up).
_CORE_AFTER_STEPS = 500


class ShuffledRowsCheck:
    """ROC-AUC of the network's ELBO at telling the validation rows from
    copies of them with each variable shuffled across the rows (``synthval``)."""

    def __init__(self, module, X_val, copies, seed):
        generator = torch.Generator().manual_seed(seed)
        n_rows = X_val.shape[0]
        fakes = []
        for _ in range(copies):
            order = torch.stack(
                [
                    torch.randperm(n_rows, generator=generator)
                    for _ in range(module.n_variables)
                ],
                dim=1,
            )
            fakes.append(X_val.gather(0, order[:, module.feature_variable]))
        self.rows = torch.cat([X_val, *fakes])
        self.n_real = n_rows

    def __call__(self, module):
        with torch.inference_mode():
            loglik, kl = module(self.rows, sample=False)
            score = (loglik.sum(dim=1) - kl).double()
        ranks = score.argsort().argsort().double() + 1.0
        n_real, n_fake = self.n_real, len(score) - self.n_real
        real_ranks = ranks[:n_real].sum() - n_real * (n_real + 1) / 2
        return float(real_ranks) / (n_real * n_fake)


def two_humped_separation(values, iterations=100):
    """2-Wasserstein distance between the two components of a 1-D Gaussian
    mixture fitted to ``values`` by EM, over their standard deviation."""
    values = np.asarray(values, dtype=float)
    spread = values.std()
    if not np.isfinite(spread) or spread <= 0:
        return 0.0
    x = (values - values.mean()) / spread
    means = np.quantile(x, [0.25, 0.95])
    sds = np.array([0.5, 0.5])
    weights = np.array([0.5, 0.5])
    for _ in range(iterations):
        log_density = (
            -0.5 * ((x[:, None] - means) / sds) ** 2 - np.log(sds) + np.log(weights)
        )
        log_density -= log_density.max(axis=1, keepdims=True)
        resp = np.exp(log_density)
        resp /= resp.sum(axis=1, keepdims=True)
        mass = resp.sum(axis=0) + 1e-12
        weights = mass / mass.sum()
        means = (resp * x[:, None]).sum(axis=0) / mass
        sds = np.sqrt((resp * (x[:, None] - means) ** 2).sum(axis=0) / mass)
        sds = np.maximum(sds, 1e-3)
    return float(np.hypot(means[0] - means[1], sds[0] - sds[1]))


class SeparationCheck:
    """ODIM's criterion on the training rows (``imsep``): how clearly their
    losses fall into two groups, from ``lever.values[0]`` steps on."""

    def __init__(self, lever, seed, max_rows=2048):
        # The check is built before train_vae (so before fresh_fit has set
        # the lever's training rows): the rows are taken at the first call.
        self.lever, self.seed, self.max_rows, self.rows = lever, seed, max_rows, None

    def training_rows(self):
        X_train = self.lever.train_rows
        n_rows = X_train.shape[0]
        if n_rows > self.max_rows:
            generator = torch.Generator().manual_seed(self.seed)
            rows = torch.randperm(n_rows, generator=generator)[: self.max_rows]
            X_train = X_train.index_select(0, rows.to(X_train.device))
        return X_train

    def __call__(self, module):
        if self.lever.steps < self.lever.values[0]:
            return -math.inf
        if self.rows is None:
            self.rows = self.training_rows()
        with torch.inference_mode():
            loglik, kl = module(self.rows, sample=False)
            loss = -(loglik.sum(dim=1) - kl).double().cpu().numpy()
        score = two_humped_separation(loss)
        self.lever.history.append((self.lever.steps, score))
        return score


class MixturePrior(torch.nn.Module):
    """A learned mixture of ``k`` diagonal Gaussians over the latent space
    (``mixprior``), started from means drawn around the origin."""

    def __init__(self, k, n_components):
        super().__init__()
        generator = torch.Generator().manual_seed(20261129)
        self.means = torch.nn.Parameter(
            torch.randn(k, n_components, generator=generator)
        )
        self.log_vars = torch.nn.Parameter(torch.zeros(k, n_components))
        self.logits = torch.nn.Parameter(torch.zeros(k))

    def kl_bound(self, mu, logvar):
        """``-log sum_k pi_k exp(-KL(N(mu, e^logvar) || p_k))`` per row, an
        upper bound on the KL to the mixture."""
        means, log_vars, logits = (
            t.to(mu.dtype) for t in (self.means, self.log_vars, self.logits)
        )
        mu, logvar = mu.unsqueeze(-2), logvar.unsqueeze(-2)
        per_component = 0.5 * (
            log_vars
            - logvar
            + (logvar.exp() + (mu - means).pow(2)) / log_vars.exp()
            - 1.0
        ).sum(dim=-1)
        log_weights = torch.log_softmax(logits, dim=0)
        return -torch.logsumexp(log_weights - per_component, dim=-1)


class Lever:
    """Per-fit state of a patched training loop."""

    def __init__(self, kind, values):
        self.kind, self.values = kind, values
        self.reset()

    def reset(self):
        self.steps, self.core, self.epochs = 0, None, 0
        # ``ematrim``: the network being trained and its slow copy.
        self.module, self.ema = None, None
        # ``imsep``: the training rows and each epoch's (steps, criterion).
        self.train_rows, self.history = None, []


def two_valued_scale_floor(module, X, ratio):
    """Floor each two-valued numeric column's Gaussian scale at its gap over
    ``ratio`` (``flagfloor``), the others at the module's own floor."""
    floors = torch.full((module.n_numeric,), module.min_scale)
    for j in range(module.n_numeric):
        values = X[:, j][~torch.isnan(X[:, j])].unique()
        if len(values) == 2:
            floors[j] = max(module.min_scale, float(values[1] - values[0]) / ratio)
    module.min_scale = floors.to(X.device)


def numeric_cell_mixture(module, x, loglik, observed, pi, spread):
    """``loglik`` with each numeric cell's term mixed with a broad outlier
    component (``cell``)."""
    n_numeric = module.n_numeric
    log_width = module.log_bin_width.clone()
    if len(module.binned_columns):
        log_width[module.binned_columns] = (2.0 * module.half_bin).log()
    values = x[:, :n_numeric]
    broad = -0.5 * (values / spread) ** 2 - math.log(spread) - 0.5 * _LOG_2PI
    mixed = torch.logaddexp(
        loglik[:, :n_numeric] + math.log(pi),
        broad + log_width + math.log(1.0 - pi),
    )
    if observed is not None:
        mixed = mixed * observed[:, :n_numeric]
    return torch.cat([mixed, loglik[:, n_numeric:]], dim=1)


def density_power_cells(module, loglik, observed, power):
    """``loglik`` with each numeric cell's term replaced by its density power
    divergence term of power ``power`` (``dpd``)."""
    n_numeric = module.n_numeric
    log_width = module.log_bin_width.clone()
    if len(module.binned_columns):
        log_width[module.binned_columns] = (2.0 * module.half_bin).log()
    scale = module.numeric_scale()
    log_density = loglik[:, :n_numeric] - log_width
    integral = (2.0 * math.pi * scale**2) ** (-power / 2) / math.sqrt(1.0 + power)
    cells = (
        (1.0 + 1.0 / power) * torch.exp(power * log_density)
        - integral
        - 1.0 / power
        + log_width
    )
    if observed is not None:
        cells = cells * observed[:, :n_numeric]
    return torch.cat([cells, loglik[:, n_numeric:]], dim=1)


def masked_forward(module, p):
    """``module``'s training pass with each visible cell hidden from the
    encoder with probability ``p`` (``mask``)."""

    def forward(
        x, condition=None, sample=True, observed=FIND_MISSING, input_noise=0.0, **_
    ):
        if observed is FIND_MISSING:
            x, observed = module.split_missing(x)
        if observed is None:
            observed = x.new_ones((x.shape[0], module.n_variables))
        visible = observed * (torch.rand_like(observed) >= p).to(observed.dtype)
        seen = x * visible[..., module.feature_variable]
        return module.pass_with_view(
            x, observed, seen, visible, condition, sample, input_noise
        )

    return forward


@contextlib.contextmanager
def step_budget(steps):
    """``max_epochs="auto"`` takes about ``steps`` steps inside: its budget
    and its floor both ``steps``."""
    budget, floor = base._MAX_STEPS_AUTO, VAEAnomalyDetector._min_steps_auto
    base._MAX_STEPS_AUTO = VAEAnomalyDetector._min_steps_auto = steps
    try:
        yield
    finally:
        base._MAX_STEPS_AUTO, VAEAnomalyDetector._min_steps_auto = budget, floor


def patch_short_ensembles(n_networks, steps, min_rows):
    """``shortens``: ``VAEAnomalyDetector.fit`` and ``score_samples`` as an
    ensemble of ``n_networks`` short fits from ``min_rows`` rows on."""
    fit, score_samples = VAEAnomalyDetector.fit, VAEAnomalyDetector.score_samples

    def ensemble_fit(self, X, y=None):
        self._members = []
        if len(X) < min_rows:
            return fit(self, X, y)
        with step_budget(steps):
            fit(self, X, y)
            for i in range(1, n_networks):
                member = clone(self).set_params(random_state=self.random_state + i)
                fit(member, X, y)
                self._members.append(member)
        return self

    def ensemble_score_samples(self, X):
        scores = score_samples(self, X)
        for member in getattr(self, "_members", []):
            scores = scores + score_samples(member, X)
        return scores / (1 + len(getattr(self, "_members", [])))

    VAEAnomalyDetector.fit = ensemble_fit
    VAEAnomalyDetector.score_samples = ensemble_score_samples


def patch(lever):
    negative_elbo, train_epoch = training.negative_elbo, training.train_epoch
    train_vae = base.train_vae
    trimmed_rows, adam_step = training.trimmed_rows, training.adam_step

    def slow_copy_trimmed(module, x, condition, beta, options):
        """``trimmed_rows`` for one batch, chosen by the slow copy's loss."""
        observed = options.get("observed", FIND_MISSING)
        with torch.no_grad():
            loglik, kl = lever.ema(x, condition, sample=False, observed=observed)
            slow_loss = -(loglik.sum(dim=1) - beta * kl)
        mask = trimmed_rows(slow_loss, options["trim_fraction"])
        return lambda loss, trim_fraction: mask

    def huber_weighted_elbo(module, x, condition, beta, options):
        """The batch's mean loss with Huber weights on its outlying rows."""
        trim_fraction = options.pop("trim_fraction")
        loglik, kl = module(x, condition, sample=True, **options)
        loss = -(loglik.sum(dim=1) - beta * kl)
        rows = loss.detach()
        median = rows.median()
        spread = 1.4826 * (rows - median).abs().median()
        z = (rows - median) / spread.clamp(min=1e-12)
        cut = lever.values[0]
        weight = torch.where(z > cut, cut / z.clamp(min=cut), torch.ones_like(z))
        if lever.values[1]:
            weight = weight * (~trimmed_rows(rows, trim_fraction)).to(weight.dtype)
        return (loss * weight).sum() / weight.sum()

    @contextlib.contextmanager
    def trimming_restored():
        """Whatever a lever sets ``training.trimmed_rows`` to inside, the
        library's own is back on exit."""
        try:
            yield
        finally:
            training.trimmed_rows = trimmed_rows

    def cell_count_trimmed(loglik, kl):
        """``trimmed_rows`` by the rows' sums of capped cell losses."""
        cells = -loglik.detach()
        middle = cells.median(dim=0).values
        spread = 1.4826 * (cells - middle).abs().median(dim=0).values
        capped = torch.minimum(cells, middle + lever.values[0] * spread)
        robust = capped.sum(dim=1) + kl.detach()
        return lambda loss, trim_fraction: trimmed_rows(robust, trim_fraction)

    def step_and_average(optimizer):
        adam_step(optimizer)
        if lever.ema is not None:
            with torch.no_grad():
                slow = list(lever.ema.parameters())
                fast = list(lever.module.parameters())
                torch._foreach_lerp_(slow, fast, 1.0 - lever.values[0])

    def patched_elbo(module, x, condition=None, beta=1.0, sample=True, **options):
        if not sample:  # validation and scoring stay the default's
            return negative_elbo(
                module, x, condition, beta=beta, sample=False, **options
            )
        if lever.kind == "klwarm":
            beta = beta * min(1.0, lever.steps / lever.values[0])
        lever.steps += 1
        observed = options.get("observed", FIND_MISSING)
        if lever.kind == "cell" and observed is not FIND_MISSING:
            # negative_elbo's loss and trimming over the mixed cells.
            def mixed_cells(x, condition, **passed):
                loglik, kl = module(x, condition, **passed)
                mixed = numeric_cell_mixture(module, x, loglik, observed, *lever.values)
                return mixed, kl

            return negative_elbo(
                mixed_cells, x, condition, beta=beta, sample=True, **options
            )
        indicator_steps = options.get("hide_rate", 0.0) > 0
        if lever.kind == "dpd" and not indicator_steps:
            if observed is FIND_MISSING:
                raise RuntimeError("dpd needs the training loop's observed mask")

            def power_cells(x, condition, **passed):
                loglik, kl = module(x, condition, **passed)
                cells = density_power_cells(module, loglik, observed, lever.values[0])
                return cells, kl

            lever.dpd_steps = getattr(lever, "dpd_steps", 0) + 1
            return negative_elbo(
                power_cells, x, condition, beta=beta, sample=True, **options
            )
        if lever.kind == "ematrim" and "trim_fraction" in options:
            if lever.ema is None:
                lever.module = module
                lever.ema = copy.deepcopy(module).requires_grad_(False)
            if options["trim_fraction"] > 0:
                with trimming_restored():
                    training.trimmed_rows = slow_copy_trimmed(
                        module, x, condition, beta, options
                    )
                    return negative_elbo(
                        module, x, condition, beta=beta, sample=True, **options
                    )
        if lever.kind == "celltrim" and options.get("trim_fraction", 0.0) > 0:

            def counted_cells(x, condition, **passed):
                loglik, kl = module(x, condition, **passed)
                training.trimmed_rows = cell_count_trimmed(loglik, kl)
                return loglik, kl

            with trimming_restored():
                return negative_elbo(
                    counted_cells, x, condition, beta=beta, sample=True, **options
                )
        if lever.kind == "huber" and options.get("trim_fraction", 0.0) > 0:
            return huber_weighted_elbo(module, x, condition, beta, options)
        if lever.kind == "mask" and not indicator_steps:
            return negative_elbo(
                masked_forward(module, lever.values[0]),
                x,
                condition,
                beta=beta,
                sample=True,
                **options,
            )
        if lever.kind == "noise":
            options["input_noise"] = lever.values[0]
        if lever.kind == "hide" and not indicator_steps:
            options["hide_rate"] = lever.values[0]
        return negative_elbo(module, x, condition, beta=beta, sample=True, **options)

    def patched_epoch(module, optimizer, X, **options):
        if (
            lever.kind == "core"
            and lever.core is None
            and options.get("trim_from_batch") is not None
            and lever.steps >= _CORE_AFTER_STEPS
        ):
            observed = options.get("observed")
            with torch.inference_mode():
                loglik, kl = module(X, sample=False, observed=observed)
            loss = -(loglik.sum(dim=1) - kl)
            keep = torch.nonzero(loss <= torch.quantile(loss, 1 - lever.values[0]))
            keep = keep.ravel()
            if torch.is_tensor(observed):
                observed = observed.index_select(0, keep)
            lever.core = (X.index_select(0, keep), observed)
        if lever.core is not None:
            X, options["observed"] = lever.core
        if lever.kind == "growbatch":
            growth, cap = lever.values
            grown = options.get("batch_size", 256) * growth**lever.epochs
            options["batch_size"] = int(min(cap, round(grown)))
            lever.epochs += 1
        return train_epoch(module, optimizer, X, **options)

    guess_kind = schema._guess_kind

    def few_values_as_levels(name, series):
        kind = guess_kind(name, series)
        if lever.kind == "fewcat" and kind == "numeric":
            if 3 <= series.nunique(dropna=True) <= lever.values[0]:
                return "categorical"
        if lever.kind == "twobin" and kind == "numeric":
            if series.nunique(dropna=True) == 2:
                return "binary"
        return kind

    def fresh_fit(*args, **options):
        lever.reset()
        lever.train_rows = args[1]
        if lever.kind == "flagfloor":
            two_valued_scale_floor(args[0], args[1], lever.values[0])
        if lever.kind == "mixprior":
            module = args[0]
            # A submodule, so that the optimiser train_vae builds learns it.
            module.mixture_prior = MixturePrior(
                int(lever.values[0]), module.n_components
            ).to(next(module.parameters()).device)
            lever.prior = module.mixture_prior
        if lever.kind == "hetero" and args[0].n_numeric:
            module = args[0]
            head = torch.nn.Linear(module.head.in_features, module.n_numeric)
            torch.nn.init.zeros_(head.weight)
            torch.nn.init.zeros_(head.bias)
            module.scale_head = head.to(next(module.parameters()).device)
        history = train_vae(*args, **options)
        if lever.kind == "imsep" and lever.history:
            best = max(lever.history, key=lambda pair: pair[1])
            print(
                f"imsep: kept step {best[0]} of {history.n_steps} "
                f"(separation {best[1]:.2f})",
                file=sys.stderr,
            )
        return history

    if lever.kind == "hetero":
        plain_decode, plain_scale = TabularVAE.decode, TabularVAE.numeric_scale

        def decode(self, z, condition=None):
            head = getattr(self, "scale_head", None)
            if head is None:
                return plain_decode(self, z, condition)
            if condition is not None:
                condition = condition.expand(*z.shape[:-1], condition.shape[-1])
                z = torch.cat([z, condition], dim=-1)
            hidden = self.decoder(z)
            # Read by numeric_scale in the log_likelihood of the same pass.
            self.cell_scale = self.min_scale + torch.nn.functional.softplus(
                self.raw_scale + head(hidden)
            )
            return self.head(hidden)

        def numeric_scale(self):
            if getattr(self, "scale_head", None) is None:
                return plain_scale(self)
            return self.cell_scale

        TabularVAE.decode = decode
        TabularVAE.numeric_scale = numeric_scale

    if lever.kind == "mixprior":
        standard_kl = network.gaussian_kl

        def prior_kl(mu, logvar):
            prior = getattr(lever, "prior", None)  # set by the first fit
            if prior is None:
                return standard_kl(mu, logvar)
            return prior.kl_bound(mu, logvar)

        network.gaussian_kl = prior_kl
        anomaly.gaussian_kl = prior_kl

    training.negative_elbo = patched_elbo
    training.train_epoch = patched_epoch
    if lever.kind == "ematrim":
        training.adam_step = step_and_average
    base.train_vae = fresh_fit
    if lever.kind == "floor":
        VAEAnomalyDetector._min_steps_auto = int(lever.values[0])
    if lever.kind == "latent":
        VAEAnomalyDetector._columns_per_auto_latent = int(lever.values[0])
        VAEAnomalyDetector._auto_latent_range = (2, int(lever.values[1]))
    schema._guess_kind = few_values_as_levels
    if lever.kind == "synthval":
        copies = int(lever.values[0])
        VAEAnomalyDetector._restore_best_weights = True
        VAEAnomalyDetector._validation_check = lambda self, X_val, seed: (
            ShuffledRowsCheck(self.module_, X_val, copies, seed)
        )
    if lever.kind == "imsep":
        VAEAnomalyDetector._restore_best_weights = True
        VAEAnomalyDetector._validation_check = lambda self, X_val, seed: (
            SeparationCheck(lever, seed)
        )
    if lever.kind == "shortens":
        patch_short_ensembles(*(int(v) for v in lever.values))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lever", required=True, help="core:Q, cell:PI,S, ...")
    args, rest = parser.parse_known_args()
    kind, _, values = args.lever.partition(":")
    levers = (
        "core",
        "cell",
        "klwarm",
        "noise",
        "hide",
        "mask",
        "fewcat",
        "floor",
        "latent",
        "synthval",
        "mixprior",
        "hetero",
        "growbatch",
        "ematrim",
        "celltrim",
        "imsep",
        "huber",
        "twobin",
        "flagfloor",
        "shortens",
        "dpd",
    )
    if kind not in levers:
        parser.error(f"unknown lever {kind!r}")
    patch(Lever(kind, [float(v) for v in values.split(",")]))
    here = Path(__file__).resolve().parent
    sys.path.insert(0, str(here))
    sys.argv = ["bench_anomaly.py", *rest]
    runpy.run_path(str(here / "bench_anomaly.py"), run_name="__main__")


if __name__ == "__main__":
    main()
