"""Command line: ``skvae detect``, ``skvae score``, ``skvae impute``, ``skvae demo``."""

# License: BSD 3-Clause

import argparse
import os
import signal
import sys
import time
from pathlib import Path

import joblib
import numpy as np
import pandas as pd

from skvae._base import _MAX_EPOCHS_AUTO
from skvae._schema import _IDENTIFIER_LEVELS, _IDENTIFIER_SHARE, _sorted_levels
from skvae._streaming import (
    TableChunks,
    csv_separator,
    for_each_chunk,
    text_columns,
)
from skvae._table_files import InputError, read_table, table_output, write_table

__all__ = ["main"]

_EXIT_BAD_INPUT = 2
# What a shell reports for a program ended by SIGPIPE (128 + 13).
_EXIT_BROKEN_PIPE = 141


def run():
    """The ``skvae`` console script: exit with :func:`main`'s code.

    A closed pipe (``skvae score ... | head -1``) ends the program quietly, as
    it does Unix tools: by the default action of SIGPIPE.
    """
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    sys.exit(main())


def main(argv=None):
    """Run the ``skvae`` command line; return the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return _EXIT_BAD_INPUT
    try:
        return args.run(args)
    except BrokenPipeError:
        # The reader went away (where SIGPIPE is not at its default): say
        # nothing more, and keep Python from failing to flush at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return _EXIT_BROKEN_PIPE
    except (InputError, ValueError, TypeError, OSError) as exc:
        message = str(exc).strip() or repr(exc)
        print(f"skvae {args.command}: error: {message}", file=sys.stderr)
        return _EXIT_BAD_INPUT


def _parser():
    parser = argparse.ArgumentParser(
        prog="skvae", description="Anomaly detection on tables with a VAE."
    )
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command")
    defaults = _DefaultsShown

    detect = sub.add_parser(
        "detect",
        help="fit a detector on a table and score it",
        formatter_class=defaults,
    )
    detect.add_argument("data", type=Path, help="a .csv or .parquet file")
    detect.add_argument(
        "--contamination",
        default="auto",
        type=_contamination,
        help='share of rows to flag, or "auto" (the lower Tukey fence of the scores)',
    )
    detect.add_argument("--model-out", type=Path, help="save the fitted model here")
    _add_columns_options(detect)
    _add_na_values_option(detect)
    _add_output_options(detect)
    _add_fit_options(detect)
    large = detect.add_argument_group(
        "files larger than memory",
        "With --chunk-rows the file is read in chunks of that many rows, never "
        "whole: the detector trains with partial_fit over the chunks (or fits a "
        "sample, --fit-fraction), then scores chunk by chunk, writing as it goes.",
    )
    large.add_argument(
        "--chunk-rows", type=_positive_int, help="rows per chunk (default: no chunks)"
    )
    large.add_argument(
        "--passes",
        default="auto",
        type=_passes,
        help='passes of partial_fit over the file; "auto": until 1,000 steps of '
        "training, at most 100 passes",
    )
    large.add_argument(
        "--fit-fraction",
        type=_fraction,
        help="instead, fit on this share of the rows, drawn at random in one pass",
    )
    detect.set_defaults(run=_detect)

    score = sub.add_parser(
        "score", help="score a table with a saved model", formatter_class=defaults
    )
    score.add_argument("model", type=Path, help="a model saved by detect --model-out")
    score.add_argument("data", type=Path, help="a .csv or .parquet file")
    _add_columns_options(score)
    _add_na_values_option(score)
    _add_output_options(score)
    score.add_argument(
        "--chunk-rows",
        type=_positive_int,
        default=100_000,
        help="rows read, scored and written at a time (memory grows with this, "
        "not with the file)",
    )
    score.add_argument(
        "--verbose", type=_count, default=0, help="1: progress on stderr"
    )
    score.set_defaults(run=_score)

    impute = sub.add_parser(
        "impute",
        help="fill the empty cells of a table (VAEImputer)",
        formatter_class=defaults,
    )
    impute.add_argument("data", type=Path, help="a .csv or .parquet file")
    impute.add_argument(
        "out",
        type=Path,
        help="the filled table: Parquet if the name ends in .parquet, else CSV "
        "(with the input's column separator)",
    )
    impute.add_argument(
        "--id",
        metavar="COLUMN",
        help="a column that names the rows: left out of the model and written "
        "back unchanged",
    )
    impute.add_argument(
        "--keep",
        nargs="+",
        default=[],
        metavar="COLUMN",
        help="other columns to leave out of the model and write back unchanged",
    )
    _add_na_values_option(impute)
    _add_fit_options(impute)
    impute.set_defaults(run=_impute)

    demo = sub.add_parser(
        "demo",
        help="detect the anomalies of the bundled demo table",
        formatter_class=defaults,
    )
    demo.add_argument(
        "--random-state", type=_count, default=0, help="seed of the detector's fit"
    )
    demo.set_defaults(run=_demo)
    return parser


class _DefaultsShown(argparse.HelpFormatter):
    """Help that shows an option's default, where it has a meaningful one."""

    def _get_help_string(self, action):
        text = action.help or ""
        default = action.default
        meaningless = default is None or default is False or default == []
        if action.option_strings and not meaningless and "%(default)" not in text:
            if default is not argparse.SUPPRESS:
                text += " (default: %(default)s)"
        return text


