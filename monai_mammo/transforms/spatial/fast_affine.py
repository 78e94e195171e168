"""``FastRandAffined``: MONAI's ``RandAffined`` with the resampling grid made by ``torch`` from the matrix.

MONAI's ``RandAffined`` builds a dense sampling grid in Python-level tensor code: an identity grid of
``(ndim + 1, *size)`` coordinates, multiplied by the drawn matrix, then reordered, copied to a contiguous
layout and rescaled inside ``Resample`` before ``grid_sample``. At a mammogram's working size
(1024 x 832) that bookkeeping costs several times the interpolation itself (about 30 of the 40 ms per item on
one core measured here, for an image and its breast mask). :class:`FastRandAffined` draws exactly as
``RandAffined`` does (it *is* one: same arguments, same random stream, same trace, so ``inverse`` and
``set_random_state`` are MONAI's), takes the drawn matrix from MONAI's own ``RandAffineGrid`` (its lazy
mode computes the matrix without a grid) and hands it to ``torch.nn.functional.affine_grid``, which writes
the normalised grid in one pass; ``grid_sample`` then interpolates as ``Resample`` would. The two agree to
float rounding (about 1e-6 on ``[0, 1]`` images; a nearest-neighbour label can differ where a coordinate
falls on a pixel boundary): the distributions are the same, the work is not.

It takes channel-first 2D images (mammograms; a value of another shape or a non-real dtype is refused
with an error naming the transform and the key). The fast path covers what the bundles use --
``"bilinear"``/``"nearest"`` modes, ``"zeros"``/``"border"``/``"reflection"`` padding,
``align_corners=False``, eager execution -- and anything else (lazy execution, spline orders, MONAI's
compiled ``grid_pull``, pending lazy operations) runs MONAI's ``RandAffined`` unchanged.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from monai.config import USE_COMPILED
from monai.data import MetaTensor
from monai.data.meta_obj import get_track_meta
from monai.transforms import RandAffined, Resample
from monai.transforms.spatial.functional import affine_func
from monai.utils import convert_to_dst_type, convert_to_tensor, ensure_tuple, fall_back_tuple

from monai_mammo.transforms.checks import check_image_2d

__all__ = ["FastRandAffineD", "FastRandAffineDict", "FastRandAffined"]

_MODES = frozenset({"bilinear", "nearest"})
_PADDING = frozenset({"zeros", "border", "reflection"})


def normalized_theta(matrix: torch.Tensor, in_size: Sequence[int], out_size: Sequence[int]) -> torch.Tensor:
    """The ``affine_grid`` matrix of MONAI's centred affine ``matrix`` (``align_corners=False``).

    MONAI maps an output point ``c`` in pixel coordinates centred on the output (``j - (n_out - 1) / 2``)
    to ``matrix @ c`` centred on the input, then scales by ``2 / max(2, n_in)`` for ``grid_sample``;
    ``affine_grid`` starts from ``u = 2 c / n_out``. So ``theta = D_in @ matrix @ D_out^-1`` with the axes
    reversed (``grid_sample`` takes the last axis first).

    Args:
        matrix: ``(ndim + 1, ndim + 1)`` homogeneous matrix, axes in array order.
        in_size: the input's spatial size.
        out_size: the output's spatial size.

    Returns:
        ``(1, ndim, ndim + 1)`` float64 ``theta``.
    """
    ndim = len(in_size)
    m = torch.as_tensor(matrix, dtype=torch.float64, device="cpu")
    d_in = torch.diag(torch.tensor([2.0 / max(2, int(n)) for n in in_size] + [1.0], dtype=torch.float64))
    d_out_inv = torch.diag(torch.tensor([int(n) / 2.0 for n in out_size] + [1.0], dtype=torch.float64))
    theta = d_in @ m @ d_out_inv
    order = list(range(ndim - 1, -1, -1)) + [ndim]
    return theta[order][:, order][:ndim].unsqueeze(0)


class _MatrixResample(Resample):
    """A ``Resample`` that ignores the dense grid and samples the output through ``affine_grid`` of a matrix.

    Made per call by :class:`FastRandAffined` for MONAI's ``affine_func`` (which updates the metadata and
    the trace and then calls its resampler).
    """

    def __init__(self, base: Resample, matrix: torch.Tensor, out_size: Sequence[int]) -> None:
        super().__init__(
            mode=base.mode,
            padding_mode=base.padding_mode,
            norm_coords=base.norm_coords,
            device=base.device,
            align_corners=base.align_corners,
            dtype=base.dtype,
        )
        self.matrix = matrix
        self.out_size = [int(n) for n in out_size]

    def __call__(
        self,
        img: torch.Tensor,
        grid: torch.Tensor | None = None,
        mode: str | int | None = None,
        padding_mode: str | None = None,
        dtype: Any = None,
        align_corners: bool | None = None,
    ) -> torch.Tensor:
        x = img.as_tensor() if isinstance(img, MetaTensor) else torch.as_tensor(img)
        compute = torch.float64 if x.dtype == torch.float64 else torch.float32
        x = x.to(dtype=compute)
        theta = normalized_theta(self.matrix, x.shape[1:], self.out_size).to(device=x.device, dtype=compute)
        sampling = torch.nn.functional.affine_grid(theta, [1, 1, *self.out_size], align_corners=False)
        out = torch.nn.functional.grid_sample(
            x.unsqueeze(0),
            sampling,
            mode=str(self.mode if mode is None else mode),
            padding_mode=str(self.padding_mode if padding_mode is None else padding_mode),
            align_corners=False,
        )[0]
        return convert_to_dst_type(out, dst=img, dtype=np.float32)[0]


class FastRandAffined(RandAffined):
    """``monai.transforms.RandAffined`` whose resampling grid ``torch.nn.functional.affine_grid`` makes.

    Same arguments, draws, outputs (to float rounding), metadata and inverse as ``RandAffined``; see the
    module docstring for why and for the cases that run MONAI's path unchanged.

    Example:
        .. code-block:: python

            augment = FastRandAffined(["image", "label"], prob=0.5, rotate_range=0.26, scale_range=0.15,
                                      mode=["bilinear", "nearest"], padding_mode="zeros")
    """

    def _fast(self, d: Mapping[Hashable, Any], lazy: bool) -> bool:
        """Whether this call can take the ``affine_grid`` path (else MONAI's ``RandAffined`` runs).

        Raises:
            TypeError, ValueError: for a value that is not a channel-first 2D image of real numbers.
        """
        fast = not (lazy or USE_COMPILED or self.rand_affine.resampler.align_corners is not False)
        for key, mode, padding in self.key_iterator(dict(d), self.mode, self.padding_mode):
            value = d[key]
            check_image_2d(value, f"{type(self).__name__} (key {key!r})", channels=None)
            if str(mode) not in _MODES or str(padding) not in _PADDING:
                fast = False
            if isinstance(value, MetaTensor) and value.pending_operations:
                fast = False
        return fast

    def __call__(self, data: Mapping[Hashable, Any], lazy: bool | None = None) -> dict[Hashable, Any]:
        lazy_ = self.lazy if lazy is None else lazy
        d = dict(data)
        first_key: Hashable = self.first_key(d)
        if first_key == () or not self._fast(d, bool(lazy_)):
            return super().__call__(d, lazy=lazy)
        # the draws of RandAffined.__call__, in its order: prob, the grid's parameters, and again when the
        # grid is made (RandAffineGrid randomizes on each call); its lazy mode gives the matrix without a grid
        self.randomize(None)
        self.rand_affine.randomize()
        in_size = tuple(int(n) for n in d[first_key].shape[1:])
        out_size = fall_back_tuple(self.rand_affine.spatial_size, in_size)
        do_resampling = self._do_transform or (tuple(out_size) != ensure_tuple(in_size))
        if self._do_transform:
            self.rand_affine.rand_affine_grid(out_size, randomize=True, lazy=True)
            # float32, as the eager grid's matrix is (the trace and the metadata then match RandAffined's)
            matrix = torch.as_tensor(self.rand_affine.rand_affine_grid.get_transformation_matrix()).float()
        else:
            matrix = torch.eye(len(in_size) + 1)
        for key, mode, padding_mode in self.key_iterator(d, self.mode, self.padding_mode):
            img = convert_to_tensor(d[key], track_meta=get_track_meta())
            if do_resampling:
                # RandAffined calls RandAffine with randomize=True per key: the draws are made (and unused,
                # the grid being given), so the stream stays RandAffined's
                self.rand_affine.randomize()
                d[key] = affine_func(
                    img,
                    matrix,
                    None,
                    _MatrixResample(self.rand_affine.resampler, matrix, out_size),
                    out_size,
                    mode,
                    padding_mode,
                    True,
                    True,
                    lazy=False,
                    transform_info=self.rand_affine.get_transform_info(),
                )
            else:
                d[key] = convert_to_tensor(d[key], track_meta=get_track_meta(), dtype=torch.float32)
            self._do_transform = do_resampling
            self.push_transform(d[key], replace=True, lazy=False)
        return d


FastRandAffineD = FastRandAffineDict = FastRandAffined
