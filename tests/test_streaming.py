import gzip

import numpy as np
import pandas as pd
import pytest

from skvae._streaming import ChunkError, TableChunks, csv_separator, for_each_chunk


@pytest.fixture
def table():
    rng = np.random.RandomState(0)
    frame = pd.DataFrame(
        {
            "x": rng.randn(250),
            "code": ["a", "b"] * 50 + ["1", "2"] * 75,  # text that later looks numeric
            "flag": rng.rand(250) > 0.5,
        }
    )
    frame.loc[[3, 120], "x"] = np.nan
    return frame


def test_csv_numbers_are_read_as_the_doubles_they_name(tmp_path):
    # pandas' default parser reads about a third of these one unit in the last
    # place off
    numbers = np.random.RandomState(0).randn(300)
    path = tmp_path / "numbers.csv"
    pd.DataFrame({"x": numbers}).to_csv(path, index=False)
    read = pd.concat(TableChunks(path, chunk_rows=100))["x"].to_numpy()
    np.testing.assert_array_equal(read, numbers)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_chunks_hold_every_row_once_indexed_by_file_row(table, tmp_path, suffix):
    if suffix == ".parquet":
        pytest.importorskip("pyarrow")
    path = tmp_path / f"table{suffix}"
    table.to_csv(path, index=False) if suffix == ".csv" else table.to_parquet(path)
    chunks = TableChunks(path, chunk_rows=100)
    for _ in range(2):  # each iteration reads the file again
        parts = list(chunks)
        assert [len(p) for p in parts] == [100, 100, 50]
        assert [p.index[0] for p in parts] == [0, 100, 200]
        pd.testing.assert_frame_equal(pd.concat(parts), table, check_dtype=False)
    assert chunks.n_rows == 250
    # the column that was text in the first chunk stays text
    assert parts[2]["code"].tolist()[:2] == ["1", "2"]


@pytest.mark.parametrize("separator", [";", "\t", "|"])
def test_chunks_of_files_with_another_column_separator(table, tmp_path, separator):
    path = tmp_path / "table.csv"
    table.to_csv(path, index=False, sep=separator)
    parts = list(TableChunks(path, chunk_rows=100))
    pd.testing.assert_frame_equal(pd.concat(parts), table, check_dtype=False)


@pytest.mark.parametrize(
    "header, separator",
    [
        ("a,b;c\n", ","),  # a comma decides, whatever else the names hold
        ("a;b;c\n", ";"),
        ("a\tb\n", "\t"),
        ("a|b|c;d\n", "|"),
        ("a\n", ","),  # one column
        ("", ","),  # empty file: pandas says what is wrong
    ],
)
def test_csv_separator_is_read_from_the_header(tmp_path, header, separator):
    path = tmp_path / "table.csv"
    path.write_text(header + "1\n")
    assert csv_separator(path) == separator
    gz = tmp_path / "table.csv.gz"
    with gzip.open(gz, "wt") as file:
        file.write(header)
    assert csv_separator(gz) == separator


def test_an_error_names_the_rows_of_its_chunk(table, tmp_path):
    path = tmp_path / "table.csv"
    table.to_csv(path, index=False)

    def fail_on_late_rows(chunk):
        if chunk.index[0] >= 100:
            raise ValueError("Column 'x' holds 'oops'")

    seen = []
    with pytest.raises(ChunkError, match=r"^rows 100-199: Column 'x' holds 'oops'"):
        for_each_chunk(
            TableChunks(path, 100),
            lambda c: (seen.append(len(c)), fail_on_late_rows(c)),
            desc="test",
        )
    assert seen == [100, 100]


def test_progress_lines_without_a_bar(table, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "tqdm.auto", None)
    path = tmp_path / "table.csv"
    table.to_csv(path, index=False)
    for_each_chunk(TableChunks(path, 100), lambda c: None, desc="reading", verbose=1)
    assert capsys.readouterr().err.splitlines() == [
        "reading: 100 rows",
        "reading: 200 rows",
        "reading: 250 rows",
    ]


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_na_values_are_read_as_holes_in_the_columns_named(tmp_path, suffix):
    if suffix == ".parquet":
        pytest.importorskip("pyarrow")
    table = pd.DataFrame(
        {"count": [3, -1, 4, 5], "kind": ["a", "?", "b", "-1"], "id": [-1, 2, 3, 4]}
    )
    path = tmp_path / f"table{suffix}"
    table.to_csv(path, index=False) if suffix == ".csv" else table.to_parquet(path)
    codes = {"count": ["-1", "?"], "kind": ["-1", "?"]}
    read = pd.concat(TableChunks(path, chunk_rows=3, na_values=codes))
    assert read["count"].isna().tolist() == [False, True, False, False]
    assert read["kind"].isna().tolist() == [False, True, False, True]
    assert read["id"].tolist() == [-1, 2, 3, 4]
