"""``MammoWindow``: the DICOM VOI window applied to raw modality values, from arguments or metadata.

The window maths is :func:`monai_mammo.data.readers.voi.window_to_unit`, the one the DICOM reader applies.
"""

from __future__ import annotations

import math

import torch
from monai.config import DtypeLike, NdarrayOrTensor
from monai.data.meta_tensor import MetaTensor
from monai.transforms import Transform
from monai.utils import TransformBackends

from monai_mammo.data.readers.voi import VOI_FUNCTIONS, window_to_unit
from monai_mammo.transforms.checks import check_image_2d
from monai_mammo.transforms.intensity.inputs import (
    float_tensor,
    meta_floats,
    meta_text,
    to_output,
)
from monai_mammo.utils.enums import (
    MammoMetaKey,
    VoiMode,
)

__all__ = [
    "MammoWindow",
]


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
    functions = VOI_FUNCTIONS

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
                text = meta_text(meta.get(key))
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
            centers = [v for v in meta_floats(meta.get(ck)) if math.isfinite(v)]
            widths = [v for v in meta_floats(meta.get(wk)) if math.isfinite(v)]
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
        span = self.y_max - self.y_min
        if window is None:
            if self.fallback == "error":
                raise ValueError(f"{name}: no window centre/width given or found in the metadata.")
            if self.fallback == "none":
                return img
            x = float_tensor(img)
            lo, hi = (float(v) for v in torch.aminmax(x))
            out = (
                torch.full_like(x, self.y_min)
                if hi <= lo
                else torch.sub(x, lo).mul_(span / (hi - lo)).add_(self.y_min)
            )
            mode = VoiMode.FULL_RANGE.value
        else:
            c, w, function = window
            src = img.as_tensor() if isinstance(img, MetaTensor) else torch.as_tensor(img)
            try:  # one fresh float32 copy, windowed in place
                unit = window_to_unit(src.to(torch.float32, copy=True), c, w, function)
            except ValueError as e:
                raise ValueError(f"{name}: {e}") from e
            out = unit if (span, self.y_min) == (1.0, 0.0) else unit.mul_(span).add_(self.y_min)
            mode = VoiMode.WINDOW.value
        result = to_output(out, img, self.dtype)
        if isinstance(result, MetaTensor):
            result.meta[MammoMetaKey.VOI_MODE.value] = mode
        return result