def _add_columns_options(parser):
    parser.add_argument(
        "--drop",
        nargs="+",
        default=[],
        metavar="COLUMN",
        help="columns to leave out of the model (a label, say)",
    )
    parser.add_argument(
        "--id",
        metavar="COLUMN",
        help="a column that names the rows: left out of the model, and the output's "
        "first column instead of the row number",
    )


def _add_na_values_option(parser):
    parser.add_argument(
        "--na-values",
        nargs="+",
        default=[],
        metavar="CODE",
        help="codes of an empty cell (-1, 999999, ?), read as missing in the "
        "modelled columns; empty cells, NA and NaN always are. Left as numbers, "
        "such codes are modelled as values.",
    )


def _na_values(path, args, left_out, columns=None):
    """``--na-values`` as codes per column of the file (``columns``, else
    read from its first row), outside ``left_out``; None without codes."""
    if not args.na_values:
        return None
    if columns is None:
        columns = read_table(path, rows=1).columns
    return {c: list(args.na_values) for c in columns if c not in left_out}


def _left_out(args):
    """The ``--drop`` and ``--id`` columns, which the model does not see."""
    return [*args.drop, *([args.id] if args.id else [])]


def _add_output_options(parser):
    parser.add_argument(
        "--out",
        type=Path,
        help="write the results here: Parquet if the name ends in .parquet, else "
        "CSV (default: CSV on stdout)",
    )
    parser.add_argument(
        "--top",
        type=_count,
        default=3,
        help="explaining columns listed per row (0: no explanations, faster)",
    )


def _add_fit_options(parser):
    parser.add_argument(
        "--random-state",
        type=_count,
        default=0,
        help="seed of the fit, for repeatable runs",
    )
    parser.add_argument(
        "--verbose",
        type=_count,
        default=0,
        help="training progress on stderr: 1 about 20 lines, 2 one line per epoch",
    )


def _version():
    from skvae import __version__

    return f"skvae {__version__}"


def _model_columns(frame, args):
    """``frame`` without the ``--drop`` and ``--id`` columns, indexed by ``--id``."""
    _require_columns(frame, _left_out(args))
    if args.id:
        frame = frame.set_index(args.id)
    return frame.drop(columns=args.drop)


def _require_columns(frame, names):
    absent = [c for c in names if c not in frame.columns]
    if absent:
        raise InputError(
            f"no column named {', '.join(map(repr, absent))} (columns: "
            f"{', '.join(map(str, frame.columns[:10]))}"
            f"{', ...' if len(frame.columns) > 10 else ''})"
        )


def _positive_int(value):
    return _int_from(value, 1, "a positive integer")


def _count(value):
    return _int_from(value, 0, "an integer of 0 or more")


def _int_from(value, smallest, what):
    try:
        number = int(value)
    except ValueError:
        number = smallest - 1
    if number < smallest:
        raise argparse.ArgumentTypeError(f"must be {what}, got {value!r}")
    return number


def _passes(value):
    return value if value == "auto" else _positive_int(value)


def _fraction(value):
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not 0.0 < number <= 1.0:
        raise argparse.ArgumentTypeError(f"must be a number in (0, 1], got {value!r}")
    return number


def _contamination(value):
    if value == "auto":
        return value
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not 0.0 < number <= 0.5:
        raise argparse.ArgumentTypeError(
            f'must be "auto" or a number in (0, 0.5], got {value!r}'
        )
    return number


