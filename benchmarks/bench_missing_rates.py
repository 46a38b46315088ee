"""Do ``VAEAugmenter``'s samples have holes where the training rows have them?

Per table (adult, german_credit) and seed: every cell but the label's is removed
completely at random with probability 0.1; on top, in 15% of the rows two columns
go missing together (the first numeric and the first categorical column). The
augmenter learns the table at its defaults and draws as many rows as it has.
Reported per column: the training and the sampled missing rate, in points, and
for the pair the share of the rows missing either column that miss both
(``co_missing``, in training and in samples; independent holes at these rates
would give about 0.07).

Usage::

    python benchmarks/bench_missing_rates.py --out benchmarks/results/missing_rates.csv
"""

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from skvae import VAEAugmenter

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "tabular"
TABLES = {"german_credit": "default", "adult": "income"}


def holed(frame, label, seed):
    """``frame`` with 10% of its cells missing at random and a co-missing pair."""
    rng = np.random.RandomState(seed)
    frame = frame.astype({c: object for c in frame.select_dtypes("str").columns})
    features = [c for c in frame.columns if c != label]
    holes = rng.rand(len(frame), len(features)) < 0.1
    frame[features] = frame[features].mask(holes)
    numeric = frame[features].select_dtypes("number").columns[0]
    categorical = [c for c in features if frame[c].dtype == object][0]
    together = rng.rand(len(frame)) < 0.15
    frame.loc[together, [numeric, categorical]] = np.nan
    return frame, (numeric, categorical)


def co_missing(frame, pair):
    first, second = (frame[c].isna() for c in pair)
    either = first | second
    return float((first & second).sum() / max(1, either.sum()))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tables", nargs="*", default=list(TABLES))
    parser.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2])
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    rows = []
    for table in args.tables:
        label = TABLES[table]
        frame = pd.read_csv(SHARED / f"{table}.csv", skipinitialspace=True)
        for seed in args.seeds:
            train, pair = holed(frame, label, seed)
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                augmenter = VAEAugmenter(random_state=seed).fit(train)
            fit_s = time.perf_counter() - start
            synthetic = augmenter.sample(len(train), random_state=seed)
            for column in train.columns:
                rows.append(
                    dict(
                        table=table,
                        seed=seed,
                        column=column,
                        train_rate=100 * train[column].isna().mean(),
                        sample_rate=100 * synthetic[column].isna().mean(),
                        pair=column in pair,
                        train_co_missing=co_missing(train, pair),
                        sample_co_missing=co_missing(synthetic, pair),
                        fit_s=fit_s,
                    )
                )
            frame_rows = pd.DataFrame(rows)
            last = frame_rows[(frame_rows.table == table) & (frame_rows.seed == seed)]
            gap = (last.sample_rate - last.train_rate).abs()
            print(
                f"{table} seed {seed}: largest gap {gap.max():.2f} points "
                f"(median {gap.median():.2f}); co-missing "
                f"{last.train_co_missing.iloc[0]:.2f} in training, "
                f"{last.sample_co_missing.iloc[0]:.2f} in samples; fit {fit_s:.1f}s",
                flush=True,
            )
            if args.out:
                args.out.parent.mkdir(parents=True, exist_ok=True)
                frame_rows.to_csv(args.out, index=False)


if __name__ == "__main__":
    main()
