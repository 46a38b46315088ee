import pickle
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
import torch

import skvae
from skvae import VAEAnomalyDetector, VAEAugmenter, VAEImputer, VAETransformer
from skvae._base import auto_step_budget


@pytest.fixture(scope="module")
def fitted(wine_spiky):
    """A detector with point masses (two columns have one) to save and load."""
    detector = VAEAnomalyDetector(max_epochs=5, random_state=0).fit(wine_spiky)
    assert len(detector._encoder.mixture_index_) == 2
    return detector


def test_pickle_round_trip_gives_identical_outputs(fitted, wine_mixed):
    loaded = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(
        loaded.score_samples(wine_mixed), fitted.score_samples(wine_mixed)
    )
    assert loaded.get_params() == fitted.get_params()
    assert loaded.loss_curve_ == fitted.loss_curve_


def test_joblib_round_trip_gives_identical_outputs(fitted, wine_mixed, tmp_path):
    path = tmp_path / "model.joblib"
    joblib.dump(fitted, path)
    loaded = joblib.load(path)
    np.testing.assert_array_equal(
        loaded.predict(wine_mixed), fitted.predict(wine_mixed)
    )
    pd_explained = loaded.explain(wine_mixed)
    np.testing.assert_allclose(pd_explained, fitted.explain(wine_mixed))


def test_pickle_holds_cpu_tensors_and_versions(fitted):
    state = fitted.__getstate__()
    assert "module_" not in state
    assert all(t.device.type == "cpu" for t in state["_module_state"].values())
    assert state["_skvae_version"] == skvae.__version__
    assert state["_torch_version"] == torch.__version__


def test_version_mismatch_warns(fitted):
    state = fitted.__getstate__()
    state["_skvae_version"] = "0.0.1"
    clone = VAEAnomalyDetector.__new__(VAEAnomalyDetector)
    with pytest.warns(UserWarning, match="pickled with skvae 0.0.1"):
        clone.__setstate__(state)


def test_model_saved_for_cuda_loads_on_cpu(fitted, wine_mixed):
    state = fitted.__getstate__()
    state["device"] = "cuda"
    clone = VAEAnomalyDetector.__new__(VAEAnomalyDetector)
    if torch.cuda.is_available():
        clone.__setstate__(state)
    else:
        with pytest.warns(UserWarning, match="CUDA is not available here"):
            clone.__setstate__(state)
        assert clone._device.type == "cpu"
    np.testing.assert_allclose(
        clone.score_samples(wine_mixed), fitted.score_samples(wine_mixed), rtol=1e-4
    )


def test_n_components_says_what_auto_chose_and_survives_old_pickles(fitted):
    # wine_spiky's 8 columns: "auto" takes a quarter, clipped to [2, 8].
    assert fitted.n_components == "auto" and fitted.n_components_ == 2
    assert fitted.n_components_ == fitted.module_.n_components
    state = fitted.__getstate__()
    del state["n_components_"]  # as pickled before the attribute existed
    clone = VAEAnomalyDetector.__new__(VAEAnomalyDetector)
    clone.__setstate__(state)
    assert clone.n_components_ == 2


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_fit_on_gpu_predict_on_cpu(wine_mixed):
    gpu = VAEAnomalyDetector(max_epochs=5, device="cuda", random_state=0).fit(
        wine_mixed
    )
    assert next(gpu.module_.parameters()).is_cuda
    state = gpu.__getstate__()
    state["device"] = "cpu"
    cpu = VAEAnomalyDetector.__new__(VAEAnomalyDetector)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cpu.__setstate__(state)
    np.testing.assert_allclose(
        cpu.score_samples(wine_mixed), gpu.score_samples(wine_mixed), rtol=1e-3
    )


@pytest.mark.parametrize(
    "n_rows, batch_size, expected",
    [
        (100, 100, (1000, 1000)),  # one step per epoch: the 1,000-step floor
        (1024, 256, (250, 1000)),
        (30_000, 256, (26, 1000)),  # 117 steps per epoch: 3,000 steps
        (1_000_000, 256, (1, 1000)),  # 3,906 steps per epoch: one epoch
        (10_000, 64, (20, 1000)),  # 156 steps per epoch: 3,000 steps
        (5_000, 256, (100, 1000)),  # 19 steps per epoch: 100 epochs at most
    ],
)
def test_auto_step_budget(n_rows, batch_size, expected):
    assert auto_step_budget(n_rows, batch_size) == expected


