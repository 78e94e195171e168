"""The ``monai-mammo`` command: argument parsing and errors that exit with a message, not a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from monai_mammo.cli import _parse_options, build_parser, main


def test_option_pairs_parse_to_keywords() -> None:
    assert _parse_options(["labels=a.csv", "info-file=Info.txt"]) == {
        "labels": "a.csv",
        "info_file": "Info.txt",
    }
    with pytest.raises(ValueError, match="KEY=VALUE"):
        _parse_options(["labels"])


def test_prepare_parser_defaults() -> None:
    args = build_parser().parse_args(["prepare", "mini_mias", "--root", "r", "--out", "o.json"])
    assert args.fractions is None and not args.no_official_split and args.option == []


def test_prepare_unknown_dataset_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["prepare", "no_such_set", "--root", str(tmp_path), "--out", str(tmp_path / "d.json")])
    assert code == 2
    assert "no_such_set" in capsys.readouterr().err
    assert not (tmp_path / "d.json").exists()


def test_prepare_missing_root_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["prepare", "mini_mias", "--root", str(tmp_path / "absent"), "--out", str(tmp_path / "d.json")]
    )
    assert code == 2
    assert "absent" in capsys.readouterr().err


def test_prepare_mini_mias_real(shared_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "mias.json"
    code = main(
        ["prepare", "mini_mias", "--root", str(shared_data / "mini_mias"), "--out", str(out), "--no-progress"]
    )
    assert code == 0 and out.is_file()


def test_phantom_default_fills_every_fold(tmp_path: Path) -> None:
    from monai.data import load_decathlon_datalist

    assert main(["phantom", "--out", str(tmp_path), "--rows", "128", "--cols", "104"]) == 0
    for fold in ("training", "validation", "test"):
        items = load_decathlon_datalist(tmp_path / "datalist.json", data_list_key=fold, base_dir=tmp_path)
        assert items and all(Path(item["image"]).is_file() for item in items)
