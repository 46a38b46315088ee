import numpy as np
import pytest
import torch

from skvae._network import TabularVAE
from skvae._residuals import (
    EIGENVALUE_FLOOR,
    HIDDEN_CELLS_PER_COLUMN,
    ResidualSums,
    corrected_numbers,
    residual_regression,
    residual_sums,
)


@pytest.fixture(autouse=True)
def without_gradients():
    # As in prediction, which runs under inference mode.
    with torch.no_grad():
        yield


@pytest.fixture
def module():
    torch.manual_seed(0)
    return TabularVAE(6, 1, [3], n_components=2, hidden_layer_sizes=(8,)).double()


def random_moments(d, seed):
    rng = np.random.RandomState(seed)
    a = rng.normal(size=(d, d))
    return rng.normal(size=(d, d)), a @ a.T / d + 0.1 * np.eye(d)


def holed_rows(module, n, seed):
    """Encoded rows with holes in the numeric cells: the first row has none,
    the second no observed number."""
    rng = np.random.RandomState(seed)
    x = rng.normal(size=(n, module.n_features))
    x[:, 6] = rng.rand(n) < 0.5
    x[:, 7:] = np.eye(3)[rng.randint(3, size=n)]
    holes = rng.rand(n, module.n_numeric) < 0.4
    holes[0] = False
    holes[1] = True
    x[:, : module.n_numeric][holes] = np.nan
    return torch.as_tensor(x)


def as_tensors(regression):
    return tuple(torch.as_tensor(m) for m in regression)


def test_the_shift_is_the_regression_on_the_observed_cells(module):
    # The fast path (one system per row the size of its missing cells, in
    # the precision) against the definition cross[m, o] seen[o, o]^-1 r_o,
    # row by row.
    cross, seen = random_moments(module.n_numeric, 0)
    x = holed_rows(module, 50, 1)
    output = torch.as_tensor(np.random.RandomState(2).normal(size=(50, 10)))
    regression = as_tensors(residual_regression(cross, seen, 0.0))
    corrected = corrected_numbers(module, x, output, regression)
    scale = module.numeric_scale().numpy()
    for row in range(50):
        values = x[row, :6].numpy()
        observed = ~np.isnan(values)
        expected = output[row].numpy().copy()
        if observed.any():
            residual = (values[observed] - expected[:6][observed]) / scale[observed]
            weights = np.linalg.solve(seen[np.ix_(observed, observed)], residual)
            shift = cross[np.ix_(~observed, observed)] @ weights
            expected[:6][~observed] += shift * scale[~observed]
        np.testing.assert_allclose(corrected[row].numpy(), expected, atol=1e-10)


def test_only_missing_numbers_move(module):
    cross, seen = random_moments(module.n_numeric, 3)
    x = holed_rows(module, 40, 4)
    output = torch.as_tensor(np.random.RandomState(5).normal(size=(40, 10)))
    regression = as_tensors(residual_regression(cross, seen, 0.3))
    moved = corrected_numbers(module, x, output, regression) != output
    assert moved[:, :6].any()
    assert not (moved[:, :6] & ~torch.isnan(x[:, :6])).any()
    assert not moved[:, 6:].any()
    assert not moved[:2].any()  # nothing missing; nothing observed
    assert corrected_numbers(module, x, output, None) is output


def test_shrinkage_takes_the_cross_moments_to_0_and_the_rest_to_its_diagonal():
    cross, seen = random_moments(5, 8)
    shrunk_cross, precision = residual_regression(cross, seen, 0.4)
    np.testing.assert_allclose(shrunk_cross, 0.6 * cross)
    shrunk = 0.6 * seen + 0.4 * np.diag(np.diag(seen))
    np.testing.assert_allclose(precision, np.linalg.inv(shrunk), rtol=1e-10)
    np.testing.assert_array_equal(residual_regression(cross, seen, 1.0)[0], 0.0)
    # Residuals that move as one (a column copied): the floor keeps the
    # inverse finite, its condition number at 1 / EIGENVALUE_FLOOR.
    values = np.linalg.eigvalsh(
        residual_regression(cross[:3, :3], np.ones((3, 3)), 0)[1]
    )
    assert values.max() / values.min() == pytest.approx(1 / EIGENVALUE_FLOOR)
    assert residual_regression(cross[:2, :2], np.zeros((2, 2)), 0.3) is None


def test_sums_pair_each_hidden_cell_with_the_cells_seen_beside_it(module):
    x = holed_rows(module, 300, 9)
    observed = ~torch.isnan(x[:, :6])
    eligible = int((observed.sum(1) >= 2).sum())
    sums = residual_sums(module, x, torch.Generator().manual_seed(0))
    # One hidden cell per eligible row and pass, as many passes as it takes
    # for HIDDEN_CELLS_PER_COLUMN hidden cells a column.
    passes = int(np.ceil(HIDDEN_CELLS_PER_COLUMN * 6 / eligible))
    assert sums.cross_pairs.sum() == pytest.approx(
        (observed.sum(1)[observed.sum(1) >= 2] - 1).sum().item() * passes
    )
    assert np.all(np.diag(sums.cross_pairs) == 0)  # hidden is never seen too
    assert np.diag(sums.seen_pairs).sum() == pytest.approx(
        (observed.sum().item() - eligible) * passes
    )
    np.testing.assert_allclose(sums.seen, sums.seen.T)
    again = residual_sums(module, x, torch.Generator().manual_seed(0))
    np.testing.assert_array_equal(again.cross, sums.cross)


def test_sums_add_up_and_give_mean_products():
    a, b = ResidualSums(2), ResidualSums(2)
    a.cross[:] = [[0, 2], [4, 0]]
    a.cross_pairs[:] = [[0, 1], [2, 0]]
    b.seen[:] = 6
    b.seen_pairs[:] = 3
    cross, seen = a.add(b).moments()
    np.testing.assert_array_equal(cross, [[0, 2], [2, 0]])
    np.testing.assert_array_equal(seen, 2.0)