def explain_table(detector, frame, top):
    """Scores, flags and the ``top`` most unusual columns of each row (none
    and no ``top_columns`` for ``top=0``)."""
    scores = detector.score_samples(frame)
    result = pd.DataFrame(
        {
            "score": scores,
            "decision": scores - detector.offset_,
            "is_anomaly": (scores - detector.offset_ < 0).astype(int),
        },
        index=frame.index,
    )
    if top > 0:
        contributions = detector.explain(frame)
        values = contributions.to_numpy()
        order = np.argsort(values, axis=1)[:, :top]
        names = np.asarray(contributions.columns, dtype=object)
        result["top_columns"] = [
            "; ".join(f"{names[j]}={values[i, j]:.2f}" for j in row)
            for i, row in enumerate(order)
        ]
    return result


def _write(result, out):
    with table_output(out) as write:
        write(result)


def _detect(args):
    from skvae import VAEAnomalyDetector

    detector = VAEAnomalyDetector(
        contamination=args.contamination,
        random_state=args.random_state,
        verbose=args.verbose,
    )
    if args.chunk_rows is None:
        codes = _na_values(args.data, args, _left_out(args))
        frame = _model_columns(read_table(args.data, na_values=codes), args)
        detector.fit(frame)
        if args.model_out is not None:
            joblib.dump(detector, args.model_out)
        _write(explain_table(detector, frame, args.top), args.out)
        return 0
    chunks = _chunks(args.data, args.chunk_rows, args)
    if args.fit_fraction is not None:
        _fit_on_a_sample(detector, chunks, args)
    else:
        _train_over_chunks(detector, chunks, args)
    if args.model_out is not None:
        joblib.dump(detector, args.model_out)
    _score_chunks(detector, chunks, args)
    return 0


def _fit_on_a_sample(detector, chunks, args):
    rng = np.random.RandomState(args.random_state)
    parts = []

    def keep_some(chunk):
        parts.append(chunk[rng.random_sample(len(chunk)) < args.fit_fraction])

    for_each_chunk(chunks, keep_some, desc="sampling", verbose=args.verbose)
    sample = _model_columns(pd.concat(parts), args)
    if len(sample) == 0:
        raise InputError(f"--fit-fraction {args.fit_fraction} drew no rows")
    detector.fit(sample)


def _train_over_chunks(detector, chunks, args):
    """partial_fit over the chunks, ``--passes`` times; "auto" passes as
    ``fit``'s budget does: until 1,000 steps, at most 100 passes.

    The first partial_fit fixes the model's category levels, so the text
    columns are given, from the first chunk on, every level the file holds
    (:func:`_levels_in_file`): a level first met in a later chunk would
    otherwise stop the training."""
    levels = _levels_in_file(chunks, args)

    def train(chunk):
        frame = _model_columns(chunk, args)
        detector.partial_fit(frame.astype(levels) if levels else frame)

    passes = _MAX_EPOCHS_AUTO if args.passes == "auto" else args.passes
    for done in range(1, passes + 1):
        for_each_chunk(
            chunks, train, desc=f"training, pass {done}", verbose=args.verbose
        )
        if args.passes == "auto" and detector._n_steps >= detector._min_steps_auto:
            return


def _levels_in_file(chunks, args):
    """A categorical dtype with every level in the file, sorted, for each
    modelled column that is neither numeric nor boolean in the first chunk;
    a column with a distinct value in most rows (an ID) is an error, as it
    would make one input per row."""
    columns = text_columns(_model_columns(next(iter(chunks)), args))
    if not columns:
        return {}  # a table of numbers and flags: no pass over the file
    found = {c: set() for c in columns}
    counts = dict.fromkeys(columns, 0)

    def collect(chunk):
        frame = _model_columns(chunk, args)
        for c in columns:
            values = frame[c].dropna()
            found[c].update(values.unique().tolist())
            counts[c] += len(values)

    for_each_chunk(chunks, collect, desc="reading levels", verbose=args.verbose)
    for c in columns:
        distinct = len(found[c])
        if distinct >= _IDENTIFIER_LEVELS and distinct > _IDENTIFIER_SHARE * counts[c]:
            raise InputError(
                f"Column {c!r} holds {distinct} distinct values in {counts[c]} "
                "rows: it names rows rather than describing them, one input per "
                "level. Pass it as --id, or leave it out with --drop."
            )
    return {c: pd.CategoricalDtype(_sorted_levels(found[c])) for c in columns}


def _score_chunks(detector, chunks, args):
    with table_output(args.out) as write:
        for_each_chunk(
            chunks,
            lambda chunk: write(
                explain_table(detector, _model_columns(chunk, args), args.top)
            ),
            desc="scoring",
            verbose=args.verbose,
        )


def _chunks(path, chunk_rows, args):
    # The first row: one-line errors for missing, empty or unreadable files,
    # and the columns that --na-values applies to.
    head = read_table(path, rows=1)
    codes = _na_values(path, args, _left_out(args), head.columns)
    return TableChunks(path, chunk_rows, codes)


