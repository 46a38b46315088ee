"""The VAE module: MLP encoder, Gaussian posterior, MLP decoder, typed likelihoods."""

# License: BSD 3-Clause

import math

import torch
from torch import nn
from torch.nn import functional as F

from skvae._binned_gaussian import binned_gaussian

__all__ = ["TabularVAE", "ACTIVATIONS", "FIND_MISSING", "gaussian_kl"]

ACTIVATIONS = {
    "relu": nn.ReLU,
    "elu": nn.ELU,
    "tanh": nn.Tanh,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "leaky_relu": nn.LeakyReLU,
}

_LOG_2PI = math.log(2.0 * math.pi)
# softplus^-1(1) = log(e - 1), rounded: the raw parameter of a unit scale.
_UNIT_RAW_SCALE = 0.5413
# Range the posterior log-variances are clamped to (see TabularVAE.encode).
_LOGVAR_RANGE = (-12.0, 8.0)
# refined_posterior's Adam rate (latent units) and the draws its ELBO is
# estimated with: measured with VAEImputer (benchmarks/RESULTS.md,
# "Posteriors refined before the importance draws").
_REFINE_LEARNING_RATE = 0.1
_REFINE_DRAWS = 4
# Bins narrower than this share of the scale floor are scored by the midpoint
# rule (density times width): there the two CDFs agree to float32 precision.
_NARROW_BIN = 1e-3
# The default ``observed`` of log_likelihood and forward: find the missing
# cells of ``x`` itself (None would mean "no holes").
FIND_MISSING = object()


def _mlp(sizes, activation, dropout):
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
        layers.append(nn.Linear(n_in, n_out))
        layers.append(ACTIVATIONS[activation]())
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


