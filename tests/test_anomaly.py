import copy
import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.metrics import roc_auc_score

import skvae._anomaly
from skvae import VAEAnomalyDetector
from skvae.datasets import load_demo

FAST = dict(max_epochs=60, batch_size=64, hidden_layer_sizes=(32,))
# Tests that feed tensors made here to a fitted network pin it to the CPU:
# device="auto" puts it on a GPU where torch sees one.
CPU = dict(device="cpu")


@pytest.fixture(scope="module")
def demo():
    return load_demo(return_X_y=True)


@pytest.fixture(scope="module")
def fitted_wine(wine_mixed):
    return VAEAnomalyDetector(random_state=0, **FAST).fit(wine_mixed)


@pytest.fixture(scope="module")
def fitted_demo(demo):
    X, _ = demo
    return VAEAnomalyDetector(random_state=0, **FAST, **CPU).fit(X)


def test_outlier_api_signs_and_offset(fitted_demo, demo):
    X, y = demo
    scores = fitted_demo.score_samples(X)
    decision = fitted_demo.decision_function(X)
    np.testing.assert_allclose(decision, scores - fitted_demo.offset_)
    labels = fitted_demo.predict(X)
    assert set(np.unique(labels)) <= {-1, 1}
    np.testing.assert_array_equal(labels == -1, decision < 0)
    # higher = more normal: the known anomalies score lower
    assert roc_auc_score(y, -scores) > 0.9


@pytest.mark.parametrize("contamination", [0.05, 0.2])
def test_contamination_sets_the_share_flagged_in_training(demo, contamination):
    X, _ = demo
    detector = VAEAnomalyDetector(
        contamination=contamination, random_state=0, **FAST
    ).fit(X)
    flagged = np.mean(detector.predict(X) == -1)
    assert flagged == pytest.approx(contamination, abs=1 / len(X))
    assert detector.offset_ == pytest.approx(
        np.percentile(detector.score_samples(X), 100 * contamination)
    )


def test_auto_contamination_uses_the_lower_tukey_fence(fitted_demo, demo):
    X, _ = demo
    q1, q3 = np.percentile(fitted_demo.score_samples(X), [25, 75])
    assert fitted_demo.offset_ == pytest.approx(q1 - 1.5 * (q3 - q1))


def test_fit_predict_matches_fit_then_predict(demo):
    X, _ = demo
    params = dict(contamination=0.1, random_state=0, **FAST)
    np.testing.assert_array_equal(
        VAEAnomalyDetector(**params).fit_predict(X),
        VAEAnomalyDetector(**params).fit(X).predict(X),
    )


def test_scores_do_not_depend_on_row_order_or_chunks(fitted_demo, demo):
    X, _ = demo
    scores = fitted_demo.score_samples(X)
    order = np.random.RandomState(0).permutation(len(X))
    np.testing.assert_allclose(
        fitted_demo.score_samples(X.iloc[order]), scores[order], rtol=1e-12
    )
    np.testing.assert_allclose(
        fitted_demo.score_samples(X.iloc[:7]), scores[:7], rtol=1e-12
    )
    np.testing.assert_array_equal(fitted_demo.score_samples(X), scores)


def test_importance_weighted_scores_are_deterministic(demo):
    X, y = demo
    detector = VAEAnomalyDetector(importance_samples=16, random_state=0, **FAST).fit(X)
    scores = detector.score_samples(X)
    np.testing.assert_allclose(
        detector.score_samples(X.iloc[::-1]), scores[::-1], rtol=1e-5
    )
    assert roc_auc_score(y, -scores) > 0.9


def test_explanation_names_the_column_pushed_out(fitted_demo, demo):
    X, _ = demo
    row = X.iloc[[0]].copy()
    column = "mean texture"
    row[column] = X[column].mean() + 8 * X[column].std()
    explanation = fitted_demo.explain(row)
    assert isinstance(explanation, pd.DataFrame)
    assert list(explanation.columns) == list(X.columns)
    assert explanation.idxmin(axis=1).iloc[0] == column
    assert explanation.loc[row.index[0], column] < -10


def _far_row_cells(detector, X, column):
    """A row with one value 50 SD beyond the training maximum, its cells'
    log-likelihoods at the posterior mean and its latent term."""
    row = X.iloc[[0]].copy()
    row[column] = X[column].max() + 50 * X[column].std()
    with torch.no_grad():
        encoded = detector._run_chunked(lambda module, x: x, detector._encode(row))
        x = torch.as_tensor(encoded, dtype=torch.float64)
        loglik, mu, logvar = detector._module64.posterior_mean_pass(x)
        loglik = (loglik + detector._mode_log_jacobian(x)).numpy()[0]
        latent = detector._latent_log_prior(mu, logvar).numpy()[0]
    return row, loglik, latent


