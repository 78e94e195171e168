"""The segmentation bundle's DICOM outputs (``dicom_outputs``, on by default): a SEG per DICOM input in its
original geometry, one SR per exam, none for a PNG (said once in the log); every file read back with
highdicom and pydicom and valid for dciodvfy; UIDs unique in the run."""

from __future__ import annotations

import csv
import logging
import shutil
from pathlib import Path

import numpy as np
import pydicom
import pytest
from bundle_helpers import bundle_workflow
from PIL import Image

hd = pytest.importorskip("highdicom", reason="the pacs extra (highdicom) is not installed")

REPO = Path(__file__).resolve().parents[2]
BUNDLE = REPO / "bundles" / "mammo_lesion_segmentation"
INFERENCE = str(BUNDLE / "configs" / "inference.json")
SAMPLE_IMAGES = BUNDLE / "sample" / "images"


def test_dicom_inputs_get_a_seg_and_each_exam_an_sr(
    shared_data: Path, tmp_path: Path, dciodvfy, caplog
) -> None:
    inputs = tmp_path / "inputs"
    shutil.copytree(SAMPLE_IMAGES, inputs)  # one phantom exam: R MLO and L CC
    real = sorted((shared_data / "cbis_ddsm" / "dicom").glob("*.dcm"))[
        0
    ]  # a real CBIS-DDSM film, 4432 x 2864
    shutil.copy(real, inputs / "ddsm.dcm")
    for name in ("mdb002", "mdb003"):  # two PNG films: no DICOM outputs, one notice
        shutil.copy(shared_data / "mini_mias" / "images" / f"{name}.png", inputs)
    out = tmp_path / "out"
    workflow = bundle_workflow(
        BUNDLE, INFERENCE, "inference", dataset_dir=str(inputs), output_dir=str(out), dicom_fractional=True
    )
    assert workflow.parser.get_parsed_content("dicom_outputs") is True
    messages: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(record.getMessage())

    workflow.parser.get_parsed_content("evaluator").logger.addHandler(Collect(logging.INFO))
    workflow.run()
    workflow.finalize()
    notices = [m for m in messages if "DICOM inputs only" in m]
    assert len(notices) == 1 and ".png" in notices[0]
    for name in ("mdb002", "mdb003"):
        assert not list((out / name).glob("*.dcm"))

    meta = __import__("json").loads((BUNDLE / "configs" / "metadata.json").read_text())
    uids: list[str] = []
    sources = {p.stem: pydicom.dcmread(p, stop_before_pixels=True) for p in inputs.glob("*.dcm")}
    for name, source in sources.items():
        folder = out / name
        seg_path, prob_path = folder / "seg.dcm", folder / "prob_seg.dcm"
        assert dciodvfy(seg_path) == [] and dciodvfy(prob_path) == []
        seg = pydicom.dcmread(seg_path)
        uids += [seg.SOPInstanceUID, pydicom.dcmread(prob_path).SOPInstanceUID]
        assert seg.StudyInstanceUID == source.StudyInstanceUID
        assert seg.ReferencedSeriesSequence[0].ReferencedInstanceSequence[0].ReferencedSOPInstanceUID == (
            source.SOPInstanceUID
        )
        algo = seg.SegmentSequence[0].SegmentationAlgorithmIdentificationSequence[0]
        assert (algo.AlgorithmName, algo.AlgorithmVersion) == (meta["name"], meta["version"])
        # the SEG is the mask the bundle wrote, in the source's own geometry
        back = hd.seg.segread(seg_path)
        pixels = back.get_pixels_by_source_instance([source.SOPInstanceUID])[0, ..., 0]
        mask = np.asarray(Image.open(folder / "mask.png")) > 0
        assert pixels.shape == (source.Rows, source.Columns) == mask.shape
        assert np.array_equal(pixels > 0, mask)
        fractional = hd.seg.segread(prob_path)
        assert fractional.SegmentationType == "FRACTIONAL"

    reports = sorted((out / "dicom_sr").glob("*.dcm"))
    studies = {s.StudyInstanceUID for s in sources.values()}
    assert {p.stem for p in reports} == studies and len(studies) == 2
    for path in reports:
        assert dciodvfy(path) == []
        sr = hd.sr.srread(path)
        uids.append(sr.SOPInstanceUID)
        images = [s for s in sources.values() if s.StudyInstanceUID == path.stem]
        names = [n for n, s in sources.items() if s.StudyInstanceUID == path.stem]
        groups = sr.content.get_planar_roi_measurement_groups()
        lesions = sum(len(list(csv.DictReader((out / n / "lesions.csv").open()))) for n in names)
        # one group per lesion of lesions.csv (a box on the image) and one per SEG segment
        assert len(groups) == lesions + len(images)
        segment_refs = [g.referenced_segmentation_frame for g in groups if g.referenced_segmentation_frame]
        assert len(segment_refs) == len(images)
        evidence = {
            item.ReferencedSOPInstanceUID
            for series in sr.CurrentRequestedProcedureEvidenceSequence
            for s in series.ReferencedSeriesSequence
            for item in s.ReferencedSOPSequence
        }
        assert {s.SOPInstanceUID for s in images} <= evidence
        for group in groups:
            for measurement in group.get_measurements():
                if measurement.name.meaning == "Area":
                    assert measurement.unit.value == "mm2" and measurement.value > 0
                else:
                    assert measurement.name.meaning == "Probability" and 0.0 <= measurement.value <= 1.0
    assert len(uids) == len(set(uids))
