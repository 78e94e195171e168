"""Fixtures of the transform tests: the real mammograms in ../shared/data (read with PIL/pydicom directly)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from PIL import Image
from transform_helpers import RealCase, parse_mias_info


@pytest.fixture(scope="session")
def mias_cases(shared_data: Path) -> list[RealCase]:
    """All mini-MIAS images (1024x1024, 8-bit; odd numbers right breasts, MLO views) with lesion centres."""
    folder = shared_data / "mini_mias"
    info = parse_mias_info(folder / "Info.txt")
    cases = []
    for png in sorted((folder / "images").glob("mdb*.png")):
        image = np.asarray(Image.open(png).convert("L"), dtype=np.float32)[None]
        lat = "R" if int(png.stem[3:]) % 2 else "L"
        cases.append(RealCase(png.stem, image, lat, "MLO", info.get(png.stem, [])))
    assert cases, f"no mini-MIAS images under {folder}"
    return cases


@pytest.fixture(scope="session")
def cbis_cases(shared_data: Path) -> list[RealCase]:
    """The 4 full-field CBIS-DDSM DICOMs (16-bit, ~4500x2800) at full resolution."""
    folder = shared_data / "cbis_ddsm" / "dicom"
    cases = []
    for dcm in sorted(folder.glob("*.dcm")):
        ds = pydicom.dcmread(dcm)
        image = ds.pixel_array.astype(np.float32)[None]
        laterality = str(ds.get("Laterality") or ds.get("ImageLaterality"))
        cases.append(RealCase(dcm.stem, image, laterality, str(ds.PatientID).split("_")[-1]))  # ..._LEFT_MLO
    assert len(cases) == 4
    return cases


@pytest.fixture(scope="session")
def cesm_cases(shared_data: Path) -> list[RealCase]:
    """The 9 CDD-CESM low-energy images (512x512) with their lesion masks (red or green in the colour PNG)."""
    folder = shared_data / "cdd_cesm"
    cases = []
    for jpg in sorted((folder / "images").glob("*.jpg")):
        rgb = np.asarray(Image.open(jpg))
        image = (rgb[..., 0] if rgb.ndim == 3 else rgb).astype(np.float32)[None]
        colour = np.asarray(Image.open(folder / "masks" / f"{jpg.stem}.png").convert("RGB")).astype(int)
        lesion = (colour[..., 0] > 128) | (colour[..., 1] > 128)
        _, _, lat, _, view = jpg.stem.split("_")
        cases.append(RealCase(jpg.stem, image, lat, view, lesion_mask=lesion[None]))
    return cases


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Run each transform test with one torch thread (restored afterwards).

    The suite shares 2 CPU cores with other jobs; small torch ops with 2 intra-op threads then run 5-10x
    slower than with one (measured), and the transforms under test are the same either way.
    """
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