@pytest.mark.parametrize(
    "n_rows, expected",
    [
        (100, (3000, 3000)),  # one step per epoch: the floor
        (5_000, (158, 3000)),  # 19 steps per epoch: past 100 epochs to 3,000 steps
        (30_000, (26, 3000)),  # 117 steps per epoch: 3,000 steps, as before
    ],
)
def test_auto_step_budget_with_a_higher_floor(n_rows, expected):
    assert auto_step_budget(n_rows, 256, min_steps=3000) == expected


def test_object_arrays_of_categories_are_tables_of_categories():
    rng = np.random.RandomState(0)
    colour = np.array(["red", "green", "blue"], dtype=object)[rng.randint(0, 3, 90)]
    X = np.column_stack([colour, rng.randn(90).astype(object)])
    detector = VAEAnomalyDetector(max_epochs=3, random_state=0).fit(X)
    assert [c.kind for c in detector._encoder.columns_] == ["categorical", "numeric"]
    assert detector.score_samples(X).shape == (90,)
    odd = X[:1].copy()
    odd[0, 0] = "purple"
    with pytest.raises(ValueError, match="'purple', which was not seen in fit"):
        VAEAnomalyDetector(max_epochs=3, handle_unknown="error").fit(X).score_samples(
            odd
        )
    holes = X.copy()
    holes[3, 0] = None  # a missing cell, not a level
    fitted = VAEAnomalyDetector(max_epochs=3).fit(holes)
    assert fitted._encoder.columns_[0].levels == ["blue", "green", "red"]
    # an object array of numbers is numeric, as scikit-learn reads it
    numbers = VAEAnomalyDetector(max_epochs=3, random_state=0).fit(X[:, 1:])
    assert numbers._encoder.columns_[0].kind == "numeric"


def test_chunked_inference_matches_one_chunk(fitted, wine_mixed, monkeypatch):
    scores = fitted.score_samples(wine_mixed)
    explained = fitted.explain(wine_mixed).to_numpy()
    monkeypatch.setattr(skvae._base, "_CHUNK_ROWS", 7)
    monkeypatch.setattr(skvae._anomaly, "_EXPLAIN_CHUNK_FLOATS", 4000)
    np.testing.assert_allclose(fitted.score_samples(wine_mixed), scores, rtol=1e-5)
    np.testing.assert_allclose(fitted.explain(wine_mixed), explained, rtol=1e-5)


def test_rows_scored_alone_score_as_in_a_batch(fitted, wine_mixed):
    together = fitted.score_samples(wine_mixed)
    alone = [fitted.score_samples(wine_mixed.iloc[[i]])[0] for i in range(0, 178, 17)]
    np.testing.assert_allclose(alone, together[::17], rtol=1e-12)


def test_scoring_memory_does_not_grow_with_the_rows(cancer):
    import tracemalloc

    X, _ = cancer
    detector = VAEAnomalyDetector(max_epochs=2, random_state=0).fit(X)
    big = np.tile(X, (400, 1))  # 227,600 x 30 float64: 52 MiB
    tracemalloc.start()
    try:
        detector.score_samples(big)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # The output (1.7 MiB) plus a few chunk-sized buffers (8,192 rows x 30 x 8 B
    # = 1.9 MiB each); encoding the whole input at once would take > 100 MiB.
    assert peak < 20 * 2**20, f"scoring traced {peak / 2**20:.0f} MiB"


def test_column_kinds_are_reported_and_can_be_chosen(wine_mixed):
    from skvae import VAETransformer

    fitted = VAETransformer(max_epochs=2, random_state=0).fit(wine_mixed)
    assert fitted.column_kinds_ == {
        "alcohol": "numeric",
        "malic_acid": "numeric",
        "color_intensity": "numeric",
        "proline": "numeric",
        "magnesium": "numeric",
        "cultivar": "categorical",
        "strong": "binary",
        "hue_level": "categorical",
    }
    chosen = VAETransformer(
        max_epochs=2, random_state=0, column_kinds={"magnesium": "categorical"}
    ).fit(wine_mixed)
    assert chosen.column_kinds_["magnesium"] == "categorical"
    assert chosen.module_.n_features > fitted.module_.n_features


# -- training further: partial_fit and warm_start ----------------------------------

ESTIMATORS = [VAEAnomalyDetector, VAETransformer, VAEAugmenter, VAEImputer]
SMALL = dict(hidden_layer_sizes=(16,), batch_size=32)


