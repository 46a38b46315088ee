"""Prove the CUDA path: fit on a GPU, predict, pickle, load on a CPU-only process.

Run on a machine with CUDA (from the repository root, no install needed)::

    PYTHONPATH=. python benchmarks/check_cuda.py

It fits each estimator with ``device="cuda"``, saves it with joblib, then loads and
predicts in a subprocess that cannot see the GPU (``CUDA_VISIBLE_DEVICES=""``), and
prints the largest difference between GPU and CPU outputs. Exit code 1 if CUDA is
missing or a difference exceeds the tolerance.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import joblib
import numpy as np
import torch
from sklearn.datasets import load_breast_cancer, load_wine

from skvae import VAEAnomalyDetector, VAEAugmenter, VAETransformer

TOLERANCE = 1e-3  # relative; GPU and CPU float32 kernels round differently


def outputs(model, X):
    if isinstance(model, VAEAnomalyDetector):
        return model.score_samples(X)
    if isinstance(model, VAETransformer):
        return model.transform(X)
    # Draws differ between devices (their generators differ); compare the
    # deterministic ELBO of the same rows and check that sampling works.
    rows = model.sample(5, random_state=0)
    assert list(rows.columns) == list(X.columns)
    return model.score_samples(X)


def load_and_predict(folder):
    """Run in the CPU-only subprocess."""
    X = load_wine(as_frame=True).data
    result = {}
    for path in sorted(Path(folder).glob("*.joblib")):
        model = joblib.load(path)
        assert not torch.cuda.is_available()
        result[path.stem] = outputs(model, X).tolist()
    print(json.dumps(result))


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--load":
        load_and_predict(sys.argv[2])
        return 0
    if not torch.cuda.is_available():
        print("CUDA is not available here.")
        return 1
    print(f"device: {torch.cuda.get_device_name(0)}, torch {torch.__version__}")
    X = load_wine(as_frame=True).data
    cancer = load_breast_cancer().data
    models = {
        "detector": VAEAnomalyDetector(device="cuda", random_state=0),
        "transformer": VAETransformer(device="cuda", random_state=0),
        "augmenter": VAEAugmenter(device="cuda", random_state=0),
    }
    gpu = {}
    with tempfile.TemporaryDirectory() as folder:
        for name, model in models.items():
            start = time.perf_counter()
            model.fit(X)
            fit_s = time.perf_counter() - start
            assert next(model.module_.parameters()).is_cuda
            gpu[name] = outputs(model, X)
            joblib.dump(model, Path(folder) / f"{name}.joblib")
            print(f"{name}: fitted on GPU in {fit_s:.1f}s ({model.n_iter_} epochs)")
        big = VAEAnomalyDetector(device="cuda", random_state=0).fit(
            np.tile(cancer, (200, 1))
        )
        print(f"detector on {200 * len(cancer)} rows: {big.n_iter_} epochs")
        env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
        run = subprocess.run(
            [sys.executable, __file__, "--load", folder],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if run.returncode != 0:
            print(run.stderr)
            return 1
        cpu = json.loads(run.stdout.strip().splitlines()[-1])
    worst = 0.0
    for name, values in gpu.items():
        difference = np.max(
            np.abs(np.asarray(cpu[name]) - values) / (np.abs(values) + 1.0)
        )
        worst = max(worst, difference)
        print(f"{name}: GPU vs CPU-loaded max relative difference {difference:.2e}")
    print("OK" if worst <= TOLERANCE else f"FAILED: {worst:.2e} > {TOLERANCE}")
    return 0 if worst <= TOLERANCE else 1


if __name__ == "__main__":
    sys.exit(main())
