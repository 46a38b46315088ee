"""skvae on a Dask cluster: a real LocalCluster of two worker processes.

Skipped where dask, distributed or dask-ml are not installed (``pip install
skvae[dask]``); CI installs them.
"""

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.model_selection import GridSearchCV

from skvae import VAEAnomalyDetector, VAETransformer
from skvae.datasets import load_demo

da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
wrappers = pytest.importorskip("dask_ml.wrappers")

SMALL = dict(hidden_layer_sizes=(16,), batch_size=64, random_state=0)


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


@pytest.fixture(scope="module")
def demo():
    X, y = load_demo(return_X_y=True)
    return X.to_numpy(), y


def test_workers_run_torch_on_their_share_of_the_cpus(client):
    # distributed starts workers with OMP_NUM_THREADS=1, which torch follows.
    assert set(client.run(torch.get_num_threads).values()) == {1}


def test_incremental_trains_block_by_block_as_partial_fit_does(client, demo):
    X, _ = demo
    blocks = da.from_array(X, chunks=(100, -1))
    incremental = wrappers.Incremental(
        VAEAnomalyDetector(**SMALL), shuffle_blocks=False
    )
    for _ in range(3):
        incremental.partial_fit(blocks)
    model = incremental.estimator_
    assert model.n_iter_ == 3 * blocks.numblocks[0]
    # the same calls in this process make the same model
    local = VAEAnomalyDetector(**SMALL)
    for _ in range(3):
        for start in range(0, len(X), 100):
            local.partial_fit(X[start : start + 100])
    np.testing.assert_allclose(
        model.score_samples(X), local.score_samples(X), rtol=1e-6
    )


def test_scoring_runs_per_partition_with_the_model_shipped_once(client, demo):
    X, y = demo
    model = VAEAnomalyDetector(max_epochs=20, **SMALL).fit(X)
    on_workers = client.scatter(model, broadcast=True)
    frame = dd.from_pandas(pd.DataFrame(X), npartitions=4)
    scores = frame.map_partitions(
        lambda part, m: pd.Series(m.score_samples(part.to_numpy()), index=part.index),
        on_workers,
        meta=(None, float),
    ).compute()
    np.testing.assert_allclose(scores.to_numpy(), model.score_samples(X), rtol=1e-9)
    labels = wrappers.ParallelPostFit(model).predict(da.from_array(X, chunks=100))
    np.testing.assert_array_equal(labels.compute(), model.predict(X))


def test_grid_search_on_the_cluster_matches_a_local_one(client, demo):
    X, _ = demo
    search = GridSearchCV(
        VAETransformer(max_epochs=3, **SMALL), {"n_components": [2, 4]}, cv=2
    )
    with joblib.parallel_backend("dask"):
        on_cluster = search.set_params(n_jobs=-1).fit(X).cv_results_
    local = search.set_params(n_jobs=1).fit(X).cv_results_
    np.testing.assert_allclose(
        on_cluster["mean_test_score"], local["mean_test_score"], rtol=1e-6
    )


def test_categorize_gives_the_first_block_every_level(client):
    # The first partial_fit fixes the levels: a level first met in a later
    # block stops the training unless the column's categories are known.
    rng = np.random.RandomState(0)
    kind = rng.choice(["x", "y", "z"], size=600).astype(object)
    kind[450::30] = "w"
    table = pd.DataFrame({"a": rng.normal(size=600), "kind": kind})
    frame = dd.from_pandas(table, npartitions=3)
    # blocks in order: the level is in the last one only
    plain = wrappers.Incremental(
        VAEAnomalyDetector(max_epochs=2, **SMALL), shuffle_blocks=False
    )
    with pytest.raises(ValueError, match="'w'.*not seen when the model's schema"):
        plain.partial_fit(frame)
    known = wrappers.Incremental(
        VAEAnomalyDetector(max_epochs=2, **SMALL), shuffle_blocks=False
    )
    known.partial_fit(frame.categorize(columns=["kind"]))
    assert known.estimator_._encoder.columns_[1].levels == ["w", "x", "y", "z"]
