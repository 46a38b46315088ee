"""Score variants of one fitted detector: what else could its score be?

Fits the default ``VAEAnomalyDetector`` once per dataset and seed (the
protocol and splits of ``bench_anomaly.py``) and ranks the test rows by
several scores built from the same network, so that scoring choices are
compared without refitting. Each row of the output is one (dataset, seed,
variant) with its ROC-AUC and average precision; ``default`` is the
detector's own ``score_samples``.

The variants take apart ``score_samples = L + log g(mu) + 0.5 sum(logvar)``:
``L`` is everything but the latent term (the decoder's per-cell
log-likelihoods at the posterior mean, holes and unseen levels), ``g`` the
Gaussian mixture fitted to the posterior means of the least outlying 75% of
the training rows (``_fit_latent_mixture``). Groups (``--groups``):

- ``latent``: the mixture's size (1, 3, 8, 12 components, or chosen by BIC
  over 1-10), diagonal covariances, the latent term's weight (0.5, 1.5, 2),
  no posterior-entropy term, the expectation of ``log g`` under the posterior
  (per component, the trace term of ``E_q[log N(z; m, S)]``), one MCD-style
  concentration step (the core re-chosen by the mixture score), the core
  chosen by the KL alone, and the N(0, I) prior's KL;
- ``smoothing``: the mixture's density averaged over five seeds (mean of
  log-densities, or of densities), ``n_init=5``, and mixtures fitted to three
  posterior draws per core row (5 or 10 components);
- ``joint``: the mixture fitted to the code and ``L`` (robustly scaled)
  together, DAGMM's energy: alone, with the entropy term, and added to ``L``;
- ``aggregate``: the encoder's aggregate posterior over (a seeded sample
  of) the core's rows, or all training rows, in place of the mixture: as
  it is, convolved with the scored row's posterior, and half-and-half
  with the mixture;
- ``calibrated``: the numeric columns' Gaussian scales re-estimated on the
  detector's validation rows (shrunk towards the trained scales by 0, 10 or
  30 pseudo-rows, or only widened);
- ``masked``: the sum of the masked conditional log-likelihoods that
  ``explain`` computes (each column scored with itself hidden from the
  encoder), alone, with the latent term, averaged with ``L``, added to the
  score, and combined with the score as robust z-scores (sum or minimum);
- ``tails``: the numeric cells that lie outside the central 99% (or 99.8%)
  of their column's training values hidden from the encoder, as a hole is,
  and scored by the decoder from there: a few extreme cells cannot pull the
  code towards themselves (the masked conditionals do this for every cell,
  one at a time; here only the extreme ones, all at once, so that rows
  without one score as before). The latent term from that code, or from the
  row's own;
- ``clipped``: each cell's log-likelihood (at the posterior mean, as in the
  score) cut off above its column's 50th, 75th, 90th or 97th percentile over
  the training rows and summed, so that only cells below their usual level
  count, in nats (the ELBO's weighting of the columns kept); with the latent
  term as it is, or cut off the same way;
- ``weights``: the mixture without its components of weight below 0.05,
  0.10 or 0.15 (renormalised), in case the core lets in a tight group of
  anomalies that gets a small component of its own;
- ``robustcore``: the mixture fitted to the support of MCD over the
  training codes (75%), alone or intersected with the prior's core;
- ``floored``: each cell's log-likelihood (at the posterior mean, as in
  the score) floored at its column's 0.1st, 0.5th, 1st or 2nd percentile
  over the training rows, so that one extreme cell adds no more than the
  training rows' rarest; the latent term as it is;
- ``refined``: each scored row's posterior refined by 15 Adam steps up
  its ELBO, as the imputer refines it (``TabularVAE.refined_posterior``):
  the score at the refined posterior (its latent term there, or at the
  encoder's), the amortisation gap (the score's rise) alone, and the score
  minus the gap;
- ``shape``: the mixture's components made less free to be tight: one
  covariance shared by all (``tied``), one variance each (``spherical``),
  or each full covariance shrunk towards the core's pooled covariance
  (``(1 - a) S_k + a S``, ``a`` = 0.25, 0.5, 0.75). A tight group of
  anomalies owes its high density to its small covariance; a real mode
  keeps its place and its weight;
- ``balance``: the score's two parts, ``L`` and the latent term, each as a
  robust z-score over the training rows (median, scaled MAD), then summed or
  the lower taken: each part weighted by its own spread on the table
  instead of in nats;
- ``marginal``: each cell scored by the VAE's own marginal for its column,
  the mean of ``p(x_j | z)`` over the codes (posterior means) of a seeded
  sample of 1,024 training rows, as ECOD scores each value by its column's
  tail alone: the sum of these, with and without the latent term, added
  to the score (in full, or half of it; half of it also over the first
  256 of those codes), and combined with it as robust z-scores over the
  training rows (sum, or the lower of the two);
- ``residualcov``: the decoder's numeric cells given a full covariance
  instead of independent scales: the training rows' standardised residuals
  ``(x - decoder mean) / scale`` at the posterior mean get a covariance
  (Ledoit-Wolf, over the 75% of training rows the score finds least
  outlying, or over all of them; or MCD's over a seeded 2,000 of them; each
  plus 0.01 on its diagonal), and
  the score gains ``log N(r; 0, C) - log N(r; 0, I)``, in full or half of it:
  the likelihood of a decoder whose output noise is correlated, as a wide
  table's columns are beyond what a small code explains;
- ``iwmix``: the importance-weighted estimate of ``log p(x)`` under the
  latent mixture ``g`` in place of its one-point form: ``k`` codes drawn
  from each row's posterior widened ``c`` times (``k`` = 16 with ``c`` = 1,
  1.25 and 1.5; ``k`` = 64 with ``c`` = 1.25), each weighted by ``p(x | z)
  g(z) / q_c(z | x)`` with ``p(x | z)`` the score's own cells (point masses,
  typical holes and unseen levels as in ``score_samples``). With ``k`` = 1
  at ``z = mu`` it is the default score up to a constant;
- ``rowsper``: the mixture's components capped by the core's rows, one
  per 50 or 100 of them (at least 1, at most 5), so that a small table's
  few codes are not split into tight components.
- ``gradnorm``: how far each row would pull the trained network: the
  norm of the gradient of its own negative ELBO (at the posterior mean)
  with respect to the network's parameters, layer by layer (each linear
  layer's weights and bias, and the numeric columns' scales), as the
  Fisher-information view of a generative model's novelty (Dauncey et al.,
  TMLR 2024) scores it. For a linear layer the per-row gradient is the
  outer product of the layer's input and the gradient at its output, so
  one batched backward gives every row's norm. Variants: minus the log of
  the total squared norm, of the scales' alone, the sum over layers of
  each layer's log squared norm as a robust z-score over (a seeded 2,000
  of) the training rows, and the total combined with the score as robust
  z-scores (sum, or the lower of the two).
- ``natfloor``: each cell's log-likelihood ``l`` (at the posterior mean, as
  in the score) replaced by ``log(e^l + e^-C)``, ``C`` = 20, 50 or 200 nats:
  the cell's density mixed with a broad outlier density of ``e^-C``, so
  that no cell costs more than about ``C`` nats however tight its column's
  scale (21_Lymphography's flags cost some inliers 14,000-37,000 nats). A
  fixed bound, where ``floored`` took one from the training rows' own
  cells; the latent term as it is.

``--synthetic KIND`` ranks anomalies of that kind generated from each
table's inliers (``bench_anomaly_synthetic.py``) in place of its own.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/explore_detector_scores.py \\
        --datasets 14_glass 20_letter --out scores.csv
"""

