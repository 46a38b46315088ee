import math

import torch

from skvae._binned_gaussian import binned_gaussian


def test_binned_gaussian_values_and_gradients_near_and_far_out():
    # Standardised values on both sides, inside the bin and beyond the 12-sd
    # point where the erfc form hands over to log_ndtr.
    z = torch.tensor(
        [[-40.0, -12.5, -3.0, -0.2, 0.0, 0.1, 2.0, 11.9, 13.0, 60.0]],
        dtype=torch.float64,
    )
    half_width = torch.full_like(z, 0.3)
    loglik = binned_gaussian(z, half_width, torch.ones(()))
    # log(Phi(b) - Phi(a)) through the left tail, where log_ndtr is exact.
    upper = torch.special.log_ndtr(-z.abs() + 0.3)
    lower = torch.special.log_ndtr(-z.abs() - 0.3)
    expected = upper + torch.log1p(-torch.exp(lower - upper))
    torch.testing.assert_close(loglik, expected, rtol=1e-9, atol=1e-9)
    assert torch.autograd.gradcheck(
        lambda z, width: binned_gaussian(z, width, torch.ones(())),
        (z.clone().requires_grad_(), half_width.clone().requires_grad_()),
    )


def test_binned_gaussian_gradients_stay_exact_in_float32_far_out():
    # A count column with a 999999 sentinel: the slopes were exp of a
    # difference of two ~z^2/2 numbers, which overflowed float32 (NaN loss).
    z = torch.tensor([1e3, -1e4, 1e6, -1e8, 1e12], requires_grad=True)
    half_width = torch.full((5,), 0.25, requires_grad=True)
    loglik = binned_gaussian(z, half_width, torch.ones(()))
    loglik.sum().backward()
    assert torch.isfinite(loglik).all()
    assert torch.isfinite(z.grad).all() and torch.isfinite(half_width.grad).all()
    # log P ~ log Phi(upper) ~ -u^2/2 - log(-u sqrt(2 pi)) at the upper edge
    # u = 0.25 - |z|; its slope in z ~ -z, in the half-width ~ |z|.
    far = z.detach().double()
    u = 0.25 - far.abs()
    tail = -0.5 * u**2 - torch.log(-u * math.sqrt(2 * math.pi))
    torch.testing.assert_close(loglik.double(), tail, rtol=1e-6, atol=0)
    torch.testing.assert_close(z.grad.double(), -far, rtol=1e-3, atol=0)
    torch.testing.assert_close(half_width.grad.double(), far.abs(), rtol=1e-3, atol=0)
    # Where float64 still resolves the two CDFs, float32 agrees with it.
    near = torch.tensor([1e3], dtype=torch.float64, requires_grad=True)
    width = torch.tensor([0.25], dtype=torch.float64, requires_grad=True)
    binned_gaussian(near, width, torch.ones((), dtype=torch.float64)).backward()
    torch.testing.assert_close(z.grad[:1].double(), near.grad, rtol=1e-5, atol=0)
    torch.testing.assert_close(
        half_width.grad[:1].double(), width.grad, rtol=1e-5, atol=0
    )
