"""Standard-normal draws shared by all rows of an importance-weighted estimate.

The importance estimates draw ``k`` codes per row from the row's proposal as
``mu + sigma * eps``, with one set of ``eps`` shared by all rows, so that a
row's estimate does not depend on the others. Because the set is shared, its
Monte Carlo error is not averaged away over the rows: a set that happens to
cover the standard normal unevenly shifts every row's estimate alike.
Scrambled Sobol' points mapped through the normal quantile function cover it
evenly at the same ``k`` (randomised quasi-Monte Carlo; Owen, 1997; for
variational inference, Buchholz et al., 2018).
"""

# License: BSD 3-Clause

import numpy as np
import torch

__all__ = ["shared_normal_draws"]

# Keeps the normal quantile finite at a Sobol' coordinate of exactly 0 or 1.
_UNIT_MARGIN = 1e-12


def shared_normal_draws(k, dim, seed, quasi=False):
    """``(k, dim)`` float64 standard-normal draws seeded by ``seed``.

    With ``quasi=False`` they are NumPy's ``RandomState(seed)`` draws. With
    ``quasi=True`` they are the first ``k`` points of a scrambled Sobol'
    sequence (``torch.quasirandom.SobolEngine``, scrambled by ``seed``)
    through the standard normal's quantile function: each draw is still
    marginally standard normal, and the set covers the distribution more
    evenly than independent draws do.
    """
    if not quasi:
        return np.random.RandomState(seed).standard_normal((k, dim))
    engine = torch.quasirandom.SobolEngine(dim, scramble=True, seed=seed)
    unit = engine.draw(k, dtype=torch.float64)
    unit = unit.clamp(_UNIT_MARGIN, 1.0 - _UNIT_MARGIN)
    return torch.special.ndtri(unit).numpy()
