"""A fixed marginal flow in front of the detector: Yeo-Johnson per column.

The decoder gives each numeric column a Gaussian whose scale is the same for
every row. A skewed or heavy-tailed column (most ADBench columns are: word
frequencies, hormone levels, distances) then looks unusual in its long tail
for every ordinary row that lies there. Here each column the detector models
with a density (numeric, not on a grid, at least three continuous values) is
first centred and scaled by its training median and IQR, then mapped by a
Yeo-Johnson transform whose power is the maximum-likelihood one under
normality (scikit-learn's ``PowerTransformer``, fitted on the column's
continuous training values, point masses left out). The default detector is
fitted on the transformed rows. Two scores from that one fit:

- ``yj``: its ``score_samples`` plus each transformed cell's log-Jacobian
  ``log T'(x)`` (not for cells at a point mass, which score a probability):
  the density of the row in its own units, a flow of one fixed layer;
- ``yj_nojac``: its ``score_samples`` alone, the density in the transformed
  units.

``skvae`` is the default refitted in the same run on the same splits and
network seeds, the reference the rule in RESULTS.md compares against
("A marginal flow in front of the detector").

Usage::

    OMP_NUM_THREADS=1 python benchmarks/explore_detector_marginal_flow.py \
        --datasets 14_glass --out flow.csv
"""

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from bench_anomaly import (
    DEFAULT_DATA,
    dataset_files,
    make_split,
    ranked,
    record,
    skvae_detector,
)
from sklearn.preprocessing import PowerTransformer


def density_columns(detector, X):
    """Indices of the columns ``detector`` models with a Gaussian density:
    numeric, off any grid, with at least three continuous training values
    (two-valued columns also have no grid step, and no power to fit)."""
    chosen = []
    for j, column in enumerate(detector._encoder.columns_):
        if column.kind != "numeric" or column.step != 0 or column.modes:
            continue
        continuous = X[:, j][~np.isin(X[:, j], column.point_masses)]
        if len(np.unique(continuous)) >= 3:
            chosen.append(j)
    return chosen


class MarginalPowerTransform:
    """Median/IQR scaling then Yeo-Johnson, per chosen column."""

    def __init__(self, columns, point_masses):
        self.columns = columns
        self.point_masses = point_masses

    def fit(self, X):
        self.centre_, self.spread_, self.lambdas_ = [], [], []
        for j, masses in zip(self.columns, self.point_masses, strict=True):
            values = X[:, j][~np.isin(X[:, j], masses)]
            centre = np.median(values)
            q1, q3 = np.percentile(values, [25, 75])
            spread = q3 - q1 if q3 > q1 else values.std()
            u = (values - centre) / spread
            power = PowerTransformer(method="yeo-johnson", standardize=False)
            power.fit(u.reshape(-1, 1))
            self.centre_.append(centre)
            self.spread_.append(spread)
            self.lambdas_.append(float(power.lambdas_[0]))
        return self

    def _scaled(self, X, k):
        return (X[:, self.columns[k]] - self.centre_[k]) / self.spread_[k]

    def transform(self, X):
        out = X.copy()
        for k, j in enumerate(self.columns):
            u = self._scaled(X, k)
            mapped = _yeo_johnson(u, self.lambdas_[k])
            at_mass = np.isin(X[:, j], self.point_masses[k])
            # A point mass keeps its own value: it stays one exact value.
            out[:, j] = np.where(at_mass, X[:, j], mapped)
        return out

    def log_jacobian(self, X):
        """Sum over the chosen columns of ``log d T / d x`` per row (cells at a
        point mass add nothing)."""
        total = np.zeros(len(X))
        for k, j in enumerate(self.columns):
            u = self._scaled(X, k)
            lam = self.lambdas_[k]
            slope = np.where(
                u >= 0, (lam - 1) * np.log1p(np.abs(u)), (1 - lam) * np.log1p(np.abs(u))
            ) - np.log(self.spread_[k])
            at_mass = np.isin(X[:, j], self.point_masses[k])
            total += np.where(at_mass, 0.0, slope)
        return total


def _yeo_johnson(u, lam):
    """The Yeo-Johnson transform of ``u`` with power ``lam``."""
    out = np.empty_like(u)
    pos = u >= 0
    if abs(lam) > 1e-8:
        out[pos] = (np.power(u[pos] + 1, lam) - 1) / lam
    else:
        out[pos] = np.log1p(u[pos])
    if abs(lam - 2) > 1e-8:
        out[~pos] = -(np.power(1 - u[~pos], 2 - lam) - 1) / (2 - lam)
    else:
        out[~pos] = -np.log1p(-u[~pos])
    return out


def run(X_train, X_test, y_test, seed, offset):
    """Rows for ``skvae``, ``yj`` and ``yj_nojac`` on one split."""
    results = {}
    start = time.perf_counter()
    default = skvae_detector(seed + offset).fit(X_train)
    fit_s = time.perf_counter() - start
    results["skvae"] = dict(
        **ranked(y_test, -default.score_samples(X_test)), fit_s=fit_s, score_s=0.0
    )
    columns = density_columns(default, X_train)
    masses = [default._encoder.columns_[j].point_masses for j in columns]
    start = time.perf_counter()
    flow = MarginalPowerTransform(columns, masses).fit(X_train)
    detector = skvae_detector(seed + offset).fit(flow.transform(X_train))
    fit_s = time.perf_counter() - start
    inner = detector.score_samples(flow.transform(X_test))
    jacobian = flow.log_jacobian(X_test)
    with_jacobian = ranked(y_test, -(inner + jacobian))
    results["yj"] = dict(**with_jacobian, fit_s=fit_s, score_s=0.0)
    results["yj_nojac"] = dict(**ranked(y_test, -inner), fit_s=fit_s, score_s=0.0)
    return results, len(columns), flow.lambdas_


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=DEFAULT_DATA)
    parser.add_argument("--datasets", nargs="*", default=None)
    parser.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2])
    parser.add_argument("--model-seed-offset", type=int, default=0)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    out = Path(args.out) if args.out else None
    rows = []
    for path in dataset_files(Path(args.data), args.datasets):
        with np.load(path) as archive:
            X, y = archive["X"].astype(np.float64), archive["y"].astype(int).ravel()
        for seed in args.seeds:
            X_train, X_test, _, y_test = make_split(X, y, seed)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                results, n_columns, lambdas = run(
                    X_train, X_test, y_test, seed, args.model_seed_offset
                )
            print(
                f"{path.stem}: {n_columns} density columns, powers "
                f"{np.round(lambdas, 2).tolist()[:8]}",
                flush=True,
            )
            for method, result in results.items():
                record(rows, out, path.stem, X_train, X_test, seed, method, result)
    frame = pd.DataFrame(rows)
    print(frame.groupby("method")[["roc_auc", "avg_precision"]].mean().to_string())


if __name__ == "__main__":
    main()
