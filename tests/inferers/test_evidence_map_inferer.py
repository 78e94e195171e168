"""EvidenceMapInferer: the image logits and the network's own class probability at every place."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from monai.data import MetaTensor
from monai.networks.nets import DenseNet121

from monai_mammo.inferers import EvidenceMapInferer
from monai_mammo.networks import LesionEvidenceDenseNet


def small_net() -> LesionEvidenceDenseNet:
    torch.manual_seed(0)
    return LesionEvidenceDenseNet(2, 1, 3, init_features=8, growth_rate=4, block_config=(2, 2, 2, 2)).eval()


def test_logits_equal_the_network_and_the_map_is_its_probability() -> None:
    net = small_net()
    x = MetaTensor(torch.randn(2, 1, 96, 64))
    out = EvidenceMapInferer(class_index=2)(x, net)
    with torch.no_grad():
        assert torch.allclose(out["logits"], net(x.as_tensor()), atol=1e-6)
        expected = F.interpolate(
            net.evidence_map(x.as_tensor()).softmax(1)[:, 2:3], size=(96, 64), mode="bilinear"
        )
    assert isinstance(out["cam"], MetaTensor) and out["cam"].shape == (2, 1, 96, 64)
    assert torch.allclose(out["cam"].as_tensor(), expected, atol=1e-6)
    assert float(out["cam"].min()) >= 0.0 and float(out["cam"].max()) <= 1.0


def test_refuses_other_networks_and_bad_arguments() -> None:
    with pytest.raises(TypeError, match="lesion-evidence network"):
        EvidenceMapInferer()(torch.zeros(1, 1, 64, 64), DenseNet121(2, 1, 3, init_features=8, growth_rate=4))
    with pytest.raises(ValueError, match="class_index 5"):
        EvidenceMapInferer(class_index=5)(torch.zeros(1, 1, 64, 64), small_net())
    with pytest.raises(ValueError, match="must differ"):
        EvidenceMapInferer(logits_key="x", cam_key="x")
    with pytest.raises(ValueError, match=">= 0"):
        EvidenceMapInferer(class_index=-1)
