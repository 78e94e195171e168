"""PlaceLogitsInferer: the per-place logits of a lesion-evidence network, with gradients, for place labels."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from monai.data import MetaTensor
from monai.networks.nets import DenseNet121

from monai_mammo.inferers import PlaceLogitsInferer
from monai_mammo.networks import LesionEvidenceDenseNet
from monai_mammo.transforms import LesionPlaceLabels


def small_net() -> LesionEvidenceDenseNet:
    torch.manual_seed(0)
    return LesionEvidenceDenseNet(2, 1, 3, init_features=8, growth_rate=4, block_config=(2, 2, 2, 2))


def test_the_evidence_map_with_gradients_matches_the_place_labels() -> None:
    net = small_net().eval()
    x = MetaTensor(torch.randn(2, 1, 128, 96))
    out = PlaceLogitsInferer()(x, net)
    assert not isinstance(out, MetaTensor) and out.requires_grad
    torch.testing.assert_close(out, net.evidence_map(x.as_tensor()))
    mask = np.zeros((1, 128, 96), np.uint8)
    mask[0, 40:80, 30:70] = 1
    labels = torch.stack([LesionPlaceLabels(32, ignore_index=3)(mask, c) for c in (2, 0)])
    assert out.shape[2:] == labels.shape[1:]  # one label per place
    loss = torch.nn.CrossEntropyLoss(ignore_index=3)(out, labels)
    loss.backward()
    assert all(p.grad is not None for p in net.parameters() if p.requires_grad)


def test_one_step_lowers_the_loss_on_the_labelled_places() -> None:
    net = small_net().train()
    x = torch.randn(4, 1, 64, 64)
    labels = torch.zeros(4, 2, 2, dtype=torch.long)
    labels[:2, 0, 0] = 2
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    losses = []
    for _ in range(3):
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(PlaceLogitsInferer()(x, net), labels)
        loss.backward()
        optimizer.step()
        losses.append(float(loss))
    assert losses[-1] < losses[0]


def test_refuses_other_networks() -> None:
    with pytest.raises(TypeError, match="lesion-evidence network"):
        PlaceLogitsInferer()(torch.zeros(1, 1, 64, 64), DenseNet121(2, 1, 3, init_features=8, growth_rate=4))
