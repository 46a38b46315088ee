"""Speed and scale of the skvae estimators against PyOD's VAE and AutoEncoder.

Measures, in one run and with the same thread settings:

- ``hardware``: the machine's float32 matrix-multiply rate (a 4096 x 4096
  ``torch.matmul``), the reference for the fractions below;
- ``synthetic``: training throughput (training rows x epochs per second) and
  scoring throughput (rows per second) of each skvae estimator and of PyOD's
  ``VAE`` and ``AutoEncoder`` (at their defaults and at skvae's architecture) on
  synthetic tables of 10^3..10^6 rows and 10, 30, 100 columns, with the share of
  the matmul rate that skvae's multiply-add work reaches;
- ``real``: the same on the largest dev-suite tables (``11_donors``, ``10_cover``,
  ``8_celeba``, all rows);
- ``memory``: peak resident memory above the input array of a fit and of a
  ``score_samples`` on a 10^6 x 30 table, each in a fresh process;
- ``suite``: the default ``VAEAnomalyDetector`` fit time on each dev-suite
  dataset (the anomaly benchmark's seed-0 split) and PyOD ``VAE``'s, as totals;
- ``wide``: wide tables (2,000 x 1,500 sparse 0/1, 2,000 x 500 numeric,
  30,000 x 100 categorical columns of 5-20 levels): the default detector's fit,
  score (all rows) and ``explain`` (1,000 rows) time, and PyOD ``VAE``'s default
  fit on the same table (one-hot encoded where it is categorical).

Training throughput is taken from two fits that differ only in their number of
epochs, ``(rows x extra epochs) / extra seconds``, so that fixed costs (encoding,
the training-set scoring at the end of a fit) do not count. PyOD models are timed
on at most ``--peer-rows`` rows: their per-row cost does not depend on the table's
length, and at their default batch size an epoch over 10^6 rows takes minutes.

``--device`` sets the skvae estimators' ``device`` in ``synthetic`` (default
``"auto"``: a GPU where torch sees one, as the estimators resolve it); where
that is a GPU, the ``hardware`` row also holds its matmul rate, and the
shares of it are of the GPU's.

Usage::

    python benchmarks/bench_speed.py --out benchmarks/results/speed.csv
    python benchmarks/bench_speed.py --sections hardware synthetic --rows 1000 10000
    python benchmarks/bench_speed.py --sections hardware synthetic --cols 30 \\
        --methods VAEAnomalyDetector --device cuda

Peers need the benchmark extra (``pip install -e .[benchmarks]``).
"""

import argparse
import json
import math
import os
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from skvae import VAEAnomalyDetector, VAEAugmenter, VAETransformer

DEFAULT_DATA = (
    Path(__file__).resolve().parents[1].parent / "shared" / "data" / "adbench"
)
REAL_TABLES = ["11_donors", "10_cover", "8_celeba"]
SKVAE = {
    "VAEAnomalyDetector": VAEAnomalyDetector,
    "VAETransformer": VAETransformer,
    "VAEAugmenter": VAEAugmenter,
}
PEERS = [
    "pyod_vae",
    "pyod_vae_matched",
    "pyod_vae_matched_b256",
    "pyod_ae",
    "pyod_ae_matched",
]
# Rows processed between the two timed fits, at least: enough for a stable time.
MIN_EXTRA_ROWS = 200_000
# Where the extra epochs take less than this, the difference between the two
# fits is noise (large batches on a GPU): the second fit is rerun with four
# times the extra epochs, up to MAX_EXTRA_ROWS rows.
MIN_EXTRA_SECONDS = 1.0
MAX_EXTRA_ROWS = 50_000_000


# -- hardware reference ---------------------------------------------------------


