import os

import joblib
import numpy as np
import pytest
import torch

import skvae._base
import skvae._threads
from skvae import VAEAnomalyDetector


def _recording_train_vae(seen):
    """skvae's train_vae, noting torch's thread count as each fit starts training."""
    train_vae = skvae._base.train_vae

    def recording(*args, **kwargs):
        seen.append(torch.get_num_threads())
        return train_vae(*args, **kwargs)

    return recording


def _fit_recording_threads(X):
    """Fit a detector; return torch's thread count in training and new OS threads."""
    seen = []
    train_vae = skvae._base.train_vae
    skvae._base.train_vae = _recording_train_vae(seen)
    before = len(os.listdir("/proc/self/task"))
    try:
        VAEAnomalyDetector(max_epochs=3, random_state=0).fit(X)
    finally:
        skvae._base.train_vae = train_vae
    return seen[0], len(os.listdir("/proc/self/task")) - before


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="needs Linux /proc")
def test_fits_in_joblib_workers_share_the_cpus(cancer):
    X, _ = cancer
    results = joblib.Parallel(n_jobs=2)(
        joblib.delayed(_fit_recording_threads)(X) for _ in range(2)
    )
    share = max(1, joblib.cpu_count() // 2)
    for torch_threads, new_os_threads in results:
        assert torch_threads <= share
        # an OpenMP pool of n threads adds n - 1 workers to the calling thread
        assert new_os_threads <= share - 1


def test_threads_are_capped_at_the_usable_cpus_and_restored(cancer, monkeypatch):
    X, _ = cancer
    previous = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        monkeypatch.setattr(skvae._threads.joblib, "cpu_count", lambda: 1)
        seen = []
        monkeypatch.setattr(skvae._base, "train_vae", _recording_train_vae(seen))
        detector = VAEAnomalyDetector(max_epochs=2, random_state=0).fit(X)
        assert seen == [1]
        assert torch.get_num_threads() == 2
        assert np.isfinite(detector.score_samples(X)).all()
    finally:
        torch.set_num_threads(previous)
