"""Dictionary versions of the intensity mammography transforms.

See :mod:`monai_mammo.transforms.intensity.array` for the maths and the output ranges.

Transforms that measure statistics inside the breast read the mask from ``mask_key`` (default
``"breast_mask"``, written by :class:`~monai_mammo.transforms.BreastMaskd`); ``mask_key=None`` computes a mask
from the image instead. Random transforms draw once per call and apply the same draw to every key.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from monai.config import DtypeLike, KeysCollection
from monai.transforms import MapTransform, RandomizableTransform

from monai_mammo.transforms.checks import key_context, require_key
from monai_mammo.transforms.intensity.array import (
    BreastPercentileScale,
    BreastZScore,
    Clahe,
    CorrectInvertedExport,
    MammoWindow,
    RandDetectorNoise,
    RandVendorLook,
)

__all__ = [
    "BreastPercentileScaleD",
    "BreastPercentileScaleDict",
    "BreastPercentileScaled",
    "BreastZScoreD",
    "BreastZScoreDict",
    "BreastZScored",
    "ClaheD",
    "ClaheDict",
    "Clahed",
    "CorrectInvertedExportD",
    "CorrectInvertedExportDict",
    "CorrectInvertedExportd",
    "MammoWindowD",
    "MammoWindowDict",
    "MammoWindowd",
    "RandDetectorNoiseD",
    "RandDetectorNoiseDict",
    "RandDetectorNoised",
    "RandVendorLookD",
    "RandVendorLookDict",
    "RandVendorLookd",
]

_MASK_HINT = "Run BreastMaskd first, or set mask_key=None to compute the mask from the image."


def _mask_from(d: Mapping[Hashable, Any], mask_key: str | None, name: str, required: bool = True) -> Any:
    if mask_key is None:
        return None
    if not required and mask_key not in d:
        return None
    return require_key(d, mask_key, name, _MASK_HINT)


_TRUE_TEXT = ("true", "yes", "1", "inverted")
_FALSE_TEXT = ("false", "no", "0", "normal")


def _override_flag(value: Any, key: Hashable, name: str) -> bool | None:
    """A per-item override from the data: bool, 0/1, text (true/false/yes/no) or ``None``/empty (decide)."""
    if value is None or isinstance(value, (bool, np.bool_)):
        return None if value is None else bool(value)
    if isinstance(value, (int, np.integer)) and int(value) in (0, 1):
        return bool(value)
    if isinstance(value, float) and value != value:  # NaN: an empty datalist column
        return None
    if isinstance(value, str):
        text = value.strip().lower()
        if not text:
            return None
        if text in _TRUE_TEXT:
            return True
        if text in _FALSE_TEXT:
            return False
    raise ValueError(
        f"{name}: key {key!r} must hold True/False (or 1/0, 'true'/'false', 'yes'/'no'), or None/'' to "
        f"let the transform decide; got {type(value).__name__} {value!r}."
    )


class CorrectInvertedExportd(MapTransform):
    """Dictionary version of :class:`~monai_mammo.transforms.CorrectInvertedExport`.

    Each key is decided on its own (an image and, say, a prior of the same breast may come from different
    exports). A per-item override can come from the data: ``override_key`` names a key (e.g. an
    ``"inverted"`` column of the datalist) holding ``True``/``False`` (also ``1``/``0``, ``"true"``/
    ``"false"``, ``"yes"``/``"no"``) or ``None``/``""`` to let the transform decide; it applies to every key
    and takes precedence over the constructor's ``inverted``. Put it right after ``LoadImaged``, on image keys
    only (never on label masks).

    Args:
        keys: image keys.
        inverted, margin, trust_metadata, grid_size: see ``CorrectInvertedExport``.
        override_key: optional data key with a per-item override; a missing key means no override.
        allow_missing_keys: do not raise if a key is missing.

    Raises:
        KeyError: if a key is missing; ValueError: for an override value that is not one of the above.
    """

    backend = CorrectInvertedExport.backend

    def __init__(
        self,
        keys: KeysCollection,
        inverted: bool | None = None,
        margin: float = 0.1,
        trust_metadata: bool = True,
        grid_size: int = 256,
        override_key: str | None = None,
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        self.corrector = CorrectInvertedExport(inverted, margin, trust_metadata, grid_size)
        self.override_key = override_key

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        name = type(self).__name__
        override = None
        if self.override_key is not None and self.override_key in d:
            override = _override_flag(d[self.override_key], self.override_key, name)
        for key in self.key_iterator(d):
            with key_context(name, key):
                d[key] = self.corrector(d[key], inverted=override)
        return d


class MammoWindowd(MapTransform):
    """Dictionary version of :class:`~monai_mammo.transforms.MammoWindow`.

    Args:
        keys: image keys.
        center, width, function, window_index, y_min, y_max, fallback, skip_if_applied, dtype:
            see ``MammoWindow``.
        allow_missing_keys: do not raise if a key is missing.
    """

    backend = MammoWindow.backend

    def __init__(
        self,
        keys: KeysCollection,
        center: float | None = None,
        width: float | None = None,
        function: str | None = None,
        window_index: int = 0,
        y_min: float = 0.0,
        y_max: float = 1.0,
        fallback: str = "full_range",
        skip_if_applied: bool = True,
        dtype: DtypeLike | torch.dtype = torch.float32,
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        self.window = MammoWindow(
            center, width, function, window_index, y_min, y_max, fallback, skip_if_applied, dtype
        )

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        for key in self.key_iterator(d):
            with key_context(type(self).__name__, key):
                d[key] = self.window(d[key])
        return d


class BreastPercentileScaled(MapTransform):
    """Dictionary version of :class:`~monai_mammo.transforms.BreastPercentileScale`.

    Args:
        keys: image keys.
        mask_key: breast-mask key (``None``: compute the mask from each image).
        lower, upper, b_min, b_max, clip, dtype: see ``BreastPercentileScale``.
        allow_missing_keys: do not raise if a key is missing.

    Raises:
        KeyError: if a key or ``mask_key`` is missing.
    """

    backend = BreastPercentileScale.backend

    def __init__(
        self,
        keys: KeysCollection,
        mask_key: str | None = "breast_mask",
        lower: float = 0.5,
        upper: float = 99.5,
        b_min: float = 0.0,
        b_max: float = 1.0,
        clip: bool = True,
        dtype: DtypeLike | torch.dtype = torch.float32,
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        self.mask_key = mask_key
        self.scaler = BreastPercentileScale(lower, upper, b_min, b_max, clip, dtype=dtype)

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        mask = _mask_from(d, self.mask_key, type(self).__name__)
        for key in self.key_iterator(d):
            with key_context(type(self).__name__, key):
                d[key] = self.scaler(d[key], mask)
        return d


class BreastZScored(MapTransform):
    """Dictionary version of :class:`~monai_mammo.transforms.BreastZScore`.

    Args:
        keys: image keys.
        mask_key: breast-mask key (``None``: compute the mask from each image).
        outside_value, eps, dtype: see ``BreastZScore``.
        allow_missing_keys: do not raise if a key is missing.

    Raises:
        KeyError: if a key or ``mask_key`` is missing.
    """

    backend = BreastZScore.backend

    def __init__(
        self,
        keys: KeysCollection,
        mask_key: str | None = "breast_mask",
        outside_value: float | None = 0.0,
        eps: float = 1e-6,
        dtype: DtypeLike | torch.dtype = torch.float32,
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        self.mask_key = mask_key
        self.normaliser = BreastZScore(outside_value, eps, dtype=dtype)

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        mask = _mask_from(d, self.mask_key, type(self).__name__)
        for key in self.key_iterator(d):
            with key_context(type(self).__name__, key):
                d[key] = self.normaliser(d[key], mask)
        return d


class Clahed(MapTransform):
    """Dictionary version of :class:`~monai_mammo.transforms.Clahe`.

    Args:
        keys: image keys (values in ``[0, 1]``).
        mask_key: optional breast-mask key; when given, the output outside the breast is ``outside_value``.
        kernel_size, clip_limit, nbins, outside_value, dtype: see ``Clahe``.
        allow_missing_keys: do not raise if a key is missing.

    Raises:
        KeyError: if a key or a given ``mask_key`` is missing.
    """

    backend = Clahe.backend

    def __init__(
        self,
        keys: KeysCollection,
        mask_key: str | None = None,
        kernel_size: int | Sequence[int] | None = None,
        clip_limit: float = 0.01,
        nbins: int = 256,
        outside_value: float | None = 0.0,
        dtype: DtypeLike | torch.dtype = torch.float32,
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        self.mask_key = mask_key
        self.clahe = Clahe(kernel_size, clip_limit, nbins, outside_value, dtype)

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        mask = _mask_from(d, self.mask_key, type(self).__name__)
        for key in self.key_iterator(d):
            with key_context(type(self).__name__, key):
                d[key] = self.clahe(d[key], mask)
        return d


class RandVendorLookd(RandomizableTransform, MapTransform):
    """Dictionary version of :class:`~monai_mammo.transforms.RandVendorLook` (one draw for all keys).

    Args:
        keys: image keys (values in ``[0, 1]``).
        mask_key: optional breast-mask key; when given, pixels outside the breast are left unchanged.
        prob and the other arguments: see ``RandVendorLook``.
        allow_missing_keys: do not raise if a key is missing.

    Raises:
        KeyError: if a key or a given ``mask_key`` is missing.
    """

    backend = RandVendorLook.backend

    def __init__(
        self,
        keys: KeysCollection,
        mask_key: str | None = None,
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
        allow_missing_keys: bool = False,
    ) -> None:
        MapTransform.__init__(self, keys, allow_missing_keys)
        RandomizableTransform.__init__(self, prob)
        self.mask_key = mask_key
        self.look = RandVendorLook(
            1.0,
            gamma_prob,
            gamma_range,
            sigmoid_prob,
            sigmoid_center_range,
            sigmoid_width_range,
            contrast_prob,
            contrast_range,
            unsharp_prob,
            unsharp_sigma_range,
            unsharp_amount_range,
            clip,
            dtype,
        )

    def set_random_state(
        self, seed: int | None = None, state: np.random.RandomState | None = None
    ) -> RandVendorLookd:
        super().set_random_state(seed, state)
        self.look.set_random_state(seed, state)
        return self

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        self.randomize(None)
        if not self._do_transform:
            return d
        self.look.randomize()
        mask = _mask_from(d, self.mask_key, type(self).__name__)
        for key in self.key_iterator(d):
            with key_context(type(self).__name__, key):
                d[key] = self.look(d[key], mask=mask, randomize=False)
        return d


class RandDetectorNoised(RandomizableTransform, MapTransform):
    """Dictionary version of :class:`~monai_mammo.transforms.RandDetectorNoise` (the same noise for all keys).

    Args:
        keys: image keys (values in ``[0, 1]``).
        prob, gain_range, sigma_range, exact_poisson, clip, dtype: see ``RandDetectorNoise``.
        allow_missing_keys: do not raise if a key is missing.
    """

    backend = RandDetectorNoise.backend

    def __init__(
        self,
        keys: KeysCollection,
        prob: float = 0.5,
        gain_range: tuple[float, float] = (1e-4, 2e-3),
        sigma_range: tuple[float, float] = (0.0, 0.01),
        exact_poisson: bool = False,
        clip: bool = True,
        dtype: DtypeLike | torch.dtype = torch.float32,
        allow_missing_keys: bool = False,
    ) -> None:
        MapTransform.__init__(self, keys, allow_missing_keys)
        RandomizableTransform.__init__(self, prob)
        self.noise = RandDetectorNoise(1.0, gain_range, sigma_range, exact_poisson, clip, dtype)

    def set_random_state(
        self, seed: int | None = None, state: np.random.RandomState | None = None
    ) -> RandDetectorNoised:
        super().set_random_state(seed, state)
        self.noise.set_random_state(seed, state)
        return self

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        self.randomize(None)
        if not self._do_transform:
            return d
        self.noise.randomize()
        for key in self.key_iterator(d):
            with key_context(type(self).__name__, key):
                d[key] = self.noise(d[key], randomize=False)
        return d


CorrectInvertedExportD = CorrectInvertedExportDict = CorrectInvertedExportd
MammoWindowD = MammoWindowDict = MammoWindowd
BreastPercentileScaleD = BreastPercentileScaleDict = BreastPercentileScaled
BreastZScoreD = BreastZScoreDict = BreastZScored
ClaheD = ClaheDict = Clahed
RandVendorLookD = RandVendorLookDict = RandVendorLookd
RandDetectorNoiseD = RandDetectorNoiseDict = RandDetectorNoised