def matmul_gflops(size=4096, seconds=3.0, device="cpu"):
    """Sustained float32 GFLOP/s of a square torch.matmul on ``device``."""
    a = torch.randn(size, size, device=device)
    b = torch.randn(size, size, device=device)
    on_gpu = torch.device(device).type == "cuda"
    sync = torch.cuda.synchronize if on_gpu else lambda: None
    torch.matmul(a, b)
    sync()
    start, runs = time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        torch.matmul(a, b)
        runs += 1
    sync()
    return 2 * size**3 * runs / (time.perf_counter() - start) / 1e9


# -- work per row ---------------------------------------------------------------


def linear_macs(layers):
    return sum(layer.in_features * layer.out_features for layer in layers)


def flops_per_row(module, kind):
    """Multiply-add work per row of one estimator call, in FLOPs (2 per MAC).

    Training counts the forward pass, the weight gradients and the input
    gradients of every layer but the first (its input needs none): about 3x the
    forward. Scoring is one forward pass through the parts the call uses.
    """
    linear = torch.nn.Linear
    encoder = [m for m in module.encoder.modules() if isinstance(m, linear)]
    encoder.append(module.posterior)
    decoder = [m for m in module.decoder.modules() if isinstance(m, linear)]
    decoder.append(module.head)
    everything = encoder + decoder
    if kind == "train":
        first = everything[0].in_features * everything[0].out_features
        macs = 3 * linear_macs(everything) - first
    elif kind == "score":
        macs = linear_macs(everything)
    elif kind == "transform":
        macs = linear_macs(encoder)
    elif kind == "sample":
        macs = linear_macs(decoder)
    else:
        raise ValueError(kind)
    return 2 * macs


# -- data -----------------------------------------------------------------------


def synthetic_table(n_rows, n_cols, seed=0):
    """Rows near a 4-dimensional curved manifold plus noise, float64."""
    rng = np.random.default_rng(seed)
    latent = rng.standard_normal((n_rows, 4)).astype(np.float32)
    mixing = rng.standard_normal((4, n_cols)).astype(np.float32)
    X = np.tanh(latent @ mixing).astype(np.float64)
    X += 0.1 * rng.standard_normal((n_rows, n_cols))
    return X


def wide_table(name, seed=0):
    """The wide tables of the ``wide`` section, by name."""
    rng = np.random.default_rng(seed)
    if name == "sparse01_2000x1500":
        return (rng.random((2000, 1500)) < 0.05).astype(np.float64)
    if name == "numeric_2000x500":
        return synthetic_table(2000, 500, seed)
    if name == "categorical_30000x100":
        n_rows = 30_000
        return pd.DataFrame(
            {
                f"c{j}": pd.Categorical(rng.integers(0, rng.integers(5, 21), n_rows))
                for j in range(100)
            }
        )
    raise ValueError(name)


WIDE_TABLES = ["sparse01_2000x1500", "numeric_2000x500", "categorical_30000x100"]


def real_table(name, data_dir):
    with np.load(data_dir / f"{name}.npz") as archive:
        return archive["X"].astype(np.float64)


# -- timing ---------------------------------------------------------------------


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - start


def epochs_pair(n_rows):
    """Two epoch counts whose difference processes at least MIN_EXTRA_ROWS rows."""
    extra = max(2, math.ceil(MIN_EXTRA_ROWS / n_rows))
    return 1, 1 + extra


def skvae_estimator(name, epochs, device="auto"):
    """Defaults, except that training runs exactly ``epochs`` epochs on all rows
    (on ``device``)."""
    base, _, batch = name.partition(":batch_size=")
    params = dict(
        max_epochs=epochs, early_stopping=False, n_iter_no_change=10**6, device=device
    )
    if batch:
        params["batch_size"] = int(batch)
    return SKVAE[base](random_state=0, **params)


