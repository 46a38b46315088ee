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
- ``--residual-shrinks``: for the default ``importance_samples`` and
  proposal, each missing numeric cell moved by what the row's observed
  numeric residuals say about its own: the decoder's residuals given a
  covariance (``residual_covariance``: the training rows' standardised
  residuals at their posterior means, over the pairs of cells observed
  together, shrunk by each value towards its diagonal), and a missing cell's
  residual estimated by Gaussian conditioning on the observed cells'
  importance-weighted residuals (``residual_corrected_output``). The decoder
  gives each cell its own noise given the code, so what the code leaves out
  of linear constraints among columns (dummies summing to one, shares of a
  whole) and of rows beyond the training bulk is lost to the fill; a
  decoder with correlated noise keeps it;
- ``--hidden-residual-shrinks``: the same correction with the cross terms
  estimated where they are used (``hidden_residual_moments``): in each
  training row one observed numeric cell is hidden from the encoder, and
  the hidden cell's residual is paired with the seen cells' residuals at
  the code of the rest; ``C_mo`` is those pairs' second moments, ``C_oo``
  the seen cells' (``hidden_residual_corrected_output``). In-sample
  residuals (``--residual-shrinks``) come from codes that saw every cell;
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
    residual_shrink: float | None = None  # correlated decoder residuals
    hidden_shrink: float | None = None  # the same, cross terms from hidden cells


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
    """Covariance of the decoder's standardised numeric residuals
    ``(x - mean) / scale`` at the training rows' posterior means, over the
    pairs of cells observed together (no centring: the noise model has mean
    0), shrunk by ``shrink`` towards its diagonal and its eigenvalues floored
    at 1e-3 of the largest, ``(n_numeric, n_numeric)``."""

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
    return torch.as_tensor((vectors * values) @ vectors.T, dtype=torch.float64)


_default_conditional_output = network.TabularVAE.conditional_output


def residual_corrected_output(self, x, eps, refine_steps=0, proposal_scale=1.0):
    """``TabularVAE.conditional_output`` with each missing numeric cell moved
    by ``scale * C_mo C_oo^-1 r_o``: ``C`` the module's ``_residual_cov``,
    ``r_o`` the observed numeric cells' importance-weighted standardised
    residuals (linear in the draws, so the same as correcting each draw)."""
    estimate = _default_conditional_output(self, x, eps, refine_steps, proposal_scale)
    n = self.n_numeric
    cov = getattr(self, "_residual_cov", None)
    if cov is None or not n:
        return estimate
    xn = x[:, :n]
    seen = ~torch.isnan(xn)
    if seen.all():
        return estimate
    output, log_w = self._importance_draws(x, eps, refine_steps, proposal_scale)
    w = F.softmax(log_w, dim=1).unsqueeze(-1)
    scale = self.numeric_scale()
    residual = (w * (torch.nan_to_num(xn).unsqueeze(1) - output[..., :n])).sum(1)
    residual = torch.where(seen, residual / scale, 0.0)
    both = (seen.unsqueeze(2) & seen.unsqueeze(1)).to(cov.dtype)
    system = cov * both + torch.diag_embed((~seen).to(cov.dtype))
    solved = torch.linalg.solve(system, residual.unsqueeze(-1)).squeeze(-1)
    shift = torch.where(seen, 0.0, solved @ cov) * scale
    estimate = estimate.clone()
    estimate[:, :n] += shift
    return estimate


# Hidden-cell passes over the training rows: enough for about this many
# hidden cells per numeric column, within [1, _MAX_HIDDEN_PASSES] passes.
_HIDDEN_CELLS_PER_COLUMN = 200
_MAX_HIDDEN_PASSES = 20


