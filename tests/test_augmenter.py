import numpy as np
import pandas as pd
import pytest

from skvae import VAEAugmenter

FAST = dict(max_epochs=60, batch_size=64, hidden_layer_sizes=(32,))


@pytest.fixture(scope="module")
def unconditional(wine_mixed):
    return VAEAugmenter(random_state=0, **FAST).fit(wine_mixed)


@pytest.fixture(scope="module")
def conditional(wine_mixed):
    X = wine_mixed.drop(columns="cultivar")
    return VAEAugmenter(random_state=0, **FAST).fit(X, wine_mixed["cultivar"])


def test_sample_keeps_columns_dtypes_and_categories(unconditional, wine_mixed):
    rows = unconditional.sample(300, random_state=0)
    assert isinstance(rows, pd.DataFrame)
    assert list(rows.columns) == list(wine_mixed.columns)
    assert (rows.dtypes == wine_mixed.dtypes).all()
    assert rows["magnesium"].dtype == np.int64
    assert rows["strong"].dtype == bool
    assert set(rows["hue_level"]) <= set(wine_mixed["hue_level"])
    assert list(rows["cultivar"].cat.categories) == ["class_0", "class_1", "class_2"]
    for name in ["alcohol", "proline", "magnesium"]:
        assert rows[name].between(wine_mixed[name].min(), wine_mixed[name].max()).all()
    # not a copy of the training rows, and all categories show up
    assert rows["cultivar"].nunique() == 3
    assert not rows.merge(wine_mixed, how="inner").shape[0]


def test_samples_follow_the_data(unconditional, wine_mixed):
    rows = unconditional.sample(2000, random_state=0)
    real = wine_mixed["alcohol"]
    assert abs(rows["alcohol"].mean() - real.mean()) < 0.5 * real.std()
    # alcohol and the boolean "strong" stay related
    assert rows.groupby("strong")["alcohol"].mean().diff().iloc[-1] > 0


def test_seeded_sampling_repeats(unconditional):
    first = unconditional.sample(20, random_state=3)
    pd.testing.assert_frame_equal(first, unconditional.sample(20, random_state=3))
    assert not first.equals(unconditional.sample(20, random_state=4))


def test_unconditional_fit_returns_rows_only_and_rejects_y(unconditional):
    assert isinstance(unconditional.sample(2, random_state=0), pd.DataFrame)
    assert unconditional.classes_ is None
    with pytest.raises(ValueError, match="fitted without classes"):
        unconditional.sample(2, y="class_0")


def test_per_class_sampling_gives_the_asked_classes(conditional, wine_mixed):
    X_new, y_new = conditional.sample(30, y="class_2", random_state=0)
    assert (y_new == "class_2").all() and len(X_new) == 30
    labels = np.array(["class_0", "class_1"] * 5)
    _, y_new = conditional.sample(10, y=labels, random_state=0)
    np.testing.assert_array_equal(y_new, labels)
    _, y_free = conditional.sample(2000, random_state=0)
    share = pd.Series(y_free).value_counts(normalize=True)
    expected = wine_mixed["cultivar"].value_counts(normalize=True)
    assert (share - expected).abs().max() < 0.05


def test_conditioning_changes_the_rows(conditional, wine_mixed):
    high, _ = conditional.sample(500, y="class_0", random_state=0)
    low, _ = conditional.sample(500, y="class_2", random_state=0)
    real = wine_mixed.groupby("cultivar", observed=True)["proline"].mean()
    # class_0 wines hold far more proline than class_2 ones
    assert real["class_0"] > real["class_2"] + 300
    assert high["proline"].mean() > low["proline"].mean() + 150


def test_fit_resample_balances_classes(wine_mixed):
    X = wine_mixed.drop(columns=["cultivar", "hue_level"])
    y = wine_mixed["cultivar"].astype(str)
    augmenter = VAEAugmenter(random_state=0, max_epochs=5)
    X_res, y_res = augmenter.fit_resample(X, y)
    assert y_res.value_counts().to_dict() == {
        "class_0": 71,
        "class_1": 71,
        "class_2": 71,
    }
    assert len(X_res) == len(y_res) == 213
    pd.testing.assert_frame_equal(X_res.iloc[:178], X.reset_index(drop=True))
    _, y_dict = augmenter.fit_resample(X, y, sampling_strategy={"class_2": 60})
    assert y_dict.value_counts()["class_2"] == 60
    _, y_rest = augmenter.fit_resample(X, y, sampling_strategy="not minority")
    assert y_rest.value_counts().to_dict() == {
        "class_0": 71,
        "class_1": 71,
        "class_2": 48,
    }
    by_labels = VAEAugmenter(
        sampling_strategy=lambda labels: {"class_2": 2 * (labels == "class_2").sum()},
        random_state=0,
        max_epochs=5,
    )
    assert by_labels.fit_resample(X, y)[1].value_counts()["class_2"] == 96