def gaussian_kl(mu, logvar):
    """KL(N(mu, exp(logvar)) || N(0, I)) per row, summed over latent dimensions."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=-1)


class TabularVAE(nn.Module):
    """Variational autoencoder over an encoded mixed table.

    The input is laid out as ``[numeric | binary | one-hot blocks]``. The decoder
    produces one output per encoded entry: the mean of a Gaussian for each numeric
    column (with a learned per-column scale), a logit for each binary column and
    logits for each categorical block.

    A missing cell is NaN in the input (a categorical block of NaN). The
    likelihood sums the observed
    cells only, and the encoder sees a missing cell as 0 together with an
    indicator per variable (``1`` = not seen), so that it can tell a hole from
    a value.

    Parameters
    ----------
    n_numeric, n_binary : int
        Number of numeric and binary columns.
    category_sizes : sequence of int
        Number of levels of each categorical column.
    n_components : int
        Latent dimension.
    hidden_layer_sizes : sequence of int
        Encoder hidden sizes; the decoder mirrors them.
    activation : str, default="elu"
        Key of ``ACTIVATIONS``.
    dropout : float, default=0.0
        Dropout after each hidden layer.
    n_conditions : int, default=0
        Width of a one-hot condition (class) given to both encoder and decoder.
    min_scale : float, default=1e-2
        Floor on the Gaussian scale of numeric columns, in scaled units; without it a
        column the decoder predicts well gets an unbounded density.
    numeric_half_bins : sequence of float or None, default=None
        Half the spacing of the grid each numeric column's values lie on (counts,
        ratings), in scaled units; 0 for a continuous column. A column
        with a grid is scored with the Gaussian's probability of its bin,
        ``x +- half_bin``, instead of its density, so its log-likelihood is at most
        0 and a repeated exact value cannot earn an ever-growing density.
    """

    def __init__(
        self,
        n_numeric,
        n_binary,
        category_sizes,
        n_components,
        hidden_layer_sizes,
        activation="elu",
        dropout=0.0,
        n_conditions=0,
        min_scale=1e-2,
        numeric_half_bins=None,
    ):
        super().__init__()
        self.n_numeric = int(n_numeric)
        self.n_binary = int(n_binary)
        self.category_sizes = [int(s) for s in category_sizes]
        self.n_components = int(n_components)
        self.n_conditions = int(n_conditions)
        self.min_scale = float(min_scale)
        self.n_features = self.n_numeric + self.n_binary + sum(self.category_sizes)
        self.n_variables = self.n_numeric + self.n_binary + len(self.category_sizes)
        hidden = [int(h) for h in hidden_layer_sizes]

        n_inputs = self.n_features + self.n_conditions
        self.encoder = _mlp([n_inputs, *hidden], activation, dropout)
        encoded_width = hidden[-1] if hidden else n_inputs
        self.posterior = nn.Linear(encoded_width, 2 * self.n_components)
        self.decoder = _mlp(
            [self.n_components + self.n_conditions, *hidden[::-1]], activation, dropout
        )
        decoded_width = hidden[0] if hidden else self.n_components + self.n_conditions
        self.head = nn.Linear(decoded_width, self.n_features)
        # Softplus keeps the scale positive with a gradient that does not vanish as
        # the scale shrinks; softplus^-1(1) starts every column at unit scale.
        self.raw_scale = nn.Parameter(torch.full((self.n_numeric,), _UNIT_RAW_SCALE))
        half_bins = torch.zeros(self.n_numeric)
        if numeric_half_bins is not None:
            half_bins = torch.as_tensor(numeric_half_bins, dtype=torch.float32)
        if half_bins.shape != (self.n_numeric,) or (half_bins < 0).any():
            raise ValueError(
                f"numeric_half_bins needs {self.n_numeric} values >= 0, got "
                f"{numeric_half_bins!r}."
            )
        # Narrow bins take the midpoint rule, a constant log-width added to the
        # density; only wider ones need the CDFs.
        narrow = (half_bins > 0) & (half_bins < _NARROW_BIN * self.min_scale)
        log_width = torch.where(narrow, (2.0 * half_bins).log(), 0.0)
        binned = torch.nonzero(half_bins >= _NARROW_BIN * self.min_scale).ravel()
        self.register_buffer("log_bin_width", log_width, persistent=False)
        # The numeric columns scored through the CDFs and their half-bins.
        self.register_buffer("binned_columns", binned, persistent=False)
        self.register_buffer("half_bin", half_bins[binned], persistent=False)
        # Each encoded entry's variable, and each categorical entry's block: the
        # categorical likelihood is computed block-wise in a fixed number of
        # kernels, however many categorical columns there are.
        n_single = self.n_numeric + self.n_binary
        blocks = torch.repeat_interleave(
            torch.arange(len(self.category_sizes)),
            torch.as_tensor(self.category_sizes, dtype=torch.long),
        )
        self.register_buffer("category_block", blocks, persistent=False)
        sizes = set(self.category_sizes)
        self._uniform_block_size = sizes.pop() if len(sizes) == 1 else 0
        self.register_buffer(
            "feature_variable",
            torch.cat([torch.arange(n_single), n_single + blocks]),
            persistent=False,
        )
        sizes = torch.as_tensor(self.category_sizes, dtype=torch.long)
        starts = torch.cumsum(sizes, 0) - sizes  # each block's first entry
        self.register_buffer(
            "variable_first_entry",
            torch.cat([torch.arange(n_single), n_single + starts]).long(),
            persistent=False,
        )
        # The first layer's weights on the "not seen" indicators, one per
        # variable. They start at zero (and draw no random numbers), so a table
        # without holes trains exactly as it would without them.
        first_width = hidden[0] if hidden else 2 * self.n_components
        self.indicator_weight = nn.Parameter(torch.zeros(first_width, self.n_variables))

    # -- building blocks ---------------------------------------------------------

    def split_missing(self, x):
        """Return ``x`` with missing entries set to 0 and the observed mask.

        The mask is ``(..., n_variables)``, 1 where the variable is observed (not
        NaN), or None when every cell is: complete rows, the common case, skip
        the masking.
        """
        missing = torch.isnan(x)
        if not missing.any():
            return x, None
        x = x.masked_fill(missing, 0.0)
        observed = ~missing.index_select(-1, self.variable_first_entry)
        return x, observed.to(x.dtype)

    def _encoder_layers(self):
        return [*self.encoder, self.posterior]

    def _first_layer(self, x, visible, condition=None):
        """Pre-activation of the encoder's first layer.

        ``visible`` (``(n, n_variables)``, 1 = shown; None = all) says which
        variables the encoder sees, and ``x`` holds the entries of the others
        at 0 (:meth:`split_missing` does that for holes): a hidden variable is
        shown as 0 with its indicator ``1 - visible`` at 1.
        """
        inputs = x
        if condition is not None:
            inputs = torch.cat([inputs, condition], dim=-1)
        first = self._encoder_layers()[0](inputs)
        if visible is None:
            return first
        return first + F.linear(1.0 - visible, self.indicator_weight)

    def _posterior(self, x, visible, condition=None):
        h = self._first_layer(x, visible, condition)
        for layer in self._encoder_layers()[1:]:
            h = layer(h)
        mu, logvar = h.chunk(2, dim=-1)
        # Bounding the log-variance keeps exp() finite early in training.
        return mu, logvar.clamp(*_LOGVAR_RANGE)

    def encode(self, x, condition=None):
        """Return the posterior mean and log-variance, each ``(n, n_components)``.

        ``x`` may hold NaN for missing cells.
        """
        x, observed = self.split_missing(x)
        return self._posterior(x, observed, condition)

    def decode(self, z, condition=None):
        """Return decoder outputs ``(..., n_features)`` for latent codes ``z``."""
        if condition is not None:
            condition = condition.expand(*z.shape[:-1], condition.shape[-1])
            z = torch.cat([z, condition], dim=-1)
        return self.head(self.decoder(z))

    def scale_parameters(self):
        """The parameters of the numeric columns' Gaussian scales.

        They may have to travel much farther than the weights (scale 1 to 0.01),
        so the training loop gives them a learning rate of their own.
        """
        return [self.raw_scale]

    def numeric_scale(self):
        """Gaussian scale of each numeric column, ``(n_numeric,)``."""
        return self.min_scale + F.softplus(self.raw_scale)

    def log_likelihood(self, x, output, observed=FIND_MISSING):
        """Log-likelihood of each variable, ``(..., n_variables)``; 0 where missing.

        ``x`` is the encoded input and ``output`` the decoder output (they broadcast
        against each other). Missing cells (NaN in ``x``) score 0. Callers that
        have split ``x`` already (:meth:`split_missing`) pass its ``observed``
        mask, None when every cell is observed, so that the cells are not looked
        at twice.
        """
        if observed is FIND_MISSING:
            x, observed = self.split_missing(x)
        if x.shape != output.shape:
            x, output = torch.broadcast_tensors(x, output)
        parts = []
        nn_, nb = self.n_numeric, self.n_binary
        if nn_:
            scale = self.numeric_scale()
            z = (x[..., :nn_] - output[..., :nn_]) / scale
            if observed is not None:
                # A hole (or a point-mass cell) scores 0 whatever z is; at 0 it
                # cannot send its bin down the slow far-tail path.
                z = z * observed[..., :nn_]
            cols = self.binned_columns
            if len(cols) == nn_:
                # Every column binned (a table of counts): no density, no indexing.
                parts.append(binned_gaussian(z, self.half_bin, scale))
            else:
                # -z^2/2 - log(scale) - log(2 pi)/2, in one kernel over the rows
                offset = self.log_bin_width - scale.log() - 0.5 * _LOG_2PI
                density = torch.addcmul(offset, z, z, value=-0.5)
                if len(cols):
                    binned = binned_gaussian(
                        z[..., cols], self.half_bin, scale[..., cols]
                    )
                    density = density.index_copy(-1, cols, binned)
                parts.append(density)
        if nb:
            parts.append(
                -F.binary_cross_entropy_with_logits(
                    output[..., nn_ : nn_ + nb],
                    x[..., nn_ : nn_ + nb],
                    reduction="none",
                )
            )
        if self.category_sizes:
            start = nn_ + nb
            parts.append(self._categorical_loglik(x[..., start:], output[..., start:]))
        loglik = parts[0] if len(parts) == 1 else torch.cat(parts, dim=-1)
        return loglik if observed is None else loglik * observed

    def _categorical_loglik(self, onehot, logits):
        """``sum(log_softmax(block) * onehot_block)`` for every categorical block.

        Segment-wise over the concatenated blocks: the log-sum-exp of each block
        is taken around the block's maximum, which needs no gradient. Blocks
        all of one size (the point masses of a numeric table) are a plain
        ``log_softmax`` over a reshaped view, a few times cheaper.
        """
        if self._uniform_block_size:
            # (..., level, block): over a last dimension of 2, log_softmax ran
            # 3-4x slower than over the second-to-last.
            shape = (len(self.category_sizes), self._uniform_block_size)
            logits = logits.unflatten(-1, shape).transpose(-1, -2)
            onehot = onehot.unflatten(-1, shape).transpose(-1, -2)
            return (F.log_softmax(logits, dim=-2) * onehot).sum(dim=-2)
        blocks = self.category_block
        n_blocks = len(self.category_sizes)
        shape = (*logits.shape[:-1], n_blocks)
        index = blocks.expand_as(logits)
        peak = torch.full(shape, -torch.inf, dtype=logits.dtype, device=logits.device)
        peak = peak.scatter_reduce(-1, index, logits.detach(), "amax")
        exp_sum = torch.zeros(shape, dtype=logits.dtype, device=logits.device)
        exp_sum = exp_sum.index_add(-1, blocks, (logits - peak[..., blocks]).exp())
        log_norm = peak + exp_sum.log()
        picked = torch.zeros(shape, dtype=logits.dtype, device=logits.device)
        picked = picked.index_add(-1, blocks, logits * onehot)
        weight = torch.zeros(shape, dtype=logits.dtype, device=logits.device)
        weight = weight.index_add(-1, blocks, onehot)
        return picked - weight * log_norm

    # -- objectives --------------------------------------------------------------

    def forward(
        self,
        x,
        condition=None,
        sample=True,
        hide_rate=0.0,
        observed=FIND_MISSING,
        input_noise=0.0,
        draws=1,
    ):
        """Per-variable log-likelihood ``(n, n_variables)`` and per-row KL ``(n,)``.

        With ``sample=True`` the decoder sees one reparameterised draw from q(z|x)
        (training); otherwise the posterior mean (deterministic scoring).
        ``draws > 1`` (with ``sample``) decodes that many draws per row and
        returns their log-likelihoods ``(n, draws, n_variables)`` and
        ``log q(z | x) - log p(z)`` at each ``(n, draws)``: the terms of the
        importance-weighted bound (:func:`~skvae._training.negative_elbo`).
        ``hide_rate`` is the share of rows in which one cell, chosen at random,
        is hidden from the encoder while the likelihood still scores it: the
        model learns to predict a cell from the others, which explanations by
        masking need. ``input_noise`` adds Gaussian noise of that standard
        deviation (in scaled units) to the numeric cells the encoder sees, not
        to those the likelihood scores: a denoising encoder. Callers that have
        split ``x`` already (:meth:`split_missing`) pass its ``observed`` mask.
        """
        if observed is FIND_MISSING:
            x, observed = self.split_missing(x)
        seen, visible = x, observed
        if hide_rate > 0:
            n_rows = x.shape[0]
            if observed is None:
                observed = x.new_ones((n_rows, self.n_variables))
            pick = torch.randint(0, self.n_variables, (n_rows,), device=x.device)
            rows = torch.rand(n_rows, device=x.device) < hide_rate
            hide = F.one_hot(pick, self.n_variables) * rows.unsqueeze(1)
            visible = observed * (1 - hide).to(observed.dtype)
            seen = x * visible[..., self.feature_variable]
        return self.pass_with_view(
            x, observed, seen, visible, condition, sample, input_noise, draws
        )

    def pass_with_view(
        self,
        x,
        observed,
        seen,
        visible,
        condition=None,
        sample=True,
        input_noise=0.0,
        draws=1,
    ):
        """:meth:`forward` once the encoder's view is chosen: the encoder gets
        ``seen`` with its ``visible`` mask (``None``: every cell), the
        likelihood scores ``x`` over its ``observed`` cells. Training schemes
        that hide cells their own way (benchmarks' levers) call it directly.
        """
        if input_noise > 0 and self.n_numeric:
            seen = self._with_numeric_noise(seen, visible, input_noise)
        mu, logvar = self._posterior(seen, visible, condition)
        if sample and draws > 1:
            return self._drawn_terms(x, observed, mu, logvar, condition, draws)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp() if sample else mu
        output = self.decode(z, condition)
        return self.log_likelihood(x, output, observed), gaussian_kl(mu, logvar)

    def _drawn_terms(self, x, observed, mu, logvar, condition, draws):
        """Log-likelihoods ``(n, draws, n_variables)`` of ``x`` at ``draws``
        reparameterised codes from each row's posterior, and ``log q(z | x) -
        log p(z)`` at each ``(n, draws)``, the single-draw estimate of the KL."""
        eps = torch.randn(
            (mu.shape[0], draws, mu.shape[1]), dtype=mu.dtype, device=mu.device
        )
        z = mu.unsqueeze(1) + (0.5 * logvar).exp().unsqueeze(1) * eps
        if condition is not None:
            condition = condition.unsqueeze(1)
        if observed is not None:
            observed = observed.unsqueeze(1)
        output = self.decode(z, condition)
        loglik = self.log_likelihood(x.unsqueeze(1), output, observed)
        # log N(z; mu, sigma^2) - log N(z; 0, I); the 2 pi terms cancel.
        log_ratio = 0.5 * (z.pow(2) - eps.pow(2)).sum(-1)
        return loglik, log_ratio - 0.5 * logvar.sum(-1, keepdim=True)

    def _with_numeric_noise(self, x, visible, sd):
        """``x`` with N(0, sd^2) noise on its numeric cells; cells hidden from
        the encoder (``visible`` 0: holes, point-mass cells) stay 0."""
        n_numeric = self.n_numeric
        noise = torch.randn_like(x[:, :n_numeric]) * sd
        if visible is not None:
            noise = noise * visible[:, :n_numeric]
        return torch.cat([x[:, :n_numeric] + noise, x[:, n_numeric:]], dim=1)

    def posterior_mean_pass(self, x):
        """Per-variable log-likelihood ``(n, n_variables)`` at the posterior mean,
        and the posterior's mean and log-variance, each ``(n, n_components)``.

        ``x`` may hold NaN for missing cells. ``forward(x, sample=False)``
        returns the same log-likelihood, with the KL in place of the posterior.
        """
        x, observed = self.split_missing(x)
        mu, logvar = self._posterior(x, observed)
        return self.log_likelihood(x, self.decode(mu), observed), mu, logvar

    def refined_posterior(self, x, observed, mu, logvar, eps, steps):
        """Each row's posterior after ``steps`` Adam steps up its ELBO.

        Semi-amortised inference (Kim et al., 2018): the encoder's ``mu`` and
        ``logvar`` are a first guess, made in one pass for every row; here
        they move, row by row, towards the posterior that best explains the
        row's ``observed`` cells under the trained decoder, whose weights do
        not change. The ELBO is estimated at the codes ``mu + sigma * eps``
        for the ``(m, n_components)`` standard-normal draws ``eps``, shared
        by all rows and fixed across steps, so the result is deterministic,
        and a row moves as it would alone (Adam's steps are elementwise).
        Autograd runs here even under ``torch.inference_mode``. Returns the
        refined ``(mu, logvar)``.
        """
        if steps == 0:
            return mu, logvar
        with torch.inference_mode(False), torch.enable_grad():
            # Tensors made under inference_mode cannot enter autograd; copies can.
            x, eps = x.clone(), eps.clone()
            observed = None if observed is None else observed.clone().unsqueeze(1)
            mu = mu.clone().requires_grad_(True)
            logvar = logvar.clone().requires_grad_(True)
            optimizer = torch.optim.Adam([mu, logvar], lr=_REFINE_LEARNING_RATE)
            for _ in range(steps):
                z = mu.unsqueeze(1) + (0.5 * logvar).exp().unsqueeze(1) * eps
                output = self.decode(z)
                loglik = self.log_likelihood(x.unsqueeze(1), output, observed)
                loss = (gaussian_kl(mu, logvar) - loglik.sum(-1).mean(1)).sum()
                mu.grad, logvar.grad = torch.autograd.grad(loss, [mu, logvar])
                optimizer.step()
                with torch.no_grad():
                    logvar.clamp_(*_LOGVAR_RANGE)
        return mu.detach(), logvar.detach()

    def _importance_draws(self, x, eps, refine_steps=0, proposal_scale=1.0):
        """Codes drawn from each row's posterior and their importance weights.

        ``eps`` holds ``k`` standard-normal draws ``(k, n_components)`` shared
        by all rows. The proposal ``q`` is the posterior with its standard
        deviations times ``proposal_scale`` (1: the posterior itself; wider
        covers the tails that an encoder's too narrow posterior misses).
        Returns the decoder outputs at ``z = mu + proposal_scale * sigma *
        eps``, ``(n, k, n_features)``, and the log-weights ``log p(x_obs | z)
        + log p(z) - log q(z | x)``, ``(n, k)``. ``x`` may hold NaN for missing
        cells, which the weights leave out. With ``refine_steps``, the
        posterior is :meth:`refined_posterior`'s, on the first
        ``_REFINE_DRAWS`` of ``eps``.
        """
        x, observed = self.split_missing(x)
        mu, logvar = self._posterior(x, observed)
        mu, logvar = self.refined_posterior(
            x, observed, mu, logvar, eps[:_REFINE_DRAWS], refine_steps
        )
        log_std = 0.5 * logvar + math.log(proposal_scale)
        z = mu.unsqueeze(1) + log_std.exp().unsqueeze(1) * eps.unsqueeze(0)
        output = self.decode(z)  # (n, k, n_features)
        if observed is not None:
            observed = observed.unsqueeze(1)
        log_px = self.log_likelihood(x.unsqueeze(1), output, observed).sum(-1)
        log_pz = (-0.5 * z.pow(2) - 0.5 * _LOG_2PI).sum(-1)
        log_qz = (-0.5 * eps.pow(2) - 0.5 * _LOG_2PI).sum(-1) - log_std.sum(
            -1, keepdim=True
        )
        return output, log_px + log_pz - log_qz

    def importance_weighted_bound(self, x, eps):
        """Importance-weighted bound on log p(x) per row (Burda et al., 2016).

        ``eps`` holds ``k`` standard-normal draws ``(k, n_components)`` shared by all
        rows, so the bound of a row does not depend on the other rows in the batch.
        Returns ``(n,)``.
        """
        _, log_w = self._importance_draws(x, eps)
        return torch.logsumexp(log_w, dim=1) - math.log(eps.shape[0])

    def conditional_output(self, x, eps, refine_steps=0, proposal_scale=1.0):
        """Decoder output of the importance-weighted estimate of the missing
        cells given the observed ones (MIWAE, Mattei & Frellsen, 2019).

        The ``k`` codes of :meth:`_importance_draws` are weighted by their
        self-normalised importance weights, and the decoder's distributions
        there averaged with those weights: for numeric entries the mean, for
        binary entries and categorical blocks the probabilities, returned as
        logits (log-probabilities), so that :meth:`mode` gives the estimate.
        ``refine_steps`` and ``proposal_scale`` are :meth:`_importance_draws`'.
        Returns ``(n, n_features)``.
        """
        output, log_w = self._importance_draws(x, eps, refine_steps, proposal_scale)
        log_w = F.log_softmax(log_w, dim=1).unsqueeze(-1)  # (n, k, 1)
        nn_, nb = self.n_numeric, self.n_binary
        parts = []
        if nn_:
            parts.append((log_w.exp() * output[..., :nn_]).sum(1))
        if nb:
            logits = output[..., nn_ : nn_ + nb]
            log_p = torch.logsumexp(log_w + F.logsigmoid(logits), dim=1)
            log_not_p = torch.logsumexp(log_w + F.logsigmoid(-logits), dim=1)
            parts.append(log_p - log_not_p)
        start = nn_ + nb
        for size in self.category_sizes:
            block = F.log_softmax(output[..., start : start + size], dim=-1)
            parts.append(torch.logsumexp(log_w + block, dim=1))
            start += size
        return torch.cat(parts, dim=-1)

    def importance_resampled_output(
        self, x, eps, generator=None, refine_steps=0, proposal_scale=1.0
    ):
        """Decoder output at one of the ``k`` codes of :meth:`_importance_draws`
        per row, drawn with probability its normalised weight (sampling
        importance resampling): a draw from a closer approximation of the
        posterior than the encoder's. ``refine_steps`` and ``proposal_scale``
        are :meth:`_importance_draws`'. Returns ``(n, n_features)``.
        """
        output, log_w = self._importance_draws(x, eps, refine_steps, proposal_scale)
        probs = F.softmax(log_w, dim=1)
        picked = torch.multinomial(probs, 1, generator=generator).squeeze(1)
        return output[torch.arange(output.shape[0], device=output.device), picked]

    def variable_slices(self):
        """Slice of the encoded input that each variable occupies, in order."""
        slices = [slice(i, i + 1) for i in range(self.n_numeric + self.n_binary)]
        start = self.n_numeric + self.n_binary
        for size in self.category_sizes:
            slices.append(slice(start, start + size))
            start += size
        return slices

    def conditional_log_likelihood(self, x, condition=None, groups=None):
        """Log-likelihood of each variable given the others, ``(n, n_variables)``.

        For variable ``j`` the row is encoded with ``j`` hidden, as a missing
        cell is, so that ``j`` cannot pull the posterior towards itself, and
        ``j``'s actual value is scored under the decoder at that posterior mean.
        ``groups`` (``(n_variables,)`` integers, default: each variable alone)
        hides the variables of one group together: ``j`` is scored given the
        variables outside its group, as a numeric column's value and its
        point-mass block are. A missing variable scores 0.

        That is one network pass per group, but two things make it cheap: the
        first layer's pre-activation of the row with a group hidden is the
        row's own plus a change from the group's entries and indicators only,
        and ``j``'s likelihood needs only ``j``'s head outputs. The cost per
        row is linear in the number of variables, not quadratic.
        """
        n_variables = self.n_variables
        if groups is None:
            groups = torch.arange(n_variables, device=x.device)
        groups = torch.as_tensor(groups, device=x.device)
        n_groups = int(groups.max()) + 1
        feature_group = groups[self.feature_variable]
        layers = self._encoder_layers()
        first, rest = layers[0], nn.Sequential(*layers[1:])
        x, observed = self.split_missing(x)
        if observed is None:
            observed = x.new_ones((x.shape[0], n_variables))
        pre = self._first_layer(x, observed, condition)  # (n, h)
        weight = first.weight[:, : self.n_features].T  # (n_features, h)
        # Hiding a group takes its entries out and sets its indicators (where
        # they were seen).
        change = -x.unsqueeze(-1) * weight  # (n, n_features, h)
        shown = observed.unsqueeze(-1) * self.indicator_weight.T  # (n, n_var, h)
        shifts = shown.new_zeros((x.shape[0], n_groups, shown.shape[-1]))
        shifts = shifts.index_add(1, groups, shown).index_add(1, feature_group, change)
        mu, _ = rest(pre.unsqueeze(1) + shifts).chunk(2, dim=-1)  # (n, n_groups, k)
        z = mu
        if condition is not None:
            z = torch.cat([mu, condition.unsqueeze(1).expand(-1, n_groups, -1)], -1)
        hidden = self.decoder(z)[:, feature_group]  # (n, n_features, h)
        output = (hidden * self.head.weight).sum(-1) + self.head.bias
        return self.log_likelihood(x, output, observed)

    def sample(self, n, generator=None, condition=None):
        """Draw ``n`` encoded rows from the generative model, ``(n, n_features)``."""
        device = self.raw_scale.device
        z = torch.randn(n, self.n_components, generator=generator, device=device)
        return self.draw(self.decode(z, condition), generator)

    def draw(self, output, generator=None):
        """One encoded row drawn from each decoder output ``(n, n_features)``.

        Numeric entries are Gaussian draws, binary entries 0/1 and categorical
        blocks one-hot.
        """
        n, device = output.shape[0], output.device
        nn_, nb = self.n_numeric, self.n_binary
        parts = []
        if nn_:
            noise = torch.randn(n, nn_, generator=generator, device=device)
            parts.append(
                output[:, :nn_] + noise.to(output.dtype) * self.numeric_scale()
            )
        if nb:
            probs = torch.sigmoid(output[:, nn_ : nn_ + nb])
            parts.append(torch.bernoulli(probs, generator=generator))
        start = nn_ + nb
        for size in self.category_sizes:
            probs = F.softmax(output[:, start : start + size], dim=-1)
            codes = torch.multinomial(probs, 1, generator=generator).squeeze(1)
            parts.append(F.one_hot(codes, size).to(output.dtype))
            start += size
        return torch.cat(parts, dim=1)

    def probabilities(self, output):
        """Decoder output ``(n, n_features)`` with binary entries as
        probabilities and categorical blocks as their levels' probabilities
        (numeric means unchanged): the form in which estimates average."""
        nn_, nb = self.n_numeric, self.n_binary
        parts = [output[:, :nn_]] if nn_ else []
        if nb:
            parts.append(torch.sigmoid(output[:, nn_ : nn_ + nb]))
        start = nn_ + nb
        for size in self.category_sizes:
            parts.append(F.softmax(output[:, start : start + size], dim=1))
            start += size
        return torch.cat(parts, dim=1)

    def mode(self, output, probabilities=False):
        """Most likely encoded row for each decoder output ``(n, n_features)``.

        With ``probabilities``, ``output`` holds binary and categorical entries
        as probabilities (:meth:`probabilities`), not logits.
        """
        nn_, nb = self.n_numeric, self.n_binary
        parts = [output[:, :nn_]] if nn_ else []
        if nb:
            cut = 0.5 if probabilities else 0.0
            parts.append((output[:, nn_ : nn_ + nb] >= cut).to(output.dtype))
        start = nn_ + nb
        for size in self.category_sizes:
            codes = output[:, start : start + size].argmax(dim=1)
            parts.append(F.one_hot(codes, size).to(output.dtype))
            start += size
        return torch.cat(parts, dim=1)
