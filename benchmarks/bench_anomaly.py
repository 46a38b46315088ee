"""ADBench-protocol benchmark of VAEAnomalyDetector against its peers.

Protocol (../shared/DESIGN.md): per dataset and seed, stratified subsample to at most
50,000 rows, stratified 70/30 train/test split, fit on the train split without
labels, ROC-AUC and average precision on the test split. Peers run in the same
process on the same splits.

Usage::

    python benchmarks/bench_anomaly.py --out benchmarks/results/anomaly.csv
    python benchmarks/bench_anomaly.py --methods skvae --seeds 0   # quick check
    python benchmarks/bench_anomaly.py --methods skvae --model-seed-offset 100
    python benchmarks/bench_anomaly.py --missing 0.1 \
        --methods skvae iforest iforest_imputed   # 10% of cells missing

``--missing`` removes that share of the cells of both splits completely at
random; ``iforest_imputed`` is IsolationForest after ``SimpleImputer`` (mean).
``--score-training-rows`` ranks the rows each method was fitted on instead
(the way ``fit(X)`` then ``score_samples(X)`` is used, as in ``skvae demo``).
``--model-seed-offset`` reseeds skvae's network alone (``random_state`` is the
split's seed plus the offset), to see how much a fit's own randomness moves a
mean.

Peers need the benchmark extra (``pip install -e .[benchmarks]``).
"""

import argparse
import ast
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import train_test_split

from skvae import VAEAnomalyDetector

DEFAULT_DATA = (
    Path(__file__).resolve().parents[1].parent / "shared" / "data" / "adbench"
)
MAX_ROWS = 50_000


def make_split(X, y, seed):
    """The protocol's subsample and split for one dataset and seed."""
    if len(y) > MAX_ROWS:
        X, _, y, _ = train_test_split(
            X, y, train_size=MAX_ROWS, stratify=y, random_state=seed
        )
    return train_test_split(X, y, test_size=0.3, stratify=y, random_state=seed)


def remove_cells(X, fraction, seed):
    """``X`` with ``fraction`` of its cells set to NaN, completely at random."""
    if not fraction:
        return X
    holes = np.random.RandomState(seed).rand(*X.shape) < fraction
    return np.where(holes, np.nan, X)


def add_skvae_arguments(parser):
    """``--param`` (skvae parameters) and ``--model-seed-offset``."""
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        help="skvae parameter as name=python_literal",
    )
    parser.add_argument(
        "--model-seed-offset",
        type=int,
        default=0,
        help="skvae's random_state is the split's seed plus this (splits unchanged)",
    )


