import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline

from skvae import VAETransformer

FAST = dict(max_epochs=40, batch_size=64, hidden_layer_sizes=(32,))


@pytest.fixture(scope="module")
def fitted_wine(wine_mixed):
    params = {**FAST, "max_epochs": 150}
    return VAETransformer(n_components=3, random_state=0, **params).fit(wine_mixed)


def test_shapes_names_and_dtypes(fitted_wine, wine_mixed, cancer):
    Z = fitted_wine.transform(wine_mixed)
    assert Z.shape == (178, 3) and Z.dtype == np.float64
    assert list(fitted_wine.get_feature_names_out()) == [
        "vaetransformer0",
        "vaetransformer1",
        "vaetransformer2",
    ]
    X32 = cancer[0][:50].astype(np.float32)
    vae32 = VAETransformer(max_epochs=2, random_state=0).fit(X32)
    assert vae32.transform(X32).dtype == np.float32


def test_inverse_transform_restores_the_table(fitted_wine, wine_mixed):
    back = fitted_wine.inverse_transform(fitted_wine.transform(wine_mixed))
    assert list(back.columns) == list(wine_mixed.columns)
    assert (back.dtypes == wine_mixed.dtypes).all()
    assert list(back["cultivar"].cat.categories) == list(
        wine_mixed["cultivar"].cat.categories
    )
    # the three cultivars are easy to tell apart from the other columns
    assert (back["cultivar"] == wine_mixed["cultivar"]).mean() > 0.8


def test_round_trip_is_close_on_easy_data(seed):
    rng = np.random.RandomState(seed)
    latent = rng.normal(size=(500, 2))
    X = latent @ rng.normal(size=(2, 6)) + 0.05 * rng.normal(size=(500, 6))
    vae = VAETransformer(
        n_components=2, random_state=seed, max_epochs=200, batch_size=64
    ).fit(X)
    back = vae.inverse_transform(vae.transform(X))
    residual = np.mean((back - X) ** 2) / np.var(X)
    assert residual < 0.05


def test_pandas_output(fitted_wine, wine_mixed):
    vae = clone(fitted_wine).set_output(transform="pandas").fit(wine_mixed)
    Z = vae.transform(wine_mixed)
    assert isinstance(Z, pd.DataFrame)
    assert list(Z.columns) == ["vaetransformer0", "vaetransformer1", "vaetransformer2"]
    pd.testing.assert_index_equal(Z.index, wine_mixed.index)
    # decoded rows keep the codes' index: the rows they came from
    some = Z.iloc[[5, 1, 40]]
    pd.testing.assert_index_equal(vae.inverse_transform(some).index, some.index)


def test_in_pipeline_column_transformer_and_grid_search():
    digits = load_digits()
    X, y = digits.data[:300], digits.target[:300]
    pipe = make_pipeline(
        VAETransformer(n_components=8, random_state=0, **FAST),
        LogisticRegression(max_iter=500),
    )
    accuracy = cross_val_score(pipe, X, y, cv=3).mean()
    assert accuracy > 0.6  # ten classes: chance is 0.1

    frame = pd.DataFrame(X[:, :10], columns=[f"p{i}" for i in range(10)])
    frame["label"] = np.where(y % 2 == 0, "even", "odd")
    columns = ColumnTransformer(
        [("vae", VAETransformer(random_state=0, **FAST), [f"p{i}" for i in range(10)])],
        remainder="drop",
    )
    assert columns.fit_transform(frame).shape == (300, 2)

    search = GridSearchCV(
        VAETransformer(random_state=0, **FAST), {"n_components": [1, 4]}, cv=2, n_jobs=2
    ).fit(X)
    # 64 pixel columns hold more than one latent dimension's worth of structure:
    # the held-out likelihood, which the search maximises, says so.
    assert search.best_params_["n_components"] == 4
    one, four = search.cv_results_["mean_test_score"]
    assert np.isfinite([one, four]).all() and four > one


def test_score_prefers_the_model_of_the_data(cancer):
    X = cancer[0]
    vae = VAETransformer(n_components=4, random_state=0, **FAST).fit(X[:400])
    shuffled = np.random.default_rng(0).permuted(X[400:], axis=0)  # no correlations
    assert vae.score(X[400:]) > vae.score(shuffled)


def test_transform_is_deterministic_and_sampling_is_seeded(fitted_wine, wine_mixed):
    np.testing.assert_array_equal(
        fitted_wine.transform(wine_mixed), fitted_wine.transform(wine_mixed)
    )
    sampler = clone(fitted_wine).set_params(sample_latent=True).fit(wine_mixed)
    first, second = sampler.transform(wine_mixed), sampler.transform(wine_mixed)
    np.testing.assert_array_equal(first, second)
    means = clone(sampler).set_params(sample_latent=False).fit(wine_mixed)
    assert not np.allclose(first, means.transform(wine_mixed))
    # a row's draw does not depend on the rows beside it
    np.testing.assert_allclose(
        sampler.transform(wine_mixed.iloc[[5]]), first[[5]], rtol=1e-5, atol=1e-6
    )
    np.testing.assert_allclose(
        sampler.transform(wine_mixed.iloc[::-1]), first[::-1], rtol=1e-5, atol=1e-6
    )


def test_bad_input(fitted_wine, wine_mixed):
    with pytest.raises(ValueError, match=r"latent codes of shape \(n_samples, 3\)"):
        fitted_wine.inverse_transform(np.zeros((4, 2)))
    with pytest.raises(ValueError, match="NaN or infinity"):
        fitted_wine.inverse_transform(np.full((1, 3), np.nan))
    with pytest.raises(ValueError, match="'alcohol' contains infinity"):
        fitted_wine.transform(wine_mixed.assign(alcohol=np.inf))


def test_rows_with_holes_transform_and_come_back_complete(fitted_wine, wine_mixed):
    holes = wine_mixed.astype({"hue_level": object})
    holes.loc[[0, 1], "alcohol"] = np.nan
    holes.loc[2, "hue_level"] = None
    holes.loc[3, "hue_level"] = "violet"  # an unseen level is a missing cell
    Z = fitted_wine.transform(holes)
    assert np.isfinite(Z).all()
    np.testing.assert_allclose(Z[4:], fitted_wine.transform(wine_mixed)[4:])
    back = fitted_wine.inverse_transform(Z)
    assert not back.isna().any().any()
    assert set(back["hue_level"]) <= {"low", "mid", "high"}


def test_a_level_found_in_one_fold_only_does_not_fail_cross_validation(wine_mixed):
    X = wine_mixed.drop(columns="cultivar").astype({"hue_level": object})
    X.loc[[0, 1], "hue_level"] = "violet"  # both rows fall in the first fold
    pipeline = make_pipeline(
        VAETransformer(n_components=2, random_state=0, **FAST),
        LogisticRegression(max_iter=500),
    )
    scores = cross_val_score(pipeline, X, wine_mixed["cultivar"], cv=3)
    assert np.isfinite(scores).all() and scores.mean() > 0.5
