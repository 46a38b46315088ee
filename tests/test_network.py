import math

import pytest
import torch
from torch.distributions import Bernoulli, Categorical, Normal, kl_divergence

from skvae._network import TabularVAE, gaussian_kl


def tiny_module(seed, **kwargs):
    torch.manual_seed(seed)
    params = dict(
        n_numeric=2,
        n_binary=1,
        category_sizes=[3],
        n_components=2,
        hidden_layer_sizes=(8,),
    )
    return TabularVAE(**{**params, **kwargs})


# Three rows: [num, num | bin | one-hot of 3]
X3 = torch.tensor(
    [
        [0.5, -1.0, 1.0, 1.0, 0.0, 0.0],
        [-0.2, 0.3, 0.0, 0.0, 0.0, 1.0],
        [1.5, 2.0, 1.0, 0.0, 1.0, 0.0],
    ]
)


def test_log_likelihood_matches_torch_distributions(seed):
    module = tiny_module(seed)
    output = torch.randn(3, 6, generator=torch.Generator().manual_seed(seed))
    loglik = module.log_likelihood(X3, output)
    assert loglik.shape == (3, 4)
    scale = module.numeric_scale()
    expected_numeric = Normal(output[:, :2], scale).log_prob(X3[:, :2])
    expected_binary = Bernoulli(logits=output[:, 2]).log_prob(X3[:, 2])
    expected_cat = Categorical(logits=output[:, 3:]).log_prob(X3[:, 3:].argmax(1))
    torch.testing.assert_close(loglik[:, :2], expected_numeric)
    torch.testing.assert_close(loglik[:, 2], expected_binary)
    torch.testing.assert_close(loglik[:, 3], expected_cat)


def random_encoded_rows(module, n, generator):
    """Rows laid out as the module expects: Gaussian numbers, 0/1, one-hots."""
    parts = [
        torch.randn(n, module.n_numeric, generator=generator, dtype=torch.float64),
        torch.randint(0, 2, (n, module.n_binary), generator=generator).double(),
    ]
    for size in module.category_sizes:
        codes = torch.randint(0, size, (n,), generator=generator)
        parts.append(torch.nn.functional.one_hot(codes, size).double())
    return torch.cat(parts, dim=1)


# Blocks of several sizes go segment-wise; blocks all of one size (the point
# masses of a numeric table) take a reshaped log_softmax.
@pytest.mark.parametrize("sizes", [[3, 1, 5, 2, 5], [2, 2, 2, 2]])
def test_categorical_log_likelihood_of_each_block(seed, sizes):
    module = TabularVAE(0, 0, sizes, 2, (4,))
    generator = torch.Generator().manual_seed(seed)
    x = random_encoded_rows(module, 6, generator).float()
    output = 5.0 * torch.randn(6, sum(sizes), generator=generator)
    loglik = module.log_likelihood(x, output)
    start = 0
    for j, size in enumerate(sizes):
        block = slice(start, start + size)
        codes = x[:, block].argmax(1)
        expected = Categorical(logits=output[:, block]).log_prob(codes)
        torch.testing.assert_close(loglik[:, j], expected)
        start += size
    # A hole in the second block scores 0 and changes nothing else.
    x[0, sizes[0] : sizes[0] + sizes[1]] = torch.nan
    holed = module.log_likelihood(x, output)
    assert holed[0, 1].item() == 0.0
    keep = torch.ones_like(holed, dtype=torch.bool)
    keep[0, 1] = False
    torch.testing.assert_close(holed[keep], loglik[keep])


def plain_conditional_log_likelihood(module, x, condition):
    """One full network pass per variable, the variable's entries missing."""
    columns = []
    for j, cols in enumerate(module.variable_slices()):
        hidden = x.clone()
        hidden[:, cols] = torch.nan
        mu, _ = module.encode(hidden, condition)
        output = module.decode(mu, condition)
        columns.append(module.log_likelihood(x, output)[:, j])
    return torch.stack(columns, dim=1)