def test_the_score_has_no_cell_floor_by_default(fitted_demo, demo):
    X, _ = demo
    assert fitted_demo._cell_floor is None
    row, loglik, latent = _far_row_cells(fitted_demo, X, "mean texture")
    # The far cell counts in full: the sum of the cells and the latent term.
    assert fitted_demo.score_samples(row)[0] == pytest.approx(loglik.sum() + latent)


def test_no_cell_counts_below_its_training_floor(demo):
    X, _ = demo
    detector = VAEAnomalyDetector(random_state=0, **FAST, **CPU)
    detector._cell_floor_percentile = 0.1
    detector.fit(X)
    # The floor is each column's 0.1st percentile of the training rows' cells.
    cells = detector._run_chunked(detector._training_cells, detector._encode(X))
    scored = cells[:, 1]  # each cell as the score sums it
    np.testing.assert_allclose(detector._cell_floor, np.percentile(scored, 0.1, axis=0))
    # A row with one value far beyond anything in fit: its cell adds its
    # column's floor, not its own log-likelihood; the other cells and the
    # latent term as they are.
    row, loglik, latent = _far_row_cells(detector, X, "mean texture")
    column = list(X.columns).index("mean texture")
    assert loglik[column] < detector._cell_floor[column] - 100
    expected = np.maximum(loglik, detector._cell_floor).sum() + latent
    assert detector.score_samples(row)[0] == pytest.approx(expected)
    assert detector.score_samples(row)[0] > loglik.sum() + latent + 100


def test_explanation_of_arrays_is_an_array(fitted_demo, demo):
    X, _ = demo
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        explanation = fitted_demo.explain(X.to_numpy()[:4])
    assert isinstance(explanation, np.ndarray) and explanation.shape == (4, 30)
    # typical training rows sit near their median contribution
    assert abs(np.median(fitted_demo.explain(X).to_numpy())) < 0.1


def test_mixed_dataframe_with_categories_and_bools(wine_mixed):
    # 400 steps: enough for the numeric scales to settle, so that the categorical
    # the row was given, not a numeric column it drags along, explains it.
    params = {**FAST, "max_epochs": 200}
    detector = VAEAnomalyDetector(random_state=0, **params).fit(wine_mixed)
    odd = wine_mixed.iloc[[0]].copy()
    # class_0 wines have high proline; a class_2 label on one is out of place
    odd["cultivar"] = pd.Categorical(
        ["class_2"], categories=["class_0", "class_1", "class_2"]
    )
    explanation = detector.explain(odd)
    assert explanation.idxmin(axis=1).iloc[0] == "cultivar"
    assert detector.score_samples(odd)[0] < np.median(
        detector.score_samples(wine_mixed)
    )


def test_explanation_matches_one_network_pass_per_column(wine_mixed):
    # explain() shares the first layer and the head between the columns; the
    # plain definition re-encodes the row once per column. In float64 the two
    # agree to rounding; explain's float32 result is within float32's rounding.
    detector = VAEAnomalyDetector(random_state=0, **FAST, **CPU).fit(wine_mixed)
    # first: explain runs the indicator steps that fit defers
    explained = detector.explain(wine_mixed.iloc[:50]).to_numpy()
    module = copy.deepcopy(detector.module_).double()
    x = torch.as_tensor(detector._encode(wine_mixed)[:50], dtype=torch.float64)
    plain = []
    with torch.inference_mode():
        for j, cols in enumerate(module.variable_slices()):
            hidden = x.clone()
            hidden[:, cols] = torch.nan
            output = module.decode(module.encode(hidden)[0])
            plain.append(module.log_likelihood(x, output)[:, j])
        plain = torch.stack(plain, dim=1)
        fast = module.conditional_log_likelihood(x)
    np.testing.assert_allclose(fast.numpy(), plain.numpy(), rtol=1e-10, atol=1e-10)
    expected = detector._encoder.per_column(plain.numpy() - detector._column_baseline)
    np.testing.assert_allclose(explained, expected, atol=1e-3)


