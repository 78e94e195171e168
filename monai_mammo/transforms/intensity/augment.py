"""Intensity augmentation for ``[0, 1]`` mammograms: a random vendor/processing look and detector noise."""

from __future__ import annotations

import math
from typing import Any

import torch
from monai.config import DtypeLike, NdarrayOrTensor
from monai.transforms import GaussianSmooth, RandomizableTransform
from monai.utils import TransformBackends

from monai_mammo.transforms.checks import check_image_2d
from monai_mammo.transforms.intensity.inputs import (
    float_tensor,
    mask_tensor,
    to_output,
)

__all__ = [
    "RandDetectorNoise",
    "RandVendorLook",
]


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
        x = float_tensor(img)
        m = mask_tensor(mask, img, name).expand(x.shape) if mask is not None else None
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
            # GaussianSmooth returns a MetaTensor with fresh metadata: keep the plain tensor, so that the
            # result takes ``img``'s metadata (affine, file name) in ``to_output``
            out = out + amount * (out - float_tensor(GaussianSmooth(sigma=sigma)(out)))
        if self.clip:
            out = out.clamp_(0.0, 1.0)
        if m is not None:
            out = torch.where(m, out, x)
        return to_output(out, img, self.dtype)


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
        x = float_tensor(img)
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
        return to_output(out, img, self.dtype)
