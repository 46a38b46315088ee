"""VAEAugmenter against TVAE and CTGAN on real mixed-type tables.

Usage (needs the benchmark extra: ``pip install -e .[benchmarks]``)::

    python benchmarks/bench_augment.py --out benchmarks/results/augment.csv
    python benchmarks/bench_augment.py --tables german_credit --methods skvae tvae
    python benchmarks/bench_augment.py --methods skvae skvae:point_mass_share=0.1

Per table: stratified 70/30 split on the label (seed 0); each generator learns the
training split (label included) and draws as many rows as it has. Reported:
SDMetrics quality (overall, column shapes, column pair trends) and diagnostic
scores; train-on-synthetic / test-on-real with HistGradientBoosting (accuracy,
macro-F1, ROC-AUC) next to train-on-real; the augmentation gain (10% of the real
training rows plus as many synthetic rows vs the 10% alone); the share of synthetic
rows that are not copies of a training row; the median distance from a synthetic row
to its closest training row next to the same for real test rows; fit and sample
seconds. TVAE runs with ``torch.set_flush_denormal(True)``, its faster setting.
"""

import argparse
import ast
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from bench_anomaly import skvae_estimator
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skvae import VAEAugmenter

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "tabular"
TABLES = {"german_credit": "default", "adult": "income"}


def load(name):
    frame = pd.read_csv(SHARED / f"{name}.csv", skipinitialspace=True)
    for column in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame[column]):
            frame[column] = frame[column].astype(object)
    label = TABLES[name]
    frame[label] = frame[label].astype(str)
    return frame, label


def categorical_columns(frame):
    return [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]


def skvae_params(method):
    """``skvae[:scaling][:name=value ...]`` as VAEAugmenter's keyword arguments,
    e.g. ``skvae:standard:point_mass_share=0.1``. A name with a leading
    underscore sets that private attribute on the augmenter instead (a
    measured internal choice, e.g. ``skvae:standard:_max_modes=1``)."""
    params = {}
    for part in method.split(":")[1:]:
        if "=" in part:
            name, value = part.split("=", 1)
            params[name] = ast.literal_eval(value)
        else:
            params["scaling"] = part
    return params


def fit_and_sample(method, train, label, seed):
    """Return (synthetic table, fit seconds, sample seconds)."""
    n = len(train)
    if method.startswith("skvae"):
        model = skvae_estimator(VAEAugmenter, seed, **skvae_params(method))
        X, y = train.drop(columns=label), train[label]
        start = time.perf_counter()
        model.fit(X, y)
        fit_s = time.perf_counter() - start
        start = time.perf_counter()
        X_new, y_new = model.sample(n, random_state=seed)
        sample_s = time.perf_counter() - start
        synthetic = X_new.assign(**{label: y_new})[train.columns]
        return synthetic, fit_s, sample_s
    from ctgan import CTGAN, TVAE

    torch.manual_seed(seed)
    np.random.seed(seed)  # noqa: NPY002 (ctgan draws from the global RNG)
    discrete = categorical_columns(train)
    model = TVAE() if method == "tvae" else CTGAN()
    torch.set_flush_denormal(method == "tvae")
    start = time.perf_counter()
    model.fit(train, discrete_columns=discrete)
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    synthetic = model.sample(n)
    sample_s = time.perf_counter() - start
    torch.set_flush_denormal(False)
    return synthetic[train.columns], fit_s, sample_s


def sdmetrics_scores(real, synthetic):
    from sdmetrics.reports.single_table import DiagnosticReport, QualityReport

    metadata = {
        "columns": {
            c: {
                "sdtype": "numerical"
                if pd.api.types.is_numeric_dtype(real[c])
                else "categorical"
            }
            for c in real.columns
        }
    }
    quality = QualityReport()
    quality.generate(real, synthetic, metadata, verbose=False)
    properties = quality.get_properties().set_index("Property")["Score"]
    diagnostic = DiagnosticReport()
    diagnostic.generate(real, synthetic, metadata, verbose=False)
    return dict(
        quality=quality.get_score(),
        column_shapes=properties["Column Shapes"],
        pair_trends=properties["Column Pair Trends"],
        diagnostic=diagnostic.get_score(),
    )


