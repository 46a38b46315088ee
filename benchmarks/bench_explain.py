"""How well ``VAEAnomalyDetector.explain`` finds the cell that makes a row unusual.

Protocol (the missing-cells issue): per table and seed, a stratified 70/30 split;
the detector is fitted on the training split at its defaults. In up to 200
held-out normal rows one cell is planted: a numeric cell moved 4-6 training
standard deviations (up or down at random), or a categorical cell swapped to
the rarest training level it does not already hold. A method hits when the
planted column is its top-1 explaining column. Methods, in the same run on the
same rows:

- ``masking``: ``explain`` as shipped (column j scored given the others, with j
  hidden from the encoder as a missing cell);
- ``masking_untrained_indicators``: the same without the short phase after the
  fit that teaches the network what a hidden cell means (its indicator weights
  stay 0, so hiding a cell shows it as the scaled value 0);
- ``masking_hide_trained``: the same, from a detector that hid one cell from the
  encoder in half of its training rows (a lever measured, not a default);
- ``mean_substitution``: the method ``explain`` used before (j replaced by its
  encoded training mean, then the row re-encoded);
- ``tail_probability``: no model: a numeric cell's two-sided Gaussian tail
  probability of its robust z-score (median and IQR of the training column), a
  categorical cell's training frequency; the column with the smallest wins.

Also reported: the median over unplanted held-out normal rows of their largest
absolute contribution, which the docs promise is "about 0 for typical values".

Usage::

    python benchmarks/bench_explain.py --out benchmarks/results/explain.csv
"""

import argparse
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from scipy.stats import norm
from sklearn.model_selection import train_test_split

from skvae import VAEAnomalyDetector

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
ADBENCH = [
    "4_breastw",
    "18_Ionosphere",
    "12_fault",
    "7_Cardiotocography",
    "41_Waveform",
    "30_satellite",
    "2_annthyroid",
    "23_mammography",
]
ROWS = 200


class HideTrainedDetector(VAEAnomalyDetector):
    _hide_rate = 0.5


class UntrainedIndicatorsDetector(VAEAnomalyDetector):
    _indicator_steps = 0


def load(name):
    """``(X, y)``: a DataFrame for adult (5,000 rows, income dropped), else arrays."""
    if name == "adult":
        frame = pd.read_csv(DATA / "tabular" / "adult.csv", skipinitialspace=True)
        frame = frame.sample(5000, random_state=0).reset_index(drop=True)
        y = np.zeros(len(frame), dtype=int)  # no labels: every row counts as normal
        return frame.drop(columns="income"), y
    with np.load(DATA / "adbench" / f"{name}.npz") as archive:
        X = archive["X"].astype(np.float64)
        return pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])]), archive[
            "y"
        ].astype(int).ravel()


def plant(X_train, rows, rng):
    """Rows with one cell each moved; returns ``(planted, column names, kinds)``."""
    planted = rows.copy()
    columns, kinds = [], []
    candidates = [c for c in X_train.columns if X_train[c].nunique() > 1]
    for i in range(len(planted)):
        column = candidates[rng.randint(len(candidates))]
        train = X_train[column]
        if pd.api.types.is_numeric_dtype(train):
            shift = rng.choice([-1.0, 1.0]) * rng.uniform(4.0, 6.0) * train.std()
            value = planted.iloc[i][column] + shift
            if pd.api.types.is_integer_dtype(train):
                value = round(value)
            planted.iat[i, planted.columns.get_loc(column)] = value
            kinds.append("numeric")
        else:
            counts = train.value_counts()
            current = planted.iloc[i][column]
            rare = [level for level in counts.index[::-1] if level != current][0]
            planted.iat[i, planted.columns.get_loc(column)] = rare
            kinds.append("categorical")
        columns.append(column)
    return planted, columns, kinds


