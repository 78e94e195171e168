"""Intensity mammography transforms (array versions): windowing, breast-only normalisation, CLAHE, look.

Input: channel-first 2D images ``(C, H, W)`` (``(1, H, W)`` from ``monai_mammo``'s readers), numpy or torch
on any device. Output: the same container type (numpy in, numpy out; ``MetaTensor`` metadata kept),
``float32`` unless ``dtype`` says otherwise. Intensity transforms are not invertible.

Output ranges:

- :class:`CorrectInvertedExport`: the input's range and dtype (``max + min - x`` if inverted, else unchanged);
- :class:`MammoWindow`: ``[y_min, y_max]`` (``[0, 1]`` by default);
- :class:`BreastPercentileScale`: ``[b_min, b_max]`` (``[0, 1]``) with ``clip=True``;
- :class:`BreastZScore`: zero mean, unit variance inside the breast, ``outside_value`` outside;
- :class:`Clahe`: ``[0, 1]`` (input must be in ``[0, 1]``);
- :class:`RandVendorLook`, :class:`RandDetectorNoise`: ``[0, 1]`` with ``clip=True`` (inputs in ``[0, 1]``).

All but :class:`Clahe` (scikit-image, CPU) run with torch on the input's device.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from monai.config import DtypeLike, NdarrayOrTensor
from monai.data.meta_tensor import MetaTensor
from monai.transforms import GaussianSmooth, RandomizableTransform, Transform
from monai.utils import TransformBackends, convert_to_dst_type
from skimage.exposure import equalize_adapthist

from monai_mammo.data.mammo_meta import SOURCE_IMAGE, SOURCE_UNKNOWN, laterality_from_image
from monai_mammo.transforms.breast_region import breast_grid
from monai_mammo.transforms.checks import check_image_2d, check_unit_range
from monai_mammo.transforms.polarity import inversion_evidence, reader_photometric
from monai_mammo.transforms.quantiles import masked_quantile
from monai_mammo.transforms.spatial.array import BreastMask
from monai_mammo.utils.enums import (
    InversionMetaKey,
    InversionSource,
    Laterality,
    MammoMetaKey,
    VoiMode,
)

__all__ = [
    "BreastPercentileScale",
    "BreastZScore",
    "Clahe",
    "CorrectInvertedExport",
    "InversionDecision",
    "MammoWindow",
    "RandDetectorNoise",
    "RandVendorLook",
]


def _float_tensor(img: NdarrayOrTensor) -> torch.Tensor:
    """A plain float32 torch view/copy of ``img`` (metadata dropped; restored by ``convert_to_dst_type``)."""
    t = img.as_tensor() if isinstance(img, MetaTensor) else torch.as_tensor(img)
    return t if t.dtype == torch.float32 else t.float()


def _mask_tensor(mask: NdarrayOrTensor, img: NdarrayOrTensor, name: str) -> torch.Tensor:
    """A boolean ``(1, H, W)`` mask on ``img``'s device, checked against ``img``'s shape."""
    check_image_2d(mask, f"{name} (mask)", channels=1, real=False)
    if tuple(mask.shape[1:]) != tuple(img.shape[1:]):
        raise ValueError(
            f"{name}: mask shape {tuple(mask.shape)} does not match image shape {tuple(img.shape)}."
        )
    m = mask.as_tensor() if isinstance(mask, MetaTensor) else torch.as_tensor(mask)
    device = img.device if isinstance(img, torch.Tensor) else torch.device("cpu")
    m = m.to(device) > 0
    if not bool(m.any()):
        raise ValueError(f"{name}: the breast mask is empty.")
    return m


def _out(out: torch.Tensor, img: NdarrayOrTensor, dtype: DtypeLike | torch.dtype) -> NdarrayOrTensor:
    return convert_to_dst_type(out, img, dtype=dtype)[0]


# ----------------------------------------------------------------------------------------------------------
# windowing


def _floats(value: Any) -> list[float]:
    """Numbers from a metadata value: number, list, ``"a\\b"`` text or DICOM JSON ``{"Value": [...]}``."""
    if value is None:
        return []
    if isinstance(value, Mapping):
        return _floats(value.get("Value"))
    if isinstance(value, (str, bytes)):
        text = value.decode() if isinstance(value, bytes) else value
        parts = [p for p in text.replace(",", "\\").split("\\") if p.strip()]
        try:
            return [float(p) for p in parts]
        except ValueError:
            return []
    if isinstance(value, (torch.Tensor, np.ndarray)):
        return [
            float(v) for v in np.asarray(value.cpu() if isinstance(value, torch.Tensor) else value).ravel()
        ]
    if isinstance(value, Sequence):
        return [f for v in value for f in _floats(v)]
    try:
        return [float(value)]
    except (TypeError, ValueError):
        return []


def _text(value: Any) -> str | None:
    if isinstance(value, Mapping):
        value = value.get("Value")
    if isinstance(value, (list, tuple)):
        value = value[0] if value else None
    return None if value is None else str(value).strip().upper()


class MammoWindow(Transform):
    """Apply the DICOM VOI window (PS3.3 C.11.2.1.2: LINEAR, LINEAR_EXACT, SIGMOID) to raw modality values.

    The window is taken, in order, from the call's or constructor's ``center``/``width``, else from
    the ``MetaTensor`` metadata: keys ``window_center``/``window_width``/``voi_lut_function``, or the
    DICOM keywords ``WindowCenter``/``WindowWidth``/``VOILUTFunction``, or their tags
    ``00281050``/``00281051``/``00281056`` (MONAI's ``PydicomReader`` JSON form); multi-valued windows
    use ``window_index``. When the metadata says the reader already applied a window
    (``voi_mode == "window"``) and ``skip_if_applied``, the image is returned unchanged. Without any
    window, ``fallback`` decides: ``"full_range"`` (min-max to the output range), ``"error"`` (raise)
    or ``"none"`` (unchanged). The applied mode is written to the metadata ``voi_mode``.

    Args:
        center: window centre (overrides metadata).
        width: window width (overrides metadata).
        function: ``"LINEAR"``, ``"LINEAR_EXACT"`` or ``"SIGMOID"`` (default: metadata, else LINEAR).
        window_index: which of several windows to use.
        y_min: output minimum.
        y_max: output maximum.
        fallback: what to do without a window.
        skip_if_applied: leave images whose metadata says a window was already applied.
        dtype: output dtype.

    Raises:
        ValueError: for a bad ``function``/``fallback``, a width that is not positive (``>= 1`` for LINEAR),
            no window with ``fallback="error"``, or a bad image shape; TypeError: for a non-numeric dtype.
    """

    backend = [TransformBackends.TORCH, TransformBackends.NUMPY]
    functions = ("LINEAR", "LINEAR_EXACT", "SIGMOID")

    def __init__(
        self,
        center: float | None = None,
        width: float | None = None,
        function: str | None = None,
        window_index: int = 0,
        y_min: float = 0.0,
        y_max: float = 1.0,
        fallback: str = "full_range",
        skip_if_applied: bool = True,
        dtype: DtypeLike | torch.dtype = torch.float32,
    ) -> None:
        if function is not None and function.upper() not in self.functions:
            raise ValueError(f"function must be one of {self.functions}, got {function!r}.")
        if fallback not in ("full_range", "error", "none"):
            raise ValueError(f"fallback must be 'full_range', 'error' or 'none', got {fallback!r}.")
        if (center is None) != (width is None):
            raise ValueError("give both center and width, or neither.")
        self.center, self.width = center, width
        self.function = function.upper() if function else None
        self.window_index = window_index
        self.y_min, self.y_max = float(y_min), float(y_max)
        self.fallback = fallback
        self.skip_if_applied = skip_if_applied
        self.dtype = dtype

    def window_of(self, img: NdarrayOrTensor) -> tuple[float, float, str] | None:
        """``(center, width, function)`` from the constructor or ``img``'s metadata; ``None`` if none."""
        meta = img.meta if isinstance(img, MetaTensor) else {}
        function = self.function
        if function is None:
            for key in ("voi_lut_function", "VOILUTFunction", "00281056"):
                text = _text(meta.get(key))
                if text:
                    function = text
                    break
        function = (function or "LINEAR").replace(" ", "_")
        if function not in self.functions:
            raise ValueError(f"MammoWindow: unsupported VOI LUT function {function!r} in the metadata.")
        if self.center is not None and self.width is not None:
            return float(self.center), float(self.width), function
        for ck, wk in (
            ("window_center", "window_width"),
            ("WindowCenter", "WindowWidth"),
            ("00281050", "00281051"),
        ):
            centers = [v for v in _floats(meta.get(ck)) if math.isfinite(v)]
            widths = [v for v in _floats(meta.get(wk)) if math.isfinite(v)]
            if centers and widths:  # readers write NaN when the file has no window
                i = min(self.window_index, len(centers) - 1, len(widths) - 1)
                return centers[i], widths[i], function
        return None

    def __call__(
        self, img: NdarrayOrTensor, center: float | None = None, width: float | None = None
    ) -> NdarrayOrTensor:
        """Window ``img`` (``(C, H, W)`` raw values); ``center``/``width`` override everything else."""
        name = type(self).__name__
        check_image_2d(img, name, channels=None)
        meta = img.meta if isinstance(img, MetaTensor) else {}
        if (
            self.skip_if_applied
            and center is None
            and str(meta.get(MammoMetaKey.VOI_MODE.value, "")) == "window"
        ):
            return img
        window = self.window_of(img)
        if center is not None and width is not None:
            window = (float(center), float(width), window[2] if window else (self.function or "LINEAR"))
        x = _float_tensor(img)
        span = self.y_max - self.y_min
        if window is None:
            if self.fallback == "error":
                raise ValueError(f"{name}: no window centre/width given or found in the metadata.")
            if self.fallback == "none":
                return img
            lo, hi = (float(v) for v in torch.aminmax(x))
            out = (
                torch.full_like(x, self.y_min)
                if hi <= lo
                else torch.sub(x, lo).mul_(span / (hi - lo)).add_(self.y_min)
            )
            mode = VoiMode.FULL_RANGE.value
        else:
            c, w, function = window
            if function == "LINEAR":
                if w < 1:
                    raise ValueError(f"{name}: LINEAR window width must be >= 1, got {w}.")
                if w == 1:  # width 1: a step at the centre
                    unit = (x > c - 0.5).to(x.dtype)
                else:
                    unit = torch.sub(x, c - 0.5).div_(w - 1).add_(0.5).clamp_(0.0, 1.0)
            elif function == "LINEAR_EXACT":
                if w <= 0:
                    raise ValueError(f"{name}: LINEAR_EXACT window width must be > 0, got {w}.")
                unit = torch.sub(x, c).div_(w).add_(0.5).clamp_(0.0, 1.0)
            else:
                if w <= 0:
                    raise ValueError(f"{name}: SIGMOID window width must be > 0, got {w}.")
                unit = torch.sub(x, c).mul_(4.0 / w).sigmoid_()
            out = unit if (span, self.y_min) == (1.0, 0.0) else unit.mul_(span).add_(self.y_min)
            mode = VoiMode.WINDOW.value
        result = _out(out, img, self.dtype)
        if isinstance(result, MetaTensor):
            result.meta[MammoMetaKey.VOI_MODE.value] = mode
        return result


# ----------------------------------------------------------------------------------------------------------
# grey-scale polarity


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
        return inversion_evidence(breast_grid(_float_tensor(img), self.grid_size, name=name).values).score

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
            recorded = _floats(meta.get(InversionMetaKey.SCORE.value))
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
            out = _out(torch.sub(hi, x).add_(lo), img, img.dtype)
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


# ----------------------------------------------------------------------------------------------------------
# breast-only normalisation


class BreastPercentileScale(Transform):
    """Scale intensities so that breast-only percentiles map to ``[b_min, b_max]``.

    Percentiles are computed inside the breast mask only (the background, often half the image, would
    otherwise pull the low percentile to the background level) and exactly, with the histogram search of
    :func:`~monai_mammo.transforms.quantiles.masked_quantile` instead of a sort (several times faster than
    ``ScaleIntensityRangePercentiles`` on a full-field image, and no 16-million-element limit).

    Args:
        lower: lower percentile in ``[0, 100]``.
        upper: upper percentile in ``[0, 100]``.
        b_min: output value of the lower percentile.
        b_max: output value of the upper percentile.
        clip: clip the output to ``[b_min, b_max]``.
        mask_fn: computes a breast mask when the call gives none (default ``BreastMask()``).
        dtype: output dtype.

    Raises:
        ValueError: for percentiles out of order or range, an empty mask or a bad shape; TypeError: bad dtype.
    """

    backend = [TransformBackends.TORCH, TransformBackends.NUMPY]

    def __init__(
        self,
        lower: float = 0.5,
        upper: float = 99.5,
        b_min: float = 0.0,
        b_max: float = 1.0,
        clip: bool = True,
        mask_fn: BreastMask | None = None,
        dtype: DtypeLike | torch.dtype = torch.float32,
    ) -> None:
        if not 0.0 <= lower < upper <= 100.0:
            raise ValueError(f"need 0 <= lower < upper <= 100, got lower={lower}, upper={upper}.")
        self.lower, self.upper = float(lower), float(upper)
        self.b_min, self.b_max = float(b_min), float(b_max)
        self.clip = clip
        self.mask_fn = mask_fn if mask_fn is not None else BreastMask()
        self.dtype = dtype

    def __call__(self, img: NdarrayOrTensor, mask: NdarrayOrTensor | None = None) -> NdarrayOrTensor:
        """Scale ``img`` ``(C, H, W)`` by the percentiles of the pixels where ``mask`` is set."""
        name = type(self).__name__
        check_image_2d(img, name, channels=None)
        m = _mask_tensor(mask if mask is not None else self.mask_fn(img), img, name)
        x = _float_tensor(img)
        lo, hi = (
            float(v) for v in masked_quantile(x, [self.lower / 100.0, self.upper / 100.0], m.expand_as(x))
        )
        if hi <= lo:
            warnings.warn(
                f"{name}: the breast intensities are constant ({lo}); output set to b_min.", stacklevel=2
            )
            out = torch.full_like(x, self.b_min)
        else:
            out = torch.sub(x, lo).mul_((self.b_max - self.b_min) / (hi - lo)).add_(self.b_min)
            if self.clip:
                out = out.clamp_(min(self.b_min, self.b_max), max(self.b_min, self.b_max))
        return _out(out, img, self.dtype)


class BreastZScore(Transform):
    """Z-score normalisation with mean and standard deviation measured inside the breast only.

    Args:
        outside_value: value written outside the breast (``None``: keep the normalised values there).
        eps: the smallest standard deviation divided by.
        mask_fn: computes a breast mask when the call gives none (default ``BreastMask()``).
        dtype: output dtype.

    Raises:
        ValueError: for an empty mask or a bad shape; TypeError: for a bad dtype.
    """

    backend = [TransformBackends.TORCH, TransformBackends.NUMPY]

    def __init__(
        self,
        outside_value: float | None = 0.0,
        eps: float = 1e-6,
        mask_fn: BreastMask | None = None,
        dtype: DtypeLike | torch.dtype = torch.float32,
    ) -> None:
        self.outside_value = outside_value
        self.eps = eps
        self.mask_fn = mask_fn if mask_fn is not None else BreastMask()
        self.dtype = dtype

    def __call__(self, img: NdarrayOrTensor, mask: NdarrayOrTensor | None = None) -> NdarrayOrTensor:
        """Normalise ``img`` (``(C, H, W)``) with the statistics of the pixels inside ``mask``."""
        name = type(self).__name__
        check_image_2d(img, name, channels=None)
        m = _mask_tensor(mask if mask is not None else self.mask_fn(img), img, name).expand(img.shape)
        x = _float_tensor(img)
        if x.device.type == "cpu":  # numpy's boolean selection is much faster than torch's on the CPU
            values = x.numpy()[m.numpy()]
            mean, std = float(values.mean(dtype=np.float64)), float(values.std(dtype=np.float64))
        else:
            values = x[m].double()
            mean, std = float(values.mean()), float(values.std(unbiased=False))
        out = torch.sub(x, mean).div_(max(std, self.eps))
        if self.outside_value is not None:
            out = torch.where(m, out, float(self.outside_value))
        return _out(out, img, self.dtype)


class Clahe(Transform):
    """Contrast-limited adaptive histogram equalisation (scikit-image ``equalize_adapthist``), per channel.

    CPU only (scikit-image); a full-field image takes seconds, so apply it after resizing where possible.

    Args:
        kernel_size: contextual region size (int or ``(h, w)``; default 1/8 of each side).
        clip_limit: clipping limit in ``(0, 1]`` (higher: more contrast).
        nbins: histogram bins.
        outside_value: value written outside the breast mask when a mask is given (``None``: keep).
        dtype: output dtype.

    Raises:
        ValueError: for an input outside ``[0, 1]``, a bad ``clip_limit`` or shape; TypeError: bad dtype.
    """

    backend = [TransformBackends.NUMPY]

    def __init__(
        self,
        kernel_size: int | Sequence[int] | None = None,
        clip_limit: float = 0.01,
        nbins: int = 256,
        outside_value: float | None = 0.0,
        dtype: DtypeLike | torch.dtype = torch.float32,
    ) -> None:
        if not 0.0 < clip_limit <= 1.0:
            raise ValueError(f"clip_limit must be in (0, 1], got {clip_limit}.")
        self.kernel_size = kernel_size
        self.clip_limit = clip_limit
        self.nbins = nbins
        self.outside_value = outside_value
        self.dtype = dtype

    def __call__(self, img: NdarrayOrTensor, mask: NdarrayOrTensor | None = None) -> NdarrayOrTensor:
        """Equalise ``img`` (``(C, H, W)`` in ``[0, 1]``); ``mask`` optionally limits it to the breast."""
        name = type(self).__name__
        check_image_2d(img, name, channels=None)
        x = _float_tensor(img)
        check_unit_range(x, name)
        arr = x.detach().cpu().numpy().clip(0.0, 1.0)
        out = np.stack(
            [
                equalize_adapthist(
                    ch, kernel_size=self.kernel_size, clip_limit=self.clip_limit, nbins=self.nbins
                )
                for ch in arr
            ]
        ).astype(np.float32)
        out_t = torch.from_numpy(out).to(x.device)
        if mask is not None and self.outside_value is not None:
            m = _mask_tensor(mask, img, name).expand(out_t.shape)
            out_t = out_t.masked_fill(~m, float(self.outside_value))
        return _out(out_t, img, self.dtype)


# ----------------------------------------------------------------------------------------------------------
# augmentation


class RandVendorLook(RandomizableTransform):
    """Random "vendor/processing look" for ``[0, 1]`` images: gamma, sigmoid LUT, contrast, unsharp masking.

    With probability ``prob`` the transform runs; each of its four steps then runs with its own probability,
    in this order (parameters drawn uniformly from their ranges):

    - gamma: ``x ** gamma``;
    - sigmoid LUT (a DICOM ``SIGMOID`` VOI curve re-normalised so that 0 -> 0 and 1 -> 1):
      ``s(x) = 1 / (1 + exp(-4 (x - center) / width))``, ``(s(x) - s(0)) / (s(1) - s(0))``;
    - contrast around the mean ``m`` (inside the mask if given): ``m + factor * (x - m)``;
    - unsharp masking: ``x + amount * (x - gaussian(x, sigma))`` (sigma in pixels, torch convolution).

    The result is clipped to ``[0, 1]`` (``clip``). With a mask, pixels outside it keep their input values.

    Args:
        prob: probability of running at all.
        gamma_prob, gamma_range: probability and range of the gamma.
        sigmoid_prob, sigmoid_center_range, sigmoid_width_range: sigmoid LUT probability and parameter ranges.
        contrast_prob, contrast_range: contrast probability and factor range.
        unsharp_prob, unsharp_sigma_range, unsharp_amount_range: unsharp masking probability and ranges.
        clip: clip the output to ``[0, 1]``.
        dtype: output dtype.

    Raises:
        ValueError: for a bad range or image shape; TypeError: for a bad dtype.
    """

    backend = [TransformBackends.TORCH, TransformBackends.NUMPY]

    def __init__(
        self,
        prob: float = 0.5,
        gamma_prob: float = 0.5,
        gamma_range: tuple[float, float] = (0.7, 1.5),
        sigmoid_prob: float = 0.3,
        sigmoid_center_range: tuple[float, float] = (0.35, 0.65),
        sigmoid_width_range: tuple[float, float] = (0.3, 0.8),
        contrast_prob: float = 0.5,
        contrast_range: tuple[float, float] = (0.8, 1.25),
        unsharp_prob: float = 0.3,
        unsharp_sigma_range: tuple[float, float] = (1.0, 4.0),
        unsharp_amount_range: tuple[float, float] = (0.2, 1.0),
        clip: bool = True,
        dtype: DtypeLike | torch.dtype = torch.float32,
    ) -> None:
        RandomizableTransform.__init__(self, prob)
        for label, rng, low in (
            ("gamma_range", gamma_range, 0.0),
            ("sigmoid_width_range", sigmoid_width_range, 0.0),
            ("contrast_range", contrast_range, 0.0),
            ("unsharp_sigma_range", unsharp_sigma_range, 0.0),
        ):
            if len(rng) != 2 or not low < rng[0] <= rng[1]:
                raise ValueError(f"{label} must be (min, max) with {low} < min <= max, got {rng}.")
        for label, rng in (
            ("sigmoid_center_range", sigmoid_center_range),
            ("unsharp_amount_range", unsharp_amount_range),
        ):
            if len(rng) != 2 or not rng[0] <= rng[1]:
                raise ValueError(f"{label} must be (min, max) with min <= max, got {rng}.")
        self.gamma_prob, self.gamma_range = gamma_prob, gamma_range
        self.sigmoid_prob, self.sigmoid_center_range, self.sigmoid_width_range = (
            sigmoid_prob,
            sigmoid_center_range,
            sigmoid_width_range,
        )
        self.contrast_prob, self.contrast_range = contrast_prob, contrast_range
        self.unsharp_prob, self.unsharp_sigma_range, self.unsharp_amount_range = (
            unsharp_prob,
            unsharp_sigma_range,
            unsharp_amount_range,
        )
        self.clip = clip
        self.dtype = dtype
        self.params: dict[str, Any] = {}

    def randomize(self, data: Any = None) -> None:
        """Draw whether to run and every step's parameters (always the same number of draws)."""
        super().randomize(None)
        draws = self.R.uniform(size=12)

        def within(u: float, rng: tuple[float, float]) -> float:
            return float(rng[0] + u * (rng[1] - rng[0]))

        self.params = {
            "gamma": within(draws[1], self.gamma_range) if draws[0] < self.gamma_prob else None,
            "sigmoid": (
                (within(draws[3], self.sigmoid_center_range), within(draws[4], self.sigmoid_width_range))
                if draws[2] < self.sigmoid_prob
                else None
            ),
            "contrast": within(draws[6], self.contrast_range) if draws[5] < self.contrast_prob else None,
            "unsharp": (
                (within(draws[8], self.unsharp_sigma_range), within(draws[9], self.unsharp_amount_range))
                if draws[7] < self.unsharp_prob
                else None
            ),
        }

    def __call__(
        self, img: NdarrayOrTensor, mask: NdarrayOrTensor | None = None, randomize: bool = True
    ) -> NdarrayOrTensor:
        """Apply the drawn look to ``img`` (``(C, H, W)``, ``[0, 1]``); ``mask`` keeps the background."""
        if randomize:
            self.randomize()
        name = type(self).__name__
        check_image_2d(img, name, channels=None)
        if not self._do_transform:
            return img
        x = _float_tensor(img)
        m = _mask_tensor(mask, img, name).expand(x.shape) if mask is not None else None
        out = x.clamp(0.0, 1.0)
        p = self.params
        if p.get("gamma") is not None:
            out = out.pow(p["gamma"])
        if p.get("sigmoid") is not None:
            center, width = p["sigmoid"]
            s0, s1 = (1.0 / (1.0 + math.exp(-4.0 * (v - center) / width)) for v in (0.0, 1.0))
            out = (torch.sigmoid(4.0 * (out - center) / width) - s0) / (s1 - s0)
        if p.get("contrast") is not None:
            mean = out[m].mean() if m is not None else out.mean()
            out = (out - mean) * p["contrast"] + mean
        if p.get("unsharp") is not None:
            sigma, amount = p["unsharp"]
            blurred = GaussianSmooth(sigma=sigma)(out)
            out = out + amount * (out - torch.as_tensor(blurred))
        if self.clip:
            out = out.clamp_(0.0, 1.0)
        if m is not None:
            out = torch.where(m, out, x)
        return _out(out, img, self.dtype)


class RandDetectorNoise(RandomizableTransform):
    """Random Poisson-Gaussian detector noise for ``[0, 1]`` images.

    The signal-dependent model of Foi et al. (2008): ``y = x + sqrt(gain * x + sigma**2) * n`` with
    ``n`` standard normal (the Gaussian approximation of quantum Poisson noise, ``gain`` ~ 1 / photons
    at full scale, plus electronic noise ``sigma``); ``exact_poisson=True`` draws
    ``gain * Poisson(x / gain) + sigma * n`` instead.
    ``gain`` is drawn log-uniformly from ``gain_range``, ``sigma`` uniformly from ``sigma_range``; the noise
    comes from a torch generator on the image's device, seeded from ``self.R`` (reproducible with
    ``set_random_state``).

    Args:
        prob: probability of adding noise.
        gain_range: range of the signal-dependent gain.
        sigma_range: range of the signal-independent standard deviation.
        exact_poisson: sample true Poisson counts (slower) instead of the Gaussian approximation.
        clip: clip the output to ``[0, 1]``.
        dtype: output dtype.

    Raises:
        ValueError: for bad ranges or a bad image shape; TypeError: for a bad dtype.
    """

    backend = [TransformBackends.TORCH, TransformBackends.NUMPY]

    def __init__(
        self,
        prob: float = 0.5,
        gain_range: tuple[float, float] = (1e-4, 2e-3),
        sigma_range: tuple[float, float] = (0.0, 0.01),
        exact_poisson: bool = False,
        clip: bool = True,
        dtype: DtypeLike | torch.dtype = torch.float32,
    ) -> None:
        RandomizableTransform.__init__(self, prob)
        if len(gain_range) != 2 or not 0.0 < gain_range[0] <= gain_range[1]:
            raise ValueError(f"gain_range must be (min, max) with 0 < min <= max, got {gain_range}.")
        if len(sigma_range) != 2 or not 0.0 <= sigma_range[0] <= sigma_range[1]:
            raise ValueError(f"sigma_range must be (min, max) with 0 <= min <= max, got {sigma_range}.")
        self.gain_range, self.sigma_range = gain_range, sigma_range
        self.exact_poisson = exact_poisson
        self.clip = clip
        self.dtype = dtype
        self.gain, self.sigma, self.seed = 0.0, 0.0, 0

    def randomize(self, data: Any = None) -> None:
        """Draw whether to add noise, the gain, the sigma and the noise seed."""
        super().randomize(None)
        lo, hi = math.log(self.gain_range[0]), math.log(self.gain_range[1])
        self.gain = float(math.exp(self.R.uniform(lo, hi)))
        self.sigma = float(self.R.uniform(*self.sigma_range))
        self.seed = int(self.R.randint(0, 2**31 - 1))

    def __call__(self, img: NdarrayOrTensor, randomize: bool = True) -> NdarrayOrTensor:
        """Add the drawn noise to ``img`` (``(C, H, W)``, ``[0, 1]``)."""
        if randomize:
            self.randomize()
        check_image_2d(img, type(self).__name__, channels=None)
        if not self._do_transform:
            return img
        x = _float_tensor(img)
        gen = torch.Generator(device=x.device).manual_seed(self.seed)
        signal = x.clamp(min=0.0)
        if self.exact_poisson:
            out = torch.poisson(signal / self.gain, generator=gen) * self.gain
            if self.sigma > 0:
                out = out + self.sigma * torch.randn(x.shape, generator=gen, device=x.device, dtype=x.dtype)
        else:
            std = torch.sqrt(signal * self.gain + self.sigma**2)
            out = x + std * torch.randn(x.shape, generator=gen, device=x.device, dtype=x.dtype)
        if self.clip:
            out = out.clamp_(0.0, 1.0)
        return _out(out, img, self.dtype)