import argparse
import copy
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from bench_anomaly import DEFAULT_DATA, make_split
from bench_anomaly_synthetic import EXTRA_KINDS, KINDS, table_with_anomalies
from scipy.special import logsumexp
from sklearn.covariance import MinCovDet
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.mixture import GaussianMixture
from sklearn.mixture._gaussian_mixture import (
    _compute_precision_cholesky,
    _estimate_log_gaussian_prob,
)

import skvae._network as network
from skvae import VAEAnomalyDetector
from skvae._anomaly import _LATENT_MIXTURE_REG
from skvae._draws import shared_normal_draws

GROUPS = (
    "latent",
    "smoothing",
    "masked",
    "joint",
    "aggregate",
    "calibrated",
    "tails",
    "clipped",
    "weights",
    "robustcore",
    "shape",
    "balance",
    "rowsper",
    "refined",
    "floored",
    "natfloor",
    "marginal",
    "residualcov",
    "iwmix",
    "gradnorm",
)


def score_parts(detector, X):
    """``(L, mu, logvar)`` of each row: the score without its latent term,
    and the posterior's mean and log-variance."""
    latent = []

    def no_latent_term(mu, logvar):
        latent.append((mu.double().cpu().numpy(), logvar.double().cpu().numpy()))
        return torch.zeros(mu.shape[0], dtype=mu.dtype, device=mu.device)

    detector._latent_log_prior = no_latent_term
    try:
        rest = detector.score_samples(X)
    finally:
        del detector._latent_log_prior
    mu, logvar = (np.concatenate(a) for a in zip(*latent, strict=True))
    return rest, mu, logvar


def gaussian_kl(mu, logvar):
    return 0.5 * (np.exp(logvar) + mu**2 - 1 - logvar).sum(axis=1)


def mixture(means, n_components, seed, covariance_type="full", n_init=1):
    """As ``VAEAnomalyDetector._fit_latent_mixture`` fits it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return GaussianMixture(
            n_components=min(n_components, len(means)),
            covariance_type=covariance_type,
            reg_covar=_LATENT_MIXTURE_REG,
            random_state=seed,
            n_init=n_init,
        ).fit(means)


def core(scores, keep=0.75):
    return scores >= np.quantile(scores, 1 - keep)


def kl_core(train):
    """The training rows the detector fits its mixture to: the least
    outlying 75% by the N(0, I) prior's score."""
    rest, mu, logvar = train
    return core(rest - gaussian_kl(mu, logvar))


def expected_log_density(g, mu, logvar):
    """``log sum_k w_k exp(E_q[log N(z; m_k, S_k)])``: each component's
    log-density at the mean less half the trace of its precision times the
    posterior's covariance."""
    log_prob = _estimate_log_gaussian_prob(
        mu, g.means_, g.precisions_cholesky_, g.covariance_type
    )
    trace = 0.5 * np.einsum("kdd,nd->nk", g.precisions_, np.exp(logvar))
    return logsumexp(log_prob + np.log(g.weights_) - trace, axis=1)


