"""DeviceAugmentation: the batched device path draws the same distributions as the per-item CPU path.

The segmentation bundle's augmentation (flip, affine, contrast, noise) on small synthetic mammogram-like
items (a ramp with a lesion block), 480 items per path, compared statistic by statistic with two-sample
Kolmogorov-Smirnov tests; the draws inside one batch must be independent. The "device" is the CPU here;
on a machine with CUDA the same path also runs on the GPU.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from monai.data import DataLoader, Dataset
from monai.engines import SupervisedTrainer
from monai.transforms import Compose, RandAdjustContrastd, RandAffined, RandFlipd, RandGaussianNoised
from scipy.stats import ks_2samp

from monai_mammo.engines import DeviceAugmentation

N_ITEMS = 480
BATCH = 8


def augmentation(seed: int) -> Compose:
    """The random transforms of the segmentation bundle's training chain."""
    keys = ["image", "label"]
    t = Compose(
        [
            RandFlipd(keys, prob=0.5, spatial_axis=0),
            RandAffined(keys, prob=0.5, rotate_range=0.26, scale_range=0.15, mode=["bilinear", "nearest"]),
            RandAdjustContrastd("image", prob=0.3, gamma=(0.7, 1.5)),
            RandGaussianNoised("image", prob=0.2, std=0.02),
        ]
    )
    t.set_random_state(seed)
    return t


def items() -> list[dict[str, torch.Tensor]]:
    rows = torch.linspace(0.1, 1.0, 40)[:, None].expand(40, 32)
    label = torch.zeros(1, 40, 32)
    label[0, 6:14, 10:20] = 1.0
    return [{"image": rows[None].clone(), "label": label.clone()} for _ in range(N_ITEMS)]


def statistics(image: torch.Tensor, label: torch.Tensor) -> dict[str, np.ndarray]:
    """Per-item statistics that each transform moves: flip (top - bottom), rotation/scale, contrast, noise."""
    image, label = image.float(), label.float()
    top, bottom = image[:, :, :20].mean(dim=(1, 2, 3)), image[:, :, 20:].mean(dim=(1, 2, 3))
    return {
        "top_minus_bottom": (top - bottom).numpy(),
        "mean": image.mean(dim=(1, 2, 3)).numpy(),
        "row_roughness": (image[:, :, :, 1:] - image[:, :, :, :-1]).abs().mean(dim=(1, 2, 3)).numpy(),
        "label_area": label.sum(dim=(1, 2, 3)).numpy(),
        "label_row": (label.sum(dim=(1, 3)) * torch.arange(40))
        .sum(dim=1)
        .div(label.sum(dim=(1, 2, 3)) + 1e-6)
        .numpy(),
    }


def cpu_path() -> tuple[torch.Tensor, torch.Tensor]:
    loader = DataLoader(Dataset(items(), transform=augmentation(seed=1)), batch_size=BATCH, num_workers=0)
    batches = list(loader)
    return torch.cat([b["image"].as_tensor() for b in batches]), torch.cat(
        [b["label"].as_tensor() for b in batches]
    )


def device_path(device: str) -> tuple[torch.Tensor, torch.Tensor]:
    loader = DataLoader(Dataset(items()), batch_size=BATCH, num_workers=0)
    augment = DeviceAugmentation(augmentation(seed=2))
    outs = [augment.augment(b, device=device) for b in loader]
    return torch.cat([o["image"].cpu() for o in outs]), torch.cat([o["label"].cpu() for o in outs])


@pytest.fixture(scope="module")
def both_paths() -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    return statistics(*cpu_path()), statistics(*device_path("cpu"))


def test_the_device_path_draws_the_same_distributions(both_paths: tuple[dict, dict]) -> None:
    cpu, device = both_paths
    for name in cpu:
        assert cpu[name].std() > 0, name  # the statistic does vary under augmentation
        result = ks_2samp(cpu[name], device[name])
        assert result.pvalue > 1e-3, (name, result)
    flipped_cpu, flipped_device = (
        (cpu["top_minus_bottom"] > 0).mean(),
        (device["top_minus_bottom"] > 0).mean(),
    )
    assert 0.4 < flipped_cpu < 0.6 and abs(flipped_cpu - flipped_device) < 0.1


def test_items_of_one_batch_get_their_own_draws(both_paths: tuple[dict, dict]) -> None:
    _, device = both_paths
    flipped = (device["top_minus_bottom"] > 0).reshape(-1, BATCH)
    all_same = np.mean([row.all() or not row.any() for row in flipped])
    assert all_same < 0.1  # one draw per batch would make every row all-same
    correlation = np.corrcoef(flipped[:, 0], flipped[:, 1])[0, 1]
    assert abs(correlation) < 0.3


def test_as_prepare_batch_of_a_trainer() -> None:
    loader = DataLoader(Dataset(items()[:8]), batch_size=4, num_workers=0)
    network = torch.nn.Conv2d(1, 1, 3, padding=1)
    seen: list[tuple[int, ...]] = []

    def loss(pred: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
        seen.append(tuple(pred.shape))
        return torch.nn.functional.mse_loss(pred, label)

    trainer = SupervisedTrainer(
        device=torch.device("cpu"),
        max_epochs=1,
        train_data_loader=loader,
        network=network,
        optimizer=torch.optim.SGD(network.parameters(), lr=0.01),
        loss_function=loss,
        prepare_batch=DeviceAugmentation(augmentation(seed=3)),
    )
    trainer.run()
    assert seen == [(4, 1, 40, 32), (4, 1, 40, 32)]


def test_missing_keys_are_named() -> None:
    with pytest.raises(KeyError, match="image"):
        DeviceAugmentation(augmentation(0)).augment({"label": torch.zeros(2, 1, 4, 4)})
    with pytest.raises(ValueError, match="image_key"):
        DeviceAugmentation(augmentation(0), keys="label")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_on_the_gpu_the_same_distributions() -> None:
    cpu = statistics(*cpu_path())
    gpu = statistics(*device_path("cuda"))
    for name in cpu:
        assert ks_2samp(cpu[name], gpu[name]).pvalue > 1e-3, name
