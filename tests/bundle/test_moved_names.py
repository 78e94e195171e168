"""The reader, data sets and writers that left ``monai_mammo.bundle`` still import there (with a warning)."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import monai_mammo.bundle

OLD_MODULES = {
    "monai_mammo.bundle.readers": ("monai_mammo.data.readers.auto", "MammoAutoReader"),
    "monai_mammo.bundle.failures": ("monai_mammo.data.failures", "FailureSkippingCacheDataset"),
    "monai_mammo.bundle.training_items": ("monai_mammo.data.training_items", "patch_training_items"),
    "monai_mammo.bundle.outputs": ("monai_mammo.outputs.segmentation", "write_lesion_csv"),
    "monai_mammo.bundle.classification_outputs": ("monai_mammo.outputs.classification", "heatmap_overlay"),
    "monai_mammo.bundle.dicom_outputs": ("monai_mammo.outputs.dicom", "DicomOutputs"),
    "monai_mammo.bundle.naming": ("monai_mammo.outputs.naming", "UniqueOutputNames"),
    "monai_mammo.bundle.exam_report": ("monai_mammo.outputs.exam_report", "ExamReport"),
    "monai_mammo.bundle.exam_page": ("monai_mammo.outputs.exam_page", "exam_page_html"),
}


@pytest.mark.parametrize("name", sorted(monai_mammo.bundle._MOVED))
def test_package_names_warn_and_are_the_moved_objects(name: str) -> None:
    new_module = monai_mammo.bundle._MOVED[name]
    with pytest.warns(DeprecationWarning, match=rf"monai_mammo\.bundle\.{name} .*{new_module}\.{name}"):
        old = getattr(monai_mammo.bundle, name)
    assert old is getattr(importlib.import_module(new_module), name)
    # and the package of the new place exports it too
    package = ".".join(new_module.split(".")[:2])
    assert getattr(importlib.import_module(package), name) is old


@pytest.mark.parametrize("old_module", sorted(OLD_MODULES))
def test_old_module_paths_import_and_warn(old_module: str) -> None:
    new_module, name = OLD_MODULES[old_module]
    module = importlib.import_module(old_module)
    with pytest.warns(DeprecationWarning, match=rf"{old_module}\.{name} .*{new_module}\.{name}"):
        old = getattr(module, name)
    assert old is getattr(importlib.import_module(new_module), name)
    assert name in dir(module)


def test_from_import_of_an_old_module_warns() -> None:
    """``from monai_mammo.bundle.outputs import encode_png``, as user scripts wrote it, in a fresh process."""
    code = (
        "import warnings\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        "    from monai_mammo.bundle.outputs import encode_png\n"
        "for w in caught:\n"
        "    print(w.category.__name__, w.message)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    expected = "DeprecationWarning monai_mammo.bundle.outputs.encode_png is deprecated"
    assert expected in done.stdout


def test_unknown_names_still_fail() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        monai_mammo.bundle.no_such_name  # noqa: B018
    module = importlib.import_module("monai_mammo.bundle.outputs")
    with pytest.raises(AttributeError, match="no_such_name"):
        module.no_such_name  # noqa: B018
