"""``LesionEvidenceDenseNet``: a DenseNet whose image logits are the evidence at its most suspicious place.

A whole-image classifier trained on films of cancers from one archive and normals from another can learn
which archive an image comes from. This network is trained on patches instead (lesion vs background vs benign
vs malignant, drawn from the same images, as in the end-to-end recipe of Shen et al. 2019) and reads a whole
image the same way it reads a patch: MONAI's :class:`~monai.networks.nets.DenseNet` features, a 1 x 1
convolution that gives class logits at every place of the feature map (one place per 32 x 32 input pixels),
and the logits of the place where the background probability is lowest. A patch and a whole mammogram go
through the same code, so what was learnt on patches is what decides on the image: there is no image-level
layer that could learn the archive.

Class 0 must be the background / normal class. ``evidence_map`` gives the per-place logits (a heat map).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from monai.networks.layers.factories import Conv
from monai.networks.nets import DenseNet
from torch import nn

__all__ = ["LesionEvidenceDenseNet"]


class LesionEvidenceDenseNet(DenseNet):
    """MONAI's DenseNet with a per-place class head and most-suspicious-place pooling.

    Args:
        spatial_dims: 2 for mammograms (3 works the same way).
        in_channels: input channels (1 for a grey mammogram).
        out_channels: classes, class 0 being background / normal.
        init_features, growth_rate, block_config, bn_size, dropout_prob: as MONAI's
            :class:`~monai.networks.nets.DenseNet`.

    ``forward`` returns ``(batch, out_channels)`` logits: those of the place of each image with the lowest
    background probability. ``evidence_map`` returns ``(batch, out_channels, *feature_shape)`` logits.

    Example (bundle config)::

        {"_target_": "monai_mammo.networks.LesionEvidenceDenseNet", "spatial_dims": 2, "in_channels": 1,
         "out_channels": 3, "init_features": 24, "growth_rate": 12}
    """

    def __init__(
        self,
        spatial_dims: int = 2,
        in_channels: int = 1,
        out_channels: int = 3,
        init_features: int = 64,
        growth_rate: int = 32,
        block_config: Sequence[int] = (6, 12, 24, 16),
        bn_size: int = 4,
        dropout_prob: float = 0.0,
    ) -> None:
        if out_channels < 2:
            raise ValueError(
                f"LesionEvidenceDenseNet: out_channels must be >= 2 (class 0 background), got {out_channels}."
            )
        super().__init__(
            spatial_dims=spatial_dims,
            in_channels=in_channels,
            out_channels=out_channels,
            init_features=init_features,
            growth_rate=growth_rate,
            block_config=block_config,
            bn_size=bn_size,
            dropout_prob=dropout_prob,
        )
        linear = self.class_layers.out
        if not isinstance(linear, nn.Linear):  # MONAI's DenseNet ends in a Linear layer
            raise TypeError(
                f"LesionEvidenceDenseNet: expected DenseNet's Linear head, got {type(linear).__name__}."
            )
        features = linear.in_features
        head = Conv[Conv.CONV, spatial_dims](features, out_channels, kernel_size=1)
        nn.init.zeros_(head.bias)
        # the relu keeps its name (class_layers.relu) so Grad-CAM configs written for DenseNet still apply
        self.class_layers = nn.Sequential()
        self.class_layers.add_module("relu", nn.ReLU(inplace=False))
        self.class_layers.add_module("out", head)

    def evidence_map(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits at every place of the feature map: ``(batch, classes, *spatial / 32)``."""
        return self.class_layers(self.features(x))

    @staticmethod
    def most_suspicious(evidence: torch.Tensor) -> torch.Tensor:
        """The ``(batch, classes)`` logits of each map's place with the lowest background probability."""
        logits = evidence.flatten(2)  # (B, C, places)
        place = logits.log_softmax(dim=1)[:, 0].argmin(dim=1)
        index = place.view(-1, 1, 1).expand(-1, logits.shape[1], 1)
        return logits.gather(2, index).squeeze(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of each image's most suspicious place (lowest background probability)."""
        return self.most_suspicious(self.evidence_map(x))
