"""send_dicom: the bundle's SEG and SR sent by C-STORE to a real pynetdicom storage SCP started on 127.0.0.1,
which receives them byte-for-byte as the same datasets (the commands of docs/dicom_outputs.md)."""

from __future__ import annotations

import socket
from pathlib import Path

import numpy as np
import pydicom
import pytest

netdicom = pytest.importorskip("pynetdicom", reason="the pacs extra (pynetdicom) is not installed")
pytest.importorskip("highdicom", reason="the pacs extra (highdicom) is not installed")

from pynetdicom import AE, evt  # noqa: E402
from pynetdicom.sop_class import Comprehensive3DSRStorage, ComprehensiveSRStorage, SegmentationStorage  # noqa: E402

from monai_mammo.io.dicom_derived import read_source_header  # noqa: E402
from monai_mammo.io.dicom_seg import write_dicom_seg  # noqa: E402
from monai_mammo.io.dicom_sr import ImageFindings, write_dicom_sr  # noqa: E402
from monai_mammo.io.pacs import send_dicom  # noqa: E402
from monai_mammo.metrics import lesion_table  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "bundles" / "mammo_lesion_segmentation" / "sample" / "images"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def storage_scp():
    """A storage SCP (AE title STORE-SCP) on 127.0.0.1 that keeps every dataset it receives."""
    received: list = []

    def on_store(event):
        dataset = event.dataset
        dataset.file_meta = event.file_meta
        received.append(dataset)
        return 0x0000

    ae = AE(ae_title="STORE-SCP")
    for sop_class in (SegmentationStorage, Comprehensive3DSRStorage, ComprehensiveSRStorage):
        ae.add_supported_context(sop_class)
    port = _free_port()
    server = ae.start_server(("127.0.0.1", port), block=False, evt_handlers=[(evt.EVT_C_STORE, on_store)])
    try:
        yield port, received
    finally:
        server.shutdown()


def test_seg_and_sr_reach_a_local_pacs(storage_scp, tmp_path: Path) -> None:
    port, received = storage_scp
    source = read_source_header(sorted(SAMPLE.glob("*.dcm"))[0])
    prob = np.zeros((source.Rows, source.Columns), np.float32)
    prob[100:140, 100:150] = 0.9
    seg_path, seg = write_dicom_seg(tmp_path / "seg.dcm", source, {"lesion": prob >= 0.5})
    sr_path, sr = write_dicom_sr(
        tmp_path / "sr.dcm", [ImageFindings(source, lesion_table(prob, 0.5, (0.56, 0.56)), "lesion", seg)]
    )
    statuses = send_dicom([seg_path, sr_path], "127.0.0.1", port, called_ae_title="STORE-SCP")
    assert statuses == {seg_path: 0, sr_path: 0}
    assert [d.SOPInstanceUID for d in received] == [seg.SOPInstanceUID, sr.SOPInstanceUID]
    for dataset, path in zip(received, (seg_path, sr_path), strict=True):
        sent = pydicom.dcmread(path)
        assert (
            dataset.PixelData == sent.PixelData
            if "PixelData" in sent
            else dataset.ContentSequence == sent.ContentSequence
        )


def test_no_pacs_is_a_clear_error(tmp_path: Path) -> None:
    source = read_source_header(sorted(SAMPLE.glob("*.dcm"))[0])
    seg_path, _ = write_dicom_seg(
        tmp_path / "seg.dcm", source, {"lesion": np.zeros((source.Rows, source.Columns))}
    )
    with pytest.raises(ConnectionError, match="did not accept"):
        send_dicom([seg_path], "127.0.0.1", _free_port(), timeout=5)