def latent_variants(seed, train, test):
    (rest_tr, mu_tr, lv_tr), (rest, mu, lv) = train, test
    entropy = 0.5 * lv.sum(axis=1)
    kept = kl_core(train)
    out = {"kl": rest - gaussian_kl(mu, lv)}
    for k in (1, 3, 8, 12):
        out[f"k{k}"] = rest + mixture(mu_tr[kept], k, seed).score_samples(mu) + entropy
    g = mixture(mu_tr[kept], 5, seed)
    density = g.score_samples(mu)
    for weight in (0.5, 1.5, 2.0):
        out[f"k5_w{weight}"] = rest + weight * (density + entropy)
    out["k5_noent"] = rest + density
    out["k5_exp"] = rest + expected_log_density(g, mu, lv) + entropy
    mixture_score = rest_tr + g.score_samples(mu_tr) + 0.5 * lv_tr.sum(axis=1)
    g_step = mixture(mu_tr[core(mixture_score)], 5, seed)
    out["k5_cstep"] = rest + g_step.score_samples(mu) + entropy
    g_kl = mixture(mu_tr[core(-gaussian_kl(mu_tr, lv_tr))], 5, seed)
    out["k5_latcore"] = rest + g_kl.score_samples(mu) + entropy
    g_diag = mixture(mu_tr[kept], 5, seed, covariance_type="diag")
    out["k5diag"] = rest + g_diag.score_samples(mu) + entropy
    fits = [mixture(mu_tr[kept], k, seed) for k in range(1, 11)]
    best = min(fits, key=lambda f: f.bic(mu_tr[kept]))
    out["bic"] = rest + best.score_samples(mu) + entropy
    return out


def weight_variants(seed, train, test, floors=(0.05, 0.1, 0.15)):
    """The default's mixture without its components of weight below a floor
    (renormalised): a tight group of anomalies inside the core would get a
    small component of its own."""
    (_, mu_tr, _), (rest, mu, lv) = train, test
    entropy = 0.5 * lv.sum(axis=1)
    g = mixture(mu_tr[kl_core(train)], 5, seed)
    weighted = g._estimate_weighted_log_prob(mu)
    out = {}
    for floor in floors:
        big = g.weights_ >= floor
        density = logsumexp(weighted[:, big], axis=1) - np.log(g.weights_[big].sum())
        out[f"k5_minweight{floor}"] = rest + density + entropy
    return out


