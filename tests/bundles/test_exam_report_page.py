"""The exam report page (``html_report``, on by default in ``exam_report.json``) in a real headless Chromium.

One run of ``exam_report.json`` over the bundle's sample (one phantom exam of four DICOM views) and a
second exam made of copies of its two right views under a new patient and study: the four-view page shows
the four views and the scores, the two-view page labels the left slots "not in this exam", a screenshot is
not blank and the index lists the exams by their malignant score, highest first.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pydicom
import pytest
from bundle_helpers import bundle_workflow
from PIL import Image
from pydicom.uid import generate_uid

REPO = Path(__file__).resolve().parents[2]
BUNDLE = REPO / "bundles" / "mammo_classification"
SAMPLE_IMAGES = BUNDLE / "sample" / "images"
HANGING = [("R", "CC"), ("L", "CC"), ("R", "MLO"), ("L", "MLO")]


class _Page(HTMLParser):
    """The parts of a page the tests look at: figures (views), score cells, links, rows and resources."""

    def __init__(self) -> None:
        super().__init__()
        self.figures: list[dict[str, str | None]] = []
        self.scores: dict[str, str] = {}
        self.links: list[str] = []
        self.sources: list[str] = []
        self.exam_rows: list[str | None] = []
        self.text: list[str] = []
        self._score: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "figure":
            self.figures.append(a)
        elif tag == "img":
            self.sources.append(a.get("src") or "")
        elif tag == "a":
            self.links.append(a.get("href") or "")
        elif tag == "tr" and "data-suspicion" in a:
            self.exam_rows.append(a["data-suspicion"])
        elif tag == "td" and "data-score" in a:
            self._score = a["data-score"]
        elif tag in ("link", "script"):
            self.sources.append(a.get("href") or a.get("src") or "inline script")

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._score is not None:
            self.scores[self._score] = data.strip()
            self._score = None


def _dom(chromium: str, page: Path) -> _Page:
    """The page's DOM after Chromium loaded it from disk (``--dump-dom``), parsed."""
    result = subprocess.run(
        [chromium, "--headless", "--disable-gpu", "--no-sandbox", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0 and "<html" in result.stdout, result.stderr[-2000:]
    parsed = _Page()
    parsed.feed(result.stdout)
    return parsed


def _screenshot(chromium: str, page: Path, shot: Path) -> np.ndarray:
    """Chromium's ``--screenshot`` of ``page`` in a 1000 x 1100 window, as RGB."""
    command = [chromium, "--headless", "--disable-gpu", "--no-sandbox", "--hide-scrollbars"]
    command += ["--window-size=1000,1100", f"--screenshot={shot}", page.as_uri()]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and shot.is_file(), result.stderr[-2000:]
    return np.asarray(Image.open(shot).convert("RGB"))


def _yellow(pixels: np.ndarray) -> int:
    """The number of lesion-outline pixels (yellow) of a screenshot."""
    r, g, b = (pixels[..., i].astype(int) for i in range(3))
    return int(((r > 200) & (g > 200) & (b < 60)).sum())


@pytest.fixture(scope="module")
def exams(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``exam_report.json`` over the sample plus a two-view exam (copies of the right views, new UIDs)."""
    root = tmp_path_factory.mktemp("exam_page")
    inputs = root / "inputs"
    shutil.copytree(SAMPLE_IMAGES, inputs)
    study, series = generate_uid(), generate_uid()
    for view in ("CC", "MLO"):
        ds = pydicom.dcmread(SAMPLE_IMAGES / f"phantom-21-0000_R_{view}.dcm")
        ds.PatientID, ds.StudyInstanceUID, ds.SeriesInstanceUID = "phantom-21-0001", study, series
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        ds.save_as(inputs / f"phantom-21-0001_R_{view}.dcm")
    workflow = bundle_workflow(
        BUNDLE,
        str(BUNDLE / "configs" / "exam_report.json"),
        "inference",
        dataset_dir=str(inputs),
        output_dir=str(root / "out"),
    )
    workflow.run()
    return root / "out" / "exams"


def _folders(exams: Path) -> dict[int, Path]:
    """The exam folders by their number of images."""
    index = json.loads((exams / "index.json").read_text())
    return {row["n_images"]: exams / row["folder"] for row in index["exams"]}


def test_the_four_view_page_shows_the_hanging_and_the_scores(
    exams: Path, chromium: str, tmp_path: Path
) -> None:
    folder = _folders(exams)[4]
    report = json.loads((folder / "report.json").read_text())
    dom = _dom(chromium, folder / "report.html")
    present = [(f["data-laterality"], f["data-view"]) for f in dom.figures if "present" in (f["class"] or "")]
    assert present == HANGING  # R CC, L CC above; R MLO, L MLO below
    # every picture is embedded, nothing is fetched: base image, heat map and outlines per view
    assert len(dom.sources) == 12 and all(s.startswith("data:image/png;base64,") for s in dom.sources)
    for name in ("benign", "malignant", "abnormal"):
        assert float(dom.scores[name]) == pytest.approx(report["exam"][name], abs=5e-4)
    text = " ".join(dom.text)
    assert "not in this exam" not in text and "Not for clinical use" in text and "Limits:" in text
    pixels = _screenshot(chromium, folder / "report.html", tmp_path / "report.png")
    assert pixels.shape[:2] == (1100, 1000)
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 100  # grey mammograms, yellow outlines, text
    assert (pixels < 250).any(axis=-1).mean() > 0.3  # the black hanging panel and the images
    # the lesion outlines switch off with their checkbox (CSS only): the same page, the box unticked
    lesions = sum(len(i["lesions"]) for i in report["images"])
    unticked = tmp_path / "unticked.html"
    page = (folder / "report.html").read_text()
    box = '<input type="checkbox" id="show-lesions" checked>'
    assert page.count(box) == 1
    unticked.write_text(page.replace(box, box.replace(" checked", "")))
    hidden = _screenshot(chromium, unticked, tmp_path / "unticked.png")
    assert (_yellow(pixels) > 20) == (lesions > 0) and _yellow(hidden) == 0
    keep = os.environ.get("MONAI_MAMMO_SCREENSHOT")  # where the docs' screenshot comes from
    if keep:
        shutil.copy(tmp_path / "report.png", keep)


def test_a_two_view_exam_leaves_the_missing_slots_labelled(exams: Path, chromium: str) -> None:
    dom = _dom(chromium, _folders(exams)[2] / "report.html")
    slots = {(f["data-laterality"], f["data-view"]): f["class"] for f in dom.figures}
    assert list(slots) == HANGING
    assert slots[("R", "CC")] == slots[("R", "MLO")] == "view present"
    assert slots[("L", "CC")] == slots[("L", "MLO")] == "view missing"
    text = " ".join(dom.text)
    assert "L CC: not in this exam" in text and "L MLO: not in this exam" in text


def test_the_index_lists_the_exams_most_suspicious_first(exams: Path, chromium: str) -> None:
    index = json.loads((exams / "index.json").read_text())
    assert index["n_exams"] == 2
    dom = _dom(chromium, exams / "index.html")
    expected = sorted(index["exams"], key=lambda row: -row["malignant"])
    assert dom.links == [f"{row['folder']}/report.html" for row in expected]
    shown = [float(s) for s in dom.exam_rows if s is not None]
    assert len(shown) == 2 and shown == sorted(shown, reverse=True)
    for link in dom.links:
        assert (exams / link).is_file()
