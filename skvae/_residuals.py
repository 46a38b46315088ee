"""Correlated residuals of the decoder's numeric cells, for filling holes.

Given its code, the decoder gives each numeric cell a Gaussian of its own, so
whatever the code leaves out of the linear relations among columns (dummies that
sum to one, shares of a whole, a row beyond the training bulk whose cells all sit
on the same side of their means) is lost to a fill. Here a missing cell's
standardised residual ``r = (x - mean) / scale`` is estimated from the row's
observed cells' residuals by linear regression, ``C_mo C_oo^-1 r_o``, as Gaussian
conditioning would under correlated decoder noise. The moments are taken where
they are used: in training rows with one observed cell hidden from the encoder,
the hidden cell's residual paired with the seen cells' (``C_mo``), and the seen
cells' residuals with each other (``C_oo``), all at the code of the seen cells
(benchmarks/RESULTS.md, "The decoder's residuals, correlated").
"""

# License: BSD 3-Clause

import math

import numpy as np
import torch
import torch.nn.functional as F

__all__ = [
    "ResidualSums",
    "residual_sums",
    "residual_regression",
    "corrected_numbers",
]

# Passes over the training rows, each hiding one observed numeric cell per row:
# enough for about this many hidden cells per numeric column, at most
# MAX_HIDDEN_PASSES.
HIDDEN_CELLS_PER_COLUMN = 200
MAX_HIDDEN_PASSES = 20
# The shrunk C_oo's eigenvalues are floored at this share of the largest, so
# that its inverse stays well conditioned (condition number <= 1,000).
EIGENVALUE_FLOOR = 1e-3
# Rows per batch of conditioning systems: a batch holds rows x width^2 entries
# for the width of its rows' largest set of missing numeric cells.
_SYSTEM_ENTRIES = 2**22


