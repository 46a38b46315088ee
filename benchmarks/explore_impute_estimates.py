"""VAEImputer's fill estimates on the same fits: importance draws and
posterior refinement.

For each table, mechanism and seed of ``bench_impute.py`` (same tables, holes
and scores), one ``VAEImputer`` is fitted, and the table is filled with each
setting in turn (the settings only change ``transform``):

- ``--draws``: ``importance_samples`` values, 0 decoding the posterior
  mean, ``k > 0`` MIWAE's importance-weighted estimate with ``k`` draws
  (with ``refine_steps=--draws-refine-steps``, 0 by default: the estimate
  of "How many importance draws" in RESULTS.md);
- ``--refine``: ``STEPS,RATE,DRAWS`` triples for the default
  ``importance_samples``: ``refine_steps=STEPS``, with the refinement's Adam
  rate and its number of draws set to ``RATE`` and ``DRAWS``
  (``skvae._network``'s ``_REFINE_LEARNING_RATE`` and ``_REFINE_DRAWS``).
- ``--proposal-scales``: for the default ``importance_samples``, the
  importance draws taken from the posterior with its standard deviations
  times each value (``VAEImputer._proposal_scale``; 1 is the posterior
  itself): a wider proposal than the encoder's, whose posteriors may be too
  narrow;
- ``--quasi-draws``: for the default ``importance_samples`` and proposal,
  the draws as scrambled Sobol' points through the normal quantile
  function (``VAEImputer._quasi_random_draws``) in place of independent
  normal draws;
- ``--mixture-proposal``: for the default ``importance_samples`` and
  proposal scale, half of the draws from the posterior of the observed
  cells and half from the posterior of the row completed by the default
  estimate (re-encoded as if whole), weighted against the two proposals'
  even mixture (defensive importance sampling; ``mixture_importance_draws``);
- ``--residual-shrinks``: the default fill with its missing numbers moved
  by a regression on the observed numbers' residuals (``VAEImputer``'s
  ``residual_shrinkage``, ``skvae._residuals``) whose moments are the
  training rows' in-sample residuals (``residual_covariance``: at their
  posterior means, given all their observed cells, over the pairs of cells
  observed together), shrunk by each value towards their diagonal: the
  first form of "The decoder's residuals, correlated" in RESULTS.md;
- ``--hidden-residual-shrinks``: ``residual_shrinkage`` at each value, the
  imputer's own moments (one observed number hidden from the encoder at a
  time), the form it keeps; ``residual_shrinkage=1`` is the fill before.
  The other settings take the default, 0.3;
- ``--draw-seeds N``: the default fill with ``N`` other sets of importance
  draws (each network's draw seed moved away from its fit's seed): how much
  of a table's RMSE is the one set of draws that its seed gives.

The other settings keep the imputer's default.

Reported: RMSE on the removed numeric cells in standard deviations, accuracy
on removed categorical cells, and transform seconds.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/explore_impute_estimates.py \\
        --tables german_credit --mechanisms mcar --out estimates.csv
    OMP_NUM_THREADS=1 python benchmarks/explore_impute_estimates.py \\
        --tables german_credit --mechanisms mcar --draws \\
        --refine 0,0.1,4 15,0.1,4 30,0.05,8 --out refinement.csv
    OMP_NUM_THREADS=1 python benchmarks/explore_impute_estimates.py \\
        --tables german_credit --mechanisms mcar --draws 50 \\
        --proposal-scales 1.5 2 --out proposals.csv
    OMP_NUM_THREADS=1 python benchmarks/explore_impute_estimates.py \\
        --tables german_credit --mechanisms mcar --draws 50 --quasi-draws \\
        --out quasi.csv
"""

import argparse
import math
import time
import warnings
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from bench_impute import ADBENCH, MIXED, load, remove, scores

import skvae._network as network
from skvae import VAEImputer
from skvae._base import _EncodedRows


class Setting(NamedTuple):
    label: str
    params: dict  # imputer parameters
    refinement: tuple | None  # (Adam rate, draws) of the refinement
    proposal_scale: float
    quasi: bool = False  # quasi-random importance draws
    draw_shift: int = 0  # added (times _DRAW_SEED_STEP) to each network's seed
    mixture: bool = False  # the completed row's posterior as a second proposal
    residual_shrink: float | None = None  # in-sample residual moments


# Seeds of the draw sets of --draw-seeds: far from the fits' seeds.
_DRAW_SEED_STEP = 104_729
_default_importance_draws = network.TabularVAE._importance_draws


