"""UniqueOutputNames: one folder per input in a run, the same name for the same input."""

from __future__ import annotations

import logging

import pytest

from monai_mammo.outputs import UniqueOutputNames


def test_names_are_relative_unique_and_stable(caplog: pytest.LogCaptureFixture) -> None:
    names = UniqueOutputNames("/data")
    assert names("/data/a/scan.dcm") == "a/scan"
    with caplog.at_level(logging.WARNING):
        assert names("/data/a/scan.png") == "a/scan_png"
    assert "taken by /data/a/scan.dcm" in caplog.text
    assert names("/data/a/scan.dcm") == "a/scan"  # the same input keeps its name
    assert names("/data/b/scan.dcm") == "b/scan"
    names.reset()
    assert names("/data/a/scan.png") == "a/scan"


def test_repeated_clashes_get_a_counter() -> None:
    names = UniqueOutputNames()
    assert [names(p) for p in ("/x/s.dcm", "/y/s.dcm", "/z/s.dcm")] == ["s", "s_dcm", "s_dcm_2"]


def test_a_single_input_file_as_the_root_gives_its_own_name(tmp_path) -> None:
    image = tmp_path / "scan.dcm"
    image.write_text("x")
    assert UniqueOutputNames(image)(str(image)) == "scan"  # `--dataset_dir <one file>`
