import numpy as np
import pytest
import torch

from skvae._device import float64_copy, resolve_device, rows_on_device, to_cpu


def test_device_resolution():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(torch.device("cpu")) == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected


def test_devices_that_cannot_run_the_model_are_refused_by_name():
    # MPS has no float64, which predictions use; it used to fail inside torch.
    with pytest.raises(ValueError, match="device='mps'.*'cpu' or 'cuda'"):
        resolve_device("mps")
    beyond = f"cuda:{torch.cuda.device_count()}"
    with pytest.raises(ValueError, match=f"device='{beyond}' was asked for, but"):
        resolve_device(beyond)
    with pytest.warns(UserWarning, match=f"saved for device='{beyond}'"):
        assert resolve_device(beyond, fallback_to_cpu=True).type == "cpu"


def test_tensors_nested_in_an_optimizer_state_come_to_the_cpu():
    state = {"state": {0: {"step": torch.tensor(3.0)}}, "groups": [(1, "x")]}
    moved = to_cpu(state)
    assert moved["state"][0]["step"].device.type == "cpu"
    assert moved["groups"] == [(1, "x")]


def test_rows_on_device_are_float32_and_none_stays_none():
    array = np.arange(6, dtype=np.float64).reshape(3, 2)
    rows = rows_on_device(array, [0, 2], torch.device("cpu"))
    assert rows.dtype == torch.float32 and rows.tolist() == [[0, 1], [4, 5]]
    assert rows_on_device(None, [0], "cpu") is None
    assert rows_on_device(array, None, "cpu") is None


def test_the_float64_copy_predicts_and_leaves_the_network_alone():
    network = torch.nn.Linear(2, 1).train()
    copy = float64_copy(network)
    assert next(copy.parameters()).dtype == torch.float64 and not copy.training
    assert next(network.parameters()).dtype == torch.float32 and network.training