def _expected_entries(module, output, weights):
    """The weighted decoder means of every encoded entry, ``(n, n_features)``:
    numbers, binary probabilities and categorical probabilities, the values a
    completed row shows the encoder."""
    nn_, nb = module.n_numeric, module.n_binary
    parts = []
    if nn_:
        parts.append((weights * output[..., :nn_]).sum(1))
    if nb:
        parts.append((weights * torch.sigmoid(output[..., nn_ : nn_ + nb])).sum(1))
    start = nn_ + nb
    for size in module.category_sizes:
        block = F.softmax(output[..., start : start + size], dim=-1)
        parts.append((weights * block).sum(1))
        start += size
    return torch.cat(parts, dim=-1)


def _log_normal(z, mu, log_std):
    """log N(z; mu, exp(log_std)^2) summed over the last dimension."""
    scaled = (z - mu.unsqueeze(1)) / log_std.exp().unsqueeze(1)
    return (
        -0.5 * scaled.pow(2) - log_std.unsqueeze(1) - 0.5 * math.log(2 * math.pi)
    ).sum(-1)


def mixture_importance_draws(self, x, eps, refine_steps=0, proposal_scale=1.0):
    """``TabularVAE._importance_draws`` with a defensive mixture proposal:
    the first half of ``eps`` drawn from the observed cells' posterior, the
    second half from the posterior of the row completed by the default
    estimate (all of ``eps``), each widened by ``proposal_scale``; weights
    against the even mixture of the two."""
    if refine_steps:
        raise ValueError("the mixture proposal is measured without refinement")
    output, log_w = _default_importance_draws(self, x, eps, 0, proposal_scale)
    split, observed = self.split_missing(x)
    if observed is None:  # complete rows: nothing to complete
        return output, log_w
    expected = _expected_entries(self, output, F.softmax(log_w, dim=1).unsqueeze(-1))
    completed = torch.where(torch.isnan(x), expected, split)
    half = eps.shape[0] // 2
    log_scale = math.log(proposal_scale)
    mu1, logvar1 = self._posterior(split, observed)
    mu2, logvar2 = self._posterior(completed, None)
    log_std1, log_std2 = 0.5 * logvar1 + log_scale, 0.5 * logvar2 + log_scale
    z = torch.cat(
        [
            mu1.unsqueeze(1) + log_std1.exp().unsqueeze(1) * eps[:half],
            mu2.unsqueeze(1) + log_std2.exp().unsqueeze(1) * eps[half:],
        ],
        dim=1,
    )
    output = self.decode(z)
    log_px = self.log_likelihood(split.unsqueeze(1), output, observed.unsqueeze(1))
    log_pz = (-0.5 * z.pow(2) - 0.5 * math.log(2 * math.pi)).sum(-1)
    log_q = torch.logaddexp(
        _log_normal(z, mu1, log_std1), _log_normal(z, mu2, log_std2)
    ) - math.log(2.0)
    return output, log_px.sum(-1) + log_pz - log_q


def residual_covariance(imputer, table, shrink):
    """The in-sample moments: the decoder's standardised numeric residuals
    ``(x - mean) / scale`` at the training rows' posterior means, second
    moments over the pairs of cells observed together (no centring: the
    noise model has mean 0), shrunk by ``shrink`` towards the diagonal and
    eigenvalues floored at 1e-3 of the largest, ``(n_numeric, n_numeric)``.
    Used as both of ``VAEImputer``'s moments at ``residual_shrinkage=0``
    (which leaves them as they are), the fill moves a missing cell by
    ``scale * C_mo C_oo^-1 r_o``."""

    def residuals(module, x):
        split, observed = module.split_missing(x)
        mu, _ = module._posterior(split, observed)
        n = module.n_numeric
        mean = module.decode(mu)[:, :n]
        return (x[:, :n] - mean) / module.numeric_scale()

    r = imputer._run_chunked(residuals, _EncodedRows(imputer._encoder, table))
    seen = ~np.isnan(r)
    r = np.nan_to_num(r)
    pairs = seen.T.astype(float) @ seen.astype(float)
    cov = (r.T @ r) / np.maximum(pairs, 1.0)
    cov = (1.0 - shrink) * cov + shrink * np.diag(np.diag(cov))
    values, vectors = np.linalg.eigh(cov)
    values = np.maximum(values, 1e-3 * values.max())
    return (vectors * values) @ vectors.T


