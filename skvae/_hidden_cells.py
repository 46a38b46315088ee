"""How well a network fills validation cells hidden from it: what the
imputer's early stopping watches."""

# License: BSD 3-Clause

import torch

__all__ = ["HiddenCellCheck"]

# Each observed validation cell is hidden in one of this many copies of its
# row, so that every cell is checked once per epoch and a copy still shows
# the encoder most of its row (four fifths, as a 20% hole rate would).
_COPIES = 5
# Validation rows checked at most (a seeded sample of them), so that the
# check stays cheap beside an epoch of training on large tables.
_MAX_ROWS = 2000


class HiddenCellCheck:
    """Mean squared error of a network's fills of hidden validation cells.

    Every observed cell of (a seeded sample of at most ``_MAX_ROWS``) the
    validation rows is hidden, as a hole, in one of ``_COPIES`` copies of its
    row, chosen at random with ``seed``. Calling the check on a network encodes
    the copies, decodes their posterior means and returns the negative mean,
    over the hidden cells, of each cell's squared error: a numeric cell's in
    scaled units, a binary or categorical cell's Brier score (the squared
    distance between the levels' probabilities and the level seen). Higher is
    better, as for the validation ELBO it replaces.

    Parameters
    ----------
    module : TabularVAE
        The network (its layout of encoded entries and variables).
    X_val : Tensor of shape (n_rows, n_features)
        Encoded validation rows, NaN where a cell is missing.
    seed : int
        Seed of the row sample and of which copy hides each cell.

    Attributes
    ----------
    n_hidden : int
        Number of cells checked; 0 when the rows have no observed cell, and
        the check is then of no use.
    """

    def __init__(self, module, X_val, seed):
        generator = torch.Generator().manual_seed(seed)
        if X_val.shape[0] > _MAX_ROWS:
            rows = torch.randperm(X_val.shape[0], generator=generator)[:_MAX_ROWS]
            X_val = X_val.index_select(0, rows.sort().values.to(X_val.device))
        truth, observed = module.split_missing(X_val)
        n_rows, n_variables = X_val.shape[0], module.n_variables
        if observed is None:
            observed = truth.new_ones((n_rows, n_variables))
        copy = torch.randint(0, _COPIES, (n_rows, n_variables), generator=generator)
        copy = copy.to(X_val.device)
        hidden = torch.stack([(copy == c) & observed.bool() for c in range(_COPIES)])
        hidden = hidden.reshape(_COPIES * n_rows, n_variables)
        shown = hidden.any(dim=1)  # copies with nothing hidden check nothing
        hidden = hidden[shown]
        inputs = X_val.repeat(_COPIES, 1)[shown]
        self._inputs = inputs.masked_fill(hidden[:, module.feature_variable], torch.nan)
        self._truth = truth.repeat(_COPIES, 1)[shown]
        self._hidden = hidden.to(truth.dtype)
        self.n_hidden = int(self._hidden.sum())
        # A binary variable's one entry holds p - y; its Brier score over the
        # two levels is twice that squared, as a two-level block's would be.
        weight = torch.ones(module.n_features, dtype=truth.dtype)
        weight[module.n_numeric : module.n_numeric + module.n_binary] = 2.0
        self._entry_weight = weight.to(X_val.device)

    def __call__(self, module):
        """The negative mean squared error of ``module``'s fills (a float)."""
        with torch.inference_mode():
            mu, _ = module.encode(self._inputs)
            estimate = module.probabilities(module.decode(mu))
            error = (estimate - self._truth).pow(2) * self._entry_weight
            per_variable = error.new_zeros(self._hidden.shape)
            per_variable.index_add_(1, module.feature_variable, error)
            return -float((per_variable * self._hidden).sum()) / self.n_hidden
