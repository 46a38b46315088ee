import copy

import numpy as np
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning

from skvae import VAEAnomalyDetector
from skvae._network import FIND_MISSING, TabularVAE
from skvae._training import (
    adam_step,
    clear_gradients,
    cosine_lr_factor,
    evaluate_loss,
    make_optimizer,
    negative_elbo,
    train_epoch,
    train_indicators,
    train_vae,
    trimmed_rows,
)


def _module_and_data(cancer, seed):
    X = cancer[0]
    X = ((X - X.mean(0)) / X.std(0)).astype(np.float32)
    torch.manual_seed(seed)
    module = TabularVAE(30, 0, [], 4, (32,))
    return module, torch.from_numpy(X)


def test_training_lowers_the_loss_on_real_data(cancer, seed):
    module, X = _module_and_data(cancer, seed)
    before = evaluate_loss(module, X)
    history = train_vae(
        module, X, max_epochs=30, generator=torch.Generator().manual_seed(seed)
    )
    assert evaluate_loss(module, X) < 0.9 * before
    assert history.loss_curve[-1] < history.loss_curve[0]
    assert history.n_iter == len(history.loss_curve)
    assert not module.training


@pytest.mark.parametrize("restore_best", [True, False])
def test_early_stopping_ends_on_the_best_or_the_last_weights(
    cancer, seed, restore_best
):
    module, X = _module_and_data(cancer, seed)
    history = train_vae(
        module,
        X[:450],
        X_val=X[450:],
        max_epochs=2000,
        n_iter_no_change=5,
        learning_rate=1e-2,
        generator=torch.Generator().manual_seed(seed),
        restore_best=restore_best,
    )
    assert history.stopped_early and history.n_iter < 2000
    scores = history.validation_scores
    assert scores[-1] < max(scores)  # so the two cases differ
    expected = max(scores) if restore_best else scores[-1]
    assert -evaluate_loss(module, X[450:]) == pytest.approx(expected, rel=1e-5)


def test_early_stopping_can_watch_another_validation_score(cancer, seed):
    module, X = _module_and_data(cancer, seed)
    weights_seen = []

    def peaks_at_epoch_3(module):
        weights_seen.append(module.head.weight.detach().clone())
        return -abs(len(weights_seen) - 3)

    history = train_vae(
        module,
        X[:450],
        X_val=X[450:],
        max_epochs=50,
        n_iter_no_change=4,
        generator=torch.Generator().manual_seed(seed),
        validation_check=peaks_at_epoch_3,
    )
    assert history.validation_scores == [-2, -1, 0, -1, -2, -3, -4]
    assert history.stopped_early and history.n_iter == 7
    assert torch.equal(module.head.weight, weights_seen[2])


def test_cosine_lr_factor_falls_from_one_to_the_final_share():
    factors = [cosine_lr_factor(step, 100, 0.1) for step in range(0, 131, 10)]
    assert factors[0] == 1.0
    assert factors[5] == pytest.approx(0.55)  # half way: the mean of both ends
    assert factors[10:] == [pytest.approx(0.1)] * 4  # after the plan: the floor
    assert all(a > b for a, b in zip(factors[:10], factors[1:11], strict=True))


def test_final_lr_fraction_sets_each_steps_learning_rates(cancer, seed, monkeypatch):
    import skvae._training as training

    module, X = _module_and_data(cancer, seed)
    seen = []

    def recording_step(optimizer):
        seen.append([group["lr"] for group in optimizer.param_groups])
        adam_step(optimizer)

    monkeypatch.setattr(training, "adam_step", recording_step)
    history = train_vae(
        module,
        X[:512],
        batch_size=128,
        max_epochs=5,
        learning_rate=1e-3,
        scale_lr_factor=10.0,
        final_lr_fraction=0.2,
        generator=torch.Generator().manual_seed(seed),
        warn_unconverged=False,
    )
    planned = 5 * 4
    assert history.n_steps == len(seen) == planned
    for step, (weights, scales) in enumerate(seen):
        factor = cosine_lr_factor(step, planned, 0.2)
        assert weights == pytest.approx(1e-3 * factor)
        assert scales == pytest.approx(1e-2 * factor)