def test_labels_come_back_in_the_container_fit_was_given(conditional):
    _, y_new = conditional.sample(5, y="class_1", random_state=0)
    assert isinstance(y_new, pd.Series) and y_new.name == "cultivar"
    assert y_new.dtype == "category" and (y_new == "class_1").all()


def test_fit_resample_keeps_arrays_dtypes_lists_and_one_hot_targets(cancer):
    X, y = cancer
    X, y = X[:150].astype(np.float32), y[:150].astype(np.int32)
    augmenter = VAEAugmenter(random_state=0, max_epochs=3)
    X_res, y_res = augmenter.fit_resample(X, y)
    assert X_res.dtype == np.float32 and y_res.dtype == np.int32
    counts = np.bincount(y)
    assert augmenter.sampling_strategy_ == {
        int(counts.argmin()): int(counts.max() - counts.min())
    }
    np.testing.assert_array_equal(X_res[:150], X)
    X_list, y_list = augmenter.fit_resample(X.tolist(), y.tolist())
    assert isinstance(X_list, list) and isinstance(y_list, list)
    np.testing.assert_allclose(X_list, X_res)
    one_hot = np.eye(2, dtype=int)[y]
    X_ova, y_ova = augmenter.fit_resample(X, one_hot)
    np.testing.assert_allclose(X_ova, X_res)
    assert y_ova.shape == (len(y_res), 2)
    np.testing.assert_array_equal(y_ova.argmax(axis=1), y_res)
    _, y_column = augmenter.fit_resample(X, y.reshape(-1, 1))
    np.testing.assert_array_equal(y_column, y_res.reshape(-1, 1))


def test_fit_resample_checks_its_strategy_and_the_classes(cancer):
    X, y = cancer
    augmenter = VAEAugmenter(random_state=0, max_epochs=3)
    with pytest.raises(ValueError, match="sampling_strategy.*minortiy"):
        augmenter.fit_resample(X[:100], y[:100], sampling_strategy="minortiy")
    with pytest.raises(ValueError, match="more than 1 class"):
        augmenter.fit_resample(X[:100], np.zeros(100))
    with pytest.raises(ValueError, match="several labels per row"):
        augmenter.fit_resample(X[:100], np.ones((100, 2)))


def test_works_in_an_imbalanced_learn_pipeline(cancer):
    imblearn = pytest.importorskip("imblearn")
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import balanced_accuracy_score
    from sklearn.preprocessing import StandardScaler

    X, y = cancer
    keep = np.concatenate([np.flatnonzero(y == 1), np.flatnonzero(y == 0)[:40]])
    X, y = X[keep], y[keep]
    pipe = imblearn.pipeline.make_pipeline(
        VAEAugmenter(random_state=0, **FAST),
        StandardScaler(),
        LogisticRegression(max_iter=500),
    )
    pipe.fit(X, y)
    resampled = pipe.steps[0][1].class_counts_
    np.testing.assert_array_equal(resampled, [40, 357])  # what fit_resample saw
    assert balanced_accuracy_score(y, pipe.predict(X)) > 0.9


def test_bad_input(conditional, wine_mixed):
    with pytest.raises(ValueError, match=r"Unknown class\(es\) \['class_9'\]"):
        conditional.sample(3, y="class_9")
    with pytest.raises(ValueError, match="y holds 2 labels for n_samples=3"):
        conditional.sample(3, y=["class_0", "class_1"])
    with pytest.raises(ValueError, match="n_samples must be a positive integer"):
        conditional.sample(0)
    with pytest.raises(ValueError, match="Unknown label type"):
        VAEAugmenter(max_epochs=1).fit(wine_mixed, np.linspace(0, 1, len(wine_mixed)))


def test_score_samples_given_and_without_classes(conditional, wine_mixed):
    X = wine_mixed.drop(columns="cultivar")
    y = wine_mixed["cultivar"]
    given = conditional.score_samples(X, y)
    summed_out = conditional.score_samples(X)
    # log sum_c p(c) p(x|c) >= log p(y) + log p(x|y) for the row's own class
    prior = y.map(y.value_counts(normalize=True)).to_numpy(dtype=float)
    assert (summed_out >= given + np.log(prior) - 1e-6).all()
    # rows are likelier under their own class than under a wrong one
    wrong = y.map({"class_0": "class_2", "class_1": "class_0", "class_2": "class_0"})
    assert np.mean(given > conditional.score_samples(X, wrong)) > 0.8
    assert conditional.score(X, y) == pytest.approx(given.mean())
    with pytest.raises(ValueError, match="Unknown class"):
        conditional.score_samples(X.iloc[:2], ["class_0", "class_9"])


def test_unconditional_score_samples_rejects_classes(unconditional, wine_mixed):
    assert unconditional.score_samples(wine_mixed).shape == (len(wine_mixed),)
    with pytest.raises(ValueError, match="fitted without classes"):
        unconditional.score_samples(wine_mixed, y=np.zeros(len(wine_mixed)))