def test_the_explanation_baseline_waits_for_the_first_explain(wine_mixed):
    # Only explain needs it: fit keeps its rows, a pickle carries them, and
    # the first explain computes it, the same before and after the pickle.
    detector = VAEAnomalyDetector(random_state=0, **FAST).fit(wine_mixed)
    assert detector._column_baseline is None
    loaded = pickle.loads(pickle.dumps(detector))
    explained = detector.explain(wine_mixed.iloc[:20])
    assert detector._column_baseline is not None and detector._baseline_rows is None
    np.testing.assert_allclose(
        loaded.explain(wine_mixed.iloc[:20]).to_numpy(), explained.to_numpy()
    )


def test_a_value_past_float32_is_the_most_anomalous_row(fitted_demo, demo):
    # It used to encode as inf: a NaN score, and predict called it an inlier.
    X, _ = demo
    far = X.iloc[:20].copy()
    far.iloc[0, 0] = 1e300
    with pytest.warns(UserWarning, match="'mean radius'"):
        scores = fitted_demo.score_samples(far)
        labels = fitted_demo.predict(far)
    assert np.isfinite(scores).all()
    assert scores[0] < scores[1:].min() and labels[0] == -1


def test_fit_survives_a_value_past_float32(wine_mixed):
    far = wine_mixed.assign(
        proline=np.where(wine_mixed.index == 0, 1e30, wine_mixed.proline)
    )
    with pytest.warns(UserWarning, match="'proline'"):
        detector = VAEAnomalyDetector(random_state=0, **FAST).fit(far)
        scores = detector.score_samples(far)
    assert np.isfinite(scores).all() and scores.argmin() == 0


def test_a_count_column_with_a_999999_sentinel_fits_and_ranks_it_first():
    # Binned far out, the training loss used to become NaN.
    rng = np.random.default_rng(0)
    counts = pd.DataFrame(
        {"visits": rng.poisson(3, 300).astype(float), "x": rng.normal(size=300)}
    )
    counts.loc[0, "visits"] = 999999.0
    detector = VAEAnomalyDetector(random_state=0, **FAST).fit(counts)
    assert detector._encoder.columns_[0].step == 1.0  # a binned grid column
    scores = detector.score_samples(counts)
    assert np.isfinite(scores).all() and scores.argmin() == 0


def test_bad_input_gets_a_clear_error(fitted_demo, demo, wine_mixed):
    X, _ = demo
    with pytest.raises(ValueError, match="'mean radius' contains infinity"):
        fitted_demo.score_samples(X.assign(**{"mean radius": np.inf}))
    with (
        pytest.warns(UserWarning, match="valid feature names"),
        pytest.raises(ValueError, match="30 features"),
    ):
        fitted_demo.score_samples(X.to_numpy()[:, :5])
    with pytest.raises(ValueError, match="0 sample"):
        VAEAnomalyDetector().fit(X.iloc[:0])
    detector = VAEAnomalyDetector(
        random_state=0, max_epochs=2, handle_unknown="error"
    ).fit(wine_mixed)
    unseen = wine_mixed.iloc[[0]].astype({"hue_level": object})
    unseen["hue_level"] = "violet"
    with pytest.raises(ValueError, match="'hue_level' holds the category 'violet'"):
        detector.predict(unseen)


def test_unseen_levels_score_low_and_never_fail_a_batch(fitted_wine, wine_mixed):
    fitted = fitted_wine
    rows = wine_mixed.astype({"hue_level": object})
    rows.loc[[3, 7], "hue_level"] = "violet"
    scores = fitted.score_samples(rows)
    normal = fitted.score_samples(wine_mixed)
    # Each unseen level costs log(1 / (n + 1)) in place of its level's term:
    # the least likely level times 1 / (n + 1), the same floor in both rows.
    assert (scores[[3, 7]] < normal[[3, 7]] - 4).all()
    np.testing.assert_allclose(np.delete(scores, [3, 7]), np.delete(normal, [3, 7]))
    explanation = fitted.explain(rows.iloc[[3, 7]])
    assert (explanation.idxmin(axis=1) == "hue_level").all()
    floor = explanation["hue_level"].to_numpy()
    assert floor[0] == pytest.approx(floor[1]) and floor[0] < -np.log(179)