def test_min_steps_delays_early_stopping(cancer, seed):
    module, X = _module_and_data(cancer, seed)
    history = train_vae(
        module,
        X[:64],
        max_epochs=500,
        min_steps=300,
        n_iter_no_change=1,
        tol=1e9,
        batch_size=64,
        generator=torch.Generator().manual_seed(seed),
    )
    assert history.n_steps == 300


def test_max_epochs_warns_when_still_improving(cancer, seed):
    with pytest.warns(ConvergenceWarning, match="max_epochs=2"):
        VAEAnomalyDetector(max_epochs=2, random_state=seed).fit(cancer[0])


def test_same_random_state_gives_same_weights(cancer, seed):
    params = dict(max_epochs=3, random_state=seed)
    first = VAEAnomalyDetector(**params).fit(cancer[0]).module_.state_dict()
    second = VAEAnomalyDetector(**params).fit(cancer[0]).module_.state_dict()
    for key in first:
        torch.testing.assert_close(first[key], second[key], rtol=0, atol=0)
    other = VAEAnomalyDetector(max_epochs=3, random_state=seed + 1).fit(cancer[0])
    assert not torch.equal(
        first["head.weight"], other.module_.state_dict()["head.weight"]
    )


def test_fit_leaves_global_torch_rng_alone(cancer, seed):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    VAEAnomalyDetector(max_epochs=2, random_state=seed).fit(cancer[0][:50])
    torch.testing.assert_close(torch.rand(3), expected)


def test_nan_loss_raises_a_clear_error(cancer, seed):
    # A step this large sends the weights, and so the loss, past float32.
    detector = VAEAnomalyDetector(learning_rate=1e6, max_epochs=2, random_state=seed)
    with pytest.raises(
        FloatingPointError, match="training loss became .* learning_rate"
    ):
        detector.fit(cancer[0])


def test_verbose_prints_progress(cancer, seed, capsys):
    VAEAnomalyDetector(max_epochs=3, verbose=2, random_state=seed).fit(cancer[0][:100])
    out = capsys.readouterr().out
    assert "Epoch 1/3: loss" in out and "Epoch 3/3" in out