def tail_probability(X_train, rows):
    """Per-cell log tail probability (lower = more unusual), no model."""
    out = np.zeros(rows.shape)
    for j, column in enumerate(rows.columns):
        train = X_train[column]
        if pd.api.types.is_numeric_dtype(train):
            q75, q25 = np.percentile(train, [75, 25])
            scale = (q75 - q25) / 1.349 or train.std() or 1.0
            z = np.abs(rows[column].to_numpy(dtype=float) - train.median()) / scale
            out[:, j] = norm.logsf(z) + np.log(2.0)
        else:
            share = train.value_counts(normalize=True)
            out[:, j] = np.log(rows[column].map(share).fillna(0).to_numpy() + 1e-12)
    return out


def mean_substitution(detector, X_train, rows):
    """The former explain(): j replaced by its encoded training mean."""
    module = detector._module64
    data = detector._encoder.transform(X_train)
    baseline = torch.as_tensor(data.mean(axis=0), dtype=torch.float64)

    def per_variable(encoded):
        x = torch.as_tensor(encoded, dtype=torch.float64)
        values = []
        with torch.inference_mode():
            for j, cols in enumerate(module.variable_slices()):
                replaced = x.clone()
                replaced[:, cols] = baseline[cols]
                output = module.decode(module.encode(replaced)[0])
                values.append(module.log_likelihood(x, output)[:, j])
        return torch.stack(values, dim=1).numpy()

    rng = np.random.RandomState(0)
    sample = data[rng.permutation(len(data))[:2000]]
    reference = np.median(per_variable(sample), axis=0)
    encoded = detector._encoder.transform(rows)
    return detector._encoder.per_column(per_variable(encoded) - reference)


def run(name, seed):
    X, y = load(name)
    X_train, X_test, _, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=seed
    )
    rng = np.random.RandomState(seed)
    normal = X_test[y_test == 0]
    n_rows = min(ROWS, len(normal) // 2)
    normal = normal.iloc[rng.permutation(len(normal))[: 2 * n_rows]]
    clean, targets = normal.iloc[:n_rows], normal.iloc[n_rows:]
    planted, columns, kinds = plant(X_train, targets, rng)
    names = list(X.columns)
    truth = np.array([names.index(c) for c in columns])
    results = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = {
            "masking": VAEAnomalyDetector(random_state=seed).fit(X_train),
            "masking_hide_trained": HideTrainedDetector(random_state=seed).fit(X_train),
            "masking_untrained_indicators": UntrainedIndicatorsDetector(
                random_state=seed
            ).fit(X_train),
        }
    contributions = {
        method: detector.explain(planted).to_numpy()
        for method, detector in fitted.items()
    }
    contributions["mean_substitution"] = mean_substitution(
        fitted["masking"], X_train, planted
    )
    contributions["tail_probability"] = tail_probability(X_train, planted)
    typical = {
        method: np.median(np.abs(detector.explain(clean).to_numpy()).max(axis=1))
        for method, detector in fitted.items()
    }
    typical["mean_substitution"] = np.median(
        np.abs(mean_substitution(fitted["masking"], X_train, clean)).max(axis=1)
    )
    for method, values in contributions.items():
        hits = values.argmin(axis=1) == truth
        for kind in ("numeric", "categorical"):
            chosen = np.array(kinds) == kind
            if chosen.any():
                results.append(
                    dict(
                        dataset=name,
                        seed=seed,
                        method=method,
                        plant=kind,
                        rows=int(chosen.sum()),
                        top1=float(hits[chosen].mean()),
                        typical_max_abs=typical.get(method, np.nan),
                    )
                )
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="*", default=[*ADBENCH, "adult"])
    parser.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2])
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    rows = []
    for name in args.datasets:
        for seed in args.seeds:
            rows.extend(run(name, seed))
            last = pd.DataFrame(rows[-10:])
            print(last.to_string(index=False), flush=True)
            if args.out:
                args.out.parent.mkdir(parents=True, exist_ok=True)
                pd.DataFrame(rows).to_csv(args.out, index=False)
    frame = pd.DataFrame(rows)
    print(
        frame.groupby(["plant", "method"])[["top1", "typical_max_abs"]]
        .mean()
        .round(3)
        .to_string()
    )


if __name__ == "__main__":
    main()
