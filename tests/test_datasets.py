import functools
import http.server
import threading

import numpy as np
import pandas as pd
import pytest

from skvae.datasets import get_data_home, load_adbench, load_demo


def test_load_demo_is_benign_rows_plus_ten_anomalies():
    bunch = load_demo()
    assert isinstance(bunch.data, pd.DataFrame)
    assert bunch.data.shape == (367, 30)
    assert int(bunch.target.sum()) == 10
    assert list(bunch.data.columns) == bunch.feature_names
    X, y = load_demo(return_X_y=True, as_frame=False)
    assert isinstance(X, np.ndarray) and X.shape == (367, 30)
    np.testing.assert_array_equal(y, bunch.target.to_numpy())


def _write_npz(path, seed):
    rng = np.random.RandomState(seed)
    X, y = rng.normal(size=(12, 3)), (rng.uniform(size=12) < 0.2).astype(float)
    np.savez(path, X=X, y=y)
    return X, y


def test_load_adbench_reads_a_local_file(tmp_path, seed):
    X, y = _write_npz(tmp_path / "4_breastw.npz", seed)
    bunch = load_adbench("4_breastw", data_home=tmp_path, download=False)
    np.testing.assert_array_equal(bunch.data, X)
    np.testing.assert_array_equal(bunch.target, y.astype(int))
    X2, _ = load_adbench("4_breastw.npz", data_home=tmp_path, return_X_y=True)
    np.testing.assert_array_equal(X2, X)


def test_data_home_comes_from_the_environment(tmp_path, monkeypatch, seed):
    monkeypatch.setenv("SKVAE_DATA", str(tmp_path))
    assert get_data_home() == tmp_path
    _write_npz(tmp_path / "14_glass.npz", seed)
    assert load_adbench("14_glass", download=False).data.shape == (12, 3)


def test_missing_file_without_download_is_a_clear_error(tmp_path):
    with pytest.raises(
        FileNotFoundError, match="'9_nothing' is not in .*download=False"
    ):
        load_adbench("9_nothing", data_home=tmp_path, download=False)


@pytest.fixture
def loopback_server(tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    handler = functools.partial(
        http.server.SimpleHTTPRequestHandler, directory=str(served)
    )
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield served, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_download_from_a_loopback_server(tmp_path, loopback_server, seed):
    served, url = loopback_server
    X, _ = _write_npz(served / "39_vertebral.npz", seed)
    home = tmp_path / "home"
    bunch = load_adbench("39_vertebral", data_home=home, base_url=url)
    np.testing.assert_array_equal(bunch.data, X)
    assert (home / "39_vertebral.npz").is_file()  # cached for next time


def test_failed_download_says_what_to_do(tmp_path, loopback_server):
    _, url = loopback_server
    with pytest.raises(OSError, match="Could not download .*copy the file"):
        load_adbench("404_missing", data_home=tmp_path / "home", base_url=url)
    assert not list((tmp_path / "home").glob("*"))
