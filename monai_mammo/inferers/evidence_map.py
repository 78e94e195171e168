"""``EvidenceMapInferer``: image logits and the class probability at every place of a lesion-evidence net;
``PlaceLogitsInferer``: the per-place logits for training on place labels."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from monai.data import MetaTensor
from monai.inferers import Inferer

__all__ = ["EvidenceMapInferer", "PlaceLogitsInferer"]


class EvidenceMapInferer(Inferer):
    """Run a :class:`~monai_mammo.networks.LesionEvidenceDenseNet` once for its logits and a heat map.

    The heat map is the network's own probability of ``class_index`` (e.g. 2, malignant) at every place of its
    evidence map (one place per 32 x 32 input pixels), bilinearly upsampled to the input size: unlike a
    Grad-CAM map scaled per image, its values are comparable between images (0.8 means the network gives that
    place an 80 % malignant probability), and a map that is low everywhere means no suspicious place. One
    forward pass gives both outputs; no gradients are needed.

    Args:
        class_index: the class whose probability is mapped.
        logits_key: the key of the ``(B, K)`` image logits in the returned dictionary.
        cam_key: the key of the ``(B, 1, *spatial)`` heat map.
        mode: the upsampling mode (``"bilinear"`` or ``"nearest"``).

    Returns (``__call__``):
        ``{logits_key: (B, K) logits, cam_key: (B, 1, *spatial) MetaTensor in [0, 1]}``, the same structure
        as :class:`~monai_mammo.inferers.GradCAMInferer`, so the two are interchangeable in a bundle config.

    Raises:
        TypeError: at the call, for a network without ``evidence_map`` and ``most_suspicious``.
        ValueError: for a ``class_index`` outside the network's classes, or equal keys.
    """

    def __init__(
        self, class_index: int = 2, logits_key: str = "logits", cam_key: str = "cam", mode: str = "bilinear"
    ) -> None:
        super().__init__()
        if int(class_index) < 0:
            raise ValueError(f"EvidenceMapInferer: class_index must be >= 0, got {class_index}.")
        if logits_key == cam_key:
            raise ValueError(f"EvidenceMapInferer: logits_key and cam_key must differ, both are {cam_key!r}.")
        self.class_index = int(class_index)
        self.logits_key = logits_key
        self.cam_key = cam_key
        self.mode = mode

    def __call__(self, inputs: torch.Tensor, network: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """Logits and heat maps of a batch ``(B, C, *spatial)``."""
        if not (hasattr(network, "evidence_map") and hasattr(network, "most_suspicious")):
            raise TypeError(
                f"EvidenceMapInferer needs a lesion-evidence network (evidence_map, most_suspicious), got "
                f"{type(network).__name__}; use GradCAMInferer for other classifiers."
            )
        x = inputs.as_tensor() if isinstance(inputs, MetaTensor) else inputs
        with torch.no_grad():
            evidence = network.evidence_map(x, *args, **kwargs)
            if self.class_index >= evidence.shape[1]:
                raise ValueError(
                    f"EvidenceMapInferer: class_index {self.class_index} but the network has "
                    f"{evidence.shape[1]} classes."
                )
            logits = network.most_suspicious(evidence)
            probability = evidence.float().softmax(dim=1)[:, self.class_index : self.class_index + 1]
            maps = F.interpolate(probability, size=tuple(x.shape[2:]), mode=self.mode)
        return {self.logits_key: logits, self.cam_key: MetaTensor(maps.clamp(0.0, 1.0))}


class PlaceLogitsInferer(Inferer):
    """The per-place logits of a :class:`~monai_mammo.networks.LesionEvidenceDenseNet`, with gradients.

    For training on whole images with one label per place
    (:class:`~monai_mammo.transforms.LesionPlaceLabelsd`): as a :class:`monai.engines.SupervisedTrainer`'s
    ``inferer`` it makes ``pred`` the ``(B, K, *spatial / 32)`` evidence map, which
    ``torch.nn.CrossEntropyLoss`` compares with ``(B, *spatial / 32)`` place labels. The network and its
    weights are those of the patch recipe; only what the loss sees changes.

    Raises:
        TypeError: at the call, for a network without ``evidence_map``.
    """

    def __call__(self, inputs: torch.Tensor, network: Any, *args: Any, **kwargs: Any) -> torch.Tensor:
        """The evidence map of a batch ``(B, C, *spatial)``."""
        if not hasattr(network, "evidence_map"):
            raise TypeError(
                "PlaceLogitsInferer needs a lesion-evidence network (evidence_map), got "
                f"{type(network).__name__}."
            )
        x = inputs.as_tensor() if isinstance(inputs, MetaTensor) else inputs
        return network.evidence_map(x, *args, **kwargs)
