"""A bounded uniform sample of the rows that ``partial_fit`` has seen."""

# License: BSD 3-Clause

import numpy as np

__all__ = ["RowReservoir", "reservoir_capacity"]

# The detector's threshold and score statistics come from this sample after
# each partial_fit call; fit uses every training row for them. 10,000 rows
# place a percentile within ~0.5 percentage points; the cell bound keeps the
# pickle of a wide table's model under ~4 MB.
_RESERVOIR_ROWS = 10_000
_RESERVOIR_CELLS = 2**20
_RESERVOIR_MIN_ROWS = 256


def reservoir_capacity(n_encoded):
    """Rows a reservoir keeps for rows of ``n_encoded`` encoded entries."""
    by_cells = _RESERVOIR_CELLS // max(1, n_encoded)
    return int(np.clip(by_cells, _RESERVOIR_MIN_ROWS, _RESERVOIR_ROWS))


class RowReservoir:
    """Uniform sample without replacement of a stream of rows (Algorithm R).

    After any sequence of :meth:`add` calls, every row seen so far is in
    :attr:`rows` with the same probability, ``capacity / n_seen`` (1 while
    fewer than ``capacity`` rows have come).

    Parameters
    ----------
    capacity : int
        Most rows kept.
    """

    def __init__(self, capacity):
        self.capacity = capacity
        self.n_seen = 0
        self.rows = None

    def add(self, rows, *, rng):
        """Offer the rows of the 2-D array ``rows``, drawing with ``rng``."""
        n_new = rows.shape[0]
        if self.rows is None:
            self.rows = np.empty((0, rows.shape[1]), dtype=rows.dtype)
        free = max(0, min(self.capacity - len(self.rows), n_new))
        if free:
            self.rows = np.concatenate([self.rows, rows[:free]])
        # Row i of the stream (0-based) replaces a random slot with probability
        # capacity / (i + 1); among rows that pick the same slot, the last wins,
        # as it would one row at a time.
        position = self.n_seen + np.arange(free, n_new)
        slot = np.floor(rng.random_sample(len(position)) * (position + 1)).astype(
            np.int64
        )
        keep = slot < self.capacity
        taken, source = slot[keep], np.arange(free, n_new)[keep]
        # numpy does not say which of repeated indices an assignment keeps.
        last = len(taken) - 1 - np.unique(taken[::-1], return_index=True)[1]
        taken, source = taken[last], source[last]
        self.rows[taken] = rows[source]
        self.n_seen += n_new
        return self
