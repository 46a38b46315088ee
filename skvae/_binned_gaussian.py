"""The probability of a Gaussian's bin, ``x +- step / 2``, with its gradient,
exact in float32 from the centre of the bell to 10^12 scales out.

Grid columns (counts, ratings) are scored by their bin's probability rather
than a density, which a shrinking scale would make unbounded.
"""

# License: BSD 3-Clause

import math

import torch

__all__ = ["binned_gaussian"]

_LOG_2 = math.log(2.0)
_LOG_2PI = math.log(2.0 * math.pi)
_SQRT_HALF = math.sqrt(0.5)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
# Below this many standard deviations erfc underflows float32 (~1e-33 at -12):
# bins reaching there are scored with log_ndtr.
_ERFC_TAIL = -12.0


def _log_cdf_gap(centre, half_width):
    """``log Phi(lower) - log Phi(upper)`` (< 0) for the bin ``centre +-
    half_width`` far in the left tail, clamped below 0 where float32 cannot
    tell the CDFs apart.

    Each log-CDF is about ``-z^2 / 2`` there, so their difference cancelled
    to noise in float32 (a cell 10^6 scales out made training's loss NaN).
    With ``log erfc(t) = log erfcx(t) - t^2`` the squares cancel exactly:
    ``t_l^2 - t_u^2 = -2 centre half_width``, taken from the centre and width
    themselves (far enough out, ``centre +- half_width`` round to one float).
    """
    erfcx = torch.special.erfcx
    gap = (
        erfcx((centre - half_width) * -_SQRT_HALF).log()
        - erfcx((centre + half_width) * -_SQRT_HALF).log()
        + 2.0 * half_width * centre
    )
    return gap.clamp(max=-1e-12)


def _log_bin_probability_tail(centre, half_width):
    """``log(Phi(upper) - Phi(lower))`` for bins reaching far into the left tail.

    ``log_ndtr`` is accurate there but slow (~35 ns a cell on one core, 40x
    ``erfc``), so it only sees the few cells beyond ``_ERFC_TAIL``.
    """
    gap = _log_cdf_gap(centre, half_width)
    upper = torch.special.log_ndtr(centre + half_width)
    return upper + torch.log(-torch.expm1(gap))


def _tail_edge_slopes(centre, half_width):
    """``phi(upper) / P`` and ``phi(lower) / P`` for ``P = Phi(upper) -
    Phi(lower)``, the slopes of ``log P`` at the bin's edges, far in the tail.

    From the inverse Mills ratio ``phi(x) / Phi(x) = sqrt(2 / pi) /
    erfcx(-x / sqrt 2)``, which needs no difference of large numbers: the
    written-out slopes of :class:`_BinnedGaussian` (``exp(log phi - log P)``)
    overflow there in float32.
    """
    gap = _log_cdf_gap(centre, half_width)
    erfcx = torch.special.erfcx
    mills_upper = _SQRT_2_OVER_PI / erfcx((centre + half_width) * -_SQRT_HALF)
    mills_lower = _SQRT_2_OVER_PI / erfcx((centre - half_width) * -_SQRT_HALF)
    return mills_upper / -torch.expm1(gap), mills_lower / torch.expm1(-gap)


class _BinnedGaussian(torch.autograd.Function):
    """Log-probability of the bins ``z +- half_width`` under a standard normal.

    Reflected into the left tail (``-|z|``), the bin's probability is
    ``(erfc(-upper / sqrt 2) - erfc(-lower / sqrt 2)) / 2``: in float32 within
    ~0.01 of the exact value down to bins of 1e-5 of the scale (narrower ones
    never come here; ``TabularVAE`` gives them the midpoint rule). Cells whose
    bin reaches below ``_ERFC_TAIL`` standard deviations, where ``erfc``
    underflows, take ``log_ndtr`` and ``erfcx`` (:func:`_log_bin_probability_tail`,
    :func:`_tail_edge_slopes`). The gradient is written out (the normal
    density over the bin's probability at either edge): autograd through
    ``log_ndtr`` made this the training step's costliest part on tables of
    counts.
    """

    @staticmethod
    def forward(ctx, z, half_width):
        centre = -z.abs()
        lower = centre - half_width
        upper = centre + half_width
        difference = torch.special.erfc(upper * -_SQRT_HALF)
        difference -= torch.special.erfc(lower * -_SQRT_HALF)
        tiny = torch.finfo(difference.dtype).tiny
        out = difference.clamp_(min=tiny).log_().sub_(_LOG_2)
        far = lower < _ERFC_TAIL
        # Kept for backward, which then asks a GPU for no second sync.
        ctx.any_far = bool(far.any())
        if ctx.any_far:
            out[far] = _log_bin_probability_tail(centre[far], half_width[far])
        ctx.save_for_backward(z, half_width, lower, upper, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        z, half_width, lower, upper, out = ctx.saved_tensors
        # d out / d edge = normal density at the edge / the bin's probability
        shift = out.add(0.5 * _LOG_2PI).neg_()
        at_upper = torch.addcmul(shift, upper, upper, value=-0.5).exp_()
        at_lower = torch.addcmul(shift, lower, lower, value=-0.5).exp_()
        if ctx.any_far:
            far = lower < _ERFC_TAIL
            slopes = _tail_edge_slopes(-z[far].abs(), half_width[far])
            at_upper[far], at_lower[far] = slopes
        at_upper.mul_(grad)
        at_lower.mul_(grad)
        grad_z = (at_lower - at_upper).mul_(z.sign())
        return grad_z, at_upper.add_(at_lower)


def binned_gaussian(z, half_bin, scale):
    """Log-probability of the bins ``x +- half_bin`` under the columns' Gaussians.

    ``z`` is the standardised value ``(x - mean) / scale``.
    """
    return _BinnedGaussian.apply(z, (half_bin / scale).expand_as(z))