def _chunks(frame, n_chunks=3):
    """The rows of ``frame`` shuffled (wine comes sorted by class), in chunks."""
    order = np.random.RandomState(0).permutation(len(frame))
    return [frame.iloc[rows] for rows in np.array_split(order, n_chunks)]


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_a_series_is_refused_with_its_shape_named(estimator_class, wine_mixed):
    # One mixed row as a Series used to fail converting 'low' to a float.
    row = wine_mixed.iloc[0]
    with pytest.raises(ValueError, match="got a pandas Series of 8 values"):
        estimator_class(random_state=0, max_epochs=1, **SMALL).fit(row)
    model = estimator_class(random_state=0, max_epochs=1, **SMALL).fit(wine_mixed)
    call = {VAEAnomalyDetector: "score_samples", VAEAugmenter: "partial_fit"}
    with pytest.raises(ValueError, match=r"X.to_frame\(\).T for one row"):
        getattr(model, call.get(estimator_class, "transform"))(row)


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_partial_fit_trains_on_each_chunk_and_counts_it(estimator_class, wine_mixed):
    model = estimator_class(random_state=0, **SMALL)
    for _ in range(2):
        for chunk in _chunks(wine_mixed):
            model.partial_fit(chunk)
    assert model.n_iter_ == 6
    assert model.n_samples_seen_ == 2 * len(wine_mixed)
    assert len(model.loss_curve_) == 6
    assert model.loss_curve_[-1] < model.loss_curve_[0]


def test_partial_fit_is_reproducible_and_survives_a_pickle(wine_mixed):
    chunks = _chunks(wine_mixed)
    straight = VAEAnomalyDetector(random_state=0, **SMALL)
    for chunk in chunks + chunks:
        straight.partial_fit(chunk)
    resumed = VAEAnomalyDetector(random_state=0, **SMALL)
    for chunk in chunks:
        resumed.partial_fit(chunk)
    # The Adam state travels in the pickle: the resumed run is the same run.
    resumed = pickle.loads(pickle.dumps(resumed))
    for chunk in chunks:
        resumed.partial_fit(chunk)
    np.testing.assert_allclose(
        resumed.score_samples(wine_mixed), straight.score_samples(wine_mixed), rtol=1e-6
    )
    assert resumed.offset_ == pytest.approx(straight.offset_, rel=1e-6)


def test_partial_fit_keeps_the_schema_of_its_first_chunk(wine_mixed):
    model = VAEAnomalyDetector(random_state=0, **SMALL).partial_fit(wine_mixed)
    new_level = wine_mixed.copy()
    new_level["hue_level"] = new_level["hue_level"].replace("mid", "extreme")
    with pytest.raises(ValueError, match="'hue_level' holds 'extreme'.*first"):
        model.partial_fit(new_level)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # no feature names: known
        with pytest.raises(ValueError, match="X has 3 features"):
            model.partial_fit(wine_mixed.to_numpy()[:, :3])
    renamed = wine_mixed.rename(columns={"proline": "prolin"})
    with pytest.raises(ValueError, match="prolin"):
        model.partial_fit(renamed)
    # even with handle_unknown="ignore", and scoring still ignores the level
    assert np.isfinite(model.score_samples(new_level)).all()
    assert model.n_iter_ == 1


def test_later_chunks_may_have_holes_anywhere(wine_mixed):
    model = VAEImputer(random_state=0, **SMALL).partial_fit(wine_mixed)
    holed = wine_mixed.copy()
    holed.loc[holed.index[::5], "proline"] = np.nan
    model.partial_fit(holed)
    filled = model.transform(holed)
    assert not filled["proline"].isna().any()
    assert model.indicator_features_.size == 0  # fixed by the first chunk


def test_warm_start_continues_from_the_fitted_network(wine_mixed):
    model = VAETransformer(random_state=0, max_epochs=5, **SMALL).fit(wine_mixed)
    first_curve = list(model.loss_curve_)
    weights = {k: v.clone() for k, v in model.module_.state_dict().items()}
    model.set_params(warm_start=True).fit(wine_mixed)
    assert model.n_iter_ == 10
    assert model.loss_curve_[:5] == first_curve
    # picks up near where it stopped, not where a fresh start begins
    drop = first_curve[0] - first_curve[-1]
    assert drop > 0
    assert model.loss_curve_[5] < first_curve[-1] + 0.25 * drop
    assert model.n_samples_seen_ == 2 * len(wine_mixed)
    changed = [
        not torch.equal(v, weights[k]) for k, v in model.module_.state_dict().items()
    ]
    assert any(changed)
    cold = VAETransformer(random_state=0, max_epochs=5, **SMALL).fit(wine_mixed)
    assert cold.n_iter_ == 5
    np.testing.assert_array_equal(cold.loss_curve_, first_curve)