def test_the_auto_budget_runs_out_without_a_convergence_warning(seed):
    import warnings

    X = np.random.RandomState(seed).normal(size=(60, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        VAEAnomalyDetector(random_state=seed).fit(X)  # max_epochs="auto"


def test_scale_lr_factor_lets_the_gaussian_scales_settle_sooner(cancer, seed):
    shrunk = {}
    for factor in (1.0, 10.0):
        module, X = _module_and_data(cancer, seed)
        train_vae(
            module,
            X,
            max_epochs=60,
            scale_lr_factor=factor,
            generator=torch.Generator().manual_seed(seed),
            warn_unconverged=False,
        )
        # the cancer columns are predictable from each other: scales fall below 1
        with torch.no_grad():
            shrunk[factor] = (1 - module.numeric_scale()).mean().item()
    assert shrunk[10.0] > shrunk[1.0] + 0.2


def test_auto_budget_caps_the_optimiser_steps(cancer, seed, monkeypatch):
    import skvae._base

    monkeypatch.setattr(skvae._base, "_MAX_STEPS_AUTO", 40)
    monkeypatch.setattr(VAEAnomalyDetector, "_min_steps_auto", 10)
    X = np.tile(cancer[0], (4, 1))  # 2,276 rows: 8 steps of 256 per epoch
    detector = VAEAnomalyDetector(random_state=seed).fit(X)
    assert detector.n_iter_ == 5  # ceil(40 / 8): the budget, not 100 epochs


def test_trimmed_rows_marks_outlying_losses_up_to_the_share():
    loss = torch.cat([torch.linspace(10.0, 11.0, 96), torch.tensor([50.0, 60, 70, 80])])
    # four outliers, but at most 3% of 100 rows are trimmed: the three highest
    trimmed = trimmed_rows(loss, 0.03)
    assert trimmed.tolist() == [False] * 97 + [True] * 3
    assert trimmed_rows(loss, 0.10).sum() == 4
    # a batch without outlying losses loses nothing, whatever the share
    assert not trimmed_rows(torch.linspace(10.0, 11.0, 100), 0.5).any()


def test_trimming_keeps_injected_outliers_out_of_the_model(seed):
    rng = np.random.RandomState(seed)
    inliers = rng.normal(size=(485, 4))
    outliers = rng.normal(loc=[6.0, -6.0, 6.0, -6.0], scale=0.1, size=(15, 4))
    X = torch.from_numpy(np.vstack([inliers, outliers]).astype(np.float32))
    losses = {}
    for fraction in (0.0, 0.05):
        torch.manual_seed(seed)
        module = TabularVAE(4, 0, [], 2, (32,))
        train_vae(
            module,
            X,
            max_epochs=120,
            batch_size=100,
            learning_rate=3e-3,
            n_iter_no_change=120,
            trim_fraction=fraction,
            generator=torch.Generator().manual_seed(seed),
        )
        # the outliers' loss relative to the inliers'
        losses[fraction] = evaluate_loss(module, X[485:]) - evaluate_loss(
            module, X[:485]
        )
    # Untrimmed, the model learns the tight cluster as a mode of its own;
    # trimmed, it stays improbable.
    assert losses[0.05] > 3 * losses[0.0]


def test_indicator_training_changes_rows_with_holes_only(cancer, seed):
    module, X = _module_and_data(cancer, seed)
    generator = torch.Generator().manual_seed(seed)
    train_vae(module, X, max_epochs=20, generator=generator)
    complete = module.encode(X[:20])[0].detach().clone()
    holes = X[:20].clone()
    holes[:, 0] = torch.nan
    hidden_before = module.encode(holes)[0].detach().clone()
    variables = torch.ones(30, dtype=torch.bool)
    variables[5] = False
    before = -evaluate_loss(module, X)
    train_indicators(module, X, steps=100, variables=variables, generator=generator)
    torch.testing.assert_close(module.encode(X[:20])[0], complete)
    assert -evaluate_loss(module, X) == pytest.approx(before)
    assert not torch.allclose(module.encode(holes)[0], hidden_before)
    assert (module.indicator_weight[:, 5] == 0).all()
    assert (module.indicator_weight[:, 0] != 0).any()
    assert all(p.requires_grad for p in module.parameters())


def test_holes_found_once_train_as_holes_found_per_epoch(cancer, seed):
    # train_vae splits the holes out of X once; an epoch given X raw finds them
    # itself. Both must take the same steps to the same weights and losses.
    module, X = _module_and_data(cancer, seed)
    X[torch.rand(X.shape, generator=torch.Generator().manual_seed(seed)) < 0.2] = (
        torch.nan
    )
    twin = copy.deepcopy(module)
    filled, observed = module.split_missing(X)
    losses = []
    for net, rows, seen in [(module, X, FIND_MISSING), (twin, filled, observed)]:
        optimizer = make_optimizer(net, 1e-3)
        torch.manual_seed(seed)  # the reparameterisation draws
        losses.append(
            train_epoch(
                net,
                optimizer,
                rows,
                batch_size=64,
                generator=torch.Generator().manual_seed(seed),
                observed=seen,
            )
        )
        net.eval()
        losses.append(evaluate_loss(net, X))
    assert np.isfinite(losses[0][0]) and losses[:2] == losses[2:]
    for a, b in zip(module.parameters(), twin.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


@pytest.mark.parametrize("n_conditions", [0, 2])
def test_several_draws_train_on_the_importance_weighted_bound(
    cancer, seed, n_conditions
):
    # The loss with draws=k is minus the mean over rows of Burda et al.'s bound
    # over the k draws each row got, holes left out as in the ELBO; binned
    # columns (their own backward) and conditions broadcast over the draws.
    X = cancer[0][:12]
    X = torch.from_numpy(((X - X.mean(0)) / X.std(0)).astype(np.float32))
    X[torch.rand(X.shape, generator=torch.Generator().manual_seed(seed)) < 0.2] = (
        torch.nan
    )
    torch.manual_seed(seed)
    bins = [0.05] * 5 + [0.0] * 25
    module = TabularVAE(
        30, 0, [], 3, (16,), n_conditions=n_conditions, numeric_half_bins=bins
    )
    condition = torch.eye(2)[torch.arange(12) % 2] if n_conditions else None
    torch.manual_seed(seed + 1)
    loss = negative_elbo(module, X, condition, draws=4)
    torch.manual_seed(seed + 1)
    eps = torch.randn(12, 4, 3)
    rows = []
    for i in range(12):
        x, observed = module.split_missing(X[i : i + 1])
        cond = condition[i : i + 1] if n_conditions else None
        mu, logvar = module._posterior(x, observed, cond)
        z = mu + (0.5 * logvar).exp() * eps[i]  # (4, 3)
        output = module.decode(z, None if cond is None else cond.expand(4, -1))
        log_px = module.log_likelihood(x.expand(4, -1), output, observed).sum(1)
        log_pz = torch.distributions.Normal(0.0, 1.0).log_prob(z).sum(1)
        q = torch.distributions.Normal(mu, (0.5 * logvar).exp())
        log_w = log_px + log_pz - q.log_prob(z).sum(1)
        rows.append(torch.logsumexp(log_w, 0) - np.log(4))
    torch.testing.assert_close(loss, -torch.stack(rows).mean())
    loss.backward()
    assert all(torch.isfinite(p.grad).all() for p in module.parameters())


@pytest.mark.parametrize("weight_decay", [0.0, 1e-2])
def test_adam_step_makes_torch_adams_step_exactly(seed, weight_decay):
    # Two parameter groups (the scales at their own rate), and the indicator
    # weights unused on complete rows, so without a gradient, as in a fit.
    torch.manual_seed(seed)
    module = TabularVAE(
        n_numeric=3,
        n_binary=1,
        category_sizes=[2, 3],
        n_components=2,
        hidden_layer_sizes=(8,),
    )
    twin = copy.deepcopy(module)
    optimizers = [
        make_optimizer(m, 1e-2, weight_decay, scale_lr_factor=10.0)
        for m in (module, twin)
    ]
    x = torch.cat(
        [
            torch.randn(32, 4).round(),
            torch.eye(2)[torch.arange(32) % 2],
            torch.eye(3)[torch.arange(32) % 3],
        ],
        dim=1,
    )
    for step in range(5):
        for m, optimizer, ours in (
            (module, optimizers[0], True),
            (twin, optimizers[1], False),
        ):
            generator = torch.Generator().manual_seed(step)
            noise = torch.randn(32, m.n_components, generator=generator)
            mu, logvar = m.encode(x)
            output = m.decode(mu + noise * (0.5 * logvar).exp())
            loss = -m.log_likelihood(x, output).sum()
            if ours:
                clear_gradients(optimizer)
                loss.backward()
                adam_step(optimizer)
            else:
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
    assert module.indicator_weight.grad is None
    for a, b in zip(module.parameters(), twin.parameters(), strict=True):
        assert torch.equal(a, b)
    ours, theirs = (o.state_dict() for o in optimizers)
    assert ours["param_groups"] == theirs["param_groups"]
    assert ours["state"].keys() == theirs["state"].keys()
    for key, state in ours["state"].items():
        for name, value in state.items():
            assert torch.equal(value, theirs["state"][key][name]), name