def skvae_params(items):
    """``name=value`` strings as a dict; a value that is not a Python literal
    stays a string."""
    params = {}
    for item in items:
        key, value = item.split("=", 1)
        try:
            params[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            params[key] = value
    return params


def dataset_files(data, names=None):
    """The suite's ``.npz`` files in ``data``, smallest first; only ``names``
    if given."""
    files = sorted(data.glob("*.npz"), key=lambda p: p.stat().st_size)
    return [f for f in files if not names or f.stem in names]


def skvae_estimator(estimator_class, seed, **params):
    """``estimator_class`` with ``params``; a name with a leading underscore
    sets that private attribute instead (a measured internal choice, e.g.
    ``--param _max_modes=5``)."""
    private = {k: params.pop(k) for k in list(params) if k.startswith("_")}
    estimator = estimator_class(random_state=seed, **params)
    for name, value in private.items():
        setattr(estimator, name, value)
    return estimator


def skvae_detector(seed, **params):
    return skvae_estimator(VAEAnomalyDetector, seed, **params)


def peer(name, seed):
    if name == "iforest":
        from sklearn.ensemble import IsolationForest

        return IsolationForest(random_state=seed)
    if name == "ecod":
        from pyod.models.ecod import ECOD

        return ECOD()
    if name == "pyod_pca":
        from pyod.models.pca import PCA

        return PCA(random_state=seed)
    if name == "pyod_vae":
        from pyod.models.vae import VAE

        return VAE(random_state=seed, verbose=0)
    if name == "pyod_ae":
        from pyod.models.auto_encoder import AutoEncoder

        return AutoEncoder(random_state=seed, verbose=0)
    if name == "knn":
        from pyod.models.knn import KNN

        return KNN()
    if name == "mcd":
        from pyod.models.mcd import MCD

        return MCD(random_state=seed)
    if name == "iforest_imputed":
        from sklearn.ensemble import IsolationForest
        from sklearn.impute import SimpleImputer
        from sklearn.pipeline import make_pipeline

        return make_pipeline(SimpleImputer(), IsolationForest(random_state=seed))
    if name == "lof":
        from sklearn.neighbors import LocalOutlierFactor

        return LocalOutlierFactor(novelty=True)
    raise ValueError(name)


def anomaly_scores(model, X):
    """Higher = more anomalous, for sklearn-style and PyOD-style detectors."""
    if hasattr(model, "score_samples") and not hasattr(model, "decision_scores_"):
        return -model.score_samples(X)
    return model.decision_function(X)


def run_one(method, X_train, X_test, y_test, seed, params, model_seed_offset=0):
    if method == "skvae":
        model = skvae_detector(seed + model_seed_offset, **params)
    else:
        model = peer(method, seed)
    return evaluate(model, X_train, X_test, y_test)


def evaluate(model, X_train, X_test, y_test):
    """Fit ``model`` on ``X_train`` and rank ``X_test`` against ``y_test``:
    ROC-AUC, average precision, seconds and a status."""
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(X_train)
    except (ValueError, np.linalg.LinAlgError) as exc:
        # MCD cannot fit tables with more columns than rows (or a singular
        # covariance): the protocol reports it as failed there.
        return dict(
            roc_auc=np.nan,
            avg_precision=np.nan,
            fit_s=time.perf_counter() - start,
            score_s=np.nan,
            status=f"failed: {type(exc).__name__}",
        )
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    scores = anomaly_scores(model, X_test)
    score_s = time.perf_counter() - start
    return dict(**ranked(y_test, scores), fit_s=fit_s, score_s=score_s)


def ranked(y_test, scores):
    """ROC-AUC, average precision and a status of anomaly ``scores`` (higher =
    more anomalous); NaN where any score is not finite."""
    if not np.all(np.isfinite(scores)):
        return dict(roc_auc=np.nan, avg_precision=np.nan, status="non-finite scores")
    return dict(
        roc_auc=roc_auc_score(y_test, scores),
        avg_precision=average_precision_score(y_test, scores),
        status="ok",
    )


def record(rows, out, dataset, X_train, X_test, seed, method, result):
    """Append one run's row to ``rows``, print it, and rewrite ``out`` (if
    any) so that an interrupted benchmark keeps what it measured."""
    rows.append(
        dict(
            dataset=dataset,
            n_train=len(X_train),
            n_test=len(X_test),
            d=X_train.shape[1],
            seed=seed,
            method=method,
            **result,
        )
    )
    print(
        f"{dataset:22s} seed {seed} {method:9s} "
        f"AUC {result['roc_auc']:.3f} AP {result['avg_precision']:.3f} "
        f"fit {result['fit_s']:.1f}s {result['status']}",
        flush=True,
    )
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        pd.DataFrame(rows).to_csv(out, index=False)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--datasets", nargs="*", default=None)
    parser.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2])
    parser.add_argument(
        "--methods",
        nargs="*",
        default=[
            "skvae",
            "iforest",
            "ecod",
            "pyod_pca",
            "pyod_vae",
            "pyod_ae",
            "knn",
            "mcd",
            "lof",
        ],
    )
    add_skvae_arguments(parser)
    parser.add_argument(
        "--missing",
        type=float,
        default=0.0,
        help="share of cells removed at random from both splits (seeded by seed)",
    )
    parser.add_argument(
        "--score-training-rows",
        action="store_true",
        help="rank the training split (the rows each method was fitted on) "
        "instead of the test split",
    )
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    params = skvae_params(args.param)
    files = dataset_files(args.data, args.datasets)
    rows = []
    for path in files:
        with np.load(path) as archive:
            X, y = archive["X"].astype(np.float64), archive["y"].astype(int).ravel()
        for seed in args.seeds:
            X_train, X_test, y_train, y_test = make_split(X, y, seed)
            X_train = remove_cells(X_train, args.missing, 1000 + seed)
            X_test = remove_cells(X_test, args.missing, 2000 + seed)
            if args.score_training_rows:
                X_test, y_test = X_train, y_train
            for method in args.methods:
                result = run_one(
                    method,
                    X_train,
                    X_test,
                    y_test,
                    seed,
                    params,
                    args.model_seed_offset,
                )
                record(rows, args.out, path.stem, X_train, X_test, seed, method, result)
    frame = pd.DataFrame(rows)
    summary = frame.groupby("method")[["roc_auc", "avg_precision", "fit_s"]].agg(
        {"roc_auc": "mean", "avg_precision": "mean", "fit_s": "sum"}
    )
    print(summary.sort_values("roc_auc", ascending=False).to_string())


if __name__ == "__main__":
    main()
