"""Dictionary versions of the spatial mammography transforms, plus lesion-aware patch sampling.

Each ``...d`` class holds the array transform of :mod:`monai_mammo.transforms.spatial.array` and applies one
decision (flip, crop box) identically to every key, so image, lesion mask (``"label"``), breast mask
(``"breast_mask"``) and boxes stay aligned; ``inverse`` undoes it for every key present.
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import torch
from monai.config import DtypeLike, KeysCollection
from monai.data.meta_tensor import MetaTensor
from monai.transforms import CropForegroundd, InvertibleTransform, MapTransform, RandCropByPosNegLabeld
from monai.transforms.inverse import TraceKeys
from monai.utils import ensure_tuple, ensure_tuple_rep

from monai_mammo.transforms.boxes import flip_boxes_along, scale_boxes, translate_boxes
from monai_mammo.transforms.checks import check_image_2d, key_context, require_key
from monai_mammo.transforms.spatial.array import (
    BreastMask,
    CanonicalLaterality,
    CropBreast,
    PectoralMask,
    ResizeToFit,
)

__all__ = [
    "BreastMaskD",
    "BreastMaskDict",
    "BreastMaskd",
    "CanonicalLateralityD",
    "CanonicalLateralityDict",
    "CanonicalLateralityd",
    "CropBreastD",
    "CropBreastDict",
    "CropBreastd",
    "PectoralMaskD",
    "PectoralMaskDict",
    "PectoralMaskd",
    "RandLesionPatchD",
    "RandLesionPatchDict",
    "RandLesionPatchd",
    "ResizeToFitD",
    "ResizeToFitDict",
    "ResizeToFitd",
]


def _history(x: Any) -> list[tuple[str | None, str]] | None:
    """The spatial history of a ``MetaTensor``: the class and flip/crop record of each applied operation."""
    if not isinstance(x, MetaTensor):
        return None
    return [
        (op.get(TraceKeys.CLASS_NAME), str(op.get(TraceKeys.EXTRA_INFO, {}).get("flipped", "")))
        for op in x.applied_operations
    ]


def _check_same_history(x: Any, mask: Any, key: Hashable, mask_key: Hashable, name: str) -> None:
    """Refuse to crop ``x`` with a mask that went through other spatial transforms (e.g. missed a flip)."""
    hx, hm = _history(x), _history(mask)
    if hx is not None and hm is not None and hx != hm:
        raise ValueError(
            f"{name}: {mask_key!r} went through {[h[0] for h in hm]} but {key!r} through "
            f"{[h[0] for h in hx]}; list {mask_key!r} in the keys of the earlier spatial transforms "
            "(or compute it after them)."
        )


class BreastMaskd(MapTransform):
    """Dictionary version of :class:`~monai_mammo.transforms.BreastMask`: writes the mask under ``mask_key``.

    Args:
        keys: image key(s) the mask is computed from.
        mask_key: output key(s), one per key (default ``"breast_mask"``).
        grid_size, threshold_fraction, median_size, open_iterations, fill_holes, dtype: see ``BreastMask``.
        allow_missing_keys: do not raise if a key is missing.

    Raises:
        KeyError: if a key is missing; ValueError: if keys and mask keys do not pair up.
    """

    backend = BreastMask.backend

    def __init__(
        self,
        keys: KeysCollection = "image",
        mask_key: str | Sequence[str] = "breast_mask",
        grid_size: int = 256,
        threshold_fraction: float = 0.3,
        median_size: int = 3,
        open_iterations: int = 2,
        fill_holes: bool = True,
        dtype: DtypeLike | torch.dtype = torch.uint8,
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        self.mask_keys = ensure_tuple_rep(mask_key, len(self.keys))
        if len(set(self.mask_keys)) != len(self.mask_keys):
            raise ValueError(
                f"BreastMaskd: give one distinct mask_key per key, got keys {self.keys} -> {self.mask_keys}."
            )
        self.masker = BreastMask(
            grid_size, threshold_fraction, median_size, open_iterations, fill_holes, dtype
        )

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        for key, mask_key in self.key_iterator(d, self.mask_keys):
            with key_context(type(self).__name__, key):
                d[mask_key] = self.masker(d[key])
        return d


class CanonicalLateralityd(MapTransform, InvertibleTransform):
    """Dictionary version of :class:`~monai_mammo.transforms.CanonicalLaterality`.

    The decision is made once, on ``ref_key`` (default: the first of ``keys``), and applied to every key
    (image, ``label``, ``breast_mask``, heatmaps) and to the boxes under ``box_keys``; ``inverse`` mirrors all
    of them back (boxes too, using the record on the reference key).

    Args:
        keys: keys to flip (channel-first 2D arrays).
        ref_key: key the decision is made on (default: first of ``keys``).
        mask_key: a breast-mask key used for the image evidence when present, so that the mask is computed
            once per image: run ``BreastMaskd`` first and list the mask in ``keys`` to flip it too.
        laterality_key: a data key holding the laterality (e.g. a datalist column); it overrides the metadata.
        box_keys: keys of ``(N, 4)`` boxes to flip with the images (MONAI convention, see ``boxes.py``).
        box_mode: MONAI box mode of those boxes (``StandardMode``/"xyxy" if ``None``).
        trust_metadata, override_threshold, grid_size, edge_fraction, threshold_fraction: see the array class.
        text_override_threshold: see the array class.
        allow_missing_keys: do not raise if a key is missing.

    Raises:
        KeyError: for a missing key (incl. ``ref_key`` or a box key); ValueError/TypeError: for bad arrays.
    """

    backend = CanonicalLaterality.backend

    def __init__(
        self,
        keys: KeysCollection,
        ref_key: str | None = None,
        mask_key: str | None = "breast_mask",
        laterality_key: str | None = None,
        box_keys: KeysCollection | None = None,
        box_mode: Any = None,
        trust_metadata: bool = True,
        override_threshold: float | None = 0.3,
        grid_size: int = 256,
        edge_fraction: float = 0.1,
        threshold_fraction: float = 0.3,
        allow_missing_keys: bool = False,
        text_override_threshold: float = 0.15,
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        self.ref_key = ref_key if ref_key is not None else self.keys[0]
        self.mask_key = mask_key
        self.laterality_key = laterality_key
        self.box_keys = ensure_tuple(box_keys) if box_keys is not None else ()
        self.box_mode = box_mode
        self.canon = CanonicalLaterality(
            trust_metadata,
            override_threshold,
            grid_size,
            edge_fraction,
            threshold_fraction,
            text_override_threshold,
        )

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        name = type(self).__name__
        ref = require_key(d, self.ref_key, name)
        laterality = d.get(self.laterality_key) if self.laterality_key is not None else None
        mask = d.get(self.mask_key) if self.mask_key is not None else None
        with key_context(name, self.ref_key):
            decision = self.canon.decide(ref, laterality=laterality, mask=mask)
        size = tuple(int(s) for s in ref.shape[1:])
        for key in self.key_iterator(d):
            with key_context(name, key):
                if tuple(d[key].shape[1:]) != size:
                    raise ValueError(
                        f"spatial shape {tuple(d[key].shape[1:])} differs from {self.ref_key!r}'s {size}."
                    )
                d[key] = self.canon.apply(d[key], decision)
        if decision.flip:
            for key in self.box_keys:
                with key_context(name, key):
                    d[key] = flip_boxes_along(require_key(d, key, name), size, axis=1, box_mode=self.box_mode)
        return d

    def inverse(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        present_boxes = [k for k in self.box_keys if k in d]
        if present_boxes:
            ref = require_key(
                d, self.ref_key, type(self).__name__, "(the boxes are inverted with its record)."
            )
            record = self.canon.get_most_recent_transform(ref)
            if record[TraceKeys.EXTRA_INFO]["flipped"]:
                size = [int(s) for s in ref.shape[1:]]
                for key in present_boxes:
                    d[key] = flip_boxes_along(d[key], size, axis=1, box_mode=self.box_mode)
        for key in self.key_iterator(d):
            d[key] = self.canon.inverse(d[key])
        return d


class CropBreastd(CropForegroundd):
    """Dictionary version of :class:`~monai_mammo.transforms.CropBreast`: crop every key to the breast box.

    The box is the bounding box of ``data[mask_key]`` (run :class:`BreastMaskd` first) plus ``margin``.
    List the mask key in ``keys`` to keep it, cropped, for later steps. Boxes under ``box_keys`` are moved
    into the crop's
    coordinates (not clipped); ``inverse`` pads every key back to the original geometry and moves boxes back.

    Args:
        keys: keys to crop (channel-first 2D arrays).
        mask_key: the breast-mask key the box comes from.
        margin, k_divisible, allow_smaller, mode: see :class:`CropBreast` / MONAI ``CropForeground``.
        box_keys: keys of ``(N, 4)`` boxes to move with the crop.
        box_mode: MONAI box mode of those boxes.
        start_coord_key, end_coord_key: optional keys receiving the box start and end.
        allow_missing_keys: do not raise if a key is missing.
        lazy: MONAI lazy resampling flag.
        pad_kwargs: other padding arguments.

    Raises:
        KeyError: if ``mask_key`` (or a key) is missing; ValueError/TypeError: for bad arrays.
    """

    def __init__(
        self,
        keys: KeysCollection,
        mask_key: str = "breast_mask",
        margin: Sequence[int] | int = 16,
        k_divisible: Sequence[int] | int = 1,
        allow_smaller: bool = True,
        box_keys: KeysCollection | None = None,
        box_mode: Any = None,
        mode: str | Sequence[str] = "constant",
        start_coord_key: str | None = None,
        end_coord_key: str | None = None,
        allow_missing_keys: bool = False,
        lazy: bool = False,
        **pad_kwargs: Any,
    ) -> None:
        super().__init__(
            keys,
            source_key=mask_key,
            margin=margin,
            allow_smaller=allow_smaller,
            k_divisible=k_divisible,
            mode=mode,
            start_coord_key=start_coord_key,
            end_coord_key=end_coord_key,
            allow_missing_keys=allow_missing_keys,
            lazy=lazy,
            **pad_kwargs,
        )
        self.cropper = CropBreast(
            margin=margin, k_divisible=k_divisible, allow_smaller=allow_smaller, lazy=lazy, **pad_kwargs
        )
        self.mask_key = mask_key
        self.box_keys = ensure_tuple(box_keys) if box_keys is not None else ()
        self.box_mode = box_mode

    def __call__(self, data: Mapping[Hashable, Any], lazy: bool | None = None) -> dict[Hashable, Any]:
        name = type(self).__name__
        mask = require_key(
            data, self.mask_key, name, "Run BreastMaskd first (or pass the breast mask under that key)."
        )
        with key_context(name, self.mask_key):
            check_image_2d(mask, "breast mask", channels=1, real=False)
        size = tuple(int(s) for s in mask.shape[1:])
        d = dict(data)
        for key in self.key_iterator(d):
            _check_same_history(d[key], mask, key, self.mask_key, name)
            if tuple(d[key].shape[1:]) != size:
                raise ValueError(
                    f"{name}: key {key!r} has spatial shape {tuple(d[key].shape[1:])}, mask has {size}."
                )
        box_start, box_end = self.cropper.compute_bounding_box(mask)
        if self.start_coord_key is not None:
            d[self.start_coord_key] = box_start
        if self.end_coord_key is not None:
            d[self.end_coord_key] = box_end
        lazy_ = self.lazy if lazy is None else lazy
        for key, m in self.key_iterator(d, self.mode):
            d[key] = self.cropper.crop_pad(
                img=d[key], box_start=box_start, box_end=box_end, mode=m, lazy=lazy_
            )
        for key in self.box_keys:
            with key_context(name, key):
                d[key] = translate_boxes(
                    require_key(d, key, name), [-float(s) for s in box_start], self.box_mode
                )
        return d

    def inverse(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        present_boxes = [k for k in self.box_keys if k in d]
        if present_boxes:
            refs = [k for k in self.keys if isinstance(d.get(k), MetaTensor) and d[k].applied_operations]
            if not refs:
                raise KeyError(
                    f"{type(self).__name__}: inverting boxes needs one of {self.keys} with its record."
                )
            cropped = self.cropper.get_most_recent_transform(d[refs[0]])[TraceKeys.EXTRA_INFO]["cropped"]
            for key in present_boxes:
                d[key] = translate_boxes(d[key], [float(cropped[0]), float(cropped[2])], self.box_mode)
        return super().inverse(d)


class PectoralMaskd(MapTransform):
    """Dictionary version of :class:`~monai_mammo.transforms.PectoralMask`: writes ``pectoral_key``.

    Args:
        keys: the image key.
        mask_key: breast-mask key used when present (``None``: always compute).
        pectoral_key: output key.
        view_key: a data key holding the view (overrides the metadata ``"view_position"``).
        views, process_unknown_view, chest_wall, grid_size, dtype: see the array class.
        allow_missing_keys: do not raise if a key is missing.
    """

    backend = PectoralMask.backend

    def __init__(
        self,
        keys: KeysCollection = "image",
        mask_key: str | None = "breast_mask",
        pectoral_key: str = "pectoral_mask",
        view_key: str | None = None,
        views: Sequence[str] = ("MLO", "ML", "LM", "LMO", "SIO"),
        process_unknown_view: bool = True,
        chest_wall: str = "auto",
        grid_size: int = 256,
        dtype: DtypeLike | torch.dtype = torch.uint8,
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        if len(self.keys) != 1:
            raise ValueError(f"PectoralMaskd takes one image key, got {self.keys}.")
        self.mask_key = mask_key
        self.pectoral_key = pectoral_key
        self.view_key = view_key
        self.pectoral = PectoralMask(views, process_unknown_view, chest_wall, grid_size, dtype)

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        for key in self.key_iterator(d):
            mask = d.get(self.mask_key) if self.mask_key is not None else None
            view = d.get(self.view_key) if self.view_key is not None else None
            with key_context(type(self).__name__, key):
                d[self.pectoral_key] = self.pectoral(d[key], mask=mask, view=view)
        return d


class RandLesionPatchd(RandCropByPosNegLabeld):
    """Lesion-aware patch sampling: MONAI ``RandCropByPosNegLabeld`` with negatives drawn inside the breast.

    Patch centres are lesion pixels (``label > 0``) with probability ``pos / (pos + neg)``, else background
    pixels of the breast (``label == 0`` and ``breast_mask > 0``), never the empty background outside the
    breast. An image without lesions yields breast-only negatives (MONAI's warning about it is silenced).
    Returns a list of ``num_samples`` dictionaries; each patch records its crop (position in the image) in its
    applied operations.

    Args:
        keys: keys to crop (list ``mask_key`` to crop the mask too).
        spatial_size: patch size ``(h, w)``.
        label_key: the lesion mask key.
        mask_key: the breast mask key (run :class:`BreastMaskd` first).
        pos, neg: relative frequency of positive and negative centres.
        num_samples: patches per call.
        allow_smaller: allow patches smaller than ``spatial_size`` at image edges.
        allow_missing_keys: do not raise if a key is missing.
        lazy: MONAI lazy resampling flag.

    Raises:
        KeyError: if ``label_key`` or ``mask_key`` is missing.
    """

    def __init__(
        self,
        keys: KeysCollection,
        spatial_size: Sequence[int] | int,
        label_key: str = "label",
        mask_key: str = "breast_mask",
        pos: float = 1.0,
        neg: float = 1.0,
        num_samples: int = 1,
        allow_smaller: bool = False,
        allow_missing_keys: bool = False,
        lazy: bool = False,
    ) -> None:
        super().__init__(
            keys,
            label_key=label_key,
            spatial_size=spatial_size,
            pos=pos,
            neg=neg,
            num_samples=num_samples,
            image_key=mask_key,
            image_threshold=0.0,
            allow_smaller=allow_smaller,
            allow_missing_keys=allow_missing_keys,
            lazy=lazy,
        )
        self.mask_key = mask_key

    def __call__(self, data: Mapping[Hashable, Any], lazy: bool | None = None) -> list[dict[Hashable, Any]]:
        name = type(self).__name__
        label = require_key(data, self.label_key, name)
        mask = require_key(data, self.mask_key, name, "Run BreastMaskd first.")
        with key_context(name, self.label_key):
            check_image_2d(label, "label", channels=1, real=False)
        with key_context(name, self.mask_key):
            check_image_2d(mask, "breast mask", channels=1, real=False)
            if tuple(mask.shape) != tuple(label.shape):
                raise ValueError(f"shape {tuple(mask.shape)} differs from label shape {tuple(label.shape)}.")
        if not bool((torch.as_tensor(mask) > 0).any()):
            raise ValueError(
                f"{name}: the breast mask under {self.mask_key!r} is empty: no negative centre to draw."
            )
        try:
            with warnings.catch_warnings():  # an image without lesions (a normal film) is expected here
                warnings.filterwarnings("ignore", message="Num foregrounds 0", category=UserWarning)
                return super().__call__(data, lazy=lazy)
        except ValueError as e:  # MONAI's cropper (e.g. a patch larger than the image): name the transform
            raise ValueError(f"{name}: {e}") from e


class ResizeToFitd(MapTransform, InvertibleTransform):
    """Dictionary version of :class:`~monai_mammo.transforms.ResizeToFit`: the same fit for every key.

    Each key is resized by the factor of its own shape; give keys of one shape (image, ``breast_mask``,
    ``label``) so that they stay aligned. Boxes under ``box_keys`` are scaled with them (the padding is at
    the bottom and right, so they do not move); ``inverse`` undoes every key present, boxes too (using the
    record on the first key).

    Args:
        keys: keys to resize (channel-first 2D arrays).
        spatial_size: the output ``(H, W)``.
        mode: interpolation mode per key (``"bilinear"`` for images, ``"nearest"`` for masks).
        anti_aliasing: smooth before shrinking, per key.
        pad_value: value of the padded pixels, per key.
        dtype: resampling dtype.
        box_keys: keys of ``(N, 4)`` boxes to scale with the images (MONAI convention, see ``boxes.py``).
        box_mode: MONAI box mode of those boxes (``StandardMode``/"xyxy" if ``None``).
        allow_missing_keys: do not raise if a key is missing.

    Raises:
        KeyError: for a missing key (a box key, or the first key when boxes are inverted); ValueError: for
            keys of different spatial shapes or bad arrays.
    """

    backend = ResizeToFit.backend

    def __init__(
        self,
        keys: KeysCollection,
        spatial_size: Sequence[int],
        mode: str | Sequence[str] = "bilinear",
        anti_aliasing: bool | Sequence[bool] = True,
        pad_value: float | Sequence[float] = 0.0,
        dtype: DtypeLike | torch.dtype = torch.float32,
        box_keys: KeysCollection | None = None,
        box_mode: Any = None,
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        n = len(self.keys)
        self.box_keys = ensure_tuple(box_keys) if box_keys is not None else ()
        self.box_mode = box_mode
        self.fitters = {
            key: ResizeToFit(spatial_size, mode=m, anti_aliasing=a, pad_value=v, dtype=dtype)
            for key, m, a, v in zip(
                self.keys,
                ensure_tuple_rep(mode, n),
                ensure_tuple_rep(anti_aliasing, n),
                ensure_tuple_rep(pad_value, n),
            )
        }

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        name = type(self).__name__
        size: tuple[int, ...] | None = None
        for key in self.key_iterator(d):
            with key_context(name, key):
                shape = tuple(int(s) for s in d[key].shape[1:])
                if size is not None and shape != size:
                    raise ValueError(f"spatial shape {shape} differs from the first key's {size}.")
                size = shape
                d[key] = self.fitters[key](d[key])
        if self.box_keys:
            if size is None:
                raise KeyError(f"{name}: scaling boxes needs one of {self.keys} in the data.")
            fitted = self.fitters[self.keys[0]].fitted_size(size)
            for key in self.box_keys:
                with key_context(name, key):
                    d[key] = scale_boxes(require_key(d, key, name), size, fitted, self.box_mode)
        return d

    def inverse(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        present_boxes = [k for k in self.box_keys if k in d]
        if present_boxes:
            name = type(self).__name__
            ref = require_key(d, self.keys[0], name, "(the boxes are scaled back with its record).")
            record = self.fitters[self.keys[0]].get_most_recent_transform(ref)
            orig = [int(s) for s in record[TraceKeys.ORIG_SIZE]]
            fitted = [int(s) for s in record[TraceKeys.EXTRA_INFO]["fitted_size"]]
            for key in present_boxes:
                d[key] = scale_boxes(d[key], fitted, orig, self.box_mode)
        for key in self.key_iterator(d):
            d[key] = self.fitters[key].inverse(d[key])
        return d


BreastMaskD = BreastMaskDict = BreastMaskd
CanonicalLateralityD = CanonicalLateralityDict = CanonicalLateralityd
CropBreastD = CropBreastDict = CropBreastd
PectoralMaskD = PectoralMaskDict = PectoralMaskd
RandLesionPatchD = RandLesionPatchDict = RandLesionPatchd
ResizeToFitD = ResizeToFitDict = ResizeToFitd