def skvae_fit(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if isinstance(estimator, VAEAugmenter):
            return estimator.fit(X, y)
        return estimator.fit(X)


def skvae_score(estimator, X):
    """Seconds to score, transform or (augmenter) generate len(X) rows."""
    if isinstance(estimator, VAEAnomalyDetector):
        return timed(estimator.score_samples, X)[1], len(X), "score"
    if isinstance(estimator, VAETransformer):
        return timed(estimator.transform, X)[1], len(X), "transform"
    return timed(estimator.sample, len(X), random_state=0)[1], len(X), "sample"


def measure_skvae(name, X, y, matmul_rate, device="auto"):
    """One row of results for a skvae estimator on X."""
    e1, e2 = epochs_pair(len(X))
    # warm up kernels
    skvae_fit(skvae_estimator(name, 1, device), X[:1000], y[:1000])
    first, t1 = timed(skvae_fit, skvae_estimator(name, e1, device), X, y)
    model, t2 = timed(skvae_fit, skvae_estimator(name, e2, device), X, y)
    while t2 - t1 < MIN_EXTRA_SECONDS and len(X) * (e2 - e1) < MAX_EXTRA_ROWS:
        e2 = e1 + 4 * (e2 - e1)
        model, t2 = timed(skvae_fit, skvae_estimator(name, e2, device), X, y)
    train_rate = len(X) * (model.n_iter_ - first.n_iter_) / (t2 - t1)
    score_s, n_scored, kind = skvae_score(model, X)
    score_rate = n_scored / score_s
    train_flops = flops_per_row(model.module_, "train")
    score_flops = flops_per_row(model.module_, kind)
    return dict(
        train_rows_epochs_per_s=train_rate,
        score_rows_per_s=score_rate,
        fit_s=t2,
        epochs=model.n_iter_,
        train_gflops=train_rate * train_flops / 1e9,
        score_gflops=score_rate * score_flops / 1e9,
        train_share_of_matmul=train_rate * train_flops / 1e9 / matmul_rate,
        score_share_of_matmul=score_rate * score_flops / 1e9 / matmul_rate,
    )


def pyod_model(name, n_cols, epochs):
    """PyOD peers at their defaults, or with skvae's architecture.

    ``_matched``: skvae's default layers (64-32 encoder, mirrored decoder, latent
    size as skvae picks it, ELU, no dropout or batch norm) with PyOD's training
    defaults (batch 32). ``_matched_b256``: also skvae's batch size (256) and no
    weight decay, so both libraries do the same arithmetic per epoch.
    """
    from pyod.models.auto_encoder import AutoEncoder
    from pyod.models.vae import VAE

    latent = int(np.clip(n_cols // 4, 2, 8))
    common = dict(epoch_num=epochs, random_state=0, verbose=0)
    layers = dict(hidden_activation_name="elu", dropout_rate=0.0)
    same_work = dict(batch_size=256, optimizer_params={"weight_decay": 0.0})
    vae_layers = dict(
        encoder_neuron_list=[64, 32], decoder_neuron_list=[32, 64], latent_dim=latent
    )
    ae_layers = dict(hidden_neuron_list=[64, 32, latent], batch_norm=False)
    if name == "pyod_vae":
        return VAE(**common)
    if name == "pyod_vae_matched":
        return VAE(**vae_layers, **layers, **common)
    if name == "pyod_vae_matched_b256":
        return VAE(**vae_layers, **layers, **same_work, **common)
    if name == "pyod_ae":
        return AutoEncoder(**common)
    if name == "pyod_ae_matched":
        return AutoEncoder(**ae_layers, **layers, **common)
    raise ValueError(name)


def measure_peer(name, X, peer_rows):
    X = X[:peer_rows]
    e1, e2 = epochs_pair(len(X))
    pyod_model(name, X.shape[1], 1).fit(X[:1000])  # warm up kernels
    _, t1 = timed(pyod_model(name, X.shape[1], e1).fit, X)
    model, t2 = timed(pyod_model(name, X.shape[1], e2).fit, X)
    score_s = timed(model.decision_function, X)[1]
    return dict(
        train_rows_epochs_per_s=len(X) * (e2 - e1) / (t2 - t1),
        score_rows_per_s=len(X) / score_s,
        fit_s=t2,
        epochs=e2,
    )


def throughput_rows(table, X, methods, matmul_rate, peer_rows, device="auto"):
    y = np.arange(len(X)) % 2  # classes for the augmenter's conditional fit
    for method in methods:
        if method.partition(":")[0] in SKVAE:
            result = measure_skvae(method, X, y, matmul_rate, device)
        elif len(X) > peer_rows and table == "synthetic":
            continue  # measured on the peer_rows-row synthetic table already
        else:
            result = measure_peer(method, X, peer_rows)
        row = dict(
            section="throughput",
            table=table,
            rows=len(X),
            cols=X.shape[1],
            method=method,
            device=device,
            **result,
        )
        print(json.dumps(_rounded(row)), flush=True)
        yield row


# -- memory ---------------------------------------------------------------------


class PeakRSS:
    """Peak resident memory of this process while the block runs, polled."""

    def __enter__(self):
        self.start = self.peak = _rss()
        self._running = True
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()
        return self

    def _poll(self):
        while self._running:
            self.peak = max(self.peak, _rss())
            time.sleep(0.002)

    def __exit__(self, *exc):
        self._running = False
        self._thread.join()
        self.peak = max(self.peak, _rss())
        self.above_start_mib = (self.peak - self.start) / 2**20


def _rss():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def memory_child(task, n_rows, n_cols, model_path):
    """Runs in a fresh process: the peak memory of one fit or one score."""
    X = synthetic_table(n_rows, n_cols)
    if task == "fit":
        detector = VAEAnomalyDetector(max_epochs=2, random_state=0)
        with PeakRSS() as peak:
            skvae_fit(detector, X, None)
        import joblib

        joblib.dump(detector, model_path)
    else:
        import joblib

        detector = joblib.load(model_path)
        detector.score_samples(X[:100])  # load lazily-initialised kernels first
        with PeakRSS() as peak:
            detector.score_samples(X)
    print(json.dumps(dict(task=task, above_start_mib=peak.above_start_mib)))


def memory_rows(n_rows, n_cols, workdir):
    model_path = workdir / "speed_memory_model.joblib"
    for task in ("fit", "score"):
        output = subprocess.run(
            [sys.executable, __file__, "--memory-child", task, str(n_rows)]
            + [str(n_cols), str(model_path)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        result = json.loads(output.strip().splitlines()[-1])
        row = dict(
            section="memory",
            table="synthetic",
            rows=n_rows,
            cols=n_cols,
            method=f"VAEAnomalyDetector.{'fit' if task == 'fit' else 'score_samples'}",
            peak_mib_above_input=result["above_start_mib"],
            input_mib=n_rows * n_cols * 8 / 2**20,
        )
        print(json.dumps(_rounded(row)), flush=True)
        yield row
    model_path.unlink(missing_ok=True)


# -- dev suite ------------------------------------------------------------------


def suite_rows(data_dir, methods):
    sys.path.insert(0, str(Path(__file__).parent))
    from bench_anomaly import make_split

    for path in sorted(data_dir.glob("*.npz"), key=lambda p: p.stat().st_size):
        with np.load(path) as archive:
            X, y = archive["X"].astype(np.float64), archive["y"].astype(int).ravel()
        X_train, *_ = make_split(X, y, 0)
        for method in methods:
            if method == "skvae":
                model = VAEAnomalyDetector(random_state=0)
            else:
                model = pyod_model(method, X.shape[1], 30)  # PyOD's default epochs
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                _, fit_s = timed(model.fit, X_train)
            row = dict(
                section="suite",
                table=path.stem,
                rows=len(X_train),
                cols=X.shape[1],
                method=method,
                fit_s=fit_s,
            )
            print(json.dumps(_rounded(row)), flush=True)
            yield row


def wide_rows(methods, explain_rows=1000):
    from sklearn.preprocessing import OneHotEncoder

    for name in WIDE_TABLES:
        X = wide_table(name)
        row = dict(section="wide", table=name, rows=len(X), cols=X.shape[1])
        for method in methods:
            if method == "skvae":
                detector = VAEAnomalyDetector(random_state=0)
                _, fit_s = timed(skvae_fit, detector, X, None)
                result = dict(
                    fit_s=fit_s,
                    score_s=timed(detector.score_samples, X)[1],
                    explain_s=timed(detector.explain, X[:explain_rows])[1],
                    explain_rows=explain_rows,
                    epochs=detector.n_iter_,
                )
            else:
                Z = X
                if isinstance(X, pd.DataFrame):
                    Z = OneHotEncoder(sparse_output=False).fit_transform(X)
                model = pyod_model(method, Z.shape[1], 30)  # PyOD's default epochs
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    _, fit_s = timed(model.fit, Z)
                result = dict(fit_s=fit_s, score_s=timed(model.decision_function, Z)[1])
            out = dict(row, method=method, **result)
            print(json.dumps(_rounded(out)), flush=True)
            yield out


def _rounded(row):
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--sections",
        nargs="*",
        default=["hardware", "synthetic", "real", "memory", "suite", "wide"],
    )
    parser.add_argument(
        "--rows", nargs="*", type=int, default=[1000, 10_000, 100_000, 1_000_000]
    )
    parser.add_argument("--cols", nargs="*", type=int, default=[10, 30, 100])
    parser.add_argument(
        "--methods",
        nargs="*",
        default=[*SKVAE, "VAEAnomalyDetector:batch_size=4096", *PEERS],
        help="skvae class names (':batch_size=N' for another batch size), PyOD peers",
    )
    parser.add_argument("--peer-rows", type=int, default=100_000)
    parser.add_argument(
        "--device", default="auto", help="the skvae estimators' device in synthetic"
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--memory-child", nargs=4, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        task, n_rows, n_cols, model_path = args.memory_child
        memory_child(task, int(n_rows), int(n_cols), model_path)
        return

    rows = []

    def keep(new_rows):
        for row in new_rows:
            rows.append(row)
            if args.out:
                args.out.parent.mkdir(parents=True, exist_ok=True)
                pd.DataFrame(rows).to_csv(args.out, index=False)

    rate = matmul_gflops()
    hardware = dict(
        section="hardware",
        method="torch.matmul 4096x4096 float32",
        gflops=rate,
        threads=torch.get_num_threads(),
    )
    print(f"matmul: {rate:.1f} GFLOP/s on {torch.get_num_threads()} threads")
    device = args.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if torch.device(device).type == "cuda":
        # skvae's share of the matmul rate is then of the GPU's.
        rate = matmul_gflops(device=device)
        hardware.update(device=torch.cuda.get_device_name(), device_gflops=rate)
        print(f"matmul on {hardware['device']}: {rate:.1f} GFLOP/s")
    keep([hardware])
    if "synthetic" in args.sections:
        for n_rows in args.rows:
            for n_cols in args.cols:
                X = synthetic_table(n_rows, n_cols)
                keep(
                    throughput_rows(
                        "synthetic", X, args.methods, rate, args.peer_rows, device
                    )
                )
    if "real" in args.sections:
        for name in REAL_TABLES:
            X = real_table(name, args.data)
            keep(throughput_rows(name, X, args.methods, rate, args.peer_rows))
    if "memory" in args.sections:
        workdir = (args.out.parent if args.out else Path.cwd()).resolve()
        keep(memory_rows(1_000_000, 30, workdir))
    if "suite" in args.sections:
        keep(suite_rows(args.data, ["skvae", "pyod_vae"]))
    if "wide" in args.sections:
        wide_methods = ["skvae"] if "VAEAnomalyDetector" in args.methods else []
        wide_methods += [m for m in args.methods if m == "pyod_vae"]
        keep(wide_rows(wide_methods))


if __name__ == "__main__":
    main()
