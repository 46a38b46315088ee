"""Large data: streaming a file larger than memory, partial_fit, and Dask.

Sections (``--sections``, all by default):

- ``file``: writes a Parquet file of ``--rows`` rows (default 10^7) and 30
  numeric columns, in row groups of 10^6, generated chunk by chunk: a
  nonlinear 5-factor model with unit noise and 1% planted anomalies (three
  columns shifted by one standard deviation, or the factors' link broken;
  IsolationForest ranks them at ~0.56 ROC-AUC, skvae at ~0.85). Then, on it:
  ``partial_fit`` over the whole file in chunks (one pass) against ``fit`` on
  a uniform sample of 10^6 rows: time and ROC-AUC on a separate planted test
  set of 200,000 rows; then ``skvae score`` on the whole file (``--top 0``,
  output to /dev/null) in a child process: peak RSS against a bare
  ``import skvae`` and rows per second.
- ``dask``: the same file scored on a ``LocalCluster`` of 1 and of 2 worker
  processes (one thread each) with ``map_partitions``: rows per second, the
  speed-up, and the time to ship the model to the workers.
- ``incremental``: the ADBench dev tables of 10^4 rows or more, the protocol of
  ``bench_anomaly.py`` (seeds 0-2): ``dask_ml.wrappers.Incremental`` over
  blocks of 5,000 rows, with as many passes as ``fit``'s step budget allows,
  against plain ``fit``: ROC-AUC, AP and time.

Usage::

    python benchmarks/bench_scale.py --out benchmarks/results/scale.csv

Needs pyarrow, dask, distributed and dask-ml (``pip install -e .[dask]``).
"""

import argparse
import math
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score

from skvae import VAEAnomalyDetector

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_anomaly import DEFAULT_DATA, make_split  # noqa: E402

N_COLUMNS = 30
N_FACTORS = 5
ROW_GROUP = 1_000_000
ANOMALY_SHARE = 0.01
NOISE = 1.0  # per-cell noise around the factor model
SHIFT = 1.0  # how far an anomaly moves its three columns, in standard deviations
LARGE_DEV_TABLES = ["5_campaign", "1_ALOI", "11_donors", "10_cover", "8_celeba"]


# -- the generated table ----------------------------------------------------------


def _mixing(seed=12345):
    rng = np.random.RandomState(seed)
    return rng.randn(N_FACTORS, N_COLUMNS), rng.randn(N_FACTORS, N_COLUMNS)


def planted_rows(n_rows, seed):
    """``(X, y)``: inliers from a nonlinear factor model, 1% anomalies."""
    rng = np.random.RandomState(seed)
    linear, bent = _mixing()
    z = rng.randn(n_rows, N_FACTORS)
    X = z @ linear + np.tanh(z @ bent) + NOISE * rng.randn(n_rows, N_COLUMNS)
    y = (rng.rand(n_rows) < ANOMALY_SHARE).astype(int)
    anomalies = np.flatnonzero(y)
    half = len(anomalies) // 2
    # Half: three columns shifted by SHIFT of their standard deviations ...
    spread = X.std(axis=0)
    for row in anomalies[:half]:
        columns = rng.choice(N_COLUMNS, 3, replace=False)
        X[row, columns] += SHIFT * spread[columns] * rng.choice([-1, 1], 3)
    # ... half: ordinary-looking values that break the factors' link.
    shuffled = rng.randn(len(anomalies) - half, N_FACTORS)
    X[anomalies[half:]] = (
        shuffled @ linear
        + np.tanh(rng.randn(len(shuffled), N_FACTORS) @ bent)
        + NOISE * rng.randn(len(shuffled), N_COLUMNS)
    )
    return X.astype(np.float32), y


def write_parquet(path, n_rows):
    import pyarrow as pa
    import pyarrow.parquet as pq

    names = [f"x{j}" for j in range(N_COLUMNS)]
    with pq.ParquetWriter(path, pa.schema([(n, pa.float32()) for n in names])) as out:
        for k, start in enumerate(range(0, n_rows, ROW_GROUP)):
            X, _ = planted_rows(min(ROW_GROUP, n_rows - start), seed=k)
            out.write_table(pa.table(dict(zip(names, X.T, strict=True))))
    return names


def parquet_chunks(path, rows):
    import pyarrow.parquet as pq

    with pq.ParquetFile(path, pre_buffer=False) as parquet:  # see skvae._streaming
        for batch in parquet.iter_batches(batch_size=rows):
            yield batch.to_pandas()


def _record(results, **row):
    results.append(row)
    print(row, flush=True)


