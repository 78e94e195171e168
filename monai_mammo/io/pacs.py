"""Send DICOM files (the bundles' SEG and SR outputs) to a PACS by C-STORE, with pynetdicom.

:func:`send_dicom` opens one association with the PACS for all the files, proposing the storage SOP class
of each in its own transfer syntax, and sends them one by one; it returns each file's C-STORE status and
raises if no association can be made. pynetdicom is an optional dependency (the ``pacs`` extra).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pydicom
from monai.utils import optional_import

__all__ = ["send_dicom"]


def send_dicom(
    files: Sequence[str | os.PathLike[str]],
    host: str,
    port: int,
    called_ae_title: str = "ANY-SCP",
    calling_ae_title: str = "MONAI_MAMMO",
    timeout: float = 30.0,
) -> dict[Path, int]:
    """C-STORE ``files`` to the DICOM node ``called_ae_title`` at ``host:port``.

    Args:
        files: DICOM files (e.g. ``seg.dcm`` and ``dicom_sr/*.dcm`` of a run).
        host: the PACS's address.
        port: its DICOM port.
        called_ae_title: the PACS's AE title.
        calling_ae_title: ours.
        timeout: seconds to wait for the association and each response.

    Returns:
        File -> C-STORE status (``0x0000`` is success).

    Raises:
        ImportError: without pynetdicom.
        ConnectionError: when the PACS does not accept the association.
    """
    netdicom, has = optional_import("pynetdicom")
    if not has:
        raise ImportError("send_dicom needs pynetdicom: pip install 'monai_mammo[pacs]'.")
    paths = [Path(f) for f in files]
    datasets = [pydicom.dcmread(p) for p in paths]
    ae = netdicom.AE(ae_title=calling_ae_title)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = timeout
    for sop_class, syntax in {(str(d.SOPClassUID), str(d.file_meta.TransferSyntaxUID)) for d in datasets}:
        ae.add_requested_context(sop_class, syntax)
    association = ae.associate(host, int(port), ae_title=called_ae_title)
    if not association.is_established:
        raise ConnectionError(f"{called_ae_title} at {host}:{port} did not accept an association.")
    statuses: dict[Path, int] = {}
    try:
        for path, dataset in zip(paths, datasets, strict=True):
            status = association.send_c_store(dataset)
            statuses[path] = int(status.Status) if "Status" in status else -1
    finally:
        association.release()
    return statuses
