"""A small DICOMweb server (QIDO-RS series search, WADO-RS series retrieval) over a few DICOM files, for
testing MONAI Label's DICOMweb datastore without a PACS. It serves what MONAI Label asks of a source:

- ``GET /series?<attribute>=<value>...``: the series whose Modality / SeriesInstanceUID / StudyInstanceUID
  match (other parameters are ignored), as DICOM JSON;
- ``GET /studies/<study>/series/<series>``: the series' instances as ``multipart/related``;
- ``GET /studies/<study>/series/<series>/metadata``: the instances' headers as DICOM JSON.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pydicom
from pydicom.dataset import Dataset

SEARCHABLE = ("Modality", "SeriesInstanceUID", "StudyInstanceUID")
SERIES_FIELDS = ("StudyInstanceUID", "SeriesInstanceUID", "Modality", "PatientID", "StudyDate", "StudyTime")
BOUNDARY = "monai-mammo-dicomweb"


def _series_json(header: Dataset) -> dict:
    record = Dataset()
    for field in SERIES_FIELDS:
        if field in header:
            setattr(record, field, header.get(field))
    return record.to_json_dict()


@contextlib.contextmanager
def dicomweb_server(files: list[Path]) -> Iterator[str]:
    """Serve ``files`` on 127.0.0.1; yields the base URL (``http://127.0.0.1:<port>/dicom-web``)."""
    headers = [(path, pydicom.dcmread(path, stop_before_pixels=True)) for path in files]

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # quiet
            pass

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            url = urlsplit(self.path)
            parts = [p for p in url.path.split("/") if p][1:]  # without "dicom-web"
            if parts == ["series"]:
                query = dict(parse_qsl(url.query))
                wanted = {k: v for k, v in query.items() if k in SEARCHABLE}
                found = [
                    _series_json(h)
                    for _, h in headers
                    if all(str(h.get(k, "")) == v for k, v in wanted.items())
                ]
                self._send(200, json.dumps(found).encode(), "application/dicom+json")
                return
            if len(parts) >= 4 and parts[0] == "studies" and parts[2] == "series":
                study, series = parts[1], parts[3]
                members = [
                    (p, h)
                    for p, h in headers
                    if h.StudyInstanceUID == study and h.SeriesInstanceUID == series
                ]
                if not members:
                    self._send(404, b"no such series", "text/plain")
                elif parts[4:] == ["metadata"]:
                    body = json.dumps([h.to_json_dict() for _, h in members]).encode()
                    self._send(200, body, "application/dicom+json")
                elif not parts[4:]:
                    chunks = [
                        f"--{BOUNDARY}\r\nContent-Type: application/dicom\r\n\r\n".encode()
                        + p.read_bytes()
                        + b"\r\n"
                        for p, _ in members
                    ]
                    body = b"".join(chunks) + f"--{BOUNDARY}--\r\n".encode()
                    kind = f'multipart/related; type="application/dicom"; boundary={BOUNDARY}'
                    self._send(200, body, kind)
                else:
                    self._send(404, b"not served", "text/plain")
                return
            self._send(404, b"not served", "text/plain")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/dicom-web"
    finally:
        server.shutdown()
        server.server_close()
