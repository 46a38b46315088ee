"""VAETransformer against PCA and KernelPCA: reconstruction, downstream accuracy, time.

Usage::

    python benchmarks/bench_transform.py --out benchmarks/results/transform.csv

Reconstruction: each table is subsampled to at most 2,000 rows, split 70/30 (seed
0), and every method reconstructs the held-out rows through ``n_components``
dimensions; the error is the mean squared error in units of the training columns'
standard deviations. PCA and KernelPCA (RBF, ``fit_inverse_transform=True``) see
standardized columns; the VAE sees the raw table and scales it itself.
Downstream: 5-fold accuracy of ``Pipeline(transformer, LogisticRegression)``.
"""

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.datasets import load_breast_cancer, load_digits, load_wine
from sklearn.decomposition import PCA, KernelPCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skvae import VAETransformer

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
RECONSTRUCTION_SETS = [
    "18_Ionosphere",
    "20_letter",
    "12_fault",
    "7_Cardiotocography",
    "41_Waveform",
    "30_satellite",
    "35_SpamBase",
]
MAX_ROWS = 2000


def reconstruction_tables():
    digits = load_digits()
    yield "digits", digits.data
    for name in RECONSTRUCTION_SETS:
        path = SHARED / "adbench" / f"{name}.npz"
        if path.exists():
            with np.load(path) as archive:
                yield name, archive["X"].astype(np.float64)


def make(method, k, seed):
    if method == "pca":
        return make_pipeline(StandardScaler(), PCA(n_components=k, random_state=seed))
    if method == "kernel_pca":
        return make_pipeline(
            StandardScaler(),
            KernelPCA(
                n_components=k,
                kernel="rbf",
                fit_inverse_transform=True,
                random_state=seed,
            ),
        )
    return VAETransformer(n_components=k, random_state=seed)


def reconstruction(method, X, k, seed):
    rng = np.random.RandomState(seed)
    if len(X) > MAX_ROWS:
        X = X[rng.choice(len(X), MAX_ROWS, replace=False)]
    X_train, X_test = train_test_split(X, test_size=0.3, random_state=seed)
    model = make(method, k, seed)
    start = time.perf_counter()
    model.fit(X_train)
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    back = model.inverse_transform(model.transform(X_test))
    transform_s = time.perf_counter() - start
    std = X_train.std(axis=0)
    std[std == 0] = 1.0
    error = np.mean(((back - X_test) / std) ** 2)
    return error, fit_s, transform_s


def downstream_tables():
    digits = load_digits()
    yield "digits", digits.data, digits.target
    cancer = load_breast_cancer()
    yield "breast_cancer", cancer.data, cancer.target
    wine = load_wine()
    yield "wine", wine.data, wine.target
    path = SHARED / "tabular" / "german_credit.csv"
    if path.exists():
        frame = pd.read_csv(path, skipinitialspace=True)
        yield "german_credit", frame.drop(columns="default"), frame["default"]


def downstream(method, X, y, k, seed):
    if method == "skvae":
        first = VAETransformer(n_components=k, random_state=seed)
    else:
        encode = (
            ColumnTransformer(
                [
                    (
                        "num",
                        StandardScaler(),
                        make_column_selector(dtype_include=np.number),
                    ),
                    (
                        "cat",
                        OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                        make_column_selector(dtype_exclude=np.number),
                    ),
                ]
            )
            if isinstance(X, pd.DataFrame)
            else StandardScaler()
        )
        reducer = (
            PCA(n_components=k, random_state=seed)
            if method == "pca"
            else KernelPCA(n_components=k, kernel="rbf", random_state=seed)
        )
        first = make_pipeline(encode, reducer)
    pipe = make_pipeline(first, LogisticRegression(max_iter=2000))
    start = time.perf_counter()
    accuracy = cross_val_score(pipe, X, y, cv=5).mean()
    return accuracy, time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--components", nargs="*", type=int, default=[2, 4, 8])
    parser.add_argument("--methods", nargs="*", default=["skvae", "pca", "kernel_pca"])
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    rows = []
    for name, X in reconstruction_tables():
        for k in args.components:
            for method in args.methods:
                error, fit_s, transform_s = reconstruction(method, X, k, 0)
                rows.append(
                    dict(
                        task="reconstruction",
                        dataset=name,
                        k=k,
                        method=method,
                        value=error,
                        fit_s=fit_s,
                        transform_s=transform_s,
                    )
                )
                print(
                    f"recon {name:20s} k={k} {method:10s} mse {error:.3f} "
                    f"fit {fit_s:.1f}s",
                    flush=True,
                )
    for name, X, y in downstream_tables():
        for k in args.components:
            for method in args.methods:
                accuracy, seconds = downstream(method, X, y, k, 0)
                rows.append(
                    dict(
                        task="accuracy",
                        dataset=name,
                        k=k,
                        method=method,
                        value=accuracy,
                        fit_s=seconds,
                        transform_s=np.nan,
                    )
                )
                print(
                    f"acc   {name:20s} k={k} {method:10s} acc {accuracy:.3f} "
                    f"cv {seconds:.1f}s",
                    flush=True,
                )
    frame = pd.DataFrame(rows)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(args.out, index=False)
    for task in ["reconstruction", "accuracy"]:
        table = frame[frame.task == task].pivot_table(
            index=["dataset", "k"], columns="method", values="value"
        )
        print(f"\n{task}\n{table.round(3).to_string()}")


if __name__ == "__main__":
    main()