@pytest.mark.parametrize("hidden", [(8, 4), (6,), ()])
@pytest.mark.parametrize("n_conditions", [0, 3])
def test_conditional_log_likelihood_matches_one_pass_per_variable(
    seed, hidden, n_conditions
):
    module = TabularVAE(
        3,
        2,
        [3, 1, 4],
        2,
        hidden,
        n_conditions=n_conditions,
        numeric_half_bins=[0.0, 0.2, 0.0],
    ).double()
    generator = torch.Generator().manual_seed(seed)
    # The indicators' weights start at 0; trained ones are not.
    module.indicator_weight.data.normal_(generator=generator)
    x = random_encoded_rows(module, 7, generator)
    x[1, 0] = x[2, 3] = torch.nan  # cells missing already
    x[3, 8] = torch.nan  # the one-level categorical block
    condition = None
    if n_conditions:
        codes = torch.randint(0, n_conditions, (7,), generator=generator)
        condition = torch.nn.functional.one_hot(codes, n_conditions).double()
    fast = module.conditional_log_likelihood(x, condition)
    plain = plain_conditional_log_likelihood(module, x, condition)
    assert fast.shape == (7, module.n_variables)
    torch.testing.assert_close(fast, plain, rtol=1e-12, atol=1e-12)
    assert fast[1, 0] == fast[2, 3] == fast[3, 6] == 0


def test_gaussian_log_likelihood_by_hand():
    module = TabularVAE(1, 0, [], 1, (4,))
    # unit scale at initialisation plus the floor
    scale = 1.0 + module.min_scale
    x, mean = torch.tensor([[2.0]]), torch.tensor([[0.5]])
    by_hand = -0.5 * (1.5 / scale) ** 2 - math.log(scale) - 0.5 * math.log(2 * math.pi)
    assert module.log_likelihood(x, mean).item() == pytest.approx(by_hand, rel=1e-5)


def test_kl_matches_closed_form():
    mu = torch.tensor([[0.3, -1.2], [0.0, 0.0]])
    logvar = torch.tensor([[0.1, -0.5], [0.0, 0.0]])
    expected = kl_divergence(
        Normal(mu, (0.5 * logvar).exp()), Normal(torch.zeros(2), torch.ones(2))
    ).sum(1)
    torch.testing.assert_close(gaussian_kl(mu, logvar), expected)
    assert gaussian_kl(mu, logvar)[1].item() == 0.0


def test_missing_cells_score_zero_and_leave_the_others_alone(seed):
    module = tiny_module(seed)
    output = torch.randn(3, 6)
    holes = X3.clone()
    holes[1, 0] = torch.nan  # a numeric cell
    holes[2, 3:] = torch.nan  # a categorical block
    full = module.log_likelihood(X3, output)
    loglik = module.log_likelihood(holes, output)
    assert loglik[1, 0] == loglik[2, 3] == 0
    keep = torch.ones_like(full, dtype=torch.bool)
    keep[1, 0] = keep[2, 3] = False
    torch.testing.assert_close(loglik[keep], full[keep])
    _, observed = module.split_missing(holes)
    assert observed.sum() == 12 - 2
    assert module.split_missing(X3)[1] is None  # complete rows skip the masking


def test_hidden_cells_are_indistinguishable_to_the_encoder(seed):
    module = tiny_module(seed)
    module.indicator_weight.data.normal_()
    # hide_rate=1 hides one cell of every row from the encoder: each row's
    # posterior is that of the row with one of its variables missing.
    torch.manual_seed(seed)
    _, kl = module(X3, sample=False, hide_rate=1.0)
    for row, value in zip(X3, kl, strict=True):
        one_hidden = []
        for cols in module.variable_slices():
            hidden = row.clone().unsqueeze(0)
            hidden[:, cols] = torch.nan
            one_hidden.append(gaussian_kl(*module.encode(hidden)).item())
        assert min(abs(k - value.item()) for k in one_hidden) < 1e-6
    # A missing cell is seen through its indicator, not as the value 0.
    zero, hole = X3[:1].clone(), X3[:1].clone()
    zero[0, 0], hole[0, 0] = 0.0, torch.nan
    assert not torch.allclose(module.encode(zero)[0], module.encode(hole)[0])


def test_forward_at_posterior_mean_is_deterministic(seed):
    module = tiny_module(seed).eval()
    first = module(X3, sample=False)
    second = module(X3, sample=False)
    torch.testing.assert_close(first[0], second[0])
    assert first[1].shape == (3,)


def test_importance_weighted_bound_with_one_draw_is_the_sampled_elbo(seed):
    module = tiny_module(seed).eval()
    eps = torch.randn(1, 2, generator=torch.Generator().manual_seed(seed))
    bound = module.importance_weighted_bound(X3, eps)
    mu, logvar = module.encode(X3)
    z = mu + (0.5 * logvar).exp() * eps
    log_px = module.log_likelihood(X3, module.decode(z)).sum(1)
    prior = Normal(torch.zeros(2), torch.ones(2)).log_prob(z).sum(1)
    posterior = Normal(mu, (0.5 * logvar).exp()).log_prob(z).sum(1)
    torch.testing.assert_close(bound, log_px + prior - posterior)