def test_input_noise_is_seeded_and_checked(fitted_wine, wine_mixed):
    def noisy():
        return VAEAnomalyDetector(random_state=0, input_noise=0.3, **FAST)

    scores = noisy().fit(wine_mixed).score_samples(wine_mixed)
    np.testing.assert_array_equal(
        noisy().fit(wine_mixed).score_samples(wine_mixed), scores
    )
    assert not np.allclose(fitted_wine.score_samples(wine_mixed), scores)
    with pytest.raises(ValueError, match="input_noise"):
        VAEAnomalyDetector(input_noise=-0.1).fit(wine_mixed)


def test_rows_with_missing_cells_are_scored(fitted_wine, wine_mixed):
    fitted = fitted_wine
    # No column was missing in fit: a hole there is itself unusual.
    holes = wine_mixed.copy()
    holes.loc[holes.index[:5], "alcohol"] = np.nan
    scores = fitted.score_samples(holes)
    normal = fitted.score_samples(wine_mixed)
    assert np.isfinite(scores).all()
    assert (scores[:5] < normal[:5]).all()
    assert (fitted.predict(holes.iloc[:5]) == -1).sum() >= 3
    assert (fitted.explain(holes.iloc[:5]).idxmin(axis=1) == "alcohol").all()


def test_holes_in_columns_with_holes_in_fit_count_as_typical_values(wine_mixed):
    holes = wine_mixed.copy()
    holes.loc[holes.index[::3], "proline"] = np.nan
    detector = VAEAnomalyDetector(random_state=0, max_epochs=40).fit(holes)
    complete = wine_mixed.iloc[1::3]
    scores = detector.score_samples(complete)
    holed = detector.score_samples(complete.assign(proline=np.nan))
    # A hole neither raises a row (fewer terms) nor sinks it: rows with and
    # without holes compare, well within the spread of the scores.
    q1, q3 = np.percentile(scores, [25, 75])
    assert np.median(np.abs(holed - scores)) < 0.5 * (q3 - q1)
    assert (detector.explain(complete.assign(proline=np.nan))["proline"] == 0).all()
    far = complete.assign(proline=10 * wine_mixed.proline.max())
    assert (detector.score_samples(far) < holed).all()


def test_one_row_and_fewer_rows_than_batch(demo):
    X, _ = demo
    detector = VAEAnomalyDetector(max_epochs=3, random_state=0).fit(X.iloc[:10])
    assert detector.score_samples(X.iloc[:1]).shape == (1,)
    single = VAEAnomalyDetector(max_epochs=2, random_state=0).fit(X.iloc[:1])
    assert np.isfinite(single.score_samples(X.iloc[:3])).all()


def test_cuda_unavailable_is_a_clear_error(demo):
    import torch

    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    with pytest.raises(ValueError, match="CUDA is not available"):
        VAEAnomalyDetector(device="cuda", max_epochs=1).fit(demo[0])
    with pytest.raises(ValueError, match="device must be"):
        VAEAnomalyDetector(device="tpu-ish", max_epochs=1).fit(demo[0])


def test_counts_are_scored_by_the_probability_of_their_bin(seed):
    rng = np.random.RandomState(seed)
    frame = pd.DataFrame(
        {
            # 60% zeros and small counts: a Gaussian density would reward the spike
            "visits": np.where(rng.rand(300) < 0.6, 0, rng.poisson(3.0, 300)),
            "amount": rng.lognormal(size=300),
        }
    )
    detector = VAEAnomalyDetector(max_epochs=40, random_state=seed, **CPU).fit(frame)
    assert detector.module_.half_bin.numel() == 1  # visits only
    x = torch.as_tensor(detector._encoder.transform(frame))
    with torch.no_grad():
        loglik, _ = detector.module_(x, sample=False)
    # A bin's probability is at most 1: no count earns an unbounded density.
    assert (loglik[:, 0] <= 0).all()
    # An unseen count far out scores as an anomaly, a common one does not.
    probe = pd.DataFrame({"visits": [0, 40], "amount": [1.0, 1.0]})
    assert detector.predict(probe).tolist() == [1, -1]


@pytest.mark.parametrize("trim_fraction", [0.0, 0.1])
def test_trim_fraction_reaches_the_training_loop(demo, trim_fraction, monkeypatch):
    from skvae import _training

    seen = []
    original = _training.negative_elbo

    def spy(*args, trim_fraction=0.0, sample=True, **kwargs):
        if sample:  # a training step, not the validation loss
            seen.append(trim_fraction)
        return original(*args, trim_fraction=trim_fraction, sample=sample, **kwargs)

    monkeypatch.setattr(_training, "negative_elbo", spy)
    # the phase after the fit that trains the missing-cell indicators only
    monkeypatch.setattr(VAEAnomalyDetector, "_indicator_steps", 0)
    X, _ = demo
    params = {**FAST, "max_epochs": 50, "n_iter_no_change": 50}
    VAEAnomalyDetector(trim_fraction=trim_fraction, random_state=0, **params).fit(X)
    # no trimming during the warm-up (10 epochs, 200 steps), the share after it
    assert seen[0] == 0.0 and seen[-1] == trim_fraction


