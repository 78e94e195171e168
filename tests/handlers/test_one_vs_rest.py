"""OneVsRest: multi-class probabilities and class labels -> binary scores for MONAI's ROCAUC handler."""

from __future__ import annotations

import pytest
import torch
from ignite.engine import Engine
from monai.handlers import ROCAUC

from monai_mammo.handlers import OneVsRest


def items() -> list[dict]:
    probs = [[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.2, 0.7, 0.1], [0.05, 0.15, 0.8]]
    labels = [0, 2, 1, 2]
    return [{"pred": torch.tensor(p), "label": torch.tensor(y)} for p, y in zip(probs, labels)]


def test_malignant_versus_rest_takes_the_class_column_and_binarises_the_label() -> None:
    scores, labels = OneVsRest(positive=2)(items())
    assert [round(float(s), 3) for s in scores] == [0.1, 0.6, 0.1, 0.8]
    assert [float(y) for y in labels] == [0.0, 1.0, 0.0, 1.0]
    assert all(s.shape == (1,) and y.shape == (1,) for s, y in zip(scores, labels))


def test_abnormal_versus_normal_sums_the_positive_classes() -> None:
    scores, labels = OneVsRest(positive=[1, 2])(items())
    assert [round(float(s), 3) for s in scores] == [0.3, 0.9, 0.8, 0.95]
    assert [float(y) for y in labels] == [0.0, 1.0, 1.0, 1.0]


def test_a_batch_dict_is_decollated() -> None:
    batch = {"pred": torch.stack([i["pred"] for i in items()]), "label": torch.tensor([0, 2, 1, 2])}
    scores, labels = OneVsRest(2)(batch)
    assert len(scores) == 4 and float(labels[1]) == 1.0


def test_rocauc_handler_on_an_engine_gives_the_binary_auc() -> None:
    data = items()
    engine = Engine(lambda e, b: data)
    ROCAUC(output_transform=OneVsRest(positive=2)).attach(engine, "auc")
    engine.run([0], max_epochs=1)
    assert engine.state.metrics["auc"] == pytest.approx(1.0)  # both malignant images score highest
    engine2 = Engine(lambda e, b: data)
    ROCAUC(output_transform=OneVsRest(positive=0)).attach(engine2, "auc")
    engine2.run([0], max_epochs=1)
    assert engine2.state.metrics["auc"] == pytest.approx(1.0)  # the normal image has the highest P(normal)


@pytest.mark.parametrize("positive", [[], -1, [0, -2]])
def test_bad_positive_classes_are_rejected(positive) -> None:
    with pytest.raises(ValueError, match="positive"):
        OneVsRest(positive=positive)


def test_missing_keys_and_too_few_classes_fail_clearly() -> None:
    with pytest.raises(KeyError, match="label"):
        OneVsRest(2)([{"pred": torch.rand(3)}])
    with pytest.raises(ValueError, match="3 classes"):
        OneVsRest(5)(items())
