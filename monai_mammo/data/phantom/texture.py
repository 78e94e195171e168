"""Resolution-independent random fields for the phantom's tissue texture.

A power-law (``1/f**beta``) Gaussian field is drawn in the Fourier domain. Its coefficients are drawn on
a fixed grid of spatial frequencies counted in cycles per image (at most :data:`MAX_CYCLES` along the
rows), whatever the image size, and the inverse FFT evaluates the field on the requested pixel grid. So

- the same random generator state gives the same anatomy at 512 x 416 and at 4096 x 3328 (the large
  image is a finer sampling of the same field), and
- drawing is cheap: one inverse FFT of the image size, in two passes that skip the empty columns.

With ``beta`` near 3, as measured on mammograms (Burgess et al., Med. Phys. 2001), the variance above
the cut-off frequency is below 1 % of the total, so truncating the spectrum loses no visible texture;
fine detail comes from the thresholded structures built on top of the fields (see ``anatomy.py``).
"""

from __future__ import annotations

import numpy as np
from scipy import fft as sp_fft

MAX_CYCLES = 256
"""Highest spatial frequency drawn, in cycles per image height."""


def power_law_field(
    shape: tuple[int, int],
    rng: np.random.Generator,
    *,
    beta: float = 3.0,
    max_cycles: int = MAX_CYCLES,
    min_cycles: float = 1.0,
    anisotropy: float = 1.0,
    angle: float = 0.0,
) -> np.ndarray:
    """A zero-mean, unit-variance Gaussian random field with power spectrum ``~ 1/f**beta``.

    The number of values drawn from ``rng`` depends only on ``max_cycles`` and the aspect ratio of
    ``shape``, not on its size, so the generator is left in the same state for any image size.

    Args:
        shape: ``(rows, columns)`` of the field.
        rng: the random generator (advanced by the draw).
        beta: spectral exponent of the power spectrum.
        max_cycles: highest frequency drawn, in cycles per image height; lower values give smoother
            fields at the same cost.
        min_cycles: frequencies below this (cycles per image height) are damped, which sets the size of
            the largest structures.
        anisotropy: ratio of the correlation length along ``angle`` to the one across it (``> 1``
            stretches structures along ``angle``).
        angle: direction of stretching in radians, measured from the column axis towards the row axis.

    Returns:
        ``float32`` array of ``shape``, mean 0 and standard deviation 1 (estimated on the field).

    Raises:
        ValueError: a shape with a side below 8 pixels, or a non-positive ``max_cycles``/``anisotropy``.
    """
    rows, cols = (int(s) for s in shape)
    if rows < 8 or cols < 8:
        raise ValueError(f"shape must be at least 8 x 8 pixels, got {shape!r}.")
    if max_cycles < 1 or anisotropy <= 0:
        raise ValueError(f"max_cycles must be >= 1 and anisotropy > 0, got {max_cycles!r}, {anisotropy!r}.")
    aspect = cols / rows
    # Fixed coefficient grid, in cycles per image along each axis.
    ky_max = int(max_cycles)
    kx_max = max(1, int(round(max_cycles * aspect)))
    ky = np.concatenate([np.arange(0, ky_max + 1), np.arange(-ky_max, 0)]).astype(np.float32)
    kx = np.arange(0, kx_max + 1, dtype=np.float32)
    coeff = rng.standard_normal((2, ky.size, kx.size), dtype=np.float32)
    # Radial frequency in cycles per image height (square pixels).
    fy = ky[:, None]
    fx = kx[None, :] / np.float32(aspect)
    if anisotropy != 1.0:
        c, s = np.float32(np.cos(angle)), np.float32(np.sin(angle))
        along = fx * c + fy * s
        across = -fx * s + fy * c
        f2 = (along * np.float32(anisotropy)) ** 2 + across**2
    else:
        f2 = fx**2 + fy**2
    f2 = f2 + np.float32(min_cycles) ** 2
    amplitude = f2 ** np.float32(-beta / 4.0)
    amplitude[0, 0] = 0.0
    spectrum_small = (coeff[0] + 1j * coeff[1]).astype(np.complex64) * amplitude
    # Place the drawn coefficients into the rfft layout of the requested size (cropping when the image is
    # too small to hold them: their frequencies would alias).
    ny = min(ky_max, (rows - 1) // 2)
    nx = min(kx_max, cols // 2)
    # Inverse FFT in two steps, as irfft2 does, but the column transform only over the columns that hold
    # coefficients (a few % of them at full field).
    columns = np.zeros((rows, nx + 1), dtype=np.complex64)
    columns[: ny + 1] = spectrum_small[: ny + 1, : nx + 1]
    columns[rows - ny :] = spectrum_small[ky.size - ny :, : nx + 1]
    columns = sp_fft.ifft(columns, axis=0, norm="forward", workers=-1)
    spectrum = np.zeros((rows, cols // 2 + 1), dtype=np.complex64)
    spectrum[:, : nx + 1] = columns
    del columns
    field = sp_fft.irfft(spectrum, n=cols, axis=1, norm="forward", workers=-1)
    del spectrum
    field = np.asarray(field, dtype=np.float32)
    # Unit variance from the coefficients actually used: a coefficient of column kx > 0 stands for the
    # pair (kx, -kx) and adds 4 * amplitude**2 to the variance, one of column 0 adds amplitude**2.
    power = np.zeros_like(amplitude, dtype=np.float64)
    power[: ny + 1, : nx + 1] = amplitude[: ny + 1, : nx + 1].astype(np.float64) ** 2
    power[ky.size - ny :, : nx + 1] = amplitude[ky.size - ny :, : nx + 1].astype(np.float64) ** 2
    power[:, 1:] *= 4.0
    variance = float(power.sum())
    field *= np.float32(1.0 / np.sqrt(max(variance, 1e-12)))
    return field


def ridge_lines(
    field: np.ndarray, width_px: float, out: np.ndarray | None = None, max_cycles: int | None = None
) -> np.ndarray:
    """Thin curvilinear structures along the zero-crossings of a smooth field.

    ``field / |grad field|`` is, to first order, the distance in pixels to the zero level set of
    ``field``; ``1 / (1 + (distance / width_px)**2)`` is then a line of constant half-width ``width_px``
    along that level set: a network of fibre-like lines (Cooper's ligaments, fibrous strands, ducts).
    The gradient is floored at a quarter of its RMS so that flat saddles do not become blobs.

    Args:
        field: a smooth zero-mean field (e.g. from :func:`power_law_field` with a low ``max_cycles``).
        width_px: line half-width in pixels.
        out: array to write into (may be ``field`` itself); a new array when ``None``.
        max_cycles: the field's highest frequency (cycles per image height), if known: the gradient
            magnitude, which varies as slowly as the field, is then computed on a grid of at least 16
            points per shortest wavelength and repeated to full size (several times faster at full field).

    Returns:
        ``float32`` array in ``(0, 1]``, same shape as ``field``.
    """
    rows, cols = field.shape
    step = 1 if max_cycles is None else max(1, rows // (16 * int(max_cycles)))
    coarse = field[::step, ::step]
    grad_rows, grad_cols = np.gradient(coarse)
    grad = np.hypot(grad_rows, grad_cols, out=grad_rows)
    del grad_cols
    if step > 1:
        grad *= np.float32(1.0 / step)
    floor = 0.25 * float(np.sqrt(np.mean(np.square(grad[:: max(1, grad.shape[0] // 256)]))))
    grad += np.float32(max(floor, 1e-12))
    grad *= np.float32(max(width_px, 1e-3))
    if step > 1:
        grad = np.repeat(np.repeat(grad, step, axis=0)[:rows], step, axis=1)[:, :cols]
    if out is None:
        out = np.empty_like(field, dtype=np.float32)
    np.divide(field, grad, out=out)
    del grad
    np.multiply(out, out, out=out)
    out += np.float32(1.0)
    np.reciprocal(out, out=out)
    return out