def _score(args):
    if not args.model.is_file():
        raise InputError(f"{args.model}: no such file")
    try:
        detector = joblib.load(args.model)
    except Exception as exc:  # a corrupt or foreign file can raise anything
        raise InputError(f"{args.model}: not a saved skvae model ({exc})") from None
    if not hasattr(detector, "explain"):
        raise InputError(f"{args.model}: not a saved VAEAnomalyDetector")
    if not hasattr(detector, "module_"):
        raise InputError(
            f"{args.model}: a VAEAnomalyDetector saved before it was fitted"
        )
    # The first row gives one-line errors for missing, empty or unreadable
    # files (as _chunks does) and the columns to check against the model's.
    head = read_table(args.data, rows=1)
    _check_model_columns(detector, _model_columns(head, args))
    codes = _na_values(args.data, args, _left_out(args), head.columns)
    _score_chunks(detector, TableChunks(args.data, args.chunk_rows, codes), args)
    return 0


def _check_model_columns(detector, frame):
    """An error naming the columns of ``frame`` that the model was not trained
    on and those it lacks, with the options that leave columns out."""
    expected = getattr(detector, "feature_names_in_", None)
    if expected is None:
        return
    known, given = set(expected), set(frame.columns)
    extra = [c for c in frame.columns if c not in known]
    missing = [c for c in expected if c not in given]
    if not extra and not missing:
        return
    parts = []
    if extra:
        parts.append(f"not in the model's training table: {_names(extra)}")
    if missing:
        parts.append(f"in the model's training table but not here: {_names(missing)}")
    hint = (
        " (leave columns out with --drop, or with --id the one that names the rows)"
        if extra
        else ""
    )
    raise InputError(f"columns differ from the model's: {'; '.join(parts)}{hint}")


def _names(columns):
    shown = ", ".join(map(repr, columns[:10]))
    return shown + (f", ... ({len(columns)} in all)" if len(columns) > 10 else "")


def _impute(args):
    from skvae import VAEImputer

    unchanged = list(dict.fromkeys([*([args.id] if args.id else []), *args.keep]))
    # Nullable dtypes: an integer column with empty cells is filled with
    # integers and its cells are written back as read ("3", not "3.0").
    codes = _na_values(args.data, args, unchanged)
    frame = read_table(args.data, na_values=codes, nullable=True)
    _require_columns(frame, unchanged)
    modelled = frame.drop(columns=unchanged)
    if modelled.shape[1] == 0:
        raise InputError("no columns left to impute after --id and --keep")
    imputer = VAEImputer(random_state=args.random_state, verbose=args.verbose)
    filled = imputer.fit_transform(modelled).set_axis(frame.index)
    filled = pd.concat([filled, frame[unchanged]], axis=1)[frame.columns]
    parquet = args.data.suffix.lower() == ".parquet"
    write_table(filled, args.out, "," if parquet else csv_separator(args.data))
    print(
        f"filled {int(modelled.isna().to_numpy().sum())} empty cells; wrote "
        f"{len(filled)} rows to {args.out}",
        file=sys.stderr,
    )
    return 0


def _demo(args):
    from sklearn.metrics import average_precision_score, roc_auc_score

    from skvae import VAEAnomalyDetector
    from skvae.datasets import load_demo

    X, y = load_demo(return_X_y=True)
    print(
        f"Demo table: {X.shape[0]} rows x {X.shape[1]} columns, {int(y.sum())} "
        "known anomalies (malignant tumours among benign ones)."
    )
    start = time.perf_counter()
    detector = VAEAnomalyDetector(random_state=args.random_state).fit(X)
    fit_s = time.perf_counter() - start
    result = explain_table(detector, X, top=3)
    print(f"Fitted in {fit_s:.1f}s ({detector.n_iter_} epochs).")
    print(
        f"ROC-AUC {roc_auc_score(y, -result['score']):.3f}, "
        f"average precision {average_precision_score(y, -result['score']):.3f}; "
        f"{int(result['is_anomaly'].sum())} rows flagged "
        f"({int(result['is_anomaly'][y == 1].sum())} of them known anomalies)."
    )
    print("\nThe 10 most unusual rows:")
    top = result.assign(known_anomaly=y).sort_values("score").head(10)
    with pd.option_context("display.width", 200, "display.max_colwidth", 120):
        print(top[["score", "known_anomaly", "top_columns"]].to_string())
    return 0


if __name__ == "__main__":
    run()
