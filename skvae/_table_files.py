"""The command line's files: tables read from and written to CSV or Parquet."""

# License: BSD 3-Clause

import contextlib
import gzip
import sys
from pathlib import Path

import pandas as pd

from skvae._missing_values import mark_codes_in_columns
from skvae._streaming import CSV_OPTIONS, TableChunks, csv_separator

__all__ = ["InputError", "read_table", "table_output", "write_table"]


class InputError(Exception):
    """A problem with the user's files or data, reported in one line."""


def _needs_pyarrow(path, doing, exc):
    return InputError(
        f"{path}: {doing} Parquet needs pyarrow: pip install 'skvae[parquet]' ({exc})"
    )


def _is_parquet(path):
    return Path(path).suffix.lower() == ".parquet"


def read_table(path, rows=None, na_values=None, nullable=False):
    """Read a CSV or Parquet file (its first ``rows`` rows, if given) into a
    DataFrame, with one-line errors; ``na_values`` as in :class:`TableChunks`.

    With ``nullable``, CSV columns come in pandas' nullable dtypes, so that a
    column of whole numbers with empty cells stays integers (Int64), not floats.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet" and rows is not None:
            frame = next(iter(TableChunks(path, rows, na_values)), pd.DataFrame())
        elif suffix == ".parquet":
            frame = mark_codes_in_columns(pd.read_parquet(path), na_values or {})
        elif suffix in (".csv", ".txt", ".gz"):
            frame = pd.read_csv(
                path,
                sep=csv_separator(path),
                nrows=rows,
                na_values=na_values,
                **({"dtype_backend": "numpy_nullable"} if nullable else {}),
                **CSV_OPTIONS,
            )
        else:
            raise InputError(f"{path}: expected a .csv or .parquet file")
    except ImportError as exc:
        raise _needs_pyarrow(path, "reading", exc) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a readable table ({exc})") from None
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise InputError(f"{path}: the table is empty")
    return frame


def write_table(frame, path, separator=","):
    """Write ``frame`` to ``path``: Parquet where its name ends in
    ``.parquet`` (dtypes and category levels kept), else CSV with
    ``separator``."""
    if not _is_parquet(path):
        frame.to_csv(path, index=False, sep=separator)
        return
    try:
        frame.to_parquet(path, index=False)
    except ImportError as exc:
        raise _needs_pyarrow(path, "writing", exc) from None


@contextlib.contextmanager
def table_output(out):
    """Yield ``write(result)``, appending result tables (their index as the
    first column) to one file, ``out``, or to stdout: Parquet where ``out``
    ends in ``.parquet``, else CSV with the header once (gzipped where
    ``out`` ends in ``.gz``)."""
    sink = _parquet_sink if out is not None and _is_parquet(out) else _csv_sink
    written = 0
    with sink(out) as put:

        def write(result):
            nonlocal written
            label = result.index.name or "row"
            put(result.rename_axis(label).reset_index(allow_duplicates=True))
            written += len(result)

        yield write
    if out is not None:
        print(f"wrote {written} rows to {out}", file=sys.stderr)


@contextlib.contextmanager
def _csv_sink(out):
    if out is None:
        handle = sys.stdout
    elif Path(out).suffix.lower() == ".gz":  # as pandas' to_csv infers it
        handle = gzip.open(out, "wt", newline="")
    else:
        handle = open(out, "w", newline="")
    first = True

    def put(table):
        nonlocal first
        table.to_csv(handle, index=False, header=first)
        first = False

    try:
        yield put
    finally:
        if out is not None:
            handle.close()


@contextlib.contextmanager
def _parquet_sink(out):
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise _needs_pyarrow(out, "writing", exc) from None
    writer = None

    def put(table):
        nonlocal writer
        table = pa.Table.from_pandas(table, preserve_index=False)
        if writer is None:
            writer = pq.ParquetWriter(out, table.schema)
        else:
            # a later chunk's column may come with another inferred type
            # (an --id column of numbers, all empty in one chunk)
            table = table.cast(writer.schema)
        writer.write_table(table)

    try:
        yield put
    finally:
        if writer is not None:
            writer.close()
