"""Standard-normal draws keyed by a row's values, not by its position.

``VAETransformer(sample_latent=True)`` adds noise to each row's latent code.
Drawn from one generator in row order, a row's draw would depend on where it
sits in the batch; keyed by a hash of the row's encoded values and the fit's
seed, the same row gets the same draw in any batch (the detector's
importance-weighted scores are row-independent the same way).
"""

# License: BSD 3-Clause

import numpy as np

__all__ = ["row_normals"]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_TO_UNIT = 2.0**-53


def _mix(z):
    """splitmix64's finaliser: a bijection of uint64 that scatters every bit."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def row_normals(rows, seed, n_draws):
    """``(n_rows, n_draws)`` standard-normal draws, a function of each row and ``seed``.

    ``rows`` is a float32 array ``(n_rows, width)``; equal rows get equal draws.
    """
    bits = np.ascontiguousarray(rows, dtype=np.float32).view(np.uint32)
    with np.errstate(over="ignore"):
        key = np.full(bits.shape[0], np.uint64(seed) * _GOLDEN, dtype=np.uint64)
        for column in bits.T:
            key = _mix(key ^ column.astype(np.uint64))
        counters = np.arange(1, 2 * n_draws + 1, dtype=np.uint64) * _GOLDEN
        uniform = (_mix(key[:, None] + counters) >> np.uint64(11)).astype(np.float64)
    # (0, 1]: the logarithm below never sees 0.
    uniform = (uniform + 1.0) * _TO_UNIT
    radius = np.sqrt(-2.0 * np.log(uniform[:, :n_draws]))
    return (radius * np.cos(2.0 * np.pi * uniform[:, n_draws:])).astype(np.float32)
