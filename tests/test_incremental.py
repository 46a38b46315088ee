import numpy as np
import pytest

from skvae._incremental import RowReservoir, reservoir_capacity


def _stream_into(reservoir, n_rows, chunk_rows, rng):
    rows = np.arange(n_rows, dtype=np.float32)[:, None]
    for start in range(0, n_rows, chunk_rows):
        stop = start + chunk_rows
        reservoir.add(rows[start:stop], rng=rng)
    return reservoir


def test_keeps_every_row_until_full():
    reservoir = _stream_into(RowReservoir(50), 30, 7, np.random.RandomState(0))
    np.testing.assert_array_equal(reservoir.rows[:, 0], np.arange(30))
    assert reservoir.n_seen == 30


@pytest.mark.parametrize("chunk_rows", [1, 13, 1000])
def test_each_row_is_kept_with_the_same_probability(chunk_rows):
    # 300 streams of 500 rows into 50 slots: each row should be kept in ~30
    # of them (binomial sd ~5); the first and last rows alike.
    capacity, n_rows, n_streams = 50, 500, 300
    rng = np.random.RandomState(0)
    kept = np.zeros(n_rows)
    for _ in range(n_streams):
        reservoir = _stream_into(RowReservoir(capacity), n_rows, chunk_rows, rng)
        assert reservoir.rows.shape == (capacity, 1)
        assert len(np.unique(reservoir.rows)) == capacity
        kept[reservoir.rows[:, 0].astype(int)] += 1
    expected = n_streams * capacity / n_rows
    assert abs(kept.mean() - expected) < 1e-9
    assert kept.std() < 1.3 * np.sqrt(expected * (1 - capacity / n_rows))
    for block in np.array_split(kept, 10):  # early and late rows alike
        assert abs(block.mean() - expected) < 3.5


def test_capacity_is_bounded_by_cells_and_rows():
    assert reservoir_capacity(10) == 10_000
    assert reservoir_capacity(1_000) == 2**20 // 1_000
    assert reservoir_capacity(100_000) == 256