def _as_model_input(frame, label, categories):
    X = frame.drop(columns=label).copy()
    for column, levels in categories.items():
        X[column] = pd.Categorical(X[column], categories=levels)
    return X


def classifier_scores(train, test, label, positive, categories, seed):
    model = HistGradientBoostingClassifier(
        categorical_features="from_dtype", random_state=seed
    )
    model.fit(_as_model_input(train, label, categories), train[label] == positive)
    X_test, y_test = _as_model_input(test, label, categories), test[label] == positive
    proba = model.predict_proba(X_test)[:, 1]
    predicted = proba >= 0.5
    return dict(
        accuracy=accuracy_score(y_test, predicted),
        macro_f1=f1_score(y_test, predicted, average="macro"),
        roc_auc=roc_auc_score(y_test, proba),
    )


def privacy_scores(train, test, synthetic):
    numeric = [c for c in train.columns if pd.api.types.is_numeric_dtype(train[c])]
    categorical = categorical_columns(train)
    scaler = StandardScaler().fit(train[numeric])
    onehot = OneHotEncoder(handle_unknown="ignore", sparse_output=False).fit(
        train[categorical].astype(str)
    )

    def embed(frame):
        return np.hstack(
            [
                scaler.transform(frame[numeric]),
                onehot.transform(frame[categorical].astype(str)),
            ]
        )

    neighbours = NearestNeighbors(n_neighbors=1).fit(embed(train))
    synthetic_distance = neighbours.kneighbors(embed(synthetic))[0][:, 0]
    test_distance = neighbours.kneighbors(embed(test))[0][:, 0]
    return dict(
        new_rows=float(np.mean(synthetic_distance > 1e-9)),
        dcr_synthetic_median=float(np.median(synthetic_distance)),
        dcr_test_median=float(np.median(test_distance)),
    )


def augmentation_gain(method, train, test, label, positive, categories, seed):
    small, _ = train_test_split(
        train, train_size=0.1, stratify=train[label], random_state=seed
    )
    alone = classifier_scores(small, test, label, positive, categories, seed)["roc_auc"]
    synthetic, _, _ = fit_and_sample(method, small, label, seed)
    both = pd.concat([small, synthetic], ignore_index=True)
    with_synthetic = classifier_scores(both, test, label, positive, categories, seed)
    return with_synthetic["roc_auc"] - alone


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tables", nargs="*", default=list(TABLES))
    parser.add_argument(
        "--methods",
        nargs="*",
        default=["skvae:standard", "skvae:quantile", "tvae", "ctgan"],
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    rows = []
    for table in args.tables:
        frame, label = load(table)
        positive = frame[label].value_counts().idxmin()
        categories = {
            c: sorted(frame[c].astype(str).unique())
            for c in categorical_columns(frame)
            if c != label
        }
        train, test = train_test_split(
            frame, test_size=0.3, stratify=frame[label], random_state=args.seed
        )
        real = classifier_scores(train, test, label, positive, categories, args.seed)
        rows.append(
            dict(
                table=table,
                method="train-on-real",
                **{f"tstr_{k}": v for k, v in real.items()},
            )
        )
        print(f"{table}: train-on-real {real}", flush=True)
        for method in args.methods:
            synthetic, fit_s, sample_s = fit_and_sample(method, train, label, args.seed)
            for column in categories:
                synthetic[column] = synthetic[column].astype(str)
            row = dict(table=table, method=method, fit_s=fit_s, sample_s=sample_s)
            row.update(sdmetrics_scores(train, synthetic))
            tstr = classifier_scores(
                synthetic, test, label, positive, categories, args.seed
            )
            row.update({f"tstr_{k}": v for k, v in tstr.items()})
            row.update(privacy_scores(train, test, synthetic))
            row["augmentation_gain_roc_auc"] = augmentation_gain(
                method, train, test, label, positive, categories, args.seed
            )
            rows.append(row)
            print(
                f"{table}: {method}: "
                + ", ".join(
                    f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}"
                    for k, v in row.items()
                    if k not in ("table", "method")
                ),
                flush=True,
            )
            if args.out:
                args.out.parent.mkdir(parents=True, exist_ok=True)
                pd.DataFrame(rows).to_csv(args.out, index=False)
    print(pd.DataFrame(rows).round(3).to_string())


if __name__ == "__main__":
    main()