def test_fit_after_partial_fit_starts_anew(wine_mixed):
    model = VAEAnomalyDetector(random_state=0, max_epochs=3, **SMALL)
    model.partial_fit(wine_mixed).partial_fit(wine_mixed)
    model.fit(wine_mixed)
    fresh = VAEAnomalyDetector(random_state=0, max_epochs=3, **SMALL).fit(wine_mixed)
    np.testing.assert_array_equal(
        model.score_samples(wine_mixed), fresh.score_samples(wine_mixed)
    )


def test_partial_fit_reports_each_call_when_verbose(wine_mixed, capsys):
    model = VAETransformer(random_state=0, verbose=1, **SMALL)
    model.partial_fit(wine_mixed).partial_fit(wine_mixed)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "partial_fit call 1",
        "partial_fit call 2",
    ]
    assert lines[1].endswith(f"over {len(wine_mixed)} rows")


def _fitted_pair(monkeypatch, data, estimator_class=VAEAnomalyDetector, **params):
    """The same fit twice: indicator steps deferred (the default) and run in
    fit (no bytes allowed for deferring). On the CPU: fit defers them only
    there."""
    params = dict(max_epochs=5, random_state=0, device="cpu", **params)
    deferred = estimator_class(**params).fit(data)
    monkeypatch.setattr(skvae._base, "_DEFERRED_INDICATOR_BYTES", 0)
    eager = estimator_class(**params).fit(data)
    monkeypatch.undo()
    assert deferred._pending_indicators is not None
    assert eager._pending_indicators is None
    return deferred, eager


def test_deferred_indicator_steps_run_only_when_needed_and_as_in_fit(
    monkeypatch, wine_spiky
):
    deferred, eager = _fitted_pair(monkeypatch, wine_spiky)
    # complete rows do not need them, and score the same without them
    np.testing.assert_array_equal(
        deferred.score_samples(wine_spiky), eager.score_samples(wine_spiky)
    )
    assert deferred._pending_indicators is not None
    # a pickle carries them; a hole in a column that had none runs them
    loaded = pickle.loads(pickle.dumps(deferred))
    holed = wine_spiky.copy()
    holed.iloc[::4, 0] = np.nan  # "alcohol" had no hole in fit
    np.testing.assert_array_equal(
        loaded.score_samples(holed), eager.score_samples(holed)
    )
    assert loaded._pending_indicators is None
    # explain's masking runs them too
    np.testing.assert_array_equal(
        np.asarray(deferred.explain(wine_spiky.iloc[:20])),
        np.asarray(eager.explain(wine_spiky.iloc[:20])),
    )
    assert deferred._pending_indicators is None


def test_training_more_runs_the_deferred_indicator_steps_first(monkeypatch, wine_mixed):
    deferred, eager = _fitted_pair(monkeypatch, wine_mixed)
    deferred.partial_fit(wine_mixed)
    eager.partial_fit(wine_mixed)
    for a, b in zip(
        deferred.module_.parameters(), eager.module_.parameters(), strict=True
    ):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


NUMBERS = ["alcohol", "malic_acid", "color_intensity", "proline", "magnesium"]


def test_the_imputer_fills_as_if_its_indicator_steps_ran_in_fit(
    monkeypatch, wine_mixed
):
    holed = wine_mixed.copy()
    holed.loc[holed.index[::5], NUMBERS] = np.nan
    deferred, eager = _fitted_pair(monkeypatch, holed, VAEImputer, n_estimators=1)
    test = wine_mixed.copy()
    test.loc[test.index[::3], "hue_level"] = np.nan  # a column without holes in fit
    pd.testing.assert_frame_equal(deferred.transform(test), eager.transform(test))
    assert deferred._pending_indicators is None


def test_the_imputer_runs_the_indicator_steps_its_residual_moments_need(
    monkeypatch, wine_mixed
):
    # Its residual moments hide observed numbers from the encoder in every
    # numeric column, those without holes in fit too, so fit runs the steps
    # that teach it what a hole there means, as it would without deferring.
    holed = wine_mixed.copy()
    holed.iloc[::5, 1] = np.nan
    params = dict(max_epochs=5, random_state=0, device="cpu", n_estimators=1)
    imputer = VAEImputer(**params).fit(holed)
    assert imputer._pending_indicators is None
    monkeypatch.setattr(skvae._base, "_DEFERRED_INDICATOR_BYTES", 0)
    eager = VAEImputer(**params).fit(holed)
    test = wine_mixed.copy()
    test.iloc[::3, 0] = np.nan
    pd.testing.assert_frame_equal(imputer.transform(test), eager.transform(test))
