"""Datasets for trying skvae: a bundled demo table and the ADBench benchmark files."""

# License: BSD 3-Clause

import os
import shutil
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer
from sklearn.utils import Bunch

__all__ = ["load_demo", "load_adbench", "get_data_home", "ADBENCH_URL"]

ADBENCH_URL = "https://github.com/Minqi824/ADBench/raw/main/adbench/datasets/Classical/"

_DEMO_N_ANOMALIES = 10


def load_demo(*, return_X_y=False, as_frame=True):
    """Load a small anomaly-detection table built from the breast cancer data.

    All 357 benign tumours of scikit-learn's Wisconsin breast cancer data are the
    normal rows; 10 malignant tumours, picked with a fixed seed, are the anomalies
    (2.7%). The 30 columns are numeric cell-nucleus measurements. The data ships
    with scikit-learn, so this needs no download.

    Parameters
    ----------
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    as_frame : bool, default=True
        If True, ``data`` is a DataFrame and ``target`` a Series; else ndarrays.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``data`` (367 rows, 30 columns), ``target`` (1 = anomaly, 0 = normal),
        ``feature_names`` and ``DESCR``.

    (data, target) : tuple if ``return_X_y`` is True

    Examples
    --------
    >>> from skvae.datasets import load_demo
    >>> X, y = load_demo(return_X_y=True)
    >>> X.shape, int(y.sum())
    ((367, 30), 10)
    """
    cancer = load_breast_cancer(as_frame=True)
    frame = cancer.frame
    malignant = np.flatnonzero(frame["target"].to_numpy() == 0)
    benign = np.flatnonzero(frame["target"].to_numpy() == 1)
    picked = np.random.RandomState(0).choice(
        malignant, _DEMO_N_ANOMALIES, replace=False
    )
    rows = np.sort(np.concatenate([benign, picked]))
    data = frame.iloc[rows].drop(columns="target").reset_index(drop=True)
    target = pd.Series(
        np.isin(rows, picked).astype(int), name="anomaly", index=data.index
    )
    if not as_frame:
        data, target = data.to_numpy(), target.to_numpy()
    if return_X_y:
        return data, target
    return Bunch(
        data=data,
        target=target,
        feature_names=list(cancer.feature_names),
        DESCR=(
            "Breast cancer Wisconsin (diagnostic): 357 benign rows (normal) and 10 "
            "malignant rows (anomalies, target=1) chosen with seed 0."
        ),
    )


def get_data_home(data_home=None):
    """Folder holding ADBench files: ``data_home``, ``$SKVAE_DATA`` or ~/skvae_data."""
    if data_home is None:
        data_home = os.environ.get("SKVAE_DATA", Path("~") / "skvae_data")
    return Path(data_home).expanduser()


def load_adbench(
    name, data_home=None, *, download=True, return_X_y=False, base_url=ADBENCH_URL
):
    """Load one ADBench "Classical" dataset from a local ``.npz`` file.

    The file ``{name}.npz`` is looked up in ``data_home`` (default: the
    ``SKVAE_DATA`` environment variable, else ``~/skvae_data``) and, when missing
    and ``download`` is True, fetched from the ADBench repository first.

    Parameters
    ----------
    name : str
        Dataset name as ADBench spells it, e.g. ``"4_breastw"`` (with or without
        ``.npz``).

    data_home : str or path-like, default=None
        Folder to read from and download into.

    download : bool, default=True
        Fetch a missing file. If False, a missing file raises ``FileNotFoundError``.

    return_X_y : bool, default=False
        If True, return ``(X, y)`` instead of a Bunch.

    base_url : str, default=ADBENCH_URL
        Where missing files are downloaded from.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``data`` (float ndarray), ``target`` (1 = anomaly) and ``name``.

    (data, target) : tuple if ``return_X_y`` is True
    """
    name = str(name).removesuffix(".npz")
    folder = get_data_home(data_home)
    path = folder / f"{name}.npz"
    if not path.exists():
        if not download:
            raise FileNotFoundError(
                f"ADBench dataset {name!r} is not in {folder} and download=False."
            )
        _download(base_url.rstrip("/") + f"/{name}.npz", path)
    with np.load(path, allow_pickle=False) as archive:
        X = np.asarray(archive["X"], dtype=np.float64)
        y = np.asarray(archive["y"]).astype(int).ravel()
    if return_X_y:
        return X, y
    return Bunch(data=X, target=y, name=name)


def _download(url, path):
    path.parent.mkdir(parents=True, exist_ok=True)
    # Write to a temporary file first so that an interrupted download never leaves
    # a truncated .npz behind.
    tmp = tempfile.NamedTemporaryFile(dir=path.parent, suffix=".part", delete=False)
    try:
        with tmp, urllib.request.urlopen(url, timeout=60) as response:
            shutil.copyfileobj(response, tmp)
        os.replace(tmp.name, path)
    except (urllib.error.URLError, OSError) as exc:
        Path(tmp.name).unlink(missing_ok=True)
        raise OSError(
            f"Could not download {url} ({exc}). If this machine is offline, copy the "
            f"file to {path} or pass data_home= pointing to a folder that has it."
        ) from exc
