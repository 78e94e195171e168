"""``OneVsRest``: an ``output_transform`` turning a multi-class output into a binary one for ROC metrics."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from monai.data import decollate_batch

__all__ = ["OneVsRest"]


def _as_items(output: Any) -> list[Mapping[str, Any]]:
    if isinstance(output, Mapping):
        return list(decollate_batch(dict(output)))
    if isinstance(output, Sequence) and not isinstance(output, (str, bytes)):
        return list(output)
    raise TypeError(
        f"OneVsRest: expected the engine output (a list of dicts or a dict), got {type(output).__name__}."
    )


class OneVsRest:
    """Map an engine output of class probabilities and class labels to ``(score, is_positive)`` pairs.

    MONAI's :class:`~monai.handlers.ROCAUC` handler on a multi-class output averages the per-class AUCs; a
    mammography model is judged on one question at a time: malignant versus the rest (``positive=2``),
    abnormal versus normal (``positive=(1, 2)``). Used as the handler's ``output_transform``, this gives it,
    for every image, the summed probability of the positive classes and a 0/1 label.

    The prediction under ``pred_key`` must be probabilities (``Activationsd(softmax=True)`` in the
    postprocessing): sums of logits are not scores of a class union. The label under ``label_key`` is the
    class index (``0`` normal, ``1`` benign, ``2`` malignant, the datalists' ``"class"``), a scalar or a
    one-element tensor.

    Args:
        positive: the class index, or indices, counted as positive.
        pred_key: the key of the ``(K,)`` class probabilities of an image.
        label_key: the key of the class index.

    Raises:
        ValueError: for no positive class or a negative index.

    Example:
        .. code-block:: json

            {"_target_": "ROCAUC",
             "output_transform": {"_target_": "monai_mammo.handlers.OneVsRest", "positive": 2}}
    """

    def __init__(
        self, positive: int | Sequence[int] = 2, pred_key: str = "pred", label_key: str = "label"
    ) -> None:
        classes = [positive] if isinstance(positive, int) else list(positive)
        if not classes or any(int(c) < 0 for c in classes):
            raise ValueError(f"OneVsRest: positive must be one or more class indices >= 0, got {positive!r}.")
        self.positive = tuple(sorted({int(c) for c in classes}))
        self.pred_key = pred_key
        self.label_key = label_key

    def __call__(self, output: Any) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """The per-image ``(1,)`` scores and ``(1,)`` 0/1 labels of an engine output.

        Args:
            output: ``engine.state.output``: a list of per-image dicts (MONAI's decollated output) or a
                batch dict.

        Returns:
            ``(scores, labels)``, lists of one-element float tensors, as MONAI's metric handlers take them.

        Raises:
            KeyError: when an item lacks ``pred_key`` or ``label_key``.
            ValueError: when a prediction has fewer classes than the largest positive index.
        """
        scores: list[torch.Tensor] = []
        labels: list[torch.Tensor] = []
        for item in _as_items(output):
            for key in (self.pred_key, self.label_key):
                if key not in item:
                    raise KeyError(f"OneVsRest: the engine output has no {key!r} key (keys: {sorted(item)}).")
            prob = torch.as_tensor(item[self.pred_key]).reshape(-1)
            if prob.numel() <= self.positive[-1]:
                raise ValueError(
                    f"OneVsRest: {self.pred_key!r} has {prob.numel()} classes but class {self.positive[-1]} "
                    "is counted as positive."
                )
            label = torch.as_tensor(item[self.label_key]).reshape(-1)
            if label.numel() != 1:
                raise ValueError(
                    f"OneVsRest: {self.label_key!r} must be one class index per image, got shape "
                    f"{tuple(label.shape)}."
                )
            index = torch.as_tensor(self.positive, device=prob.device)
            scores.append(prob.float().index_select(0, index).sum().reshape(1))
            labels.append(torch.isin(label.long(), index.to(label.device)).float().reshape(1))
        return scores, labels