def robust_core_variants(seed, train, test):
    """The mixture fitted to a core that MCD's support (75% of the codes, one
    robust Gaussian) chooses, alone or together with the prior's core: a
    tight group of codes away from the bulk falls outside it."""
    (_, mu_tr, _), (rest, mu, lv) = train, test
    entropy = 0.5 * lv.sum(axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        support = MinCovDet(support_fraction=0.75, random_state=seed).fit(mu_tr)
    support = support.support_
    both = support & kl_core(train)
    return {
        "k5_mcdcore": rest
        + mixture(mu_tr[support], 5, seed).score_samples(mu)
        + entropy,
        "k5_mcd_and_prior_core": rest
        + mixture(mu_tr[both], 5, seed).score_samples(mu)
        + entropy,
    }


def shape_variants(seed, train, test, shrinkages=(0.25, 0.5, 0.75)):
    """The mixture with components less free to be tight: tied or spherical
    covariances, or each full covariance shrunk towards the core's pooled
    covariance."""
    (_, mu_tr, _), (rest, mu, lv) = train, test
    entropy = 0.5 * lv.sum(axis=1)
    kept = mu_tr[kl_core(train)]
    out = {
        f"k5_{kind}": rest + mixture(kept, 5, seed, kind).score_samples(mu) + entropy
        for kind in ("tied", "spherical")
    }
    g = mixture(kept, 5, seed)
    full = g.covariances_.copy()
    pooled = np.cov(kept, rowvar=False).reshape(kept.shape[1], kept.shape[1])
    for a in shrinkages:
        g.covariances_ = (1 - a) * full + a * pooled
        g.precisions_cholesky_ = _compute_precision_cholesky(g.covariances_, "full")
        out[f"k5_shrink{a}"] = rest + g.score_samples(mu) + entropy
    return out


def rows_per_component_variants(seed, train, test, rows=(50, 100)):
    """The mixture with at most one component per ``rows`` core rows."""
    (_, mu_tr, _), (rest, mu, lv) = train, test
    entropy = 0.5 * lv.sum(axis=1)
    kept = mu_tr[kl_core(train)]
    out = {}
    for r in rows:
        k = int(np.clip(len(kept) // r, 1, 5))
        out[f"k_per{r}"] = rest + mixture(kept, k, seed).score_samples(mu) + entropy
    return out


def balance_variants(seed, train, test):
    """The score's two parts as robust z-scores over the training rows,
    summed or the lower of the two."""
    (rest_tr, mu_tr, lv_tr), (rest, mu, lv) = train, test
    g = mixture(mu_tr[kl_core(train)], 5, seed)
    latent_tr = g.score_samples(mu_tr) + 0.5 * lv_tr.sum(axis=1)
    latent = g.score_samples(mu) + 0.5 * lv.sum(axis=1)

    def mad_z(values, reference):
        # As robust_z, but a spread of 0 counts as 1 (the rows recorded so).
        median = np.median(reference)
        spread = 1.4826 * np.median(np.abs(reference - median)) or 1.0
        return (values - median) / spread

    cells, code = mad_z(rest, rest_tr), mad_z(latent, latent_tr)
    return {"z_sum": cells + code, "z_min": np.minimum(cells, code)}


def smoothing_variants(seed, train, test):
    (_, mu_tr, lv_tr), (rest, mu, lv) = train, test
    entropy = 0.5 * lv.sum(axis=1)
    kept = kl_core(train)
    densities = np.stack(
        [mixture(mu_tr[kept], 5, seed + i).score_samples(mu) for i in range(5)]
    )
    out = {
        "avg5": rest + densities.mean(axis=0) + entropy,
        "lse5": rest + logsumexp(densities, axis=0) - np.log(5) + entropy,
        "ninit5": rest
        + mixture(mu_tr[kept], 5, seed, n_init=5).score_samples(mu)
        + entropy,
    }
    rng = np.random.RandomState(seed)
    means, stds = mu_tr[kept], np.exp(0.5 * lv_tr[kept])
    draws = np.concatenate(
        [means + stds * rng.standard_normal(means.shape) for _ in range(3)]
    )
    for k, name in ((5, "samp"), (10, "samp10")):
        out[name] = rest + mixture(draws, k, seed).score_samples(mu) + entropy
    return out


def joint_variants(seed, train, test):
    """The mixture fitted to each row's code and its reconstruction term
    ``L`` together (DAGMM's energy, Zong et al. 2018): a row whose
    likelihood is unusual for its region of the latent space stands out."""
    (rest_tr, mu_tr, _), (rest, mu, lv) = train, test
    entropy = 0.5 * lv.sum(axis=1)
    kept = kl_core(train)
    median = np.median(rest_tr[kept])
    spread = max(np.subtract(*np.percentile(rest_tr[kept], [75, 25])), 1e-12)

    def joint(r, m):
        return np.column_stack([m, (r - median) / spread])

    out = {}
    for k in (5, 8):
        g = mixture(joint(rest_tr, mu_tr)[kept], k, seed)
        energy = g.score_samples(joint(rest, mu))
        out[f"joint{k}"] = energy
        out[f"joint{k}_ent"] = energy + entropy
        out[f"joint{k}_plus"] = rest + energy + entropy
    return out


def log_aggregate_posterior(z, means, logvars, extra_var=None, chunk=1024):
    """``log (1/m) sum_i N(z; mu_i, diag(var_i + extra))`` for each row of
    ``z``: the density of the encoder's aggregate posterior over ``m`` rows
    (with ``extra`` the scored row's own posterior variance, its expectation
    under that posterior)."""
    out = np.empty(len(z))
    for start in range(0, len(z), chunk):
        zc = z[start : start + chunk][:, None, :]
        var = np.exp(logvars)[None, :, :]
        if extra_var is not None:
            var = var + extra_var[start : start + chunk][:, None, :]
        log_n = -0.5 * (((zc - means[None]) ** 2 / var) + np.log(2 * np.pi * var)).sum(
            axis=2
        )
        out[start : start + chunk] = logsumexp(log_n, axis=1) - np.log(len(means))
    return out


def aggregate_variants(seed, train, test, max_rows=4000):
    """The encoder's aggregate posterior over (a seeded sample of) the
    core's rows as the latent density, in place of the mixture fitted to
    their means (VampPrior's view: the prior that the trained encoder
    implies)."""
    (_, mu_tr, lv_tr), (rest, mu, lv) = train, test
    entropy = 0.5 * lv.sum(axis=1)
    rng = np.random.RandomState(seed)

    def sample(mask):
        rows = np.flatnonzero(mask)
        if len(rows) > max_rows:
            rows = rng.choice(rows, max_rows, replace=False)
        return mu_tr[rows], lv_tr[rows]

    kept = kl_core(train)
    g = mixture(mu_tr[kept], 5, seed).score_samples(mu)
    out = {}
    for name, mask in (("agg", kept), ("agg_all", np.ones(len(mu_tr), bool))):
        means, logvars = sample(mask)
        density = log_aggregate_posterior(mu, means, logvars)
        out[name] = rest + density + entropy
        out[f"{name}_conv"] = (
            rest + log_aggregate_posterior(mu, means, logvars, np.exp(lv)) + entropy
        )
        out[f"{name}_mix"] = rest + np.logaddexp(density, g) - np.log(2) + entropy
    return out


def calibrated_variants(detector, X_train, X_test, val_rows):
    """The numeric columns' Gaussian scales re-estimated on the detector's own
    validation rows (held out from training) before scoring: each column's
    scale times the root mean square of its standardised residuals there
    (the calibrated decoder of Rybkin et al. 2021, on held-out rows), with
    ``k`` pseudo-rows at a residual of one scale shrinking small samples
    towards the trained scale; ``up`` only widens."""
    # Scoring runs on the detector's float64 copy of the network.
    module = detector._module64
    n_numeric = module.n_numeric
    if not n_numeric or val_rows is None:
        default = detector.score_samples(X_test)
        return dict.fromkeys(("cal", "cal_k10", "cal_up_k10", "cal_k30"), default)
    encoded = torch.as_tensor(detector._encoder.transform(X_train[val_rows]))
    with torch.no_grad():
        x, observed = module.split_missing(encoded.double())
        mu, _ = module._posterior(x, observed)
        output = module.decode(mu)
        scale = module.numeric_scale()
        z = (x[:, :n_numeric] - output[:, :n_numeric]) / scale
        seen = observed[:, :n_numeric] if observed is not None else torch.ones_like(z)
        squares, counts = (z**2 * seen).sum(0), seen.sum(0)
        raw = module.raw_scale.detach().clone()
    out = {}
    for name, k, widen_only in (
        ("cal", 0, False),
        ("cal_k10", 10, False),
        ("cal_up_k10", 10, True),
        ("cal_k30", 30, False),
    ):
        ratio = ((squares + k) / (counts + k).clamp(min=1)).sqrt()
        if widen_only:
            ratio = ratio.clamp(min=1.0)
        excess = (scale * ratio - module.min_scale).clamp(min=1e-6)
        try:
            with torch.no_grad():
                module.raw_scale.copy_(torch.log(torch.expm1(excess)))
            out[name] = detector.score_samples(X_test)
        finally:
            with torch.no_grad():
                module.raw_scale.copy_(raw)
    return out


def masked_variants(detector, X_train, X_test, test, default_train, default_test):
    def iqr_z(values, reference):
        q1, median, q3 = np.percentile(reference, [25, 50, 75])
        return (values - median) / max(q3 - q1, 1e-12)

    rest = test[0]
    latent = default_test - rest
    masked = np.asarray(detector.explain(X_test)).sum(axis=1)
    masked_train = np.asarray(detector.explain(X_train)).sum(axis=1)
    z_default = iqr_z(default_test, default_train)
    z_masked = iqr_z(masked, masked_train)
    return {
        "pll": masked,
        "pll_lat": masked + latent,
        "avg_lat": 0.5 * (rest + masked) + latent,
        "def_pll": default_test + masked,
        "rank_def_pll": z_default + z_masked,
        "min_def_pll": np.minimum(z_default, z_masked),
        "L_only": rest,
    }


def seeded_draws(detector, k):
    """The ``k`` standard-normal codes seeded by the fit that ``detector``'s
    own ``importance_samples`` would draw, as a float64 tensor."""
    eps = shared_normal_draws(k, detector.module_.n_components, detector._seed)
    return torch.as_tensor(eps, dtype=torch.float64, device=detector._device)


def cells_at(detector, module, x, clean, observed, scored, z):
    """The score's cell terms of the encoded rows ``x`` decoded at the codes
    ``z``, summed per row: each cell's log-likelihood (``clean`` and
    ``observed`` from :meth:`TabularVAE.split_missing`), holes at their
    typical value over the ``scored`` cells, as ``score_samples`` sums them
    at the posterior mean."""
    loglik = module.log_likelihood(clean, module.decode(z), observed)
    loglik = loglik + detector._mode_log_jacobian(x)
    return detector._with_typical_holes(loglik, scored).sum(dim=1)


def tail_variants(detector, X_train, X_test, shares=(0.01, 0.002)):
    """Scores with each numeric cell outside the central ``1 - share`` of its
    column's training values hidden from the encoder (but scored)."""
    detector._complete_indicators()
    module = detector._module64
    n_numeric = module.n_numeric
    encoded = detector._run_chunked(lambda m, x: x, detector._encode(X_train))
    numeric = encoded[:, :n_numeric]
    out = {}
    for share in shares:
        low, high = (
            torch.as_tensor(
                np.nanquantile(numeric, q, axis=0), dtype=torch.float64
            ).nan_to_num(nan=0.0)
            for q in (share / 2, 1 - share / 2)
        )

        def score(module, x, own_latent, low=low, high=high):
            clean, observed = module.split_missing(x)
            if observed is None:
                observed = clean.new_ones((x.shape[0], module.n_variables))
            cells = x[:, :n_numeric]
            tail = (cells < low) | (cells > high)  # NaN: neither
            visible = observed.clone()
            visible[:, :n_numeric] *= (~tail).to(visible.dtype)
            seen = clean * visible[:, module.feature_variable]
            mu, logvar = module._posterior(seen, visible)
            scored = detector._point_masses_as_observed(x, observed)
            bound = cells_at(detector, module, x, clean, observed, scored, mu)
            if own_latent:
                mu, logvar = module._posterior(clean, observed)
            bound = bound + detector._latent_log_prior(mu, logvar)
            return bound + detector._unexpected(x, scored).sum(dim=1)

        tag = f"tails{1000 - round(share * 1000)}"
        for own, suffix in ((False, ""), (True, "_ownlat")):
            out[tag + suffix] = detector._run_chunked(
                lambda m, x, own=own: score(m, x, own), detector._encode(X_test)
            )
    return out


def floored_variants(detector, X_train, X_test, percentiles=(0.1, 0.5, 1, 2)):
    """Scores with each cell's log-likelihood floored at its column's p-th
    percentile over the training rows: one extreme cell adds at most as
    much as the training rows' rarest, so it cannot outweigh many moderately
    unusual ones (a tree's isolation depth saturates the same way)."""
    cells_train, _ = cell_parts(detector, X_train)
    cells_test, latent_test = cell_parts(detector, X_test)
    out = {}
    for q in percentiles:
        floor = np.percentile(cells_train, q, axis=0)
        out[f"floor{q}"] = np.maximum(cells_test, floor).sum(axis=1) + latent_test
    return out


def nat_floor_variants(detector, X_test, bounds=(20, 50, 200)):
    """Scores with each cell's density mixed with a broad outlier density
    ``e^-C``: no cell costs much more than ``C`` nats."""
    cells_test, latent_test = cell_parts(detector, X_test)
    return {
        f"natfloor{c}": np.logaddexp(cells_test, -c).sum(axis=1) + latent_test
        for c in bounds
    }


def refined_variants(detector, X_test, default_test, steps=(15,)):
    """Scores at each row's posterior refined by ``steps`` Adam steps up its
    ELBO (``TabularVAE.refined_posterior``, the imputer's refinement): the
    decoder's cells at the refined mean, with the latent term there or at
    the encoder's own posterior; and the amortisation gap (how much the
    refinement raised the score: large where the encoder reads a row badly,
    as it may an anomaly), alone and subtracted from the score."""
    detector._complete_indicators()
    n_draws = network._REFINE_DRAWS
    eps = seeded_draws(detector, n_draws)
    out = {}
    for n_steps in steps:

        def score(module, x, own_latent, n_steps=n_steps):
            clean, observed = module.split_missing(x)
            mu, logvar = module._posterior(clean, observed)
            refined = module.refined_posterior(
                clean, observed, mu, logvar, eps, n_steps
            )
            scored = detector._point_masses_as_observed(x, observed)
            bound = cells_at(detector, module, x, clean, observed, scored, refined[0])
            latent = (mu, logvar) if own_latent else refined
            bound = bound + detector._latent_log_prior(*latent)
            return bound + detector._unexpected(x, scored).sum(dim=1)

        for own, suffix in ((False, ""), (True, "_ownlat")):
            out[f"refined{n_steps}{suffix}"] = detector._run_chunked(
                lambda m, x, own=own: score(m, x, own), detector._encode(X_test)
            )
        gap = out[f"refined{n_steps}"] - default_test
        out[f"gap{n_steps}"] = -gap
        out[f"default_minus_gap{n_steps}"] = default_test - gap
    return out


def importance_mixture_variants(
    detector, X_test, settings=((16, 1.0), (16, 1.25), (16, 1.5), (64, 1.25))
):
    """``log (1/k) sum_i p(x | z_i) g(z_i) / q_c(z_i | x)`` for each
    ``(k, c)`` of ``settings``: the marginal likelihood under the latent
    mixture, estimated with ``k`` draws from the posterior widened ``c``
    times (``iwmix``)."""
    detector._complete_indicators()
    out = {}
    for n_draws, widen in settings:
        eps = seeded_draws(detector, n_draws)

        def score(module, x, eps=eps, widen=widen):
            clean, observed = module.split_missing(x)
            scored = detector._point_masses_as_observed(x, observed)
            mu, logvar = module._posterior(clean, observed)
            log_std = 0.5 * logvar + np.log(widen)
            terms = []
            for e in eps:
                z = mu + log_std.exp() * e
                cells = cells_at(detector, module, x, clean, observed, scored, z)
                # _latent_log_prior(z, 0) is log g(z): no entropy term.
                log_g = detector._latent_log_prior(z, torch.zeros_like(logvar))
                log_q = (-0.5 * e.pow(2)).sum() - log_std.sum(dim=1)
                terms.append(cells + log_g - log_q)
            bound = torch.logsumexp(torch.stack(terms, dim=1), dim=1)
            return bound + detector._unexpected(x, scored).sum(dim=1)

        out[f"iwmix_k{n_draws}_c{widen:g}"] = detector._run_chunked(
            score, detector._encode(X_test)
        )
    return out


def robust_z(values, reference):
    """``values`` as robust z-scores over ``reference`` (median, scaled MAD;
    column by column for 2-D arrays)."""
    median = np.median(reference, axis=0)
    spread = 1.4826 * np.median(np.abs(reference - median), axis=0) + 1e-12
    return (values - median) / spread


def cell_parts(detector, X):
    """``(cells, latent)``: each row's per-variable log-likelihoods at the
    posterior mean ``(n, n_variables)`` and its latent term ``(n,)``, which
    sum to ``score_samples`` without its cell floor on complete rows. Not the
    first half of the detector's ``_training_cells``: that leaves a
    point-mass cell's Gaussian part NaN, where the score counts it as 0."""
    cells, latent = [], []

    def record(module, x):
        loglik, mu, logvar = module.posterior_mean_pass(x)
        cells.append((loglik + detector._mode_log_jacobian(x)).cpu().numpy())
        latent.append(detector._latent_log_prior(mu, logvar).cpu().numpy())
        return torch.zeros(x.shape[0], dtype=x.dtype)

    detector._run_chunked(record, detector._encode(X))
    return np.concatenate(cells), np.concatenate(latent)


def clipped_variants(detector, X_train, X_test, percentiles=(50, 75, 90, 97)):
    """Scores that count each cell only below its column's usual level."""
    cells_train, latent_train = cell_parts(detector, X_train)
    cells_test, latent_test = cell_parts(detector, X_test)
    out = {}
    for q in percentiles:
        level = np.percentile(cells_train, q, axis=0)
        below = np.minimum(cells_test - level, 0).sum(axis=1)
        out[f"clip{q}"] = below + latent_test
        latent_level = np.percentile(latent_train, q)
        out[f"clip{q}_lat"] = below + np.minimum(latent_test - latent_level, 0)
    return out


def marginal_cells(detector, X, codes, rows_per_pass=64):
    """Each cell's log-density under the VAE's marginal for its column,
    ``log mean_m p(x_j | z_m)`` over ``codes``, ``(n, n_variables)``."""
    n_codes = codes.shape[0]

    def record(module, x):
        outputs = module.decode(codes.to(x.dtype))
        parts = []
        for start in range(0, x.shape[0], rows_per_pass):
            rows = x[start : start + rows_per_pass]
            clean, observed = module.split_missing(rows)
            if observed is not None:
                observed = observed[:, None, :]
            loglik = module.log_likelihood(clean[:, None, :], outputs[None], observed)
            marginal = torch.logsumexp(loglik, dim=1) - np.log(n_codes)
            parts.append(marginal + detector._mode_log_jacobian(rows))
        return torch.cat(parts)

    return detector._run_chunked(record, detector._encode(X))


def marginal_variants(detector, X_train, X_test, default_test, train, n_codes=1024):
    """Scores from each column's marginal under the VAE (``marginal``);
    ``train`` is :func:`score_parts` of the training rows."""
    _, mu_train, _ = train
    rng = np.random.RandomState(detector._seed)
    pick = rng.choice(len(mu_train), min(n_codes, len(mu_train)), replace=False)
    codes = torch.as_tensor(mu_train[pick], device=detector._device)
    marginal_train = marginal_cells(detector, X_train, codes).sum(axis=1)
    marginal_test = marginal_cells(detector, X_test, codes).sum(axis=1)
    # The first 256 of the same sample: what a cheaper marginal would give.
    few_test = marginal_cells(detector, X_test, codes[:256]).sum(axis=1)
    _, latent_test = cell_parts(detector, X_test)
    default_train = detector.score_samples(X_train)

    z_default = robust_z(default_test, default_train)
    z_marginal = robust_z(marginal_test, marginal_train)
    return {
        "marginal": marginal_test,
        "marginal_lat": marginal_test + latent_test,
        "default_plus_marginal": default_test + marginal_test,
        "default_plus_half_marginal": default_test + 0.5 * marginal_test,
        "default_plus_half_marginal_256": default_test + 0.5 * few_test,
        "marginal_z_sum": z_default + z_marginal,
        "marginal_z_min": np.minimum(z_default, z_marginal),
    }


def standardised_residuals(detector, X):
    """Each numeric cell's ``(x - decoder mean) / scale`` at the posterior
    mean, 0 at holes and point masses, ``(n, n_numeric)``."""

    def record(module, x):
        clean, observed = module.split_missing(x)
        mu, _ = module._posterior(clean, observed)
        n_numeric = module.n_numeric
        mean = module.decode(mu)[:, :n_numeric]
        residual = (clean[:, :n_numeric] - mean) / module.numeric_scale()
        if observed is not None:
            residual = residual * observed[:, :n_numeric]
        return residual

    return detector._run_chunked(record, detector._encode(X))


def residual_covariance_variants(detector, X_train, X_test, default_test):
    """Scores with the numeric cells' residuals given a full covariance
    (``residualcov``)."""
    if detector.module_.n_numeric < 2:
        return {}
    from sklearn.covariance import LedoitWolf

    r_train = standardised_residuals(detector, X_train)
    r_test = standardised_residuals(detector, X_test)
    default_train = detector.score_samples(X_train)
    core = default_train >= np.quantile(default_train, 0.25)
    rng = np.random.RandomState(detector._seed)
    sample = rng.permutation(len(r_train))[:2000]

    def correction(covariance):
        # A ridge of 0.01 (residuals have variance about 1): a column whose
        # residuals are mostly 0 (point masses) leaves MCD's support singular.
        covariance = covariance + 0.01 * np.eye(len(covariance))
        precision = np.linalg.inv(covariance)
        _, log_det = np.linalg.slogdet(covariance)
        quad = np.einsum("ni,ij,nj->n", r_test, precision, r_test)
        return -0.5 * quad - 0.5 * log_det + 0.5 * (r_test**2).sum(axis=1)

    core_cov = LedoitWolf(assume_centered=True).fit(r_train[core]).covariance_
    all_cov = LedoitWolf(assume_centered=True).fit(r_train).covariance_
    mcd_cov = MinCovDet(random_state=detector._seed).fit(r_train[sample]).covariance_
    core_correction = correction(core_cov)
    return {
        "rescov_core": default_test + core_correction,
        "rescov_core_half": default_test + 0.5 * core_correction,
        "rescov_all": default_test + correction(all_cov),
        "rescov_mcd": default_test + correction(mcd_cov),
    }


def gradient_norms(detector, X, chunk_rows=1024):
    """Each row's squared gradient norms ``(n, n_layers + 1)``: per linear
    layer of the float64 network (weights and bias together), then the
    numeric columns' raw scales (0 without numeric columns)."""
    module = copy.deepcopy(detector._module64).requires_grad_(True).eval()
    layers = [m for m in module.modules() if isinstance(m, torch.nn.Linear)]
    inputs, outputs = {}, {}
    hooks = []
    for i, layer in enumerate(layers):
        hooks.append(
            layer.register_forward_hook(
                lambda _m, args, _out, i=i: inputs.__setitem__(i, args[0].detach())
            )
        )
        hooks.append(
            layer.register_full_backward_hook(
                lambda _m, _gin, gout, i=i: outputs.__setitem__(i, gout[0].detach())
            )
        )
    rows = []
    try:
        for (x,) in detector._chunks(detector._encode(X), chunk_rows=chunk_rows):
            x, observed = module.split_missing(x)
            raw = module.raw_scale.detach().expand(x.shape[0], -1).clone()
            raw.requires_grad_(True)
            module.numeric_scale = lambda raw=raw: (
                module.min_scale + torch.nn.functional.softplus(raw)
            )
            loglik, kl = module(x, sample=False, observed=observed)
            loss = -(loglik.sum(dim=1) - kl)
            scale_grad = torch.autograd.grad(loss.sum(), raw, retain_graph=True)[0]
            module.zero_grad()
            loss.sum().backward()
            norms = []
            for i in range(len(layers)):
                g, a = outputs[i], inputs[i]
                norms.append(g.pow(2).sum(1) * (a.pow(2).sum(1) + 1.0))
            norms.append(scale_grad.pow(2).sum(1))
            rows.append(torch.stack(norms, dim=1).detach().cpu().numpy())
    finally:
        for hook in hooks:
            hook.remove()
    return np.concatenate(rows)


def gradient_norm_variants(detector, X_train, X_test, default_test):
    """Scores from the per-row gradient norms (``gradnorm``); higher is
    more normal, as the score."""
    rng = np.random.RandomState(detector._seed)
    sample = rng.permutation(len(X_train))[:2000]
    X_sample = X_train[sample]
    tiny = 1e-30
    train, test = (
        np.log(gradient_norms(detector, X) + tiny) for X in (X_sample, X_test)
    )
    total_train = -np.log(np.exp(train).sum(axis=1))
    total_test = -np.log(np.exp(test).sum(axis=1))
    z_default = robust_z(default_test, detector.score_samples(X_sample))
    z_total = robust_z(total_test, total_train)
    return {
        "gradnorm": total_test,
        "gradnorm_scales": -test[:, -1],
        "gradnorm_layers_z": -robust_z(test, train).sum(axis=1),
        "gradnorm_z_sum": z_default + z_total,
        "gradnorm_z_min": np.minimum(z_default, z_total),
    }


# The groups built from the score's parts alone, ``(seed, train, test)``, in
# the order they are run.
CODE_GROUPS = {
    "latent": latent_variants,
    "weights": weight_variants,
    "robustcore": robust_core_variants,
    "rowsper": rows_per_component_variants,
    "balance": balance_variants,
    "shape": shape_variants,
    "smoothing": smoothing_variants,
    "joint": joint_variants,
    "aggregate": aggregate_variants,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", required=True)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--groups", nargs="+", choices=GROUPS, default=list(GROUPS))
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument(
        "--model-seed-offset",
        type=int,
        default=0,
        help="the detector's random_state is the split's seed plus this",
    )
    parser.add_argument(
        "--synthetic",
        choices=KINDS + EXTRA_KINDS,
        default=None,
        help="rank anomalies of this kind generated from the table's inliers "
        "(bench_anomaly_synthetic.py) instead of its own",
    )
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    rows = []
    for name in args.datasets:
        with np.load(args.data / f"{name}.npz") as archive:
            X, y = archive["X"].astype(float), archive["y"].astype(int).ravel()
        for seed in args.seeds:
            if args.synthetic:
                X_seed, y_seed = table_with_anomalies(
                    X, y, args.synthetic, 0.05, 5000, seed
                )
            else:
                X_seed, y_seed = X, y
            X_train, X_test, _, y_test = make_split(X_seed, y_seed, seed)
            detector = VAEAnomalyDetector(random_state=seed + args.model_seed_offset)
            split = detector._validation_split
            seen = {}

            def recorded_split(n_rows, rng, split=split, seen=seen):
                seen["val"], rest = split(n_rows, rng)
                return seen["val"], rest

            detector._validation_split = recorded_split
            detector.fit(X_train)
            del detector._validation_split
            default_test = detector.score_samples(X_test)
            variants = {"default": default_test}
            train = score_parts(detector, X_train)
            test = score_parts(detector, X_test)
            # The mixture's seed is the detector's, as _fit_latent_mixture's.
            for group, group_variants in CODE_GROUPS.items():
                if group in args.groups:
                    variants |= group_variants(detector._seed, train, test)
            if "calibrated" in args.groups:
                variants |= calibrated_variants(
                    detector, X_train, X_test, seen.get("val")
                )
            if "masked" in args.groups:
                default_train = detector.score_samples(X_train)
                variants |= masked_variants(
                    detector, X_train, X_test, test, default_train, default_test
                )
            if "tails" in args.groups:
                variants |= tail_variants(detector, X_train, X_test)
            if "clipped" in args.groups:
                variants |= clipped_variants(detector, X_train, X_test)
            if "floored" in args.groups:
                variants |= floored_variants(detector, X_train, X_test)
            if "natfloor" in args.groups:
                variants |= nat_floor_variants(detector, X_test)
            if "marginal" in args.groups:
                variants |= marginal_variants(
                    detector, X_train, X_test, default_test, train
                )
            if "residualcov" in args.groups:
                variants |= residual_covariance_variants(
                    detector, X_train, X_test, default_test
                )
            if "refined" in args.groups:
                variants |= refined_variants(detector, X_test, default_test)
            if "iwmix" in args.groups:
                variants |= importance_mixture_variants(detector, X_test)
            if "gradnorm" in args.groups:
                variants |= gradient_norm_variants(
                    detector, X_train, X_test, default_test
                )
            for variant, score in variants.items():
                rows.append(
                    {
                        "dataset": name,
                        "seed": seed,
                        "variant": variant,
                        "roc_auc": roc_auc_score(y_test, -score),
                        "avg_precision": average_precision_score(y_test, -score),
                    }
                )
            pd.DataFrame(rows).to_csv(args.out, index=False)
            print(
                f"{name:22s} seed {seed} default "
                f"{roc_auc_score(y_test, -default_test):.4f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
