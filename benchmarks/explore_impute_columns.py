"""Where two imputers differ, column by column.

For one table of ``bench_impute.py`` (same holes, 20% MCAR), fills it with
two of its methods (``skvae`` and ``iterative`` by default) for each seed
and reports, per numeric column: its number of distinct values, how well a
linear regression on all the other columns explains it on the complete
table (R^2: near 1 when the column is a linear function of the others, as a
one-hot dummy is of its group or a share is of the others summing to a
whole), each method's RMSE on its removed cells (in standard deviations,
pooled over the seeds), and each method's largest error on a single cell.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/explore_impute_columns.py \\
        --table 5_campaign --out campaign_columns.csv
"""

import argparse
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from bench_impute import impute, load, remove
from sklearn.linear_model import LinearRegression


def linear_r2(frame):
    """R^2 of each numeric column regressed on all the other numeric columns."""
    X = frame.to_numpy(dtype=float)
    out = {}
    for j, name in enumerate(frame.columns):
        others = np.delete(X, j, axis=1)
        out[name] = LinearRegression().fit(others, X[:, j]).score(others, X[:, j])
    return pd.Series(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--table", required=True)
    parser.add_argument("--methods", nargs=2, default=["skvae", "iterative"])
    parser.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2])
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    frame, _ = load(args.table)
    categorical = [c for c in frame.columns if frame[c].dtype == object]
    numeric = [c for c in frame.columns if c not in categorical]
    sd = frame[numeric].std(ddof=0).replace(0.0, 1.0)
    errors = {m: {c: [] for c in numeric} for m in args.methods}
    for seed in args.seeds:
        holed, holes = remove(frame, "mcar", seed)
        for method in args.methods:
            filled = impute(method, holed, categorical, seed)
            for c in numeric:
                gone = holes[:, frame.columns.get_loc(c)]
                guess = filled[c].to_numpy(dtype=float)[gone]
                truth = frame[c].to_numpy(dtype=float)[gone]
                errors[method][c].append((guess - truth) / sd[c])
    table = pd.DataFrame(
        {"distinct": frame[numeric].nunique(), "linear_r2": linear_r2(frame[numeric])}
    )
    for method in args.methods:
        cells = {c: np.concatenate(errors[method][c]) for c in numeric}
        table[f"rmse_{method}"] = [np.sqrt(np.mean(cells[c] ** 2)) for c in numeric]
        table[f"worst_{method}"] = [np.abs(cells[c]).max() for c in numeric]
    first, second = args.methods
    table["gap"] = table[f"rmse_{first}"] - table[f"rmse_{second}"]
    table = table.sort_values("gap")
    print(table.round(3).to_string())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    table.rename_axis("column").to_csv(args.out)


if __name__ == "__main__":
    main()
