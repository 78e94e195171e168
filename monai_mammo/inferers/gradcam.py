"""``GradCAMInferer``: class logits plus a Grad-CAM heat map per image, in one inferer call.

MONAI's :class:`~monai.engines.SupervisedEvaluator` runs its inferer under ``torch.no_grad()``, and
:class:`monai.visualize.GradCAM` needs gradients. This inferer runs the network for the logits as usual, then
re-enables gradients for the Grad-CAM pass, and returns both, so that one evaluator run writes
probabilities and heat maps, and the heat map can follow the logits through the postprocessing
(``FlattenSubKeysd``, then ``Invertd`` back to the original image geometry).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import torch
from monai.data import MetaTensor
from monai.inferers import Inferer
from monai.visualize import GradCAM

__all__ = ["GradCAMInferer", "normalize_heatmap"]


def normalize_heatmap(x: torch.Tensor) -> torch.Tensor:
    """Scale each map of a batch ``(B, C, *spatial)`` to ``[0, 1]`` by its own minimum and maximum.

    Unlike :func:`monai.visualize.default_normalizer`, which maps the maximum to 0, the most important pixel
    becomes 1. A constant map (no evidence anywhere: Grad-CAM's ReLU removed everything) becomes all zeros.

    Args:
        x: the maps.

    Returns:
        The scaled maps, same shape, device and dtype as ``x`` (as a plain tensor).
    """
    data = x.as_tensor() if isinstance(x, MetaTensor) else torch.as_tensor(x)
    flat = data.reshape(data.shape[0], -1)
    low = flat.amin(dim=1).reshape(-1, *([1] * (data.ndim - 1)))
    high = flat.amax(dim=1).reshape(-1, *([1] * (data.ndim - 1)))
    span = high - low
    return torch.where(
        span > 0, (data - low) / torch.where(span > 0, span, torch.ones_like(span)), torch.zeros_like(data)
    )


class GradCAMInferer(Inferer):
    """Run a classification network and return its logits and a Grad-CAM heat map of one class.

    The heat map is :class:`monai.visualize.GradCAM` of ``target_layers`` (for MONAI's DenseNet121 the last
    activation, ``"class_layers.relu"``, a ``1/32`` resolution map), bilinearly upsampled to the input size
    and scaled to ``[0, 1]`` per image by :func:`normalize_heatmap`: it says *where* the network found the
    evidence for the class in that image, not *how much* (read the probability for that); a map that is
    zero everywhere means no positive evidence.

    It explains ``class_index`` (e.g. ``2``, malignant, for every image: the map of a mammography reader's
    question "where is the suspicious finding?"), or each image's predicted class when ``None``.

    Args:
        target_layers: the layer(s) of the network whose activations and gradients are used (see
            ``GradCAM``); several give one map each, the last is used.
        class_index: the class to explain, or ``None`` for each image's own predicted class.
        logits_key: the key of the logits in the returned dictionary.
        cam_key: the key of the heat map ``(B, 1, *spatial)``.
        postprocessing: the per-batch scaling of the maps (default :func:`normalize_heatmap`).

    Returns (``__call__``):
        ``{logits_key: (B, K) logits, cam_key: (B, 1, *spatial) MetaTensor in [0, 1]}``; in a
        ``SupervisedEvaluator`` this dictionary is the output's ``"pred"``, to be flattened with
        ``FlattenSubKeysd(keys="pred")`` in the postprocessing.

    Raises:
        ValueError: a ``class_index`` outside the network's classes (at the call), or no target layer.

    Example:
        .. code-block:: json

            {"_target_": "monai_mammo.inferers.GradCAMInferer", "target_layers": "class_layers.relu",
             "class_index": 2}
    """

    def __init__(
        self,
        target_layers: str | list[str] = "class_layers.relu",
        class_index: int | None = 2,
        logits_key: str = "logits",
        cam_key: str = "cam",
        postprocessing: Callable[[torch.Tensor], torch.Tensor] = normalize_heatmap,
    ) -> None:
        super().__init__()
        if not target_layers:
            raise ValueError("GradCAMInferer: give at least one target layer (e.g. 'class_layers.relu').")
        if class_index is not None and int(class_index) < 0:
            raise ValueError(f"GradCAMInferer: class_index must be >= 0 or None, got {class_index}.")
        if logits_key == cam_key:
            raise ValueError(f"GradCAMInferer: logits_key and cam_key must differ, both are {cam_key!r}.")
        self.target_layers = target_layers
        self.class_index = None if class_index is None else int(class_index)
        self.logits_key = logits_key
        self.cam_key = cam_key
        self.postprocessing = postprocessing
        self._cams: dict[int, GradCAM] = {}

    def cam_for(self, network: Callable[..., Any]) -> GradCAM:
        """The ``GradCAM`` of ``network`` (made once per network: it registers hooks on the target layers).

        Raises:
            TypeError: when ``network`` is not a ``torch.nn.Module``.
            ValueError: when a target layer is not a module of ``network``.
        """
        if not isinstance(network, torch.nn.Module):
            raise TypeError(f"GradCAMInferer needs a torch.nn.Module network, got {type(network).__name__}.")
        key = id(network)
        if key not in self._cams:
            names = {name for name, _ in network.named_modules()}
            wanted = [self.target_layers] if isinstance(self.target_layers, str) else list(self.target_layers)
            missing = [t for t in wanted if t not in names]
            if missing:
                raise ValueError(
                    f"GradCAMInferer: the network has no layer(s) {missing}; pick target_layers among its "
                    "named_modules(), e.g. 'class_layers.relu' for MONAI's DenseNet121."
                )
            layers = cast(str, self.target_layers)  # GradCAM takes a name or a sequence (ensure_tuple)
            self._cams[key] = GradCAM(
                nn_module=network, target_layers=layers, postprocessing=self.postprocessing
            )
        return self._cams[key]

    def __call__(
        self, inputs: torch.Tensor, network: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> dict[str, Any]:
        """Logits and heat maps of a batch ``(B, C, *spatial)``.

        Args:
            inputs: the batch.
            network: the classification network (``(B, K)`` logits).
            args: further positional arguments of the network.
            kwargs: further keyword arguments of the network.

        Returns:
            The dictionary described in the class docstring.
        """
        # plain tensors through the network: MetaTensor's per-operation metadata bookkeeping costs more than
        # the convolutions of a small DenseNet on the CPU
        x = inputs.as_tensor() if isinstance(inputs, MetaTensor) else inputs
        with torch.no_grad():
            logits = network(x, *args, **kwargs)
        n_classes = int(logits.shape[1])
        if self.class_index is not None and self.class_index >= n_classes:
            raise ValueError(
                f"GradCAMInferer: class_index {self.class_index} but the network has {n_classes} classes."
            )
        cam = self.cam_for(network)
        with torch.enable_grad():
            if self.class_index is not None:
                maps = cam(x, class_idx=self.class_index)
            else:  # GradCAM explains one class per call: one image at a time
                predicted = logits.argmax(dim=1).tolist()
                maps = torch.cat([cam(x[i : i + 1], class_idx=int(k)) for i, k in enumerate(predicted)])
        maps = torch.as_tensor(maps, device=logits.device).detach().float()
        return {self.logits_key: logits, self.cam_key: MetaTensor(maps)}