def test_more_importance_samples_tighten_the_bound_on_average(seed):
    module = tiny_module(seed).eval()
    gen = torch.Generator().manual_seed(seed)
    one = torch.stack(
        [
            module.importance_weighted_bound(X3, torch.randn(1, 2, generator=gen))
            for _ in range(200)
        ]
    ).mean()
    many = module.importance_weighted_bound(
        X3, torch.randn(200, 2, generator=gen)
    ).mean()
    assert many > one


@pytest.mark.parametrize("proposal_scale", [1.0, 1.25])
def test_conditional_output_is_the_importance_weighted_average(seed, proposal_scale):
    # Row 0 misses a number and the category, row 1 the binary flag.
    module = tiny_module(seed).eval()
    x = X3.clone()
    x[0, 1], x[0, 3:] = math.nan, math.nan
    x[1, 2] = math.nan
    eps = torch.randn(7, 2, generator=torch.Generator().manual_seed(seed))
    output = module.conditional_output(x, eps, proposal_scale=proposal_scale)

    mu, logvar = module.encode(x)
    std = proposal_scale * (0.5 * logvar).exp()  # the proposal's
    draws, log_w = [], []
    for e in eps:  # one draw at a time, by the definition
        z = mu + std * e
        out = module.decode(z)
        log_px = module.log_likelihood(x, out).sum(1)  # holes score 0
        prior = Normal(torch.zeros(2), torch.ones(2)).log_prob(z).sum(1)
        posterior = Normal(mu, std).log_prob(z).sum(1)
        draws.append(out)
        log_w.append(log_px + prior - posterior)
    weights = torch.softmax(torch.stack(log_w, 1), dim=1)  # (n, k)
    draws = torch.stack(draws, 1)  # (n, k, features)
    mean = (weights.unsqueeze(-1) * draws[..., :2]).sum(1)
    p_flag = (weights * torch.sigmoid(draws[..., 2])).sum(1)
    p_levels = (weights.unsqueeze(-1) * torch.softmax(draws[..., 3:], -1)).sum(1)
    torch.testing.assert_close(output[:, :2], mean)
    torch.testing.assert_close(torch.sigmoid(output[:, 2]), p_flag)
    torch.testing.assert_close(output[:, 3:].exp(), p_levels)


def test_importance_log_weights_are_those_of_the_proposal_drawn_from(seed):
    # A wider proposal moves each row's log-weights by its log-density,
    # not only the codes: the bound stays p(x)'s, whatever the proposal.
    module = tiny_module(seed).eval()
    eps = torch.randn(5, 2, generator=torch.Generator().manual_seed(seed))
    _, log_w = module._importance_draws(X3, eps, proposal_scale=1.5)
    mu, logvar = module.encode(X3)
    std = 1.5 * (0.5 * logvar).exp()
    z = mu.unsqueeze(1) + std.unsqueeze(1) * eps
    log_px = module.log_likelihood(X3.unsqueeze(1), module.decode(z)).sum(-1)
    prior = Normal(torch.zeros(2), torch.ones(2)).log_prob(z).sum(-1)
    proposal = Normal(mu.unsqueeze(1), std.unsqueeze(1)).log_prob(z).sum(-1)
    torch.testing.assert_close(log_w, log_px + prior - proposal)


