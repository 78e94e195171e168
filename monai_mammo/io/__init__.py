"""Writing files: :func:`atomic_write_bytes`, through which every file of the package is written, and
:func:`remove_stale_temporaries`, which cleans up after a job killed while writing (:mod:`.atomic`);
:func:`encode_png`, the PNG encoder (:mod:`.png`)."""

from __future__ import annotations

from monai_mammo.io.atomic import atomic_write_bytes, remove_stale_temporaries
from monai_mammo.io.png import encode_png

__all__ = ["atomic_write_bytes", "encode_png", "remove_stale_temporaries"]
