import signal
import subprocess
import sys

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from skvae import VAEAnomalyDetector
from skvae.__main__ import main
from skvae._streaming import CSV_OPTIONS
from skvae.datasets import load_demo


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "demo.csv"
    X, _ = load_demo(return_X_y=True)
    X.iloc[:, :6].to_csv(path, index=False)
    return path


def test_detect_writes_scores_flags_and_explanations(table, tmp_path, capsys):
    out, model = tmp_path / "scores.csv", tmp_path / "model.joblib"
    code = main(
        [
            "detect",
            str(table),
            "--contamination",
            "0.1",
            "--out",
            str(out),
            "--model-out",
            str(model),
            "--top",
            "2",
        ]
    )
    assert code == 0
    result = pd.read_csv(out)
    assert list(result.columns) == [
        "row",
        "score",
        "decision",
        "is_anomaly",
        "top_columns",
    ]
    assert len(result) == 367
    assert result["is_anomaly"].sum() == pytest.approx(37, abs=1)
    assert result["top_columns"].str.count("=").eq(2).all()
    detector = joblib.load(model)
    assert detector.contamination == 0.1

    assert main(["score", str(model), str(table)]) == 0
    printed = capsys.readouterr().out
    rescored = pd.read_csv(pd.io.common.StringIO(printed))
    pd.testing.assert_series_equal(rescored["score"], result["score"], rtol=1e-6)


def _file(name, text):
    def make(folder):
        path = folder / name
        if text is not None:
            path.write_text(text)
        return path

    return make


@pytest.mark.parametrize(
    "make, message",
    [
        (_file("absent.csv", None), "no such file"),
        (_file("empty.csv", ""), "not a readable table"),
        (_file("data.json", "{}"), "expected a .csv or .parquet"),
        (_file("inf.csv", "a,b\n1,2\ninf,3\n"), "'a' contains infinity"),
    ],
)
def test_bad_files_get_one_line_and_exit_code_2(tmp_path, capsys, make, message):
    code = main(["detect", str(make(tmp_path))])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and err.count("\n") == 1


def test_score_rejects_a_file_that_is_no_model(table, tmp_path, capsys):
    fake = tmp_path / "model.joblib"
    fake.write_text("not a model")
    assert main(["score", str(fake), str(table)]) == 2
    assert "not a saved skvae model" in capsys.readouterr().err
    joblib.dump(VAEAnomalyDetector(), fake)
    assert main(["score", str(fake), str(table)]) == 2
    assert "saved before it was fitted" in capsys.readouterr().err


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    assert "detect" in capsys.readouterr().out


def test_demo_prints_roc_auc_and_explained_anomalies(capsys):
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "367 rows x 30 columns, 10 known anomalies" in out
    assert "ROC-AUC 0." in out
    assert out.count("=") >= 30  # ten rows, three explaining columns each


def test_empty_cells_are_missing_values(table, tmp_path):
    holes = pd.read_csv(table)
    holes.iloc[::10, 1] = None
    path, out = tmp_path / "holes.csv", tmp_path / "scores.csv"
    holes.to_csv(path, index=False)
    assert ",," in path.read_text()
    assert main(["detect", str(path), "--out", str(out)]) == 0
    result = pd.read_csv(out)
    assert len(result) == len(holes) and result["score"].notna().all()


def test_impute_fills_the_empty_cells_of_a_file(table, tmp_path, capsys):
    holes = pd.read_csv(table).iloc[:120]
    holes.iloc[::6, 2] = None
    path, out = tmp_path / "holes.csv", tmp_path / "filled.csv"
    holes.to_csv(path, index=False)
    assert main(["impute", str(path), str(out)]) == 0
    filled = pd.read_csv(out, **CSV_OPTIONS)
    assert filled.shape == holes.shape and not filled.isna().any().any()
    # observed cells come back exactly as they were, to the last digit
    observed = holes.notna().to_numpy()
    np.testing.assert_array_equal(
        filled.to_numpy()[observed], holes.to_numpy()[observed]
    )
    assert "filled 20 empty cells" in capsys.readouterr().err


