"""What of a bundle folder is the bundle, and a copy of it for a user to edit (``monai-mammo bundle get``).

A bundle folder also collects what its runs write (``eval/``, ``runs/``, exported models of a user): the
bundle itself is :data:`BUNDLE_PARTS`. The same parts go into the wheel (``pyproject.toml`` package data
``monai_mammo.bundles_data``), a copy made by :func:`copy_bundle` and a release archive
(:mod:`monai_mammo.bundle.release`); the MONAI Label app copies the subset it serves.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Sequence
from pathlib import Path

from monai_mammo.bundle.paths import locate_bundle_root

__all__ = ["BUNDLE_PARTS", "copy_bundle", "copy_bundle_parts"]

BUNDLE_PARTS = ("configs", "models", "docs", "LICENSE", "sample", "scripts")
"""The files and folders of a bundle folder that are the bundle (not ``eval/``, ``runs/``, other outputs)."""

_NOT_SHIPPED = shutil.ignore_patterns("__pycache__", "*.pyc", ".*")


def copy_bundle_parts(
    source: str | os.PathLike[str], target: str | os.PathLike[str], parts: Sequence[str]
) -> None:
    """Copy the ``parts`` of bundle folder ``source`` that exist into the folder ``target`` (made if needed).

    Byte caches and hidden files are left behind.

    Args:
        source: a bundle folder.
        target: the folder to copy into.
        parts: names of files or folders directly under ``source`` (e.g. :data:`BUNDLE_PARTS`).
    """
    source, target = Path(source), Path(target)
    target.mkdir(parents=True, exist_ok=True)
    for part in parts:
        path = source / part
        if path.is_dir():
            shutil.copytree(path, target / part, ignore=_NOT_SHIPPED)
        elif path.is_file():
            shutil.copy2(path, target / part)


def copy_bundle(
    name: str, bundle_dir: str | os.PathLike[str], source: str | os.PathLike[str] | None = None
) -> Path:
    """Copy bundle ``name`` to ``bundle_dir/name`` for a user to edit (``monai.bundle download``'s layout).

    The folder keeps the bundle's name, so ``python -m monai.bundle run --config_file
    <bundle_dir>/<name>/configs/inference.json`` runs the copy's own configs, weights and sample from any
    working folder (:func:`~monai_mammo.bundle.paths.locate_bundle_root` reads the ``--config_file``). The
    copy is assembled under a temporary name beside its target and renamed into place: a failed copy leaves
    nothing behind.

    Args:
        name: the bundle's name, e.g. ``"mammo_lesion_segmentation"``.
        bundle_dir: the folder to put the bundle folder in (made if needed).
        source: the bundle folder to copy (default: :func:`~monai_mammo.bundle.paths.locate_bundle_root`:
            a checkout's ``bundles/<name>`` or the copy installed with the package).

    Returns:
        The new bundle folder, ``bundle_dir/name``.

    Raises:
        FileExistsError: when ``bundle_dir/name`` exists and is not an empty folder.
        FileNotFoundError: when the bundle is not found (no ``configs/metadata.json``).
    """
    src = Path(source) if source is not None else Path(locate_bundle_root(name, start=Path.cwd()))
    if not (src / "configs" / "metadata.json").is_file():
        raise FileNotFoundError(f"{src} is not a bundle folder (no configs/metadata.json).")
    target = Path(bundle_dir) / name
    if target.is_symlink() or target.is_file() or (target.is_dir() and any(target.iterdir())):
        raise FileExistsError(
            f"{target} exists and is not empty; choose another folder, or move it away to get a fresh copy."
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{name}.{secrets.token_hex(4)}.partial"
    staging.mkdir()
    try:
        copy_bundle_parts(src, staging, BUNDLE_PARTS)
        os.replace(staging, target)  # an empty target folder is replaced
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target
