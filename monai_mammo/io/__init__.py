"""Writing files: :func:`atomic_write_bytes`, through which every file of the package is written, and
:func:`remove_stale_temporaries`, which cleans up after a job killed while writing (:mod:`.atomic`)."""

from __future__ import annotations

from monai_mammo.io.atomic import atomic_write_bytes, remove_stale_temporaries

__all__ = ["atomic_write_bytes", "remove_stale_temporaries"]
