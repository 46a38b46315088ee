import numpy as np
import pytest
from scipy import stats

from skvae._draws import shared_normal_draws


def test_pseudo_random_draws_are_numpys():
    # The imputer's fills before the switch existed depend on these exactly.
    expected = np.random.RandomState(7).standard_normal((50, 4))
    np.testing.assert_array_equal(shared_normal_draws(50, 4, 7), expected)


@pytest.mark.parametrize("k, dim", [(1, 1), (50, 3), (50, 16), (200, 9)])
def test_quasi_random_draws_are_finite_float64_of_the_shape_asked(k, dim):
    draws = shared_normal_draws(k, dim, 0, quasi=True)
    assert draws.shape == (k, dim)
    assert draws.dtype == np.float64
    assert np.isfinite(draws).all()


def test_quasi_random_draws_are_seeded():
    first = shared_normal_draws(50, 5, 3, quasi=True)
    np.testing.assert_array_equal(first, shared_normal_draws(50, 5, 3, quasi=True))
    assert not np.allclose(first, shared_normal_draws(50, 5, 4, quasi=True))


def test_quasi_random_draws_cover_the_normal_more_evenly():
    # Over 20 seeds, the largest Kolmogorov-Smirnov distance of a coordinate
    # from N(0, 1), and the largest error of a coordinate's mean, are smaller
    # for the scrambled Sobol' points than for independent draws.
    def worst(quasi):
        ks, mean = [], []
        for seed in range(20):
            draws = shared_normal_draws(50, 8, seed, quasi=quasi)
            ks.append(max(stats.kstest(c, "norm").statistic for c in draws.T))
            mean.append(np.abs(draws.mean(axis=0)).max())
        return np.mean(ks), np.mean(mean)

    quasi_ks, quasi_mean = worst(True)
    pseudo_ks, pseudo_mean = worst(False)
    assert quasi_ks < 0.5 * pseudo_ks
    assert quasi_mean < 0.5 * pseudo_mean


def test_each_quasi_random_coordinate_is_marginally_standard_normal():
    # Randomised QMC keeps every draw marginally N(0, 1): pooled over many
    # scramblings, a coordinate's draws pass a normality check.
    pooled = np.concatenate(
        [shared_normal_draws(4, 3, seed, quasi=True)[:, 2] for seed in range(500)]
    )
    assert stats.kstest(pooled, "norm").pvalue > 0.01