def settings(args):
    """The settings to fill each fit with, in order."""
    scale = VAEImputer._proposal_scale
    out = [
        Setting(
            f"k={k}",
            {"importance_samples": k, "refine_steps": args.draws_refine_steps},
            None,
            scale,
        )
        for k in args.draws
    ]
    for triple in args.refine:
        steps, rate, draws = triple.split(",")
        refinement = (float(rate), int(draws))
        out.append(
            Setting(f"refine={triple}", {"refine_steps": int(steps)}, refinement, scale)
        )
    for value in args.proposal_scales:
        out.append(Setting(f"proposal={value:g}", {}, None, value))
    if args.quasi_draws:
        out.append(Setting("draws=quasi", {}, None, scale, quasi=True))
    if args.mixture_proposal:
        out.append(Setting("proposal=mixture", {}, None, scale, mixture=True))
    for shrink in args.residual_shrinks:
        out.append(
            Setting(
                f"residual={shrink:g}",
                {"residual_shrinkage": 0.0},
                None,
                scale,
                residual_shrink=shrink,
            )
        )
    for shrink in args.hidden_residual_shrinks:
        label = f"hidden_residual={shrink:g}"
        out.append(Setting(label, {"residual_shrinkage": shrink}, None, scale))
    for shift in range(1, args.draw_seeds + 1):
        out.append(Setting(f"drawseed={shift}", {}, None, scale, draw_shift=shift))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tables", nargs="*", default=[*ADBENCH, *MIXED])
    parser.add_argument("--mechanisms", nargs="*", default=["mcar", "mnar"])
    parser.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2])
    parser.add_argument("--draws", nargs="*", type=int, default=[0, 50, 100, 200])
    parser.add_argument("--draws-refine-steps", type=int, default=0)
    parser.add_argument("--refine", nargs="*", default=[])
    parser.add_argument("--proposal-scales", nargs="*", type=float, default=[])
    parser.add_argument("--quasi-draws", action="store_true")
    parser.add_argument("--mixture-proposal", action="store_true")
    parser.add_argument("--residual-shrinks", nargs="*", type=float, default=[])
    parser.add_argument("--hidden-residual-shrinks", nargs="*", type=float, default=[])
    parser.add_argument("--draw-seeds", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    defaults = VAEImputer().get_params()
    base = {
        k: defaults[k]
        for k in ("importance_samples", "refine_steps", "residual_shrinkage")
    }
    constants = (network._REFINE_LEARNING_RATE, network._REFINE_DRAWS)
    proposal_scale = VAEImputer._proposal_scale
    quasi_draws = VAEImputer._quasi_random_draws
    rows = []
    for table in args.tables:
        frame, _ = load(table)
        categorical = [c for c in frame.columns if frame[c].dtype == object]
        for mechanism in args.mechanisms:
            for seed in args.seeds:
                holed, holes = remove(frame, mechanism, seed)
                imputer = VAEImputer(random_state=seed).fit(holed)
                if args.mixture_proposal and len(imputer._encoder.mixture_variables_):
                    raise ValueError("the mixture proposal needs no point masses")
                networks = [imputer, *getattr(imputer, "other_estimators_", [])]
                fit_seeds = [n._seed for n in networks]
                for setting in settings(args):
                    imputer.set_params(**{**base, **setting.params})
                    rate, draws = setting.refinement or constants
                    network._REFINE_LEARNING_RATE = rate
                    network._REFINE_DRAWS = draws
                    VAEImputer._proposal_scale = setting.proposal_scale
                    VAEImputer._quasi_random_draws = setting.quasi
                    if setting.mixture:
                        network.TabularVAE._importance_draws = mixture_importance_draws
                    for n, fit_seed in zip(networks, fit_seeds, strict=True):
                        n._seed = fit_seed + setting.draw_shift * _DRAW_SEED_STEP
                    kept = [
                        (n.residual_cross_moments_, n.residual_moments_)
                        for n in networks
                    ]
                    if setting.residual_shrink is not None:
                        validated = imputer._validated_table(holed)
                        for n in networks:
                            cov = residual_covariance(
                                n, validated, setting.residual_shrink
                            )
                            n.residual_cross_moments_ = n.residual_moments_ = cov
                            n._residual_regressions = {}
                    start = time.perf_counter()
                    filled = imputer.transform(holed)
                    seconds = time.perf_counter() - start
                    network._REFINE_LEARNING_RATE, network._REFINE_DRAWS = constants
                    VAEImputer._proposal_scale = proposal_scale
                    VAEImputer._quasi_random_draws = quasi_draws
                    network.TabularVAE._importance_draws = _default_importance_draws
                    for n, (cross, seen) in zip(networks, kept, strict=True):
                        n.residual_cross_moments_, n.residual_moments_ = cross, seen
                        n._residual_regressions = {}
                    label = setting.label
                    rmse, accuracy = scores(frame, filled, holes, categorical)
                    rows.append(
                        dict(
                            table=table,
                            mechanism=mechanism,
                            seed=seed,
                            setting=label,
                            rmse_sd=rmse,
                            accuracy=accuracy,
                            transform_s=seconds,
                        )
                    )
                    print(
                        f"{table:15s} {mechanism} seed {seed} {label:20s} "
                        f"RMSE {rmse:.4f} acc {accuracy:.3f} {seconds:.2f}s",
                        flush=True,
                    )
                args.out.parent.mkdir(parents=True, exist_ok=True)
                pd.DataFrame(rows).to_csv(args.out, index=False)


if __name__ == "__main__":
    main()