def test_samples_have_holes_at_the_training_rate_and_together(wine_mixed):
    holes = wine_mixed.astype({"hue_level": object})
    rng = np.random.RandomState(0)
    gone = rng.rand(len(holes)) < 0.25
    # alcohol and hue_level go missing together; proline on its own.
    holes.loc[gone, ["alcohol", "hue_level"]] = np.nan
    holes.loc[rng.rand(len(holes)) < 0.1, "proline"] = np.nan
    # The default step budget: the flags' rates need more than FAST's 120 steps.
    augmenter = VAEAugmenter(random_state=0).fit(holes)
    rows = augmenter.sample(2000, random_state=0)
    rates, expected = rows.isna().mean(), holes.isna().mean()
    assert (abs(rates - expected) < 0.03).all(), (rates, expected)
    both = rows["alcohol"].isna() & rows["hue_level"].isna()
    # independent holes would give about 0.25 here
    assert both.sum() > 0.5 * rows["alcohol"].isna().sum()
    assert rows.drop(columns=["alcohol", "hue_level", "proline"]).notna().all().all()


def test_fit_resample_takes_rows_with_holes(wine_mixed):
    holes = wine_mixed.copy()
    holes.loc[::7, "alcohol"] = np.nan
    X, y = holes.drop(columns="cultivar"), holes["cultivar"]
    resampled, labels = VAEAugmenter(random_state=0, **FAST).fit_resample(X, y)
    assert labels.value_counts().nunique() == 1
    pd.testing.assert_frame_equal(resampled.iloc[: len(X)], X)


def test_partial_fit_learns_classes_from_the_first_call_or_classes(wine_mixed):
    X = wine_mixed.drop(columns=["cultivar", "hue_level"])
    y = wine_mixed["cultivar"].astype(str)
    first, rest = X.index[:60], X.index[60:]  # the first rows are all class_0
    augmenter = VAEAugmenter(random_state=0, max_epochs=3, batch_size=32)
    augmenter.partial_fit(X.loc[first], y.loc[first], classes=np.unique(y))
    np.testing.assert_array_equal(augmenter.class_counts_, [59, 1, 0])
    augmenter.partial_fit(X.loc[rest], y.loc[rest])
    np.testing.assert_array_equal(augmenter.class_counts_, [59, 71, 48])
    rows, labels = augmenter.sample(30, y=["class_2"] * 30, random_state=0)
    assert rows.shape == (30, X.shape[1]) and set(labels) == {"class_2"}

    with pytest.raises(ValueError, match="class 'class_9'"):
        augmenter.partial_fit(X.loc[rest[:5]], ["class_9"] * 5)
    with pytest.raises(ValueError, match="in every call or in none"):
        augmenter.partial_fit(X.loc[rest])
    only_first = VAEAugmenter(random_state=0, batch_size=32)
    only_first.partial_fit(X.loc[first], y.loc[first])
    with pytest.raises(ValueError, match="pass classes="):
        only_first.partial_fit(X.loc[rest], y.loc[rest])


def test_point_masses_are_sampled_exactly_at_their_rate(wine_spiky):
    augmenter = VAEAugmenter(point_mass_share=0.2, random_state=0, **FAST)
    rows = augmenter.fit(wine_spiky).sample(2000, random_state=0)
    assert (rows["malic_acid"] == 0).mean() == pytest.approx(0.6, abs=0.1)
    assert (rows["magnesium"] == 100).mean() == pytest.approx(0.25, abs=0.1)
    continuous = rows["malic_acid"][rows["malic_acid"] != 0]
    assert continuous.min() >= wine_spiky["malic_acid"].min()
    # Whole numbers in a float column are drawn as whole numbers.
    assert rows["proline"].dtype == np.float64
    assert (rows["proline"] == np.rint(rows["proline"])).all()
    assert rows["proline"].nunique() > 50


def test_a_column_of_two_humps_is_drawn_with_both_and_little_between():
    rng = np.random.RandomState(0)
    n = 600
    hump = rng.rand(n) < 0.5
    frame = pd.DataFrame(
        {
            "x": np.where(hump, rng.normal(20, 1, n), rng.normal(60, 2, n)),
            "other": rng.normal(size=n),
        }
    )
    augmenter = VAEAugmenter(random_state=0, **FAST).fit(frame)
    assert len(augmenter._encoder.columns_[0].modes) >= 2
    x = augmenter.sample(2000, random_state=0)["x"]
    assert ((x - 20).abs() < 4).mean() == pytest.approx(0.5, abs=0.1)
    assert ((x - 60).abs() < 8).mean() == pytest.approx(0.5, abs=0.1)
    # No training value lies between the humps; with one Gaussian per column
    # 27% of the draws fell there.
    assert x.between(30, 45).mean() < 0.02