class ResidualSums:
    """Sums behind the moments: products of hidden with seen residuals and of
    seen with seen residuals, and the counts of the pairs behind each."""

    def __init__(self, n):
        self.cross = np.zeros((n, n))
        self.cross_pairs = np.zeros((n, n))
        self.seen = np.zeros((n, n))
        self.seen_pairs = np.zeros((n, n))

    def add(self, other):
        for name in ("cross", "cross_pairs", "seen", "seen_pairs"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        return self

    def moments(self):
        """``(cross, seen)``: the mean products over the pairs counted."""
        return (
            self.cross / np.maximum(self.cross_pairs, 1.0),
            self.seen / np.maximum(self.seen_pairs, 1.0),
        )


def _standardised_residuals(module, x, means):
    """Residuals of the numeric cells of encoded rows ``x`` against decoder
    ``means`` in units of the columns' scales, 0 at the holes."""
    n = module.n_numeric
    values = x[:, :n]
    residual = (torch.nan_to_num(values) - means[:, :n]) / module.numeric_scale()
    return torch.where(torch.isnan(values), 0.0, residual)


def residual_sums(module, x, generator, refresh=None):
    """:class:`ResidualSums` of the encoded rows ``x`` (NaN at holes).

    In each pass every row with at least two observed numeric cells hides one
    of them, chosen with ``generator`` (a CPU generator), from the encoder; the
    residuals are taken at the posterior mean of the rest. ``refresh``, called
    with the holed rows, returns the module to use for them (the estimator's
    deferred indicator steps may have to run first).
    """
    n = module.n_numeric
    sums = ResidualSums(n)
    observed = ~torch.isnan(x[:, :n])
    eligible = observed.sum(dim=1, keepdim=True) >= 2
    n_eligible = int(eligible.sum())
    if not n or not n_eligible:
        return sums
    passes = min(
        max(1, math.ceil(HIDDEN_CELLS_PER_COLUMN * n / n_eligible)), MAX_HIDDEN_PASSES
    )
    for _ in range(passes):
        keys = torch.rand(observed.shape, generator=generator, dtype=torch.float64)
        keys = keys.to(x.device)
        chosen = torch.where(observed, keys, -1.0).argmax(dim=1)
        hidden = F.one_hot(chosen, n).bool() & observed & eligible
        holed = x.clone()
        holed[:, :n] = holed[:, :n].masked_fill(hidden, float("nan"))
        if refresh is not None:
            module = refresh(holed)
        mu, _ = module.encode(holed)
        residual = _standardised_residuals(module, x, module.decode(mu))
        seen = observed & ~hidden
        r_seen = torch.where(seen, residual, 0.0)
        r_hidden = torch.where(hidden, residual, 0.0)
        seen, hidden = seen.to(residual.dtype), hidden.to(residual.dtype)
        sums.cross += (r_hidden.T @ r_seen).cpu().numpy()
        sums.cross_pairs += (hidden.T @ seen).cpu().numpy()
        sums.seen += (r_seen.T @ r_seen).cpu().numpy()
        sums.seen_pairs += (seen.T @ seen).cpu().numpy()
    return sums


def residual_regression(cross, seen, shrinkage):
    """``(cross, precision)`` of the regression at ``shrinkage``: the cross
    moments shrunk towards 0, and the inverse of the seen cells' moments
    shrunk towards their diagonal, with eigenvalues floored at
    ``EIGENVALUE_FLOOR`` of the largest. None where the seen moments have no
    positive eigenvalue (no numeric cell was seen)."""
    cross = (1.0 - shrinkage) * np.asarray(cross, dtype=np.float64)
    seen = np.asarray(seen, dtype=np.float64)
    shrunk = (1.0 - shrinkage) * seen
    shrunk[np.diag_indices_from(shrunk)] = np.diag(seen)
    values, vectors = np.linalg.eigh(shrunk)
    if not len(values) or values.max() <= 0:
        return None
    values = np.maximum(values, EIGENVALUE_FLOOR * values.max())
    return cross, (vectors / values) @ vectors.T


def corrected_numbers(module, x, output, regression):
    """Decoder ``output`` ``(n, n_features)`` for rows ``x`` with the mean of
    each missing numeric cell ``m`` moved by ``scale_m * cross[m, o] seen[o,
    o]^-1 r_o``, ``r_o`` the observed numeric cells' standardised residuals
    against the output's own means. ``regression`` is
    :func:`residual_regression`'s pair as float64 tensors on the rows'
    device, or None (nothing moves).

    With ``P`` the inverse of all of ``seen``, ``seen[o, o]^-1 r_o`` is ``(P
    r)_o - P_om P_mm^-1 (P r)_m`` (``r`` 0 at the missing cells): each row
    solves a system the size of its missing cells, not of its observed ones.
    """
    n = module.n_numeric
    if regression is None or not n:
        return output
    cross, precision = regression
    missing = torch.isnan(x[:, :n])
    if not missing.any():
        return output
    residual = _standardised_residuals(module, x, output).to(precision.dtype)
    pulled = residual @ precision  # (P r)_j for every j
    counts = missing.sum(dim=1)
    width = max(1, int(counts.max()))
    # Each row's missing cells first (a stable sort keeps their order).
    order = torch.argsort((~missing).to(torch.int8), dim=1, stable=True)[:, :width]
    valid = torch.arange(width, device=x.device) < counts.unsqueeze(1)
    solved = torch.zeros_like(residual)
    eye = torch.eye(width, dtype=precision.dtype, device=precision.device)
    rows_per_batch = max(1, _SYSTEM_ENTRIES // (width * width))
    for start in range(0, x.shape[0], rows_per_batch):
        rows = slice(start, start + rows_per_batch)
        index, keep = order[rows], valid[rows]
        block = precision[index.unsqueeze(2), index.unsqueeze(1)]
        block = torch.where(keep.unsqueeze(2) & keep.unsqueeze(1), block, eye)
        rhs = torch.gather(pulled[rows], 1, index) * keep
        u = torch.linalg.solve(block, rhs.unsqueeze(-1)).squeeze(-1) * keep
        solved[rows].scatter_(1, index, u)  # a view of zeros: distinct indices
    # seen[o, o]^-1 r_o, laid out over all cells (0 at the missing ones)
    coefficients = torch.where(missing, 0.0, pulled - solved @ precision)
    shift = torch.where(missing, coefficients @ cross.T, 0.0)
    output = output.clone()
    output[:, :n] = output[:, :n] + shift.to(output.dtype) * module.numeric_scale()
    return output
