"""Files written atomically: a temporary file in the target's folder, flushed and fsynced, then os.replace.

Every file this package writes (datalists, per-image outputs, reports, plots, checkpoints) goes through
:func:`atomic_write_bytes`, so that a reader, or a job resumed after a crash, sees the old file, no file or
the complete new one, never half of one. The temporary file is created with ``os.open(..., 0o666)``, as
``open()`` does, so the process's umask gives the written file its usual permissions (``0644`` under the
common umask ``022``; ``tempfile.mkstemp`` would leave ``0600``). Its name is ``.<name>.<8 random>.tmp``:
hidden, in the same folder (``os.replace`` is atomic only within one file system), and of a pattern that
:func:`remove_stale_temporaries` recognises and nothing else has.

Our own rather than a library's because it is a dozen lines that every writer of the package shares, and
neither MONAI nor the standard library has one (``tempfile`` gives no umask-respecting permissions).
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

__all__ = ["atomic_write_bytes", "remove_stale_temporaries"]

_TEMPORARY_NAME = re.compile(r"^\..+\.[a-z0-9_]{8}\.tmp$")
"""The names of :func:`atomic_write_bytes`'s temporary files (``_`` too: older versions used ``mkstemp``)."""

_OPEN_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)


def _create_temporary(path: Path) -> tuple[int, Path]:
    """Open a new hidden temporary file beside ``path`` (mode ``0o666`` minus the umask)."""
    for _ in range(100):
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            return os.open(tmp, _OPEN_FLAGS, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name beside {path} after 100 tries.")


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically: a temporary file in the same folder, then ``os.replace``.

    The bytes are flushed and ``fsync``\\ ed before the rename, so after a crash ``path`` holds the old
    content or the new one. On any error (or interruption) the temporary file is removed and the error
    raised; ``path`` is then untouched.

    Args:
        path: the file to write; its folder is created.
        data: the bytes.

    Returns:
        The path written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _create_temporary(path)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def remove_stale_temporaries(folder: str | os.PathLike[str]) -> list[Path]:
    """Delete the temporary files that :func:`atomic_write_bytes` left in ``folder`` when its job was killed.

    A job killed (``kill -9``) while it wrote a file leaves a hidden ``.<name>.<random>.tmp`` beside the
    complete named files. Call this when no other job writes into ``folder`` (e.g. when a training run
    resumes): only names of exactly that pattern are deleted.

    Args:
        folder: the folder to clean; a missing folder is nothing to clean.

    Returns:
        The files deleted.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    removed = []
    for entry in folder.iterdir():
        if entry.is_file() and _TEMPORARY_NAME.match(entry.name):
            entry.unlink(missing_ok=True)
            removed.append(entry)
    return removed
