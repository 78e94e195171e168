"""loader_settings: DataLoader arguments that follow the machine's cores and the training device."""

from __future__ import annotations

import os

import pytest
import torch
from monai.data import DataLoader, Dataset

from monai_mammo.data import available_cores, loader_settings


def test_available_cores_is_the_affinity_mask() -> None:
    expected = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert available_cores() == expected


def test_defaults_follow_the_cores_and_the_device() -> None:
    workers = min(available_cores() - 1, 8)
    cpu = loader_settings("cpu")
    assert cpu["num_workers"] == workers and cpu["pin_memory"] is False
    assert cpu["persistent_workers"] is (workers > 0)
    assert cpu["prefetch_factor"] == (2 if workers else None)
    cuda = loader_settings("cuda:0", num_workers=3)
    assert cuda == {"num_workers": 3, "pin_memory": True, "persistent_workers": True, "prefetch_factor": 4}
    assert loader_settings("cpu", num_workers=16, max_workers=2)["num_workers"] == 16  # a given value is kept
    assert loader_settings("cpu", max_workers=0)["num_workers"] == 0


def test_no_workers_means_no_prefetch_and_no_persistence() -> None:
    settings = loader_settings("cpu", num_workers=0, persistent_workers=True, prefetch_factor=8)
    assert settings == {
        "num_workers": 0,
        "pin_memory": False,
        "persistent_workers": False,
        "prefetch_factor": None,
    }
    with pytest.raises(ValueError, match="num_workers"):
        loader_settings("cpu", num_workers=-1)


@pytest.mark.parametrize("num_workers", [0, 1])
def test_a_dataloader_accepts_them(num_workers: int) -> None:
    data = [{"x": torch.full((2,), float(i))} for i in range(6)]
    loader = DataLoader(Dataset(data), batch_size=3, **loader_settings("cpu", num_workers=num_workers))
    assert [b["x"][:, 0].tolist() for b in loader] == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
