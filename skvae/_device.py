"""Where the network runs: which devices are usable, and moving tensors."""

# License: BSD 3-Clause

import copy
import warnings

import torch

__all__ = ["float64_copy", "resolve_device", "rows_on_device", "to_cpu"]


def to_cpu(value):
    """``value`` (nested dicts and lists of tensors) with every tensor on the CPU."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu()
    if isinstance(value, dict):
        return {k: to_cpu(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(to_cpu(v) for v in value)
    return value


def float64_copy(module):
    return copy.deepcopy(module).to(torch.float64).eval()


def rows_on_device(array, rows, device):
    """The given rows of ``array`` as a float32 tensor on ``device``, or None."""
    if array is None or rows is None:
        return None
    return torch.as_tensor(array[rows], dtype=torch.float32, device=device)


def resolve_device(device, fallback_to_cpu=False):
    if isinstance(device, torch.device):
        resolved = device
    elif device == "auto":
        resolved = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    else:
        try:
            resolved = torch.device(device)
        except RuntimeError:
            raise ValueError(
                "device must be 'auto', 'cpu', 'cuda' or a torch device, "
                f"got {device!r}."
            ) from None
    if resolved.type not in ("cpu", "cuda"):
        # Predictions run on a float64 copy of the network, which MPS and other
        # accelerators do not support.
        raise ValueError(
            f"device={device!r}: skvae runs on 'cpu' or 'cuda' devices only, not "
            f"{resolved.type!r}."
        )
    if resolved.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            missing = "CUDA is not available"
        elif resolved.index is not None and resolved.index >= count:
            missing = f"this machine has {count} CUDA device(s)"
        else:
            return resolved
        if fallback_to_cpu:
            warnings.warn(
                f"The model was saved for device={device!r}, but {missing} here; "
                "it runs on the CPU.",
                UserWarning,
                stacklevel=3,
            )
            return torch.device("cpu")
        raise ValueError(f"device={device!r} was asked for, but {missing}.")
    return resolved
