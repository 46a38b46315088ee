import numpy as np
import pytest
import torch
import torch.nn.functional as F

from skvae import VAEImputer
from skvae._hidden_cells import _COPIES, HiddenCellCheck
from skvae._network import TabularVAE
from skvae._training import train_vae


@pytest.fixture
def mixed_rows(seed):
    """Encoded rows of 2 numeric, 1 binary and one 3-level column, with holes
    (a numeric cell, a binary cell and a whole categorical block)."""
    rng = np.random.RandomState(seed)
    n = 40
    numeric = rng.normal(size=(n, 2))
    binary = (rng.rand(n, 1) < 0.4).astype(float)
    levels = np.eye(3)[rng.randint(0, 3, n)]
    X = np.hstack([numeric, binary, levels]).astype(np.float32)
    X[0, 0] = np.nan
    X[1, 2] = np.nan
    X[2, 3:] = np.nan
    torch.manual_seed(seed)
    module = TabularVAE(2, 1, [3], 2, (8,))
    return module, torch.from_numpy(X)


def test_every_observed_cell_is_hidden_once_and_holes_never(mixed_rows, seed):
    module, X = mixed_rows
    check = HiddenCellCheck(module, X, seed)
    truth, observed = module.split_missing(X)
    assert len(check._inputs) <= _COPIES * len(X)
    assert bool(check._hidden.any(dim=1).all())  # no copy without a hidden cell
    times_hidden = torch.zeros_like(observed)
    for copy, copy_truth, hidden in zip(
        check._inputs, check._truth, check._hidden, strict=True
    ):
        row = int((truth == copy_truth).all(dim=1).nonzero())
        times_hidden[row] += hidden
        # The copy is its row with the hidden variables' entries as holes.
        as_hole = hidden.bool()[module.feature_variable]
        assert torch.isnan(copy[as_hole]).all()
        kept = ~as_hole & ~torch.isnan(X[row])
        assert torch.equal(copy[kept], X[row][kept])
    assert torch.equal(times_hidden, observed)


def test_the_score_is_the_mean_squared_error_of_the_hidden_cells(mixed_rows, seed):
    module, X = mixed_rows
    check = HiddenCellCheck(module, X, seed)
    errors = []
    for copy, truth, hidden in zip(
        check._inputs, check._truth, check._hidden, strict=True
    ):
        with torch.no_grad():
            mu, _ = module.encode(copy[None])
            out = module.decode(mu)[0]
        if hidden[0]:
            errors.append(float((out[0] - truth[0]) ** 2))
        if hidden[1]:
            errors.append(float((out[1] - truth[1]) ** 2))
        if hidden[2]:
            p = torch.sigmoid(out[2])
            errors.append(float((p - truth[2]) ** 2 + (1 - p - (1 - truth[2])) ** 2))
        if hidden[3]:
            p = F.softmax(out[3:], dim=0)
            errors.append(float(((p - truth[3:]) ** 2).sum()))
    assert check(module) == pytest.approx(-np.mean(errors), rel=1e-5)


def test_a_trained_network_fills_better_than_an_untrained_one(cancer, seed):
    X = cancer[0][:, :10]
    X = torch.from_numpy(((X - X.mean(0)) / X.std(0)).astype(np.float32))
    torch.manual_seed(seed)
    module = TabularVAE(10, 0, [], 5, (32,))
    check = HiddenCellCheck(module, X[500:], seed)
    before = check(module)
    train_vae(module, X[:500], max_epochs=60, hide_rate=0.5)
    assert check(module) > before + 0.3


def test_large_validation_sets_are_sampled(monkeypatch, mixed_rows, seed):
    module, X = mixed_rows
    monkeypatch.setattr("skvae._hidden_cells._MAX_ROWS", 10)
    check = HiddenCellCheck(module, X, seed)
    assert len(check._inputs) <= _COPIES * 10
    again = HiddenCellCheck(module, X, seed)
    assert torch.equal(torch.nan_to_num(check._inputs), torch.nan_to_num(again._inputs))


def test_validation_rows_without_a_value_fall_back_to_the_elbo(wine_mixed, seed):
    imputer = VAEImputer(n_estimators=1, max_epochs=2, random_state=seed)
    module = imputer.fit(wine_mixed).module_
    no_values = torch.full((5, module.n_features), torch.nan)
    assert HiddenCellCheck(module, no_values, seed).n_hidden == 0
    assert imputer._validation_check(no_values, seed) is None


def test_the_imputer_keeps_the_weights_that_filled_hidden_cells_best(
    monkeypatch, wine_mixed, seed
):
    checks = []

    def recorded(self, X_val, check_seed):
        checks.append(HiddenCellCheck(self.module_, X_val, check_seed))
        return checks[-1]

    monkeypatch.setattr(VAEImputer, "_validation_check", recorded)
    # The residual moments taken after training hide cells of columns without
    # holes in fit (all of them here), so they run the indicator steps, which
    # move the weights the check reads; this test is about training alone.
    monkeypatch.setattr(VAEImputer, "_add_residuals", lambda self, data: None)
    imputer = VAEImputer(
        n_estimators=1, max_epochs=60, n_iter_no_change=5, random_state=seed
    ).fit(wine_mixed)
    scores = imputer.validation_scores_
    assert len(checks) == 1 and len(scores) == imputer.n_iter_
    assert checks[0](imputer.module_) == pytest.approx(max(scores), abs=1e-6)
