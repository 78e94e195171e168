"""Helpers of the transform tests: real-case records, the mini-MIAS truth, a synthetic mammogram, array types.

Real images are read directly with PIL/pydicom (so these tests do not depend on the readers) and wrapped in
``MetaTensor`` with the metadata keys the readers fill (``laterality``, ``view_position``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from monai.data import MetaTensor


@dataclass
class RealCase:
    """One real mammogram: image ``(1, H, W)`` float32, laterality, view, lesion centres ``(row, col)``."""

    name: str
    image: np.ndarray
    laterality: str
    view: str
    lesions: list[tuple[int, int]] = field(default_factory=list)
    lesion_mask: np.ndarray | None = None

    def meta_tensor(self, laterality: str | None = None) -> MetaTensor:
        lat = self.laterality if laterality is None else laterality
        meta = {"laterality": lat, "view_position": self.view}
        return MetaTensor(torch.from_numpy(self.image.copy()), meta=meta)


def parse_mias_info(path: Path) -> dict[str, list[tuple[int, int]]]:
    """mini-MIAS ``Info.txt``: name -> lesion centres ``(row, col)``; row = 1024 - y (y from the bottom)."""
    lesions: dict[str, list[tuple[int, int]]] = {}
    for line in path.read_text().splitlines():
        parts = line.split()
        if not parts or not parts[0].startswith("mdb"):
            continue
        centres = lesions.setdefault(parts[0], [])
        if len(parts) >= 7:
            centres.append((1024 - int(parts[5]), int(parts[4])))
    return lesions


def synthetic_mammogram(
    shape: tuple[int, int] = (256, 192),
    chest_wall: str = "left",
    background: float = 0.0,
    noise: float = 0.0,
    burnt_label: bool = True,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """A simple mammogram-like image ``(1, H, W)`` float32 in about ``[0, 1]`` and its true breast mask.

    A half-ellipse breast leaning on the chest-wall edge, brighter towards the chest wall, with smooth
    texture; a bright burnt-in label block in the opposite top corner; an optional background and noise.
    """
    rng = np.random.default_rng(seed)
    h, w = shape
    rows, cols = np.mgrid[0:h, 0:w].astype(np.float32)
    c = cols if chest_wall == "left" else (w - 1 - cols)
    inside = ((rows - h / 2) / (0.42 * h)) ** 2 + (c / (0.62 * w)) ** 2 <= 1.0
    texture = rng.normal(size=(h // 8 + 1, w // 8 + 1)).repeat(8, 0).repeat(8, 1)[:h, :w]
    breast = 0.45 + 0.25 * (1 - c / w) + 0.05 * texture
    image = np.where(inside, breast, background).astype(np.float32)
    if burnt_label:
        r0, c0 = int(0.06 * h), int(0.82 * w) if chest_wall == "left" else int(0.06 * w)
        image[r0 : r0 + h // 12, c0 : c0 + w // 10] = 1.0
    if noise:
        image = image + rng.normal(scale=noise, size=image.shape).astype(np.float32)
    return image[None].astype(np.float32), inside[None]


ARRAY_TYPES = ("numpy", "torch", "metatensor")


def as_type(array: np.ndarray, kind: str, meta: dict | None = None):
    """``array`` as numpy, torch or MetaTensor (with ``meta``)."""
    if kind == "numpy":
        return array.copy()
    if kind == "torch":
        return torch.from_numpy(array.copy())
    return MetaTensor(torch.from_numpy(array.copy()), meta=dict(meta or {}))


def to_numpy(x) -> np.ndarray:
    """Any array as numpy."""
    if isinstance(x, MetaTensor):
        x = x.as_tensor()
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
