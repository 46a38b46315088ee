"""Turn bench_anomaly.py CSV output into the Markdown tables of RESULTS.md.

Usage::

    python benchmarks/report_anomaly.py \\
        benchmarks/results/anomaly_A.csv benchmarks/results/anomaly_B.csv

Each CSV is one half of the dev suite (alternate datasets sorted by size); the
halves table compares skvae with each peer on the tables where that peer ran.
"""

import argparse
from pathlib import Path

import pandas as pd

NAMES = {
    "skvae": "skvae",
    "iforest": "IsolationForest",
    "ecod": "PyOD ECOD",
    "pyod_pca": "PyOD PCA",
    "pyod_vae": "PyOD VAE",
    "pyod_ae": "PyOD AutoEncoder",
    "knn": "PyOD KNN",
    "mcd": "PyOD MCD",
    "lof": "LOF",
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("csv", nargs="+", type=Path)
    args = parser.parse_args()
    frame = pd.concat(
        [pd.read_csv(p).assign(half=p.stem) for p in args.csv], ignore_index=True
    )
    methods = [m for m in NAMES if m in set(frame.method)]
    per_dataset = frame.groupby(["dataset", "method"])[
        ["roc_auc", "avg_precision", "fit_s", "score_s"]
    ].mean()
    auc = per_dataset["roc_auc"].unstack()[methods]
    ap = per_dataset["avg_precision"].unstack()[methods]
    fit = per_dataset["fit_s"].unstack()[methods]
    sizes = frame.groupby("dataset")[["n_train", "d"]].first()
    order = sizes.sort_values("n_train").index
    seeds = sorted(frame.seed.unique())

    print(
        f"Seeds {', '.join(map(str, seeds))}; {len(auc)} datasets; means over seeds.\n"
    )
    print(
        "| method | mean ROC-AUC | mean AP | mean rank (ROC-AUC) | median fit s |"
        " total fit s | total score s | non-finite runs |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    ranks = auc.rank(axis=1, ascending=False).mean()
    totals = frame.groupby("method")[["fit_s", "score_s"]].sum()
    failures = frame[frame.status != "ok"].groupby("method").size()
    for m in methods:
        print(
            f"| {NAMES[m]} | {auc[m].mean():.4f} | {ap[m].mean():.4f} | "
            f"{ranks[m]:.2f} | {fit[m].median():.2f} | {totals.loc[m, 'fit_s']:.0f} | "
            f"{totals.loc[m, 'score_s']:.1f} | {failures.get(m, 0)} |"
        )

    print_halves(frame, methods)

    print(
        "\nROC-AUC per dataset (mean over seeds; skvae's rank among the methods in"
        " brackets; Δ = skvae − IsolationForest):\n"
    )
    header = " | ".join(NAMES[m] for m in methods)
    print(f"| dataset | rows (train) | d | {header} | Δ vs IForest |")
    print("|---|---:|---:|" + "---:|" * len(methods) + "---:|")
    skvae_rank = auc.rank(axis=1, ascending=False)["skvae"]
    for name in order:
        cells = []
        for m in methods:
            cell = f"{auc.loc[name, m]:.3f}"
            if m == "skvae":
                cell += f" ({skvae_rank[name]:.0f})"
            cells.append(cell)
        delta = auc.loc[name, "skvae"] - auc.loc[name, "iforest"]
        print(
            f"| {name} | {sizes.loc[name, 'n_train']} | {sizes.loc[name, 'd']} | "
            f"{' | '.join(cells)} | {delta:+.3f} |"
        )

    print("\nAverage precision per dataset (mean over seeds):\n")
    print(f"| dataset | {header} |")
    print("|---|" + "---:|" * len(methods))
    for name in order:
        print(
            f"| {name} | "
            + " | ".join(f"{ap.loc[name, m]:.3f}" for m in methods)
            + " |"
        )

    print("\nFit seconds per dataset (mean over seeds):\n")
    print(f"| dataset | {header} | skvae / PyOD VAE |")
    print("|---|" + "---:|" * len(methods) + "---:|")
    for name in order:
        ratio = (
            fit.loc[name, "skvae"] / fit.loc[name, "pyod_vae"]
            if "pyod_vae" in methods
            else float("nan")
        )
        print(
            f"| {name} | "
            + " | ".join(f"{fit.loc[name, m]:.2f}" for m in methods)
            + f" | {ratio:.2f} |"
        )


def print_halves(frame, methods):
    """Means per half, paired: skvae over the same tables as each peer."""
    print(
        "\nPer half of the suite (paired: skvae's mean over the tables where the "
        "peer ran; Δ = skvae − peer):\n"
    )
    print(
        "| half | method | tables | ROC-AUC | skvae ROC-AUC | Δ | AP | skvae AP | Δ |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    per = frame.groupby(["half", "dataset", "method"])[
        ["roc_auc", "avg_precision"]
    ].mean()
    for half in sorted(frame.half.unique()):
        both = per.loc[half].unstack("method")
        for m in methods:
            if m == "skvae":
                continue
            ran = both["roc_auc"][m].notna()
            a, s = both["roc_auc"][ran], both["avg_precision"][ran]
            print(
                f"| {half} | {NAMES[m]} | {int(ran.sum())} | {a[m].mean():.4f} | "
                f"{a['skvae'].mean():.4f} | {a['skvae'].mean() - a[m].mean():+.4f} | "
                f"{s[m].mean():.4f} | {s['skvae'].mean():.4f} | "
                f"{s['skvae'].mean() - s[m].mean():+.4f} |"
            )


if __name__ == "__main__":
    main()