def test_a_wider_proposal_estimates_the_same_conditional_mean(seed):
    # Both proposals are consistent: with many draws their estimates of the
    # missing cells agree up to Monte Carlo error.
    module = tiny_module(seed).eval()
    x = X3.clone()
    x[:, 1] = math.nan
    eps = torch.randn(20000, 2, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        plain = module.conditional_output(x, eps)
        wide = module.conditional_output(x, eps, proposal_scale=1.25)
    torch.testing.assert_close(wide[:, 1], plain[:, 1], atol=0.02, rtol=0)


def _fixed_draw_elbo(module, x, mu, logvar, eps):
    x, observed = module.split_missing(x)
    z = mu.unsqueeze(1) + (0.5 * logvar).exp().unsqueeze(1) * eps
    loglik = module.log_likelihood(x.unsqueeze(1), module.decode(z), observed[:, None])
    return loglik.sum(-1).mean(1) - gaussian_kl(mu, logvar)


def test_refined_posterior_raises_every_rows_elbo(seed):
    module = tiny_module(seed).eval()
    x = X3.clone()
    x[0, 1], x[1, 2] = math.nan, math.nan
    eps = torch.randn(8, 2, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        mu, logvar = module.encode(x)
        before = _fixed_draw_elbo(module, x, mu, logvar, eps)
    seen, observed = module.split_missing(x)
    with torch.inference_mode():  # where transform runs
        refined = module.refined_posterior(seen, observed, mu, logvar, eps, 30)
        assert module.refined_posterior(seen, observed, mu, logvar, eps, 0) == (
            mu,
            logvar,
        )
    with torch.no_grad():
        after = _fixed_draw_elbo(module, x, *refined, eps)
        alone = module.refined_posterior(
            seen[1:2], observed[1:2], mu[1:2], logvar[1:2], eps, 30
        )
    assert (after > before).all()
    assert all(p.grad is None for p in module.parameters())  # weights untouched
    torch.testing.assert_close(alone[0], refined[0][1:2])  # rows move alone


def test_importance_resampling_picks_one_of_the_draws(seed):
    module = tiny_module(seed).eval()
    eps = torch.randn(5, 2, generator=torch.Generator().manual_seed(seed))
    picked = module.importance_resampled_output(
        X3, eps, torch.Generator().manual_seed(seed), proposal_scale=1.25
    )
    mu, logvar = module.encode(X3)
    candidates = module.decode(
        mu.unsqueeze(1) + 1.25 * (0.5 * logvar).exp().unsqueeze(1) * eps
    )
    for row in range(3):
        gaps = (candidates[row] - picked[row]).abs().amax(dim=1)
        assert gaps.min() < 1e-6


def test_sample_and_mode_give_valid_encodings(seed):
    module = tiny_module(seed).eval()
    drawn = module.sample(50, generator=torch.Generator().manual_seed(seed))
    assert drawn.shape == (50, 6)
    assert set(drawn[:, 2].unique().tolist()) <= {0.0, 1.0}
    torch.testing.assert_close(drawn[:, 3:].sum(1), torch.ones(50))
    mode = module.mode(torch.randn(4, 6))
    torch.testing.assert_close(mode[:, 3:].sum(1), torch.ones(4))


def test_condition_widens_encoder_and_decoder(seed):
    module = tiny_module(seed, n_conditions=2).eval()
    condition = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    loglik, kl = module(X3, condition, sample=False)
    assert loglik.shape == (3, 4) and kl.shape == (3,)
    assert module.sample(
        5, condition=torch.tensor([[0.0, 1.0]]).expand(5, 2)
    ).shape == (5, 6)


@pytest.mark.parametrize("half_bins", [[0.5, 0.0], [0.5, 0.25]])
def test_binned_gaussian_matches_the_cdf_difference(seed, half_bins):
    # Column 0 lies on a grid of step 1 (half-bin 0.5); column 1 is continuous
    # or on a grid of step 0.5 (every column binned takes a path of its own).
    module = tiny_module(seed, numeric_half_bins=half_bins)
    output = torch.randn(3, 6, generator=torch.Generator().manual_seed(seed))
    loglik = module.log_likelihood(X3, output)
    for j, half_bin in enumerate(half_bins):
        normal = Normal(output[:, j].double(), module.numeric_scale()[j].double())
        x = X3[:, j].double()
        expected = (
            torch.log(normal.cdf(x + half_bin) - normal.cdf(x - half_bin))
            if half_bin
            else normal.log_prob(x)
        )
        torch.testing.assert_close(
            loglik[:, j].double(), expected, rtol=1e-5, atol=1e-5
        )


def test_binned_log_likelihood_is_bounded_and_finite_far_out():
    module = TabularVAE(1, 0, [], 1, (4,), numeric_half_bins=[0.5])
    with torch.no_grad():
        module.raw_scale.fill_(-20.0)  # the scale at its floor
    x = torch.tensor([[0.0], [1.0], [40.0], [1e4]])
    mean = torch.zeros(4, 1, requires_grad=True)
    loglik = module.log_likelihood(x, mean)
    # A bin's probability is at most 1, however small the scale.
    assert loglik[0].item() <= 0.0 and loglik[0].item() == pytest.approx(0.0)
    assert torch.isfinite(loglik).all()
    # Far in the tail it follows the Gaussian's quadratic fall-off.
    assert loglik[3].item() < loglik[2].item() < loglik[1].item() < 0.0
    loglik.sum().backward()
    assert torch.isfinite(mean.grad).all()


def test_narrow_bins_use_the_density_times_the_width():
    width = 1e-6
    module = TabularVAE(1, 0, [], 1, (4,), numeric_half_bins=[width / 2])
    x, mean = torch.tensor([[0.7]]), torch.tensor([[0.2]])
    density = Normal(0.2, module.numeric_scale()[0]).log_prob(torch.tensor(0.7))
    expected = density + math.log(width)
    assert module.log_likelihood(x, mean).item() == pytest.approx(expected.item())


@pytest.mark.parametrize("half_bins", [[0.5], [0.5, -1.0, 0.0]])
def test_half_bins_are_checked(half_bins):
    with pytest.raises(ValueError, match="numeric_half_bins needs 3 values >= 0"):
        TabularVAE(3, 0, [], 1, (4,), numeric_half_bins=half_bins)


@pytest.mark.parametrize("category_sizes", [[], [2, 3]])
def test_observed_mask_has_one_entry_per_variable(category_sizes):
    module = TabularVAE(2, 1, category_sizes, 2, (4,))
    x = torch.zeros(2, module.n_features)
    x[0, 0] = torch.nan
    if category_sizes:
        x[1, 3:5] = torch.nan
    _, observed = module.split_missing(x)
    assert observed.shape == (2, module.n_variables)
    assert observed[0].tolist() == [0.0] + [1.0] * (module.n_variables - 1)
    assert observed[1].sum() == module.n_variables - (1 if category_sizes else 0)


def test_conditional_log_likelihood_hides_groups_together(seed):
    module = TabularVAE(3, 2, [3, 2], 2, (8,), numeric_half_bins=[0.0, 0.2, 0.0])
    module = module.double()
    generator = torch.Generator().manual_seed(seed)
    module.indicator_weight.data.normal_(generator=generator)
    x = random_encoded_rows(module, 6, generator)
    x[0, 0] = x[2, 1] = torch.nan
    # variables: 3 numeric, 2 binary, 2 categorical; numeric 1 and the last
    # block (say, its point masses) form one group
    groups = torch.tensor([0, 1, 2, 3, 4, 5, 1])
    fast = module.conditional_log_likelihood(x, groups=groups)
    plain = []
    slices = module.variable_slices()
    for j in range(module.n_variables):
        hidden = x.clone()
        for k in torch.nonzero(groups == groups[j]).ravel().tolist():
            hidden[:, slices[k]] = torch.nan
        output = module.decode(module.encode(hidden)[0])
        plain.append(module.log_likelihood(x, output)[:, j])
    torch.testing.assert_close(fast, torch.stack(plain, dim=1), rtol=1e-12, atol=1e-12)
    alone = module.conditional_log_likelihood(x)
    torch.testing.assert_close(fast[:, [0, 2, 3, 4, 5]], alone[:, [0, 2, 3, 4, 5]])
    assert not torch.allclose(fast[:, 1], alone[:, 1])


def test_the_posterior_mean_pass_is_the_deterministic_forward():
    torch.manual_seed(0)
    module = TabularVAE(3, 1, [3, 2], 2, [8]).double()
    x = torch.randn(6, 3 + 1 + 5, dtype=torch.float64)
    x[:, 3] = (x[:, 3] > 0).double()
    x[:, 4:7] = torch.eye(3, dtype=torch.float64)[torch.tensor([0, 1, 2, 0, 1, 2])]
    x[:, 7:9] = torch.eye(2, dtype=torch.float64)[torch.tensor([0, 1, 1, 0, 1, 0])]
    x[2, 0] = float("nan")
    loglik, kl = module(x, sample=False)
    same, mu, logvar = module.posterior_mean_pass(x)
    torch.testing.assert_close(same, loglik)
    torch.testing.assert_close(gaussian_kl(mu, logvar), kl)
    torch.testing.assert_close((mu, logvar), module.encode(x))


def test_input_noise_reaches_the_encoder_not_the_likelihood(seed):
    module = tiny_module(seed)
    module.indicator_weight.data.normal_()
    holes = X3.clone()
    holes[1, 0] = torch.nan
    torch.manual_seed(seed)
    loglik, kl = module(holes, sample=False, input_noise=0.5)
    torch.manual_seed(seed)
    noisy = holes.clone()
    noisy[:, :2] += torch.randn(3, 2) * 0.5  # numeric cells; the hole stays one
    mu, logvar = module.encode(noisy)
    torch.testing.assert_close(kl, gaussian_kl(mu, logvar))
    # The decoder's code comes from the noisy cells; the clean ones are scored.
    torch.testing.assert_close(loglik, module.log_likelihood(holes, module.decode(mu)))
    assert not torch.allclose(kl, module(holes, sample=False)[1])
