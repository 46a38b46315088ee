"""Command line: ``skvae detect``, ``skvae score``, ``skvae impute``, ``skvae demo``."""

# License: BSD 3-Clause

import argparse
import sys
import time
from pathlib import Path

import joblib
import numpy as np
import pandas as pd

__all__ = ["main"]

_EXIT_BAD_INPUT = 2


class InputError(Exception):
    """A problem with the user's files or data, reported in one line."""


def main(argv=None):
    """Run the ``skvae`` command line; return the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return _EXIT_BAD_INPUT
    try:
        return args.run(args)
    except (InputError, ValueError, TypeError, OSError) as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
        print(f"skvae {args.command}: error: {message}", file=sys.stderr)
        return _EXIT_BAD_INPUT


def _parser():
    parser = argparse.ArgumentParser(
        prog="skvae", description="Anomaly detection on tables with a VAE."
    )
    sub = parser.add_subparsers(dest="command")

    detect = sub.add_parser("detect", help="fit a detector on a table and score it")
    detect.add_argument("data", type=Path, help="a .csv or .parquet file")
    detect.add_argument(
        "--contamination",
        default="auto",
        type=_contamination,
        help='share of rows to flag, or "auto" (default)',
    )
    detect.add_argument("--model-out", type=Path, help="save the fitted model here")
    detect.add_argument("--out", type=Path, help="write the CSV here (default: stdout)")
    detect.add_argument("--top", type=int, default=3, help="explaining columns per row")
    detect.add_argument("--random-state", type=int, default=0)
    detect.add_argument("--verbose", type=int, default=0)
    detect.set_defaults(run=_detect)

    score = sub.add_parser("score", help="score a table with a saved model")
    score.add_argument("model", type=Path, help="a model saved by detect --model-out")
    score.add_argument("data", type=Path, help="a .csv or .parquet file")
    score.add_argument("--out", type=Path, help="write the CSV here (default: stdout)")
    score.add_argument("--top", type=int, default=3, help="explaining columns per row")
    score.set_defaults(run=_score)

    impute = sub.add_parser(
        "impute", help="fill the empty cells of a table (VAEImputer)"
    )
    impute.add_argument("data", type=Path, help="a .csv or .parquet file")
    impute.add_argument("out", type=Path, help="the filled table, as CSV")
    impute.add_argument("--random-state", type=int, default=0)
    impute.add_argument("--verbose", type=int, default=0)
    impute.set_defaults(run=_impute)

    demo = sub.add_parser("demo", help="detect the anomalies of the bundled demo table")
    demo.add_argument("--random-state", type=int, default=0)
    demo.set_defaults(run=_demo)
    return parser


def _contamination(value):
    if value == "auto":
        return value
    try:
        return float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f'must be "auto" or a number in (0, 0.5], got {value!r}'
        ) from None


def read_table(path):
    """Read a CSV or Parquet file into a DataFrame, with one-line errors."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            frame = pd.read_parquet(path)
        elif suffix in (".csv", ".txt", ".gz"):
            frame = pd.read_csv(path, skipinitialspace=True)
        else:
            raise InputError(f"{path}: expected a .csv or .parquet file")
    except ImportError as exc:
        raise InputError(f"{path}: reading Parquet needs pyarrow ({exc})") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a readable table ({exc})") from None
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise InputError(f"{path}: the table is empty")
    return frame


def explain_table(detector, frame, top):
    """Scores, flags and the ``top`` most unusual columns of each row."""
    contributions = detector.explain(frame)
    scores = detector.score_samples(frame)
    values = contributions.to_numpy()
    order = np.argsort(values, axis=1)[:, :top]
    names = np.asarray(contributions.columns, dtype=object)
    explanation = [
        "; ".join(f"{names[j]}={values[i, j]:.2f}" for j in row)
        for i, row in enumerate(order)
    ]
    return pd.DataFrame(
        {
            "score": scores,
            "decision": scores - detector.offset_,
            "anomaly": (scores - detector.offset_ < 0).astype(int),
            "top_columns": explanation,
        },
        index=frame.index,
    )


def _write(result, out):
    if out is None:
        result.to_csv(sys.stdout, index_label="row")
    else:
        result.to_csv(out, index_label="row")
        print(f"wrote {len(result)} rows to {out}", file=sys.stderr)


def _detect(args):
    from skvae import VAEAnomalyDetector

    frame = read_table(args.data)
    detector = VAEAnomalyDetector(
        contamination=args.contamination,
        random_state=args.random_state,
        verbose=args.verbose,
    ).fit(frame)
    if args.model_out is not None:
        joblib.dump(detector, args.model_out)
    _write(explain_table(detector, frame, args.top), args.out)
    return 0


def _score(args):
    if not args.model.is_file():
        raise InputError(f"{args.model}: no such file")
    try:
        detector = joblib.load(args.model)
    except Exception as exc:  # a corrupt or foreign file can raise anything
        raise InputError(f"{args.model}: not a saved skvae model ({exc})") from None
    if not hasattr(detector, "explain"):
        raise InputError(f"{args.model}: not a saved VAEAnomalyDetector")
    _write(explain_table(detector, read_table(args.data), args.top), args.out)
    return 0


def _impute(args):
    from skvae import VAEImputer

    frame = read_table(args.data)
    imputer = VAEImputer(random_state=args.random_state, verbose=args.verbose)
    filled = imputer.fit_transform(frame)
    filled.to_csv(args.out, index=False)
    print(
        f"filled {int(frame.isna().to_numpy().sum())} empty cells; wrote "
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
        f"{int(result['anomaly'].sum())} rows flagged "
        f"({int(result['anomaly'][y == 1].sum())} of them known anomalies)."
    )
    print("\nThe 10 most unusual rows:")
    top = result.assign(known_anomaly=y).sort_values("score").head(10)
    with pd.option_context("display.width", 200, "display.max_colwidth", 120):
        print(top[["score", "known_anomaly", "top_columns"]].to_string())
    return 0


if __name__ == "__main__":
    sys.exit(main())
