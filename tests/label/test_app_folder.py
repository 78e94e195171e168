"""write_label_app and ``monai-mammo label-app``: the MONAI Label app folder (no MONAI Label needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monai_mammo.cli import main
from monai_mammo.label import BUNDLE_NAMES, write_label_app

REPO = Path(__file__).resolve().parents[2]
BUNDLES = REPO / "bundles"


def test_the_app_holds_main_py_and_a_copy_of_each_bundle(tmp_path: Path) -> None:
    app = write_label_app(tmp_path / "app")
    assert "from monai_mammo.label.app import MammoLabelApp" in (app / "main.py").read_text()
    served = sorted(p.name for p in (app / "model").iterdir())
    assert served == sorted(n for n in BUNDLE_NAMES if (BUNDLES / n).is_dir())
    for name in served:
        copy, source = app / "model" / name, BUNDLES / name
        assert (copy / "models" / "model.pt").read_bytes() == (source / "models" / "model.pt").read_bytes()
        assert json.loads((copy / "configs" / "metadata.json").read_text())["version"]
        assert not (copy / "sample").exists() and not (copy / "runs").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["app"]  # no staging folder left behind


def test_named_bundles_only(tmp_path: Path) -> None:
    app = write_label_app(tmp_path / "app", names=["mammo_lesion_segmentation"], bundles_dir=BUNDLES)
    assert [p.name for p in (app / "model").iterdir()] == ["mammo_lesion_segmentation"]


def test_an_existing_app_is_kept_unless_overwritten(tmp_path: Path) -> None:
    app = write_label_app(tmp_path / "app", names=["mammo_lesion_segmentation"])
    (app / "model" / "mammo_lesion_segmentation" / "models" / "model.pt").write_bytes(
        b"trained in MONAI Label"
    )
    with pytest.raises(FileExistsError, match="overwrite"):
        write_label_app(tmp_path / "app")
    write_label_app(tmp_path / "app", names=["mammo_lesion_segmentation"], overwrite=True)
    shipped = (BUNDLES / "mammo_lesion_segmentation" / "models" / "model.pt").read_bytes()
    assert (app / "model" / "mammo_lesion_segmentation" / "models" / "model.pt").read_bytes() == shipped


def test_a_missing_bundle_is_named(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no_such_bundle"):
        write_label_app(tmp_path / "app", names=["no_such_bundle"], bundles_dir=BUNDLES)
    assert not (tmp_path / "app").exists()


def test_the_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["label-app", str(tmp_path / "app"), "--bundle", "mammo_lesion_segmentation"]) == 0
    assert "monailabel start_server --app" in capsys.readouterr().out
    assert main(["label-app", str(tmp_path / "app")]) == 2
    assert "exists" in capsys.readouterr().err


def test_the_label_classes_need_monai_label_or_say_how_to_get_it() -> None:
    import monai_mammo.label as label

    try:
        import monailabel  # noqa: F401
    except ImportError:
        with pytest.raises(ModuleNotFoundError, match="tox -e label"):
            _ = label.MammoLabelApp
    else:
        assert label.MammoLabelApp.__name__ == "MammoLabelApp"
    with pytest.raises(AttributeError):
        _ = label.NoSuchName
