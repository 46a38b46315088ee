"""A detector lever's runs against the default's, half by half, with the rule's answer.

The detector issue's rule: a change becomes a default only if, over seeds
0-2, it raises mean ROC-AUC and does not lower mean AP on each half of the
dev suite. A lever often changes only some tables (a size rule, a table
without holes); its runs then cover those tables alone, and each half's
mean takes the default's rows for the others, as RESULTS.md's sections do.

Each ``--pair`` is one comparison at one network seed: the default's CSV
and the lever's CSV of one half (``bench_anomaly.py`` output; the skvae
rows are read). Pairs of the same half at several ``--model-seed-offset``
values are pooled (the mean of their changes). A half's name is taken from
the default's file name (its last ``_A`` or ``_B``) unless ``--half`` says.
Where the default too was rerun on the changed tables only (at another
offset), ``--half-size 11`` spreads the changes over the whole half, the
tables not run counting as unchanged.
Where the default's CSV holds several offsets (a ``model_seed_offset``
column, as ``exploration/detector_model_seeds_default_{A,B}.csv``),
``--offset`` (one per ``--pair``) says which rows to read.

Usage::

    python benchmarks/compare_detector_runs.py \\
        --pair benchmarks/results/anomaly_run8_A.csv lever_A.csv \\
        --pair benchmarks/results/anomaly_run8_B.csv lever_B.csv
"""

import argparse
import re
from pathlib import Path

import pandas as pd

METRICS = ["roc_auc", "avg_precision"]


def per_table(path, method, offset=None):
    """Mean ROC-AUC and AP over seeds per dataset of ``method`` in one CSV;
    of its rows at network-seed ``offset`` where the CSV holds several
    (a ``model_seed_offset`` column)."""
    frame = pd.read_csv(path)
    frame = frame[frame.method == method]
    if "model_seed_offset" in frame:
        offsets = sorted(int(o) for o in frame.model_seed_offset.unique())
        if offset is None and len(offsets) > 1:
            raise SystemExit(f"{path} holds offsets {offsets}: pass --offset")
        if offset is not None:
            frame = frame[frame.model_seed_offset == offset]
            if frame.empty:
                raise SystemExit(f"{path} has no rows at offset {offset}")
    elif offset not in (None, 0):
        raise SystemExit(f"{path} has no model_seed_offset column")
    return frame.groupby("dataset")[METRICS].mean()


def half_of(path):
    match = re.search(r"_([AB])(?:\.csv)?$", Path(path).name)
    if not match:
        raise SystemExit(f"cannot tell the half of {path}; pass --half")
    return match.group(1)


def compare(default, lever):
    """Per-table changes (lever - default) over the default's tables; a
    table the lever did not run keeps the default's values (change 0)."""
    missing = set(lever.index) - set(default.index)
    if missing:
        raise SystemExit(f"tables in the lever's run but not the default's: {missing}")
    joined = default.join(lever, rsuffix="_lever")
    for metric in METRICS:
        joined[f"{metric}_lever"] = joined[f"{metric}_lever"].fillna(joined[metric])
        joined[f"d_{metric}"] = joined[f"{metric}_lever"] - joined[metric]
    joined["ran"] = joined.index.isin(lever.index)
    return joined


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--pair",
        nargs=2,
        action="append",
        required=True,
        metavar=("DEFAULT_CSV", "LEVER_CSV"),
    )
    parser.add_argument("--half", nargs="*", default=None, help="one per --pair")
    parser.add_argument(
        "--offset",
        nargs="*",
        type=int,
        default=None,
        help="one per --pair: the network-seed offset of the default's rows to "
        "read, where its CSV holds several",
    )
    parser.add_argument("--method", default="skvae")
    parser.add_argument(
        "--half-size",
        type=int,
        default=None,
        help="tables in a half (default: those in the default's CSV)",
    )
    args = parser.parse_args()
    halves = args.half or [half_of(default) for default, _ in args.pair]
    if len(halves) != len(args.pair):
        parser.error("give one --half per --pair")
    offsets = args.offset or [None] * len(args.pair)
    if len(offsets) != len(args.pair):
        parser.error("give one --offset per --pair")
    changes = {}
    for (default, lever), half, offset in zip(args.pair, halves, offsets, strict=True):
        table = compare(
            per_table(default, args.method, offset), per_table(lever, args.method)
        )
        changes.setdefault(half, []).append(table)
    verdict = True
    for half, tables in sorted(changes.items()):
        pooled = pd.concat(tables).groupby(level=0).mean()
        moved = pooled[pooled.ran > 0]
        print(f"\nHalf {half}: {len(tables)} comparison(s), means over them")
        print(
            moved[
                ["roc_auc", "roc_auc_lever", "d_roc_auc"]
                + ["avg_precision", "avg_precision_lever", "d_avg_precision"]
            ]
            .round(4)
            .to_string()
        )
        size = args.half_size or len(pooled)
        d_roc = pooled.d_roc_auc.sum() / size
        d_ap = pooled.d_avg_precision.sum() / size
        passes = d_roc > 0 and d_ap >= 0
        verdict &= passes
        means = ""
        if size == len(pooled):
            means = (
                f"ROC-AUC {pooled.roc_auc.mean():.4f} -> "
                f"{pooled.roc_auc_lever.mean():.4f}, AP "
                f"{pooled.avg_precision.mean():.4f} -> "
                f"{pooled.avg_precision_lever.mean():.4f}; "
            )
        print(
            f"Half {half} over {size} tables: {means}change of the mean: ROC-AUC "
            f"{d_roc:+.4f}, AP {d_ap:+.4f}: {'passes' if passes else 'fails'}"
        )
    answer = "PASS" if verdict else "FAIL"
    print(f"\nRule (ROC-AUC up, AP not down, on each half): {answer}")


if __name__ == "__main__":
    main()