def test_early_stopping_ends_on_the_last_weights(demo, monkeypatch):
    from skvae import _base, _training

    ends = []

    def watch(module, X, *, X_val=None, **kwargs):
        history = _training.train_vae(module, X, X_val=X_val, **kwargs)
        ends.append((-_training.evaluate_loss(module, X_val), history))
        return history

    monkeypatch.setattr(_base, "train_vae", watch)
    X, _ = demo
    params = {**FAST, "max_epochs": 300, "n_iter_no_change": 3}
    VAEAnomalyDetector(random_state=0, **params).fit(X)
    (final, history) = ends[0]
    assert history.stopped_early
    assert max(history.validation_scores) > history.validation_scores[-1]
    assert final == pytest.approx(history.validation_scores[-1], rel=1e-5)


def test_partial_fit_over_chunks_ranks_the_anomalies(demo):
    X, y = demo
    model = VAEAnomalyDetector(random_state=0, **FAST)
    chunks = np.array_split(np.random.RandomState(0).permutation(len(X)), 4)
    for _ in range(15):
        for rows in chunks:
            model.partial_fit(X.iloc[rows])
    scores = model.score_samples(X)
    assert roc_auc_score(y, -scores) > 0.9
    # offset_ is the lower Tukey fence of a sample of the rows trained on,
    # here all 15 passes (fewer than the sample's 10,000 rows)
    q1, q3 = np.percentile(np.tile(scores, 15), [25, 75])
    assert model.offset_ == pytest.approx(q1 - 1.5 * (q3 - q1))
    # explain's baseline is computed on first use, from the same sample
    contributions = model.explain(X.iloc[:5])
    assert contributions.shape == (5, X.shape[1])
    assert np.isfinite(contributions.to_numpy()).all()


def test_point_mass_cells_are_scored_by_their_block(wine_spiky):
    detector = VAEAnomalyDetector(point_mass_share=0.2, random_state=0, **FAST, **CPU)
    detector.fit(wine_spiky)
    encoded = torch.as_tensor(
        detector._encoder.transform(wine_spiky), dtype=torch.float64
    )
    with detector._inference() as module:
        loglik, mu, logvar = module.posterior_mean_pass(encoded)
        latent = detector._latent_log_prior(mu, logvar)
    # The Gaussian part of a cell at 0 contributes nothing: neither a hole's
    # typical value nor the floor of an unexpected hole.
    np.testing.assert_allclose(
        detector.score_samples(wine_spiky), (loglik.sum(dim=1) + latent).numpy()
    )
    contributions = detector.explain(wine_spiky.head(20))
    assert np.isfinite(contributions.to_numpy()).all()
    odd = wine_spiky.head(1).copy()
    odd["malic_acid"] = 40.0
    assert detector.explain(odd).iloc[0].idxmin() == "malic_acid"
    assert detector.score_samples(odd)[0] < detector.score_samples(wine_spiky)[0]


def test_partial_fit_keeps_the_point_masses_of_the_first_chunk(wine_spiky):
    detector = VAEAnomalyDetector(random_state=0)
    first, rest = wine_spiky.iloc[:90], wine_spiky.iloc[90:]
    detector.partial_fit(first)
    masses = [c.point_masses for c in detector._encoder.columns_]
    assert masses[1] == (0.0,) and masses[4] == (100.0,)
    # Later chunks train the same blocks, whatever their own shares.
    without_zeros = rest[rest["malic_acid"] != 0]
    detector.partial_fit(without_zeros).partial_fit(rest)
    assert [c.point_masses for c in detector._encoder.columns_] == masses
    assert np.isfinite(detector.score_samples(wine_spiky)).all()