def test_impute_keeps_an_integer_column_with_empty_cells_integers(tmp_path):
    # pandas reads such a column as floats: it was written back as "3.0" and
    # filled with fractions of a count.
    rng = np.random.RandomState(0)
    counts = rng.poisson(4, size=150).astype(object)
    counts[::7] = None
    table = pd.DataFrame({"count": counts, "x": rng.normal(size=150)})
    path, out = tmp_path / "counts.csv", tmp_path / "filled.csv"
    table.to_csv(path, index=False)
    assert main(["impute", str(path), str(out)]) == 0
    written = pd.read_csv(out, dtype=str)["count"]
    assert written.str.fullmatch(r"\d+").all()
    observed = table["count"].notna()
    assert (written[observed] == table["count"][observed].astype(str)).all()


def test_impute_writes_id_and_kept_columns_back_unchanged(table, tmp_path, capsys):
    holes = pd.read_csv(table).iloc[:120]
    holes.iloc[::6, 2] = None
    holes.insert(0, "patient", [f"p{i}" for i in range(len(holes))])
    holes["note"] = ["x", None] * 60  # a kept column's holes stay holes
    path, out = tmp_path / "holes.csv", tmp_path / "filled.csv"
    holes.to_csv(path, index=False)
    argv = ["impute", str(path), str(out), "--id", "patient", "--keep", "note"]
    assert main(argv) == 0
    filled = pd.read_csv(out)
    assert filled.columns.tolist() == holes.columns.tolist()
    assert filled["patient"].tolist() == holes["patient"].tolist()
    assert filled["note"].isna().sum() == 60
    assert not filled.drop(columns="note").isna().any().any()
    assert "filled 20 empty cells" in capsys.readouterr().err
    assert main(["impute", str(path), str(out), "--keep", "nope"]) == 2
    assert "no column named 'nope'" in capsys.readouterr().err


def test_files_separated_by_semicolons_or_tabs_read_as_tables(table, tmp_path):
    # Read as one column, such a file was one categorical level per row.
    frame = pd.read_csv(table).iloc[:120]
    results = {}
    for name, separator in (("comma", ","), ("semicolon", ";"), ("tab", "\t")):
        path, out = tmp_path / f"{name}.csv", tmp_path / f"{name}_scores.csv"
        frame.to_csv(path, index=False, sep=separator)
        assert main(["detect", str(path), "--out", str(out), "--top", "0"]) == 0
        results[name] = pd.read_csv(out)
    pd.testing.assert_frame_equal(results["semicolon"], results["comma"])
    pd.testing.assert_frame_equal(results["tab"], results["comma"])


def test_impute_writes_the_separator_it_read(table, tmp_path):
    holes = pd.read_csv(table).iloc[:120]
    holes.iloc[::6, 2] = None
    path, out = tmp_path / "holes.csv", tmp_path / "filled.csv"
    holes.to_csv(path, index=False, sep=";")
    assert main(["impute", str(path), str(out)]) == 0
    filled = pd.read_csv(out, sep=";")
    assert filled.columns.tolist() == holes.columns.tolist()
    assert not filled.isna().any().any()


def test_drop_and_id_columns_stay_out_of_the_model(table, tmp_path):
    frame = pd.read_csv(table)
    frame.insert(0, "patient", [f"p{i}" for i in range(len(frame))])
    frame["label"] = 0
    path, out, model = tmp_path / "ids.csv", tmp_path / "out.csv", tmp_path / "m.jl"
    frame.to_csv(path, index=False)
    argv = ["--id", "patient", "--drop", "label", "--out", str(out)]
    assert main(["detect", str(path), "--model-out", str(model), *argv]) == 0
    result = pd.read_csv(out)
    assert result.columns[0] == "patient"
    assert result["patient"].tolist() == frame["patient"].tolist()
    assert joblib.load(model).n_features_in_ == 6
    assert main(["score", str(model), str(path), *argv]) == 0
    assert main(["detect", str(path), "--drop", "nope"]) == 2


def test_score_names_the_columns_the_model_was_not_trained_on(table, tmp_path, capsys):
    frame = pd.read_csv(table)
    frame.insert(0, "patient", [f"p{i}" for i in range(len(frame))])
    path, model = tmp_path / "ids.csv", tmp_path / "m.jl"
    frame.to_csv(path, index=False)
    argv = ["--id", "patient", "--out", str(tmp_path / "out.csv")]
    assert main(["detect", str(path), "--model-out", str(model), *argv]) == 0
    capsys.readouterr()
    # scored without --id, the file has a column the model never saw
    assert main(["score", str(model), str(path)]) == 2
    err = capsys.readouterr().err
    assert "not in the model's training table: 'patient'" in err
    assert "--id" in err


