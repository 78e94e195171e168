"""Random augmentation on the training device: the batch is moved first, then augmented where it lands.

Spatial augmentation of a full-field mammogram at the working size costs tens of milliseconds of CPU per
image (``RandAffined`` at 1024 x 832: about 50 ms on one core), which a GPU does in well under one. With
the deterministic steps read from a :class:`~monai_mammo.data.PreprocessedCacheDataset`, this is what keeps
the CPU from feeding the GPU; :class:`DeviceAugmentation` runs it on the GPU instead.

The same MONAI dictionary transforms run, on each item of the batch in turn, on the device's tensors: every
item gets its own draw from the transforms' own random state (``self.R``), exactly as the per-item CPU path
draws it in a DataLoader worker, so the two paths draw the same distributions (tested by comparing
statistics). Without a GPU (``device`` is the CPU) the same code runs on the CPU, after batching.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any

import torch
from monai.data import MetaTensor
from monai.engines.utils import PrepareBatch
from monai.transforms import Compose, Randomizable, apply_transform
from monai.utils import CommonKeys, ensure_tuple

__all__ = ["DeviceAugmentation"]


def _plain(x: Any) -> Any:
    return x.as_tensor() if isinstance(x, MetaTensor) else x


class DeviceAugmentation(PrepareBatch):
    """A ``prepare_batch`` for MONAI's trainers: move the batch to ``device``, then augment each item there.

    Args:
        transform: the random dictionary transform(s) (e.g. ``Compose([RandFlipd, RandAffined, ...])``)
            that the CPU path would run per item in the dataset; they must accept torch tensors (MONAI's do).
        keys: the batch keys moved to the device and given to ``transform`` (others are left out).
        image_key: the network input key.
        label_key: the target key (``None`` or missing from the batch: the target is ``None``).

    Example:
        .. code-block:: python

            augment = Compose([RandFlipd(["image", "label"], prob=0.5, spatial_axis=0),
                               RandAffined(["image", "label"], prob=0.5, rotate_range=0.26)])
            trainer = SupervisedTrainer(..., prepare_batch=DeviceAugmentation(augment))
    """

    def __init__(
        self,
        transform: Callable[[Any], Any] | Sequence[Callable[[Any], Any]],
        keys: Sequence[Hashable] | Hashable = (CommonKeys.IMAGE, CommonKeys.LABEL),
        image_key: Hashable = CommonKeys.IMAGE,
        label_key: Hashable | None = CommonKeys.LABEL,
    ) -> None:
        self.transform: Callable[[Any], Any] = transform if callable(transform) else Compose(list(transform))
        self.keys = list(ensure_tuple(keys))
        self.image_key = image_key
        self.label_key = label_key
        if image_key not in self.keys:
            raise ValueError(f"DeviceAugmentation: image_key {image_key!r} must be one of keys {self.keys}.")

    def set_random_state(self, seed: int | None = None) -> DeviceAugmentation:
        """Seed the random transforms (as ``Compose.set_random_state`` does)."""
        if isinstance(self.transform, Randomizable):
            self.transform.set_random_state(seed=seed)
        return self

    def augment(
        self,
        batch: Mapping[Any, Any],
        device: str | torch.device | None = None,
        non_blocking: bool = False,
    ) -> dict[Hashable, torch.Tensor]:
        """The batch's ``keys`` on ``device``, each item augmented by ``transform`` with its own draw.

        Args:
            batch: a collated batch (a dict of ``(B, C, ...)`` tensors).
            device: where to move and augment it (``None``: where it is).
            non_blocking: as in ``Tensor.to`` (with pinned memory, the copy overlaps the host).

        Returns:
            A dict of the augmented ``(B, C, ...)`` tensors (plain tensors: the metadata stays on the host).
        """
        missing = [k for k in self.keys if k not in batch and k != self.label_key]
        if missing:
            raise KeyError(f"DeviceAugmentation: the batch has no {missing}; it has {list(batch)}.")
        keys = [k for k in self.keys if k in batch]
        moved = {k: _plain(batch[k]).to(device=device, non_blocking=non_blocking) for k in keys}
        n = len(moved[self.image_key])
        items = []
        for i in range(n):
            item = apply_transform(self.transform, {k: moved[k][i] for k in keys})
            items.append(item)
        # a transform may make a new tensor on the host (a patch's class label): it joins its key's device
        return {k: torch.stack([_plain(item[k]).to(moved[k].device) for item in items]) for k in keys}

    def __call__(
        self,
        batchdata: dict[str, torch.Tensor],
        device: str | torch.device | None = None,
        non_blocking: bool = False,
        **kwargs: Any,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Move, augment and return ``(image, label)`` as ``monai.engines.default_prepare_batch`` does."""
        out = self.augment(batchdata, device=device, non_blocking=non_blocking)
        label = out.get(self.label_key) if self.label_key is not None else None
        return out[self.image_key], label
