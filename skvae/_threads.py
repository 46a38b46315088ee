"""How many threads torch may use while skvae trains or predicts."""

# License: BSD 3-Clause

import contextlib

import joblib
import torch

__all__ = ["limited_torch_threads"]


@contextlib.contextmanager
def limited_torch_threads():
    """Cap torch's intra-op threads at the CPUs this process may actually use.

    torch sizes its thread pool from the CPUs it sees, not from a container's CPU
    quota, so one fit in a 2-CPU container on a 64-core host would run 64 threads.
    As scikit-learn does for its OpenMP code, the cap is ``joblib.cpu_count()``
    (affinity, cgroup quotas and ``LOKY_MAX_CPU_COUNT``). Lower settings are left
    alone: ``OMP_NUM_THREADS`` (which joblib's workers get, one share of the CPUs
    each, so ``GridSearchCV(n_jobs=...)`` does not oversubscribe),
    ``torch.set_num_threads`` and ``threadpoolctl.threadpool_limits`` all take
    precedence. The previous setting is restored on exit.
    """
    before = torch.get_num_threads()
    allowed = max(1, joblib.cpu_count())
    if before <= allowed:
        yield
        return
    torch.set_num_threads(allowed)
    try:
        yield
    finally:
        torch.set_num_threads(before)