@pytest.fixture(scope="module")
def saved_model(table, tmp_path_factory):
    folder = tmp_path_factory.mktemp("model")
    model, out = folder / "model.joblib", folder / "scores.csv"
    assert (
        main(["detect", str(table), "--model-out", str(model), "--out", str(out)]) == 0
    )
    return model


def test_errors_are_printed_whole(saved_model, table, tmp_path, capsys):
    model = saved_model
    renamed = pd.read_csv(table).rename(columns={"mean radius": "radius"})
    path = tmp_path / "renamed.csv"
    renamed.to_csv(path, index=False)
    capsys.readouterr()
    assert main(["score", str(model), str(path)]) == 2
    err = capsys.readouterr().err
    assert "radius" in err and "mean radius" in err


@pytest.mark.parametrize(
    "option, value, message",
    [
        ("--top", "-1", "an integer of 0 or more"),  # was read as 0: no columns
        ("--random-state", "-5", "an integer of 0 or more"),
        ("--verbose", "-1", "an integer of 0 or more"),
        ("--contamination", "0.7", 'must be "auto" or a number in (0, 0.5]'),
        ("--chunk-rows", "0", "a positive integer"),
        ("--fit-fraction", "0", "a number in (0, 1]"),
    ],
)
def test_bad_option_values_are_named_before_anything_runs(
    table, capsys, option, value, message
):
    with pytest.raises(SystemExit) as stop:
        main(["detect", str(table), option, value])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {option}: " in err and message in err


