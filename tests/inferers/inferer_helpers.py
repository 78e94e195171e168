"""Shared pieces of the inferer tests: a real downsampled mammogram, a tiny seeded UNet, a call counter."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from monai.networks.nets import UNet
from PIL import Image


def load_mias(shared_data: Path, name: str = "mdb001", size: int = 256) -> torch.Tensor:
    """A mini-MIAS mammogram as a float tensor (1, 1, size, size) in [0, 1]."""
    image = Image.open(shared_data / "mini_mias" / "images" / f"{name}.png").convert("L")
    image = image.resize((size, size), Image.Resampling.BILINEAR)
    return torch.from_numpy(np.asarray(image, dtype=np.float32) / 255.0)[None, None]


def tiny_unet(seed: int = 0, out_channels: int = 1) -> torch.nn.Module:
    """A small 2D MONAI UNet with fixed random weights, in eval mode."""
    torch.manual_seed(seed)
    return UNet(2, 1, out_channels, channels=(4, 8, 16), strides=(2, 2), num_res_units=1).eval()


class CountingPredictor:
    """Wraps a predictor and counts its calls and the windows it was given."""

    def __init__(self, predictor):
        self.predictor = predictor
        self.calls = 0
        self.windows = 0

    def __call__(self, x, *args, **kwargs):
        self.calls += 1
        self.windows += x.shape[0]
        return self.predictor(x, *args, **kwargs)
