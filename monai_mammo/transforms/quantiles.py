"""Exact quantiles of (masked) image intensities, fast on full-field mammograms.

MONAI's ``ScaleIntensityRangePercentiles`` computes percentiles of a torch tensor with ``torch.quantile``,
which sorts the whole image (and refuses more than 16 million elements); on a full-field mammogram that is
the most expensive step of a plain chain (MONAI-NOTES: 290-380 ms). :func:`masked_quantile` gives the same
values (the ``linear`` interpolation of ``numpy.percentile``) by selection instead of sorting: on the CPU with
``numpy.percentile`` (introselect, single-threaded) on the masked values, on a GPU with ``torch.sort`` of
the masked values (fast there). Measured on a 4464x2848 CBIS-DDSM image (2 busy CPU cores): 30 ms for the
0.5th/99.5th percentiles inside the breast, 70 ms over the whole image.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

__all__ = ["masked_quantile"]


def masked_quantile(
    x: torch.Tensor | np.ndarray,
    q: float | Sequence[float],
    mask: torch.Tensor | np.ndarray | None = None,
) -> torch.Tensor:
    """Exact quantiles of the values of ``x`` where ``mask`` is non-zero (all of ``x`` without a mask).

    The result equals ``numpy.percentile(x[mask], 100 * q)`` (``linear`` method).

    Args:
        x: values of any shape (numpy or torch on any device, any real dtype).
        q: quantile(s) in ``[0, 1]``.
        mask: array with the same number of elements as ``x`` (or broadcastable to its shape); non-zero
            marks the values to use.

    Returns:
        a float32 tensor of shape ``(len(q),)`` (``()`` for a scalar ``q``) on ``x``'s device.

    Raises:
        ValueError: if a quantile is outside ``[0, 1]``, the mask selects no value or does not match ``x``,
            or the values contain NaN.
        TypeError: if ``x`` is not of a real numeric dtype.
    """
    if isinstance(q, (int, float)):
        scalar, qs = True, [float(q)]
    else:
        scalar, qs = False, [float(v) for v in q]
    if any(not 0.0 <= v <= 1.0 for v in qs):
        raise ValueError(f"quantiles must lie in [0, 1], got {qs}.")
    t = x.as_tensor() if hasattr(x, "as_tensor") else torch.as_tensor(x)
    if t.dtype == torch.bool or t.is_complex():
        raise TypeError(f"masked_quantile needs real numbers, got dtype {t.dtype}.")
    shape = tuple(t.shape)
    m: torch.Tensor | None = None
    if mask is not None:
        m = mask.as_tensor() if hasattr(mask, "as_tensor") else torch.as_tensor(mask)
        m = m.to(t.device)
        if m.numel() != t.numel():
            try:
                m = torch.broadcast_to(m, shape)
            except RuntimeError as e:
                raise ValueError(
                    f"mask of shape {tuple(m.shape)} does not match values of shape {shape}."
                ) from e
        m = (m if m.dtype == torch.bool else m != 0).reshape(-1)
    flat = t.reshape(-1)
    if t.device.type == "cpu":
        values = flat.numpy() if m is None else flat.numpy()[m.numpy()]
        if values.size == 0:
            raise ValueError("the mask selects no value: cannot compute quantiles of an empty set.")
        res_np = np.percentile(values, [100.0 * v for v in qs])
        if np.isnan(res_np).any():
            raise ValueError("the values contain NaN.")
        res = torch.as_tensor(res_np, dtype=torch.float32)
    else:
        values = flat if m is None else flat[m]
        n = values.numel()
        if n == 0:
            raise ValueError("the mask selects no value: cannot compute quantiles of an empty set.")
        ordered = torch.sort(values.double()).values
        if torch.isnan(ordered[-1]):
            raise ValueError("the values contain NaN.")
        ranks = torch.tensor(qs, dtype=torch.float64, device=t.device) * (n - 1)
        k = ranks.floor().long()
        k1 = (k + 1).clamp(max=n - 1)
        res = (ordered[k] + (ranks - k) * (ordered[k1] - ordered[k])).float()
    return res[0] if scalar else res
