import joblib
import numpy as np
import pandas as pd
import pytest

from skvae.__main__ import main
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
        "anomaly",
        "top_columns",
    ]
    assert len(result) == 367
    assert result["anomaly"].sum() == pytest.approx(37, abs=1)
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
    filled = pd.read_csv(out)
    assert filled.shape == holes.shape and not filled.isna().any().any()
    # observed cells come back as they were
    np.testing.assert_allclose(filled.iloc[1::6], holes.iloc[1::6])
    assert "filled 20 empty cells" in capsys.readouterr().err