def peak_rss_mib(command):
    """Peak resident memory of ``command`` run as a child of a fresh Python."""
    wrapper = (
        "import resource, subprocess, sys; "
        "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    done = subprocess.run(
        [sys.executable, "-c", wrapper, *command],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(done.stdout.split()[-1]) / 1024  # Linux reports KiB


def file_section(args, work, rows):
    path = work / "table.parquet"
    start = time.perf_counter()
    names = write_parquet(path, args.rows)
    print(f"wrote {args.rows:,} rows in {time.perf_counter() - start:.0f}s", flush=True)
    X_test, y_test = planted_rows(200_000, seed=10**6)
    X_test = pd.DataFrame(X_test, columns=names)

    def test_scores(model):
        scores = -model.score_samples(X_test)
        return roc_auc_score(y_test, scores), average_precision_score(y_test, scores)

    streamed = VAEAnomalyDetector(random_state=0)
    start = time.perf_counter()
    for chunk in parquet_chunks(path, args.chunk_rows):
        streamed.partial_fit(chunk)
    seconds = time.perf_counter() - start
    auc, ap = test_scores(streamed)
    _record(
        rows,
        section="file",
        what="partial_fit, one pass over the file",
        rows=args.rows,
        seconds=seconds,
        roc_auc=auc,
        avg_precision=ap,
    )

    rng = np.random.RandomState(0)
    share = args.sample_rows / args.rows
    sample = pd.concat(
        c[rng.random_sample(len(c)) < share]
        for c in parquet_chunks(path, args.chunk_rows)
    )
    start = time.perf_counter()
    sampled = VAEAnomalyDetector(random_state=0).fit(sample)
    seconds = time.perf_counter() - start
    auc, ap = test_scores(sampled)
    _record(
        rows,
        section="file",
        what=f"fit on a sample of {len(sample):,} rows",
        rows=len(sample),
        seconds=seconds,
        roc_auc=auc,
        avg_precision=ap,
    )

    model_path = work / "model.joblib"
    joblib.dump(sampled, model_path)
    bare = peak_rss_mib([sys.executable, "-c", "import skvae"])
    skvae = [sys.executable, "-m", "skvae"]
    start = time.perf_counter()
    peak = peak_rss_mib([*skvae, "score", str(model_path), str(path), "--top", "0"])
    seconds = time.perf_counter() - start
    _record(
        rows,
        section="file",
        what="skvae score --top 0 (child process)",
        rows=args.rows,
        seconds=seconds,
        rows_per_s=args.rows / seconds,
        peak_rss_mib=peak,
        bare_import_rss_mib=bare,
    )
    return path, sampled


def dask_section(args, path, model, rows):
    import dask.dataframe as dd
    from dask.distributed import Client, LocalCluster, wait

    for n_workers in (1, 2):
        with (
            LocalCluster(
                n_workers=n_workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            ) as cluster,
            Client(cluster) as client,
        ):
            frame = dd.read_parquet(path)
            start = time.perf_counter()
            on_workers = client.scatter(model, broadcast=True)
            wait(on_workers)
            ship = time.perf_counter() - start
            scores = frame.map_partitions(
                lambda part, m: pd.Series(m.score_samples(part), index=part.index),
                on_workers,
                meta=(None, float),
            )
            start = time.perf_counter()
            flagged = int((scores < model.offset_).sum().compute())
            seconds = time.perf_counter() - start
        _record(
            rows,
            section="dask",
            what=f"map_partitions score, {n_workers} worker(s)",
            rows=args.rows,
            seconds=seconds,
            rows_per_s=args.rows / seconds,
            ship_model_s=ship,
            flagged=flagged,
        )


def incremental_section(args, rows):
    import dask.array as da
    from dask_ml.wrappers import Incremental

    for name in args.tables:
        data = np.load(Path(args.data) / f"{name}.npz")
        for seed in args.seeds:
            X_train, X_test, _, y_test = make_split(data["X"], data["y"], seed)
            # Incremental for as many passes as fit's chosen (best) epoch, and
            # for fit's whole budget: 3,000 steps of 256 rows, at most 100 epochs
            budget = min(100, math.ceil(3000 / max(1, len(X_train) // 256)))
            for method in ("fit", "Incremental, fit's epochs", "Incremental, budget"):
                start = time.perf_counter()
                if method == "fit":
                    model = VAEAnomalyDetector(random_state=seed).fit(X_train)
                    passes = int(np.argmax(model.validation_scores_)) + 1
                else:
                    passes = budget if method.endswith("budget") else passes
                    blocks = da.from_array(X_train, chunks=(args.block_rows, -1))
                    incremental = Incremental(
                        VAEAnomalyDetector(random_state=seed), shuffle_blocks=False
                    )
                    for _ in range(passes):
                        incremental.partial_fit(blocks)
                    model = incremental.estimator_
                seconds = time.perf_counter() - start
                scores = -model.score_samples(X_test)
                _record(
                    rows,
                    section="incremental",
                    what=method,
                    dataset=name,
                    seed=seed,
                    rows=len(X_train),
                    passes=passes,
                    seconds=seconds,
                    roc_auc=roc_auc_score(y_test, scores),
                    avg_precision=average_precision_score(y_test, scores),
                )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sections", nargs="+", default=["file", "dask", "incremental"]
    )
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--chunk-rows", type=int, default=200_000)
    parser.add_argument("--sample-rows", type=int, default=1_000_000)
    parser.add_argument("--block-rows", type=int, default=5_000)
    parser.add_argument("--tables", nargs="+", default=LARGE_DEV_TABLES)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--data", default=str(DEFAULT_DATA))
    parser.add_argument("--work", help="folder for the generated file (default: temp)")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(dir=args.work) as work:
        work = Path(work)
        path = model = None
        if "file" in args.sections or "dask" in args.sections:
            path, model = file_section(args, work, rows)
        if "dask" in args.sections:
            dask_section(args, path, model, rows)
        if "incremental" in args.sections:
            incremental_section(args, rows)
    pd.DataFrame(rows).to_csv(args.out, index=False)
    print(
        f"peak RSS of this process: "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB"
    )


if __name__ == "__main__":
    main()