def test_version(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.startswith("skvae ")


def test_parquet_without_pyarrow_names_the_extra(tmp_path, capsys, monkeypatch):
    for module in ("pyarrow", "pyarrow.parquet"):  # as if not installed
        monkeypatch.setitem(sys.modules, module, None)
    path = tmp_path / "table.parquet"
    path.write_bytes(b"PAR1")
    for chunking in ([], ["--chunk-rows", "10"]):
        assert main(["detect", str(path), *chunking]) == 2
        assert "pip install 'skvae[parquet]'" in capsys.readouterr().err


def test_a_date_column_is_refused_with_the_option_that_leaves_it_out(
    table, tmp_path, capsys
):
    pytest.importorskip("pyarrow")
    frame = pd.read_csv(table)
    frame.insert(0, "day", pd.date_range("2026-01-01", periods=len(frame)))
    path = tmp_path / "dated.parquet"
    frame.to_parquet(path)
    capsys.readouterr()
    assert main(["detect", str(path), "--top", "0"]) == 2
    err = capsys.readouterr().err
    assert "'day' holds dates or times" in err and "--drop" in err
    assert main(["detect", str(path), "--top", "0", "--drop", "day"]) == 0


@pytest.mark.skipif(not hasattr(signal, "SIGPIPE"), reason="no SIGPIPE here")
def test_a_closed_pipe_ends_the_output_quietly(saved_model, table, tmp_path):
    model = saved_model
    big = tmp_path / "big.csv"
    pd.concat([pd.read_csv(table)] * 20).to_csv(big, index=False)  # > a pipe's buffer
    code = "from skvae.__main__ import run; run()"
    process = subprocess.Popen(
        [sys.executable, "-c", code, "score", str(model), str(big)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout.readline().startswith(b"row,score")
    process.stdout.close()  # as `| head -1` does
    process.wait(timeout=120)
    assert process.returncode == -signal.SIGPIPE
    assert process.stderr.read() == b""


def test_score_in_chunks_writes_what_one_pass_writes(saved_model, table, tmp_path):
    whole, chunked = tmp_path / "whole.csv", tmp_path / "chunked.csv"
    assert main(["score", str(saved_model), str(table), "--out", str(whole)]) == 0
    assert (
        main(
            [
                "score",
                str(saved_model),
                str(table),
                "--out",
                str(chunked),
                "--chunk-rows",
                "50",
            ]
        )
        == 0
    )
    pd.testing.assert_frame_equal(pd.read_csv(chunked), pd.read_csv(whole))


def test_results_are_written_as_parquet_or_gzip_when_out_says_so(
    saved_model, table, tmp_path
):
    pytest.importorskip("pyarrow")
    frame = pd.read_csv(table)
    frame.insert(0, "patient", [f"p{i}" for i in range(len(frame))])
    path = tmp_path / "ids.csv"
    frame.to_csv(path, index=False)
    csv, parquet = tmp_path / "scores.csv", tmp_path / "scores.parquet"
    score = ["score", str(saved_model), str(path), "--id", "patient", "--out"]
    assert main([*score, str(csv)]) == 0
    for chunking in ([], ["--chunk-rows", "50"]):
        assert main([*score, str(parquet), *chunking]) == 0
        pd.testing.assert_frame_equal(pd.read_parquet(parquet), pd.read_csv(csv))
    gzipped = tmp_path / "scores.csv.gz"  # compressed, as pandas writes .gz
    assert main([*score, str(gzipped), "--chunk-rows", "50"]) == 0
    pd.testing.assert_frame_equal(pd.read_csv(gzipped), pd.read_csv(csv))


def test_impute_writes_parquet_with_its_dtypes(tmp_path):
    pytest.importorskip("pyarrow")
    rng = np.random.RandomState(0)
    table = pd.DataFrame(
        {
            "count": pd.array(rng.poisson(4, size=150), dtype="Int64"),
            "kind": pd.Categorical(rng.choice(["a", "b", "c"], size=150)),
            "x": rng.normal(size=150),
        }
    )
    table.loc[::7, "count"] = None
    table.loc[::9, "kind"] = None
    path, out = tmp_path / "holes.parquet", tmp_path / "filled.parquet"
    table.to_parquet(path)
    assert main(["impute", str(path), str(out)]) == 0
    filled = pd.read_parquet(out)  # a CSV under a .parquet name fails here
    assert filled.dtypes.to_dict() == table.dtypes.to_dict()
    assert not filled.isna().any().any()
    observed = table.notna()
    pd.testing.assert_frame_equal(filled[observed], table[observed])


def test_detect_in_chunks_trains_with_partial_fit(table, tmp_path):
    out, model_path = tmp_path / "scores.csv", tmp_path / "model.joblib"
    args = ["detect", str(table), "--chunk-rows", "100", "--top", "0"]
    args += ["--passes", "30", "--out", str(out), "--model-out", str(model_path)]
    assert main(args) == 0
    model = joblib.load(model_path)
    assert model.n_iter_ == 30 * 4  # 367 rows in chunks of 100
    result = pd.read_csv(out)
    assert list(result.columns) == ["row", "score", "decision", "is_anomaly"]
    _, y = load_demo(return_X_y=True)
    assert roc_auc_score(y, -result["score"]) > 0.85  # fit: 0.96, 1,000 steps


@pytest.mark.parametrize("passes, calls", [("auto", 100), ("101", 101)])
def test_detect_passes_over_a_small_file(table, tmp_path, passes, calls):
    # 40 rows in chunks of 40: one step a pass, so "auto" stops at its 100
    # passes before 1,000 steps, and an explicit count is not capped.
    small, model_path = tmp_path / "small.csv", tmp_path / "model.joblib"
    pd.read_csv(table).head(40).to_csv(small, index=False)
    args = ["detect", str(small), "--chunk-rows", "40", "--top", "0"]
    args += ["--passes", passes, "--out", str(tmp_path / "out.csv")]
    assert main([*args, "--model-out", str(model_path)]) == 0
    assert joblib.load(model_path).n_iter_ == calls


def test_detect_on_a_sample_of_the_chunks(table, tmp_path):
    out, model_path = tmp_path / "scores.csv", tmp_path / "model.joblib"
    args = ["detect", str(table), "--chunk-rows", "100", "--fit-fraction", "0.5"]
    assert main([*args, "--out", str(out), "--model-out", str(model_path)]) == 0
    model = joblib.load(model_path)
    assert 140 < model.n_samples_seen_ < 230  # about half of 367
    assert len(pd.read_csv(out)) == 367


def test_detect_in_chunks_learns_a_level_first_met_in_a_later_chunk(tmp_path, capsys):
    # The first partial_fit fixed the levels: this stopped at rows 600-799.
    rng = np.random.RandomState(0)
    kind = rng.choice(["x", "y", "z"], size=1000).astype(object)
    kind[700::50] = "w"
    table = pd.DataFrame({"a": rng.normal(size=1000), "kind": kind})
    path, out = tmp_path / "late.csv", tmp_path / "out.csv"
    model_path = tmp_path / "model.joblib"
    table.to_csv(path, index=False)
    args = ["detect", str(path), "--chunk-rows", "200", "--passes", "2"]
    assert main([*args, "--out", str(out), "--model-out", str(model_path)]) == 0
    assert joblib.load(model_path)._encoder.columns_[1].levels == ["w", "x", "y", "z"]
    result = pd.read_csv(out)
    assert len(result) == 1000 and result["score"].notna().all()
    # an ID column is refused before any training, with the options to use
    table.insert(0, "name", [f"n{i}" for i in range(1000)])
    table.to_csv(path, index=False)
    capsys.readouterr()
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "'name' holds 1000 distinct values in 1000 rows" in err and "--id" in err
    assert main([*args, "--id", "name", "--out", str(out)]) == 0


def test_an_error_in_a_later_chunk_names_its_rows(saved_model, table, tmp_path, capsys):
    broken = pd.read_csv(table)
    broken["mean radius"] = broken["mean radius"].astype(object)
    broken.loc[260, "mean radius"] = "n/a?"
    path = tmp_path / "broken.csv"
    broken.to_csv(path, index=False)
    capsys.readouterr()
    args = ["score", str(saved_model), str(path), "--chunk-rows", "100"]
    assert main([*args, "--out", str(tmp_path / "out.csv")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("skvae score: error: rows 200-299: ")
    assert "'mean radius'" in err


def test_na_values_codes_are_read_as_empty_cells(table, saved_model, tmp_path, capsys):
    holes = pd.read_csv(table).iloc[:120]
    holes.iloc[::6, 2] = None
    coded = holes.fillna(-1).astype({holes.columns[3]: object})
    coded.iloc[1::6, 3] = "?"
    holes.iloc[1::6, 3] = None
    empty, with_codes = tmp_path / "empty.csv", tmp_path / "coded.csv"
    holes.to_csv(empty, index=False)
    coded.to_csv(with_codes, index=False)
    # A detector reads the codes as it reads empty cells, whole or in chunks.
    for chunk_args in ([], ["--chunk-rows", "50", "--passes", "2"]):
        outs = tmp_path / "a.csv", tmp_path / "b.csv"
        common = ["--top", "1", *chunk_args]
        assert main(["detect", str(empty), "--out", str(outs[0]), *common]) == 0
        argv = ["detect", str(with_codes), "--out", str(outs[1]), *common]
        assert main([*argv, "--na-values", "-1", "?"]) == 0
        pd.testing.assert_frame_equal(pd.read_csv(outs[1]), pd.read_csv(outs[0]))
    for path, codes in ((empty, []), (with_codes, ["--na-values", "-1", "?"])):
        out = tmp_path / f"scored_{path.name}"
        argv = ["score", str(saved_model), str(path), "--out", str(out)]
        assert main([*argv, "--chunk-rows", "50", *codes]) == 0
    pd.testing.assert_frame_equal(
        pd.read_csv(tmp_path / "scored_coded.csv"),
        pd.read_csv(tmp_path / "scored_empty.csv"),
    )
    # impute fills them, and leaves them as written in the columns it keeps.
    coded["note"] = ["-1", "?", "x"] * 40
    coded.to_csv(with_codes, index=False)
    out = tmp_path / "filled.csv"
    argv = ["impute", str(with_codes), str(out), "--keep", "note"]
    assert main([*argv, "--na-values", "-1", "?"]) == 0
    filled = pd.read_csv(out, keep_default_na=False)
    assert filled["note"].tolist() == coded["note"].tolist()
    modelled = filled.drop(columns="note")
    assert not modelled.isin([-1, "-1", "?", ""]).any().any()
    assert "filled 40 empty cells" in capsys.readouterr().err
