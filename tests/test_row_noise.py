import numpy as np
from scipy import stats

from skvae._row_noise import row_normals


def test_draws_are_standard_normal_and_independent(seed):
    rows = np.random.RandomState(seed).randn(20_000, 6).astype(np.float32)
    draws = row_normals(rows, seed=3, n_draws=4)
    assert draws.shape == (20_000, 4) and draws.dtype == np.float32
    np.testing.assert_allclose(draws.mean(axis=0), 0, atol=0.03)
    np.testing.assert_allclose(draws.std(axis=0), 1, atol=0.03)
    assert np.abs(np.corrcoef(draws.T) - np.eye(4)).max() < 0.03
    assert stats.kstest(draws[:, 0], "norm").pvalue > 0.01


def test_draws_depend_on_the_row_and_seed_not_on_the_position(seed):
    rows = np.random.RandomState(seed).randn(50, 3).astype(np.float32)
    draws = row_normals(rows, seed=1, n_draws=2)
    np.testing.assert_array_equal(row_normals(rows[::-1], 1, 2), draws[::-1])
    np.testing.assert_array_equal(row_normals(rows[7:8], 1, 2), draws[7:8])
    assert not np.allclose(row_normals(rows, 2, 2), draws)
    # one changed value changes only that row's draw
    changed = rows.copy()
    changed[4, 2] += 1e-3
    moved = row_normals(changed, 1, 2) != draws
    assert moved[4].all() and not np.delete(moved, 4, axis=0).any()