def hidden_residual_moments(imputer, table, shrink):
    """``(cross, seen)``: second moments of a hidden numeric cell's
    standardised residual with each seen cell's, ``cross[m, i]``, and of
    the seen cells' residuals with each other, ``seen[i, j]``, both at the
    code of the seen cells, over training rows in which one observed
    numeric cell (chosen at random, seeded) is hidden; the rows are passed
    over enough times for ``_HIDDEN_CELLS_PER_COLUMN`` hidden cells a
    column. Both are shrunk by ``shrink`` (``cross`` towards 0, ``seen``
    towards its diagonal, whose eigenvalues are then floored at 1e-3 of
    the largest)."""
    x = torch.as_tensor(
        _EncodedRows(imputer._encoder, table)[slice(None)], dtype=torch.float64
    )
    generator = torch.Generator().manual_seed(imputer._seed)
    with imputer._inference() as module:
        n = module.n_numeric
        scale = module.numeric_scale()
        observed = ~torch.isnan(x[:, :n])
        eligible = observed.sum(1, keepdim=True) >= 2
        passes = math.ceil(_HIDDEN_CELLS_PER_COLUMN * n / max(1, int(eligible.sum())))
        cross = torch.zeros(n, n, dtype=torch.float64)
        cross_pairs = torch.zeros_like(cross)
        seen_moments = torch.zeros_like(cross)
        seen_pairs = torch.zeros_like(cross)
        for _ in range(min(max(passes, 1), _MAX_HIDDEN_PASSES)):
            keys = torch.rand(observed.shape, generator=generator, dtype=torch.float64)
            chosen = torch.where(observed, keys, -1.0).argmax(1)
            hidden = F.one_hot(chosen, n).bool() & observed & eligible
            holed = x.clone()
            holed[:, :n] = holed[:, :n].masked_fill(hidden, float("nan"))
            if imputer._needs_indicators(holed):
                imputer._complete_indicators()
                module = imputer._module64
            split, seen_mask = module.split_missing(holed)
            mu, _ = module._posterior(split, seen_mask)
            r = (x[:, :n] - module.decode(mu)[:, :n]) / scale
            seen = observed & ~hidden
            r_seen = torch.where(seen, r, 0.0)
            r_hidden = torch.where(hidden, r, 0.0)
            cross += r_hidden.T @ r_seen
            cross_pairs += hidden.double().T @ seen.double()
            seen_moments += r_seen.T @ r_seen
            seen_pairs += seen.double().T @ seen.double()
    cross = (1.0 - shrink) * cross / cross_pairs.clamp(min=1.0)
    seen_cov = (seen_moments / seen_pairs.clamp(min=1.0)).numpy()
    seen_cov = (1.0 - shrink) * seen_cov + shrink * np.diag(np.diag(seen_cov))
    values, vectors = np.linalg.eigh(seen_cov)
    values = np.maximum(values, 1e-3 * values.max())
    seen_cov = torch.as_tensor((vectors * values) @ vectors.T, dtype=torch.float64)
    return cross, seen_cov


def hidden_residual_corrected_output(self, x, eps, refine_steps=0, proposal_scale=1.0):
    """``residual_corrected_output`` with ``C_mo`` and ``C_oo`` from the
    module's ``_hidden_residual_moments``: the shift of a missing cell is
    ``scale_m * cross[m, O] seen[O, O]^-1 r_O``."""
    estimate = _default_conditional_output(self, x, eps, refine_steps, proposal_scale)
    n = self.n_numeric
    moments = getattr(self, "_hidden_residual_moments", None)
    if moments is None or not n:
        return estimate
    cross, seen_cov = moments
    xn = x[:, :n]
    seen = ~torch.isnan(xn)
    if seen.all():
        return estimate
    output, log_w = self._importance_draws(x, eps, refine_steps, proposal_scale)
    w = F.softmax(log_w, dim=1).unsqueeze(-1)
    scale = self.numeric_scale()
    residual = (w * (torch.nan_to_num(xn).unsqueeze(1) - output[..., :n])).sum(1)
    residual = torch.where(seen, residual / scale, 0.0)
    both = (seen.unsqueeze(2) & seen.unsqueeze(1)).to(seen_cov.dtype)
    system = seen_cov * both + torch.diag_embed((~seen).to(seen_cov.dtype))
    solved = torch.linalg.solve(system, residual.unsqueeze(-1)).squeeze(-1)
    shift = torch.where(seen, 0.0, solved @ cross.T) * scale
    estimate = estimate.clone()
    estimate[:, :n] += shift
    return estimate


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
            Setting(f"residual={shrink:g}", {}, None, scale, residual_shrink=shrink)
        )
    for shrink in args.hidden_residual_shrinks:
        out.append(
            Setting(
                f"hidden_residual={shrink:g}", {}, None, scale, hidden_shrink=shrink
            )
        )
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
    base = {k: defaults[k] for k in ("importance_samples", "refine_steps")}
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
                    if setting.residual_shrink is not None:
                        validated = imputer._validated_table(holed)
                        for n in networks:
                            n._module64._residual_cov = residual_covariance(
                                n, validated, setting.residual_shrink
                            )
                        network.TabularVAE.conditional_output = (
                            residual_corrected_output
                        )
                    if setting.hidden_shrink is not None:
                        validated = imputer._validated_table(holed)
                        for n in networks:
                            moments = hidden_residual_moments(
                                n, validated, setting.hidden_shrink
                            )
                            n._module64._hidden_residual_moments = moments
                        network.TabularVAE.conditional_output = (
                            hidden_residual_corrected_output
                        )
                    start = time.perf_counter()
                    filled = imputer.transform(holed)
                    seconds = time.perf_counter() - start
                    network._REFINE_LEARNING_RATE, network._REFINE_DRAWS = constants
                    VAEImputer._proposal_scale = proposal_scale
                    VAEImputer._quasi_random_draws = quasi_draws
                    network.TabularVAE._importance_draws = _default_importance_draws
                    network.TabularVAE.conditional_output = _default_conditional_output
                    for n in networks:
                        n._module64._residual_cov = None
                        n._module64._hidden_residual_moments = None
                    for n, fit_seed in zip(networks, fit_seeds, strict=True):
                        n._seed = fit_seed
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
