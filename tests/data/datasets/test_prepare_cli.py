"""The registry, ``prepare_dataset`` options and the ``monai-mammo prepare`` command end to end."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from monai_mammo.cli import main
from monai_mammo.data.datalist import FOLDS, load_datalist
from monai_mammo.data.datasets import (
    DatasetLayoutError,
    UnknownDatasetError,
    available_datasets,
    get_dataset,
    prepare_dataset,
    report_path,
)


def test_registry_names_aliases_and_errors():
    assert available_datasets() == [
        "box_csv",
        "cbis_ddsm",
        "cmmd",
        "ddsm_boxes",
        "inbreast",
        "mini_mias",
        "rsna",
        "vindr",
        "yolo_boxes",
    ]
    assert get_dataset("CBIS-DDSM").name == get_dataset("cbis").name == "cbis_ddsm"
    assert get_dataset("VinDr-Mammo").has_official_split and not get_dataset("mias").has_official_split
    with pytest.raises(UnknownDatasetError, match="known: box_csv, cbis_ddsm, cmmd"):
        get_dataset("ddsm-original")
    assert get_dataset("mini_mias").options() == ["info_file"]


def test_prepare_refuses_bad_options_and_folders(mini_mias_tree, tmp_path):
    with pytest.raises(TypeError, match="no option.*labels.*its options: info_file"):
        prepare_dataset("mini_mias", root=mini_mias_tree, out=tmp_path / "d.json", labels="x.csv")
    with pytest.raises(DatasetLayoutError, match="does not exist"):
        prepare_dataset("mini_mias", root=tmp_path / "nowhere", out=tmp_path / "d.json")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetLayoutError, match="Info.txt"):
        prepare_dataset("mini_mias", root=tmp_path / "empty", out=tmp_path / "d.json")


def test_prepare_seed_fractions_and_official_split(cbis_tree, mini_mias_tree, tmp_path):
    def folds(**kwargs):
        out = prepare_dataset(out=tmp_path / "d.json", workers=1, progress=False, **kwargs)
        data = json.loads(out.read_text())
        return {f: sorted(i["image_id"] for i in data[f]) for f in FOLDS}

    a = folds(name="mini_mias", root=mini_mias_tree, seed=1)
    assert a == folds(name="mini_mias", root=mini_mias_tree, seed=1)
    assert [len(v) for v in folds(name="mini_mias", root=mini_mias_tree, fractions=(1, 0, 0)).values()] == [
        11,
        0,
        0,
    ]
    official = folds(name="cbis_ddsm", root=cbis_tree)
    anew = folds(name="cbis_ddsm", root=cbis_tree, official_split=False, fractions=(0.5, 0, 0.5), seed=3)
    assert set(official["test"]) == {"P_00002_RIGHT_CC", "P_00003_LEFT_CC", "P_00003_RIGHT_MLO"}
    assert official["test"] != anew["test"] and len(anew["validation"]) == 0


def test_cli_prepare_end_to_end(mini_mias_tree, tmp_path, capsys):
    out = tmp_path / "run" / "datalist.json"
    code = main(
        [
            "prepare",
            "mini_mias",
            "--root",
            str(mini_mias_tree),
            "--out",
            str(out),
            "--seed",
            "3",
            "--cache",
            str(tmp_path / "cache"),
            "--size",
            "32",
            "24",
            "--workers",
            "1",
        ]
    )
    assert code == 0 and f"wrote datalist {out}" in capsys.readouterr().out
    train = load_datalist(out, "training")
    assert train and all(item["size"] == [32, 24] for item in train)
    assert str(tmp_path / "cache" / "mini_mias" / "images") in train[0]["image"]
    report = json.loads(report_path(out).read_text())
    assert report["settings"]["seed"] == 3 and report["issue_counts"]["missing_image"] == 1


@pytest.mark.slow  # two fresh interpreters importing torch and MONAI: ~30 s on 2 cores
@pytest.mark.skipif(shutil.which("monai-mammo") is None, reason="console script not installed")
def test_console_script(mini_mias_tree, tmp_path):
    out = tmp_path / "datalist.json"
    done = subprocess.run(
        [
            "monai-mammo",
            "prepare",
            "mias",
            "--root",
            str(mini_mias_tree),
            "--out",
            str(out),
            "--workers",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert sum(len(json.loads(out.read_text())[f]) for f in FOLDS) == 11
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "monai_mammo.cli",
            "prepare",
            "nope",
            "--root",
            str(tmp_path),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert bad.returncode != 0 and "no data set importer named 'nope'" in bad.stderr