def test_a_column_coded_by_modes_is_scored_in_its_own_units():
    rng = np.random.RandomState(0)
    n = 400
    x = np.where(rng.rand(n) < 0.5, rng.normal(0, 0.5, n), rng.normal(20, 4, n))
    X = np.column_stack([x, rng.normal(size=n)])
    detector = VAEAnomalyDetector(random_state=0, **FAST)
    detector._max_modes = 5  # measured and not kept as the default
    detector.fit(X)
    encoder = detector._encoder
    modes = encoder.columns_[0].modes
    assert len(modes) >= 2
    encoded = torch.as_tensor(encoder.transform(X))
    jacobian = detector._mode_log_jacobian(encoded).numpy()
    stds = np.array(modes)[:, 2]
    mode = encoded[:, encoder.mode_entries_[encoder.mode_blocks_ == 0]].argmax(1)
    expected = -np.log(stds[mode.numpy()] / encoder.scale_[0])
    np.testing.assert_allclose(jacobian[:, 0], expected, rtol=1e-5)
    # Only numeric cells coded by modes get the term, not the blocks.
    with_term = np.flatnonzero((jacobian != 0).any(axis=0))
    assert set(with_term) <= set(encoder.mixture_variables_.tolist())
    scores = detector.score_samples(X)
    assert np.isfinite(scores).all()
    assert np.isfinite(detector.explain(X[:5])).all()


def _latent_terms(detector, X):
    x = torch.as_tensor(detector._encoder.transform(X), dtype=torch.float64)
    with torch.no_grad():
        mu, logvar = copy.deepcopy(detector.module_).double().encode(x)
        return detector._latent_log_prior(mu, logvar).numpy(), mu, logvar


def test_the_latent_mixture_gives_a_cluster_of_anomalies_no_component():
    rng = np.random.RandomState(0)
    inliers = rng.normal(size=(600, 4)) @ rng.normal(size=(4, 4))
    X = np.vstack([inliers, rng.normal(6, 0.1, size=(30, 4))])
    detector = VAEAnomalyDetector(random_state=0, **FAST, **CPU).fit(X)
    latent, _, _ = _latent_terms(detector, X)
    assert latent[600:].max() < np.percentile(latent[:600], 5)
    scores = detector.score_samples(X)
    assert scores[600:].max() < np.percentile(scores[:600], 5)
    # Fitted to every training row, the mixture gives the cluster a component
    # and its latent codes look typical.
    everyone = VAEAnomalyDetector(random_state=0, **FAST, **CPU)
    everyone._latent_prior_keep = 1.0
    latent, _, _ = _latent_terms(everyone.fit(X), X)
    assert np.median(latent[600:]) > np.percentile(latent[:600], 5)


def test_the_latent_mixture_is_fitted_to_a_seeded_sample_of_large_data(
    fitted_demo, demo, monkeypatch
):
    detector = copy.copy(fitted_demo)
    detector._latent_mixture = None  # as in fit: the core is chosen by the KL
    data = detector._encoder.transform(demo[0])
    monkeypatch.setattr(skvae._anomaly, "_LATENT_MIXTURE_ROWS", 100)
    sampled = detector._fit_latent_mixture(data)
    # The mixture fitted to the 100 rows the fit's seed draws...
    rng = np.random.RandomState(detector._seed)
    rows = np.sort(rng.permutation(len(data))[:100])
    for a, b in zip(sampled, detector._fit_latent_mixture(data[rows]), strict=True):
        np.testing.assert_array_equal(a, b)
    # ... not the one fitted to every row.
    monkeypatch.setattr(skvae._anomaly, "_LATENT_MIXTURE_ROWS", len(data))
    assert not np.allclose(sampled[1], detector._fit_latent_mixture(data)[1])


def test_the_latent_term_is_the_mixture_density_over_the_posterior(fitted_demo, demo):
    from sklearn.mixture import GaussianMixture

    log_weights, means, cholesky = fitted_demo._latent_mixture
    mixture = GaussianMixture(len(means), covariance_type="full")
    mixture.weights_, mixture.means_ = np.exp(log_weights), means
    mixture.precisions_cholesky_ = cholesky
    latent, mu, logvar = _latent_terms(fitted_demo, demo[0][:50])
    d = mu.shape[1]
    expected = (
        mixture.score_samples(mu.numpy())
        + 0.5 * d * np.log(2 * np.pi)
        + 0.5 * logvar.sum(1).numpy()
    )
    np.testing.assert_allclose(latent, expected, rtol=1e-6, atol=1e-6)
    # Without the mixture the term is the KL to the N(0, I) prior.
    plain = copy.copy(fitted_demo)
    plain._latent_mixture = None
    kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(1)
    np.testing.assert_allclose(plain._latent_log_prior(mu, logvar), -kl, rtol=1e-6)
