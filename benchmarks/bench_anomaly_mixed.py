"""VAEAnomalyDetector against its peers on mixed numeric/categorical tables.

The ADBench dev suite is all numbers; this asks what skvae's native handling of
categorical columns is worth against the route a user of the peers takes:
one-hot encoded categories and standardised numbers (a ``ColumnTransformer``
in front of each peer). Tables: ``../shared/data/tabular/`` (adult,
german_credit), never used to choose a detector default. The minority class
is the anomaly class, kept at ``--anomaly-share`` of the rows (a seeded sample
of its rows, as ADBench builds anomaly tables from classification data); then
the protocol of ``bench_anomaly.py``: at most 50,000 rows, stratified 70/30
split, fit on the training split without labels, ROC-AUC and average
precision on the test split, all methods on the same splits. ``--param`` and
``--model-seed-offset`` are ``bench_anomaly.py``'s. ``skvae_onehot`` (not
run by default) is the detector behind the peers' one-hot encoding, its
numbers as they are: what native categories are worth to skvae itself.

``--tables rclass`` takes the third pool of R's tables instead
(``rdatasets_tables.class_pool``, 31 tables no default was chosen on): the
rarest level of a categorical column is the anomaly class
(``rdatasets_tables.rarest_level``), kept at ``--anomaly-share`` of the rows
where it holds more, all of its rows where it holds fewer.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_anomaly_mixed.py \\
        --out benchmarks/results/anomaly_mixed.csv
    OMP_NUM_THREADS=1 python benchmarks/bench_anomaly_mixed.py --tables rclass \\
        --out benchmarks/results/anomaly_rclass.csv
"""

import argparse
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import rdatasets_tables
from bench_anomaly import (
    add_skvae_arguments,
    evaluate,
    make_split,
    peer,
    record,
    skvae_detector,
    skvae_params,
)
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

TABULAR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "tabular"
# file, label column, the label's minority value
TABLES = {
    "adult": ("adult.csv", "income", ">50K"),
    "german_credit": ("german_credit.csv", "default", 2),
}
PEERS = ("iforest", "ecod", "knn", "mcd", "lof", "pyod_vae")


def load_table(name, data=TABULAR):
    """``(X, y)``: the table without its label, and 1 for the minority class
    (an R table's rarest level)."""
    if name.startswith("rdata_"):
        frame = rdatasets_tables.load(name)
        label, minority = rdatasets_tables.rarest_level(frame)
    else:
        file, label, minority = TABLES[name]
        frame = pd.read_csv(data / file, skipinitialspace=True)
    y = (frame.pop(label) == minority).to_numpy(int)
    return frame, y


def with_anomaly_share(X, y, share, seed):
    """All majority rows and a seeded sample of the minority's, ``share`` of
    the result (all of the minority's where they are fewer)."""
    rng = np.random.RandomState(seed)
    majority, minority = np.flatnonzero(y == 0), np.flatnonzero(y == 1)
    n_anomalies = min(len(minority), int(round(share / (1 - share) * len(majority))))
    kept = np.sort(
        np.concatenate([majority, rng.choice(minority, n_anomalies, replace=False)])
    )
    return X.iloc[kept].reset_index(drop=True), y[kept]


def one_hot_peer(name, seed, X, model=None):
    """``name``'s peer behind the usual preprocessing: numbers standardised,
    other columns one-hot encoded (levels unseen in fit ignored). ``model``,
    where given, takes the peer's place and gets the numbers as they are
    (skvae scales its own)."""
    numeric = X.select_dtypes("number").columns.tolist()
    other = [c for c in X.columns if c not in numeric]
    numbers = StandardScaler() if model is None else "passthrough"
    prepare = ColumnTransformer(
        [
            ("numbers", numbers, numeric),
            (
                "levels",
                OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                other,
            ),
        ]
    )
    return make_pipeline(prepare, peer(name, seed) if model is None else model)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=TABULAR)
    parser.add_argument("--tables", nargs="*", default=list(TABLES))
    parser.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2])
    parser.add_argument("--methods", nargs="*", default=["skvae", *PEERS])
    parser.add_argument("--anomaly-share", type=float, default=0.05)
    add_skvae_arguments(parser)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    params = skvae_params(args.param)
    warnings.simplefilter("ignore")
    rows = []
    # Only the third pool's tables have a class column.
    for name in rdatasets_tables.expand(args.tables, pools=("rclass",)):
        X_all, y_all = load_table(name, args.data)
        for seed in args.seeds:
            X, y = with_anomaly_share(X_all, y_all, args.anomaly_share, seed)
            X_train, X_test, _, y_test = make_split(X, y, seed)
            for method in args.methods:
                if method == "skvae":
                    model = skvae_detector(seed + args.model_seed_offset, **params)
                elif method == "skvae_onehot":
                    detector = skvae_detector(seed + args.model_seed_offset, **params)
                    model = one_hot_peer(method, seed, X_train, detector)
                else:
                    model = one_hot_peer(method, seed, X_train)
                result = evaluate(model, X_train, X_test, y_test)
                record(rows, args.out, name, X_train, X_test, seed, method, result)
    frame = pd.DataFrame(rows)
    summary = frame.groupby(["dataset", "method"])[
        ["roc_auc", "avg_precision", "fit_s"]
    ].mean()
    print(summary.round(4).to_string())


if __name__ == "__main__":
    main()
