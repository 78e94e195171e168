"""Engine pieces that MONAI's ``SupervisedTrainer``/``SupervisedEvaluator`` accept (``monai_mammo.engines``).

- :mod:`.device_augmentation`: :class:`DeviceAugmentation`, a ``prepare_batch`` that runs the random
  augmentation on the training device (a GPU when there is one), on each batch, after the transfer.
"""

from __future__ import annotations

from monai_mammo.engines.device_augmentation import DeviceAugmentation

__all__ = ["DeviceAugmentation"]
