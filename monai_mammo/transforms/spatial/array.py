"""Spatial mammography transforms (array versions): canonical laterality, breast/pectoral masks, crop.

Images are channel-first 2D ``(C, H, W)`` (``(1, H, W)`` from ``monai_mammo``'s readers), numpy or
torch, on any device. Geometric transforms are invertible (``inverse()`` / ``Invertd``) and return a
``MetaTensor`` (``torch.Tensor`` when metadata tracking is off), like MONAI's spatial transforms.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from monai.config import DtypeLike, NdarrayOrTensor
from monai.data.meta_obj import get_track_meta
from monai.data.meta_tensor import MetaTensor
from monai.transforms import CropForeground, Flip, InvertibleTransform, Transform
from monai.transforms.inverse import TraceKeys
from monai.transforms.utils import compute_divisible_spatial_size
from monai.utils import TransformBackends, convert_to_dst_type, convert_to_tensor, ensure_tuple_rep

from monai_mammo.data.mammo_meta import (
    SOURCE_IMAGE,
    SOURCE_IMAGE_LATERALITY,
    SOURCE_LATERALITY,
    SOURCE_TEXT,
    SOURCE_UNKNOWN,
)
from monai_mammo.transforms.breast_region import (
    BreastGrid,
    breast_grid,
    breast_mask_on_grid,
    chest_wall_score,
    image_chest_wall_score,
    pectoral_mask_on_grid,
    upsample_grid_mask,
)
from monai_mammo.transforms.checks import check_image_2d
from monai_mammo.transforms.spatial.resize import ResizeToFit
from monai_mammo.utils.enums import Laterality, MammoMetaKey, ViewPosition

__all__ = [
    "BreastMask",
    "CanonicalLaterality",
    "CropBreast",
    "LateralityDecision",
    "PectoralMask",
    "ResizeToFit",
]


def _meta(img: Any) -> dict:
    return img.meta if isinstance(img, MetaTensor) else {}


# torch has no flip kernel for these; their bits are flipped as the signed type of the same size
_SIGNED_VIEW = {torch.uint16: torch.int16, torch.uint32: torch.int32, torch.uint64: torch.int64}


def _flip(flipper: Flip, img: torch.Tensor) -> torch.Tensor:
    """``flipper(img)``, also for unsigned 16/32/64-bit tensors (flipped through their signed view)."""
    signed = _SIGNED_VIEW.get(img.dtype)
    if signed is None:
        return flipper(img)
    return flipper(img.view(signed)).view(img.dtype)


def _as_torch(img: NdarrayOrTensor) -> torch.Tensor:
    return img if isinstance(img, torch.Tensor) else torch.as_tensor(np.ascontiguousarray(img))


class BreastMask(Transform):
    """Breast foreground mask of a mammogram, robust to labels, markers, noisy backgrounds and dense breasts.

    The mask is computed on a block-averaged grid whose longest side is at most ``grid_size`` cells (see
    :func:`~monai_mammo.transforms.breast_region.breast_mask_on_grid` for the steps) and brought back to
    full resolution, so a full-field image costs one averaging pass and one upsampling pass. The breast
    must be brighter than the background (MONOCHROME2, as ``monai_mammo``'s readers return it).

    Args:
        grid_size: longest side of the grid the mask is computed on.
        threshold_fraction: threshold position between background level and Otsu's threshold
            (lower keeps more of the faint skin line).
        median_size: median filter size on the grid.
        open_iterations: opening iterations on the grid (cuts thin bridges to labels).
        fill_holes: fill holes inside the mask.
        dtype: output dtype (``uint8`` 0/1 by default; ``bool`` also works).

    Returns (``__call__``):
        a ``(1, H, W)`` mask of the same container type as the input (numpy, torch or ``MetaTensor``
        with the image's metadata and applied operations, so it can be inverted like the image).

    Raises:
        ValueError/TypeError: for an input that is not a real-valued ``(C, H, W)`` array, or holds NaN.
    """

    backend = [TransformBackends.TORCH, TransformBackends.NUMPY]

    def __init__(
        self,
        grid_size: int = 256,
        threshold_fraction: float = 0.3,
        median_size: int = 3,
        open_iterations: int = 2,
        fill_holes: bool = True,
        dtype: DtypeLike | torch.dtype = torch.uint8,
    ) -> None:
        if not 0.0 <= threshold_fraction <= 1.0:
            raise ValueError(f"threshold_fraction must be in [0, 1], got {threshold_fraction}.")
        self.grid_size = grid_size
        self.threshold_fraction = threshold_fraction
        self.median_size = median_size
        self.open_iterations = open_iterations
        self.fill_holes = fill_holes
        self.dtype = dtype

    def on_grid(self, img: NdarrayOrTensor) -> tuple[BreastGrid, np.ndarray]:
        """The coarse grid of ``img`` and the boolean breast mask on it (no full-resolution pass)."""
        check_image_2d(img, type(self).__name__, channels=None)
        grid = breast_grid(_as_torch(img), self.grid_size, name=type(self).__name__)
        mask = breast_mask_on_grid(
            grid.values,
            threshold_fraction=self.threshold_fraction,
            median_size=self.median_size,
            open_iterations=self.open_iterations,
            fill_holes=self.fill_holes,
        )
        return grid, mask

    def __call__(self, img: NdarrayOrTensor) -> NdarrayOrTensor:
        """Compute the ``(1, H, W)`` mask of ``img`` (``(C, H, W)``)."""
        grid, mask = self.on_grid(img)
        device = img.device if isinstance(img, torch.Tensor) else "cpu"
        grid_mask = mask.astype(np.uint8) if self.dtype in (torch.uint8, np.uint8) else mask
        full = upsample_grid_mask(grid_mask, grid.factor, grid.shape, device=device)[None]
        return convert_to_dst_type(full, img, dtype=self.dtype)[0]


@dataclass
class LateralityDecision:
    """What :class:`CanonicalLaterality` decided for one image.

    Attributes:
        flip: whether the image is mirrored left-right.
        laterality: the breast's laterality (metadata, or inferred from the image if unknown).
        source: ``"metadata"`` (or the ``laterality`` argument) or ``"image"``: which one set the flip.
        score: the image evidence for the chest wall side (positive: left), ``nan`` if not computed.
        contradiction: the metadata was overruled by strong image evidence.
        laterality_source: where the given laterality came from: ``"argument"``, a DICOM tag name
            (``ImageLaterality``/``Laterality``), ``"text"``, ``"image"``, ``"unknown"`` (``"metadata"`` for
            metadata without a ``laterality_source``).
    """

    flip: bool
    laterality: Laterality
    source: str
    score: float
    contradiction: bool = False
    laterality_source: str = SOURCE_UNKNOWN


# where a laterality came from -> how much it is trusted (see CanonicalLaterality)
SOURCE_ARGUMENT = "argument"
SOURCE_METADATA = "metadata"  # metadata without a laterality_source (e.g. a MetaTensor built by hand)
_TRUSTED_SOURCES = (SOURCE_ARGUMENT, SOURCE_METADATA, SOURCE_IMAGE_LATERALITY, SOURCE_LATERALITY)


class CanonicalLaterality(InvertibleTransform):
    """Mirror right breasts so that every breast has its chest wall on the LEFT (nipple pointing right).

    Decision rule (``decide``), with ``s`` the image evidence of
    :func:`~monai_mammo.transforms.breast_region.image_chest_wall_score` (positive: chest wall on the left;
    the readers' ``laterality_from_image`` uses the same evidence), by where the laterality came from
    (the ``laterality`` argument, else the metadata keys ``"laterality"`` and ``"laterality_source"`` that
    the readers fill):

    1. the ``laterality`` argument (e.g. a datalist column) or a DICOM tag (``ImageLaterality``,
       ``Laterality``; also metadata without a source): trusted. A right breast is flipped, a left one is
       not, unless the image strongly contradicts it (``s`` of the opposite sign and
       ``|s| >= override_threshold``, 0.3; e.g. an image stored mirrored, or a DDSM film scanned the other
       way round).
    2. ``text`` (a file or folder name, a series description): trusted less, as names are written by people
       and exporters: overruled by clear contrary evidence, ``|s| >= text_override_threshold`` (0.15, the
       margin at which the readers accept a laterality from the pixels).
    3. ``image`` (the reader already inferred it from the pixels) or unknown: the pixels decide, measured
       again on the current image (flip when ``s < 0``), and the metadata laterality is (re)filled from
       them (chest wall on the left: ``L``, the standard display orientation), ``"laterality_source"`` =
       ``"image"``.

    When the image overrules a given laterality, a warning is issued and the laterality is kept in the
    metadata (the image says where the chest wall is, not which breast it is). ``override_threshold=None``
    never looks at the image for a known laterality (rules 1 and 2); ``trust_metadata=False`` lets the image
    decide always. Measured on real images: with the true laterality, no mini-MIAS, CBIS-DDSM or CDD-CESM
    image has contrary evidence of 0.1 or more.

    The decision is recorded in the applied operations, so ``inverse`` (and ``Invertd``) mirrors back
    exactly; ``MetaTensor`` affines are updated as by MONAI's ``Flip``.

    Args:
        trust_metadata: use a known laterality (see the rule above).
        override_threshold: image evidence needed to overrule a laterality from the argument or a DICOM tag;
            ``None``: never (also for text).
        grid_size: grid size of the breast mask used for the image evidence.
        edge_fraction: fraction of the breast's width compared on each side for the evidence.
        threshold_fraction: breast-mask threshold (see :class:`BreastMask`).
        text_override_threshold: image evidence needed to overrule a laterality read from text; at most
            ``override_threshold``.

    Raises:
        ValueError/TypeError: for an input that is not a ``(C, H, W)`` array.
    """

    backend = [TransformBackends.TORCH]

    def __init__(
        self,
        trust_metadata: bool = True,
        override_threshold: float | None = 0.3,
        grid_size: int = 256,
        edge_fraction: float = 0.1,
        threshold_fraction: float = 0.3,
        text_override_threshold: float = 0.15,
    ) -> None:
        if override_threshold is not None and not 0.0 < override_threshold <= 1.0:
            raise ValueError(f"override_threshold must be in (0, 1] or None, got {override_threshold}.")
        if not 0.0 < text_override_threshold <= 1.0:
            raise ValueError(f"text_override_threshold must be in (0, 1], got {text_override_threshold}.")
        self.trust_metadata = trust_metadata
        self.override_threshold = override_threshold
        self.text_override_threshold = text_override_threshold
        self.edge_fraction = edge_fraction
        self.masker = BreastMask(grid_size=grid_size, threshold_fraction=threshold_fraction)
        self.flipper = Flip(spatial_axis=1)

    def image_score(self, img: NdarrayOrTensor, mask: NdarrayOrTensor | None = None) -> float:
        """The chest-wall evidence of ``img`` (from ``mask`` if given, else from a computed breast mask)."""
        name = type(self).__name__
        if mask is None:
            check_image_2d(img, name, channels=None)
            return image_chest_wall_score(
                _as_torch(img),
                self.masker.grid_size,
                self.edge_fraction,
                self.masker.threshold_fraction,
                name,
            )
        check_image_2d(mask, f"{name} (mask)", channels=1, real=False)
        grid_mask = breast_grid(_as_torch(mask).float(), self.masker.grid_size, name).values > 0.5
        return chest_wall_score(grid_mask, self.edge_fraction)

    def threshold_for(self, source: str) -> float | None:
        """The image evidence that overrules a laterality from ``source``; ``None``: the image decides."""
        if source in _TRUSTED_SOURCES:
            return self.override_threshold if self.override_threshold is not None else math.inf
        if source == SOURCE_TEXT:
            if self.override_threshold is None:
                return math.inf
            return min(self.text_override_threshold, self.override_threshold)
        return None  # SOURCE_IMAGE, SOURCE_UNKNOWN, anything else

    def decide(
        self,
        img: NdarrayOrTensor,
        laterality: str | Laterality | None = None,
        mask: NdarrayOrTensor | None = None,
    ) -> LateralityDecision:
        """Decide whether ``img`` must be flipped (see the class docstring for the rule).

        Args:
            img: ``(C, H, W)`` image.
            laterality: overrides the metadata laterality when given (trusted like a DICOM tag).
            mask: an optional breast mask of ``img`` (saves computing one).
        """
        name = type(self).__name__
        check_image_2d(img, name, channels=None)
        meta = _meta(img)
        if laterality is not None:
            lat, source = Laterality.parse(laterality), SOURCE_ARGUMENT
        else:
            lat = Laterality.parse(meta.get(MammoMetaKey.LATERALITY.value))
            source = str(meta.get(MammoMetaKey.LATERALITY_SOURCE.value, SOURCE_METADATA))
        if lat == Laterality.UNKNOWN:
            source = SOURCE_UNKNOWN
        threshold = self.threshold_for(source) if self.trust_metadata else None
        if threshold is not None:
            if math.isinf(threshold):
                return LateralityDecision(lat == Laterality.RIGHT, lat, "metadata", math.nan, False, source)
            score = self.image_score(img, mask)
            expected = 1.0 if lat == Laterality.LEFT else -1.0
            if score * expected < 0 and abs(score) >= threshold:
                side = "left" if score > 0 else "right"
                warnings.warn(
                    f"{name}: laterality {lat.value} (from {source}) but the chest wall is on the {side} of "
                    f"the image (evidence {score:+.2f}); following the image.",
                    stacklevel=2,
                )
                return LateralityDecision(score < 0, lat, "image", score, True, source)
            return LateralityDecision(lat == Laterality.RIGHT, lat, "metadata", score, False, source)
        score = self.image_score(img, mask)
        inferred = Laterality.LEFT if score >= 0 else Laterality.RIGHT
        keep = (
            lat != Laterality.UNKNOWN and source != SOURCE_IMAGE
        )  # trust_metadata=False: keep the given side
        return LateralityDecision(score < 0, lat if keep else inferred, "image", score, False, source)

    def apply(self, img: NdarrayOrTensor, decision: LateralityDecision) -> torch.Tensor:
        """Apply a decision (from :meth:`decide`) to ``img`` and record it for :meth:`inverse`."""
        check_image_2d(img, type(self).__name__, channels=None, real=False)
        out = convert_to_tensor(img, track_meta=get_track_meta())
        if decision.flip:
            with self.flipper.trace_transform(False):
                out = _flip(self.flipper, out)
        if isinstance(out, MetaTensor) and decision.source == "image" and not decision.contradiction:
            key, source_key = MammoMetaKey.LATERALITY.value, MammoMetaKey.LATERALITY_SOURCE.value
            unknown = Laterality.parse(out.meta.get(key)) == Laterality.UNKNOWN
            if (
                unknown or out.meta.get(source_key) == SOURCE_IMAGE
            ):  # the pixels measured now replace the reader's
                out.meta[key] = decision.laterality.value
                out.meta[source_key] = SOURCE_IMAGE
        info = {
            "flipped": bool(decision.flip),
            "laterality": decision.laterality.value,
            "source": decision.source,
            "score": float(decision.score),
            "laterality_source": decision.laterality_source,
        }
        self.push_transform(out, extra_info=info)
        return out

    def __call__(
        self,
        img: NdarrayOrTensor,
        laterality: str | Laterality | None = None,
        mask: NdarrayOrTensor | None = None,
    ) -> torch.Tensor:
        """Flip ``img`` to the canonical orientation if needed.

        Args:
            img: ``(C, H, W)`` image (numpy, torch or ``MetaTensor``).
            laterality: overrides the metadata laterality.
            mask: optional breast mask of ``img`` for the image evidence.
        """
        return self.apply(img, self.decide(img, laterality, mask))

    def inverse(self, data: torch.Tensor) -> torch.Tensor:
        """Mirror back if the forward call flipped (pops the recorded operation)."""
        transform = self.pop_transform(data)
        if transform[TraceKeys.EXTRA_INFO]["flipped"]:
            with self.flipper.trace_transform(False):
                data = _flip(self.flipper, data)
        return data


class CropBreast(CropForeground):
    """Crop to the bounding box of the breast mask plus a margin; invertible (pads back with zeros).

    Built on MONAI's ``CropForeground`` (same bounding-box, ``k_divisible`` and inverse machinery); the box
    comes from a breast mask passed to the call (e.g. from :class:`BreastMask`), or computed from the image
    when none is given. An empty mask keeps the whole image (with a warning).

    Args:
        margin: pixels added on every side of the box (per spatial axis if a sequence).
        k_divisible: make the cropped size divisible by ``k``.
        allow_smaller: stop the box at the image edges (``True``) or pad beyond them (``False``).
        mask_fn: how to compute a mask when none is given (default ``BreastMask()``).
        mode: padding mode when the box extends beyond the image (``allow_smaller=False``).
        lazy: MONAI lazy resampling flag.
        pad_kwargs: other arguments of the padding function.

    Raises:
        ValueError/TypeError: for an image or mask that is not a ``(C, H, W)`` array, or shapes that differ.
    """

    def __init__(
        self,
        margin: Sequence[int] | int = 16,
        k_divisible: Sequence[int] | int = 1,
        allow_smaller: bool = True,
        mask_fn: BreastMask | None = None,
        mode: str = "constant",
        lazy: bool = False,
        **pad_kwargs: Any,
    ) -> None:
        super().__init__(
            margin=margin,
            allow_smaller=allow_smaller,
            k_divisible=k_divisible,
            mode=mode,
            lazy=lazy,
            **pad_kwargs,
        )
        self.mask_fn = mask_fn if mask_fn is not None else BreastMask()

    def compute_bounding_box(self, img: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        """Box ``(start, end)`` of the mask ``img``'s non-zero pixels plus margin; whole image if empty."""
        check_image_2d(img, f"{type(self).__name__} (mask)", channels=None, real=False)
        size = np.asarray(img.shape[1:], dtype=np.int64)
        m = img.as_tensor() if isinstance(img, MetaTensor) else img
        if isinstance(m, torch.Tensor) and m.device.type != "cpu":
            fg = (m != 0).any(dim=0)
            rows, cols = (torch.nonzero(fg.any(dim=a)).flatten().cpu().numpy() for a in (1, 0))
        else:  # numpy's reductions are much faster than torch's on the CPU here
            arr = np.asarray(m)
            fg_np: np.ndarray = arr[0] if arr.shape[0] == 1 else np.asarray(arr.any(axis=0))
            rows, cols = np.flatnonzero(fg_np.any(axis=1)), np.flatnonzero(fg_np.any(axis=0))
        if rows.size == 0:
            warnings.warn(
                f"{type(self).__name__}: the breast mask is empty; keeping the whole image.", stacklevel=2
            )
            return np.zeros(2, dtype=np.int64), size
        margin = np.asarray(ensure_tuple_rep(self.margin, 2), dtype=np.int64)
        start = np.asarray([rows[0], cols[0]], dtype=np.int64) - margin
        end = np.asarray([rows[-1], cols[-1]], dtype=np.int64) + 1 + margin
        if self.allow_smaller:
            start, end = np.maximum(start, 0), np.minimum(end, size)
        # make the size divisible by k, centred as MONAI's CropForeground does
        spatial = end - start
        divisible = np.asarray(compute_divisible_spatial_size(spatial.tolist(), k=self.k_divisible))
        start = start - np.floor_divide(divisible - spatial, 2)
        return start, start + divisible

    def __call__(  # type: ignore[override]
        self,
        img: NdarrayOrTensor,
        mask: NdarrayOrTensor | None = None,
        mode: str | None = None,
        lazy: bool | None = None,
        **pad_kwargs: Any,
    ) -> torch.Tensor:
        """Crop ``img`` (``(C, H, W)``) to the breast of ``mask`` (``(1, H, W)``; computed if ``None``)."""
        name = type(self).__name__
        check_image_2d(img, name, channels=None, real=False)
        if mask is None:
            mask = self.mask_fn(img)
        if tuple(mask.shape[1:]) != tuple(img.shape[1:]):
            raise ValueError(
                f"{name}: mask shape {tuple(mask.shape)} does not match image shape {tuple(img.shape)}."
            )
        box_start, box_end = self.compute_bounding_box(mask)  # type: ignore[arg-type]
        lazy_ = self.lazy if lazy is None else lazy
        img_t = convert_to_tensor(img, track_meta=get_track_meta())
        return self.crop_pad(img_t, box_start, box_end, mode, lazy=lazy_, **pad_kwargs)


class PectoralMask(Transform):
    """Pectoral-muscle mask of MLO views (empty for other views); heuristic, see ``pectoral_mask_on_grid``.

    The view comes from the ``view`` argument or the metadata key ``"view_position"``; views not in
    ``views`` (e.g. CC) give an empty mask; an unknown view is processed when ``process_unknown_view``.
    The chest-wall side is ``"left"`` (after :class:`CanonicalLaterality`), ``"right"``, or ``"auto"``
    (from the breast mask, see :func:`~monai_mammo.transforms.breast_region.chest_wall_score`).

    Args:
        views: views that show the pectoral muscle.
        process_unknown_view: also process images whose view is unknown.
        chest_wall: ``"left"``, ``"right"`` or ``"auto"``.
        grid_size: grid size the mask is computed on.
        dtype: output dtype.

    Returns (``__call__``):
        a ``(1, H, W)`` mask of the same container type as the image.

    Raises:
        ValueError/TypeError: for inputs that are not ``(C, H, W)`` arrays or a bad ``chest_wall``.
    """

    backend = [TransformBackends.TORCH, TransformBackends.NUMPY]

    def __init__(
        self,
        views: Sequence[str | ViewPosition] = ("MLO", "ML", "LM", "LMO", "SIO"),
        process_unknown_view: bool = True,
        chest_wall: str = "auto",
        grid_size: int = 256,
        dtype: DtypeLike | torch.dtype = torch.uint8,
    ) -> None:
        if chest_wall not in ("left", "right", "auto"):
            raise ValueError(f"chest_wall must be 'left', 'right' or 'auto', got {chest_wall!r}.")
        self.views = {ViewPosition.parse(v) for v in views}
        self.process_unknown_view = process_unknown_view
        self.chest_wall = chest_wall
        self.masker = BreastMask(grid_size=grid_size)
        self.dtype = dtype

    def __call__(
        self,
        img: NdarrayOrTensor,
        mask: NdarrayOrTensor | None = None,
        view: str | ViewPosition | None = None,
        chest_wall: str | None = None,
    ) -> NdarrayOrTensor:
        """Compute the pectoral mask of ``img`` (optionally with its breast ``mask``)."""
        name = type(self).__name__
        check_image_2d(img, name, channels=None)
        side = chest_wall or self.chest_wall
        if side not in ("left", "right", "auto"):
            raise ValueError(f"{name}: chest_wall must be 'left', 'right' or 'auto', got {side!r}.")
        vp = ViewPosition.parse(view if view is not None else _meta(img).get(MammoMetaKey.VIEW.value))
        device = img.device if isinstance(img, torch.Tensor) else "cpu"
        shape = (int(img.shape[-2]), int(img.shape[-1]))
        wanted = vp in self.views or (vp == ViewPosition.UNKNOWN and self.process_unknown_view)
        if not wanted:
            empty = torch.zeros((1, *shape), dtype=torch.bool, device=device)
            return convert_to_dst_type(empty, img, dtype=self.dtype)[0]
        grid = breast_grid(_as_torch(img), self.masker.grid_size, name)
        if mask is not None:
            check_image_2d(mask, f"{name} (mask)", channels=1, real=False)
            if tuple(mask.shape[1:]) != shape:
                raise ValueError(
                    f"{name}: mask shape {tuple(mask.shape)} does not match image shape {tuple(img.shape)}."
                )
            grid_mask = breast_grid(_as_torch(mask).float(), self.masker.grid_size, name).values > 0.5
        else:
            grid_mask = breast_mask_on_grid(grid.values, threshold_fraction=self.masker.threshold_fraction)
        left = chest_wall_score(grid_mask) >= 0 if side == "auto" else side == "left"
        muscle = pectoral_mask_on_grid(grid.values, grid_mask, chest_wall_left=left)
        full = upsample_grid_mask(muscle, grid.factor, grid.shape, device=device)[None]
        if mask is not None:
            full &= _as_torch(mask).to(device) > 0
        return convert_to_dst_type(full, img, dtype=self.dtype)[0]
