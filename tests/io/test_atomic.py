"""``monai_mammo.io.atomic``: the one writer every file of the package goes through."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from monai_mammo.io import atomic_write_bytes, remove_stale_temporaries


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_mode_is_what_open_gives_under_the_umask(tmp_path: Path, umask: int) -> None:
    previous = os.umask(umask)
    try:
        written = atomic_write_bytes(tmp_path / "sub" / "out.png", b"\x89PNG")
        with open(tmp_path / "plain.png", "wb") as handle:
            handle.write(b"\x89PNG")
    finally:
        os.umask(previous)
    assert written == tmp_path / "sub" / "out.png" and written.read_bytes() == b"\x89PNG"
    assert _mode(written) == _mode(tmp_path / "plain.png") == 0o666 & ~umask


def test_replaces_the_file_as_a_whole(tmp_path: Path) -> None:
    """The new content arrives under a new inode: a reader of the old file keeps reading the old bytes."""
    target = tmp_path / "metrics.json"
    atomic_write_bytes(target, b"old content")
    old_inode = target.stat().st_ino
    with open(target, "rb") as reader:
        atomic_write_bytes(target, b"new")
        assert reader.read() == b"old content"  # not truncated and rewritten in place
    assert target.read_bytes() == b"new" and target.stat().st_ino != old_inode
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


def test_an_interrupted_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch) -> None:
    target = tmp_path / "out.json"
    atomic_write_bytes(target, b"old")

    def crash(src, dst):
        raise KeyboardInterrupt  # an interruption between writing and renaming

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_bytes(target, b"new content")
    monkeypatch.undo()
    assert target.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_a_failed_write_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(TypeError):
        atomic_write_bytes(tmp_path / "out.csv", "text, not bytes")  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def test_the_temporaries_of_a_killed_write_are_recognised_and_only_they(tmp_path, monkeypatch) -> None:
    """A job killed after writing but before renaming leaves its temporary: a resumed job deletes it."""
    seen: list[str] = []
    fsync = os.fsync

    def look(fd: int) -> None:  # the moment a kill would leave the temporary behind
        seen.extend(p.name for p in tmp_path.iterdir())
        fsync(fd)

    monkeypatch.setattr(os, "fsync", look)
    atomic_write_bytes(tmp_path / "checkpoint.pt", b"state")
    monkeypatch.undo()
    (temporary,) = seen
    assert temporary.startswith(".checkpoint.pt.") and temporary.endswith(".tmp")
    (tmp_path / temporary).write_bytes(b"half a file")
    kept = ["checkpoint.pt", "notes.tmp", ".checkpoint.pt.tmp"]
    for name in kept[1:]:
        (tmp_path / name).write_bytes(b"x")
    assert remove_stale_temporaries(tmp_path) == [tmp_path / temporary]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(kept)
    assert remove_stale_temporaries(tmp_path / "missing") == []


def test_old_place_still_works_with_a_deprecation_warning(tmp_path: Path) -> None:
    from monai_mammo.data.datalist import atomic_write_bytes as old_writer
    from monai_mammo.data.datalist import remove_stale_temporaries as old_cleaner

    with pytest.warns(DeprecationWarning, match="monai_mammo.io.atomic_write_bytes"):
        assert old_writer(tmp_path / "a.json", b"{}").read_bytes() == b"{}"
    (tmp_path / ".a.json.abcd1234.tmp").write_bytes(b"half")
    with pytest.warns(DeprecationWarning, match="monai_mammo.io.remove_stale_temporaries"):
        assert old_cleaner(tmp_path) == [tmp_path / ".a.json.abcd1234.tmp"]
