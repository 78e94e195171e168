"""``CorrectInvertedExport``: detect a mammogram exported with its grey scale inverted and reflect it back."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from monai.config import NdarrayOrTensor
from monai.data.meta_tensor import MetaTensor
from monai.transforms import Transform
from monai.utils import TransformBackends

from monai_mammo.data.mammo_meta import SOURCE_IMAGE, SOURCE_UNKNOWN, laterality_from_image
from monai_mammo.transforms.breast_region import breast_grid
from monai_mammo.transforms.checks import check_image_2d
from monai_mammo.transforms.intensity.inputs import (
    float_tensor,
    meta_floats,
    to_output,
)
from monai_mammo.transforms.polarity import inversion_evidence, reader_photometric
from monai_mammo.utils.enums import (
    InversionMetaKey,
    InversionSource,
    Laterality,
    MammoMetaKey,
)

__all__ = [
    "CorrectInvertedExport",
    "InversionDecision",
]


def _flag(value: Any, name: str) -> bool | None:
    """``None``/``True``/``False`` from a bool (numpy bools too); anything else: TypeError naming ``name``."""
    if value is None or isinstance(value, (bool, np.bool_)):
        return None if value is None else bool(value)
    raise TypeError(f"{name} must be True, False or None, got {type(value).__name__} {value!r}.")


def _infer_laterality_again(meta: dict, img: torch.Tensor) -> None:
    """A laterality the reader inferred from the inverted pixels is stale: infer it from the corrected ones.

    The reader's :func:`~monai_mammo.data.mammo_meta.laterality_from_image` takes the bright region for the
    breast; on an inverted export that is the background, which lies on the other side (wrong on 133 of the
    1027 real PNG/JPEG images inverted). A laterality from tags or text is left alone.
    """
    if str(meta.get(MammoMetaKey.LATERALITY_SOURCE.value, "")) != SOURCE_IMAGE:
        return
    laterality = laterality_from_image(img.detach())
    meta[MammoMetaKey.LATERALITY.value] = laterality.value
    known = laterality is not Laterality.UNKNOWN
    meta[MammoMetaKey.LATERALITY_SOURCE.value] = SOURCE_IMAGE if known else SOURCE_UNKNOWN


@dataclass
class InversionDecision:
    """What :class:`CorrectInvertedExport` decided for one image.

    Attributes:
        invert: whether the image is judged inverted and is reflected back (``max + min - x``).
        source: an :class:`~monai_mammo.utils.enums.InversionSource` value (``"image"``, ``"override"``,
            ``"metadata"``).
        score: the image evidence (> 0: looks inverted; see
            :func:`~monai_mammo.transforms.polarity.inversion_evidence`), ``nan`` when not measured.
        recorded: the metadata already held a decision (the transform ran before): nothing is done or written.
    """

    invert: bool
    source: str
    score: float
    recorded: bool = False


class CorrectInvertedExport(Transform):
    """Detect a mammogram whose grey scale was exported inverted (white background) and reflect it back.

    A MONOCHROME1 mammogram exported to PNG/JPEG without its photometric interpretation applied has a
    bright background and a dark breast; every later step (breast mask, laterality, normalisation, the
    model) expects the breast bright. Put this transform right after loading. Decision rule (``decide``):

    1. ``inverted`` given (call argument, else constructor): it decides (``source="override"``); ``True``
       reflects the image even when the reader already applied a MONOCHROME1 tag.
    2. The metadata already holds ``inversion_source`` (the transform ran before): nothing is done.
    3. ``trust_metadata`` and the reader knew the photometric interpretation
       (:func:`~monai_mammo.transforms.polarity.reader_photometric`: a DICOM read by ``MammoDicomReader``,
       which inverts MONOCHROME1 itself, or a TIFF tagged MinIsWhite): the image is left as it is
       (``source="metadata"``); a DICOM is never reflected twice.
    4. Otherwise the image decides (``source="image"``): the score of
       :func:`~monai_mammo.transforms.polarity.inversion_evidence` on the block-averaged grid of
       :func:`~monai_mammo.transforms.breast_region.breast_grid`; the image is reflected when
       ``score >= margin``, and left unchanged when ``|score| < margin`` (unsure) or ``score <= -margin``.

    The reflection ``max + min - x`` keeps the image's value range and dtype. The decision is written to the
    ``MetaTensor`` metadata (:class:`~monai_mammo.utils.enums.InversionMetaKey`): ``inverted_export``
    (bool), ``inversion_score`` (float, ``nan`` if not measured) and ``inversion_source``. A laterality the
    reader inferred from the inverted pixels (``laterality_source == "image"``) is inferred again from the
    reflected image (the reader took the bright background for the breast). On the real
    images beside the project (1031 films, digital JPEGs and DICOMs, as given, stretched to a square and
    re-encoded as JPEG) no image is reflected wrongly, and every inverted copy is reflected back except
    a few breasts that fill the whole film, which score inside the margin (``docs/transforms.md``).

    Args:
        inverted: ``None`` (decide), ``True`` (always reflect) or ``False`` (never reflect).
        margin: the ``|score|`` the image evidence needs to decide, in ``[0, 1]``.
        trust_metadata: leave images alone whose reader knew the photometric interpretation.
        grid_size: the longest side of the grid the evidence is measured on (at least 16).

    Raises:
        ValueError: for a ``margin`` outside ``[0, 1]``, a ``grid_size`` below 16, or an image that is not a
            finite real ``(C, H, W)`` array; TypeError: for an ``inverted`` that is not a bool or ``None``.
    """

    backend = [TransformBackends.TORCH, TransformBackends.NUMPY]

    def __init__(
        self,
        inverted: bool | None = None,
        margin: float = 0.1,
        trust_metadata: bool = True,
        grid_size: int = 256,
    ) -> None:
        if not 0.0 <= margin <= 1.0:
            raise ValueError(f"margin must be in [0, 1], got {margin}.")
        if grid_size < 16:
            raise ValueError(f"grid_size must be >= 16, got {grid_size}.")
        self.inverted = _flag(inverted, "inverted")
        self.margin = float(margin)
        self.trust_metadata = trust_metadata
        self.grid_size = grid_size

    def image_score(self, img: NdarrayOrTensor) -> float:
        """The image evidence of ``img`` (``(C, H, W)``): > 0 looks inverted, < 0 correctly displayed."""
        name = type(self).__name__
        check_image_2d(img, name, channels=None)
        return inversion_evidence(breast_grid(float_tensor(img), self.grid_size, name=name).values).score

    def decide(self, img: NdarrayOrTensor, inverted: bool | None = None) -> InversionDecision:
        """Decide whether ``img`` is inverted (see the class docstring for the rule).

        Args:
            img: ``(C, H, W)`` image.
            inverted: overrides the constructor's ``inverted`` when given.
        """
        check_image_2d(img, type(self).__name__, channels=None)
        forced = _flag(inverted, "inverted")
        forced = self.inverted if forced is None else forced
        if forced is not None:
            return InversionDecision(forced, InversionSource.OVERRIDE.value, math.nan)
        meta = img.meta if isinstance(img, MetaTensor) else {}
        if InversionMetaKey.SOURCE.value in meta:
            recorded = meta_floats(meta.get(InversionMetaKey.SCORE.value))
            previous = str(meta[InversionMetaKey.SOURCE.value])
            return InversionDecision(False, previous, recorded[0] if recorded else math.nan, recorded=True)
        if self.trust_metadata and reader_photometric(meta) is not None:
            return InversionDecision(False, InversionSource.METADATA.value, math.nan)
        score = self.image_score(img)
        return InversionDecision(score >= self.margin and score > 0, InversionSource.IMAGE.value, score)

    def apply(self, img: NdarrayOrTensor, decision: InversionDecision) -> NdarrayOrTensor:
        """Carry out a decision (from :meth:`decide`) on ``img`` and record it in its metadata."""
        check_image_2d(img, type(self).__name__, channels=None)
        out = img
        if decision.invert:
            x = img.as_tensor() if isinstance(img, MetaTensor) else torch.as_tensor(img)
            # integers in int64: (hi - x) + lo is exact even where an intermediate wraps around
            x = x if x.is_floating_point() else x.to(torch.int64)
            lo, hi = torch.aminmax(x)
            out = to_output(torch.sub(hi, x).add_(lo), img, img.dtype)
        if isinstance(out, MetaTensor) and decision.invert and out.shape[0] == 1:
            _infer_laterality_again(out.meta, out)
        if isinstance(out, MetaTensor) and not decision.recorded:
            out.meta[InversionMetaKey.INVERTED.value] = bool(decision.invert)
            out.meta[InversionMetaKey.SCORE.value] = float(decision.score)
            out.meta[InversionMetaKey.SOURCE.value] = str(decision.source)
        return out

    def __call__(self, img: NdarrayOrTensor, inverted: bool | None = None) -> NdarrayOrTensor:
        """Reflect ``img`` (``(C, H, W)``) back if it is judged inverted; ``inverted`` overrides the rule."""
        return self.apply(img, self.decide(img, inverted))
