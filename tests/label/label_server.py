"""Start and stop a real MONAI Label server (``monailabel start_server``) on 127.0.0.1 for the tests."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
SEGMENTATION = "mammo_lesion_segmentation"
CLASSIFICATION = "mammo_classification"
SAMPLE = REPO / "bundles" / SEGMENTATION / "sample"
PHANTOMS = ["phantom-11-0000_L_CC", "phantom-11-0000_R_MLO"]  # the segmentation bundle's sample images
LABEL_VENV = REPO / ".venv-label"  # the environment docs/label.md builds and .ci/run builds in CI


def _has_monailabel(python: Path) -> bool:
    if python == Path(sys.executable):
        return importlib.util.find_spec("monailabel") is not None
    check = "import importlib.util, sys; sys.exit(importlib.util.find_spec('monailabel') is None)"
    return python.is_file() and subprocess.run([str(python), "-c", check], timeout=60).returncode == 0


def label_python() -> Path | None:
    """The Python interpreter of a MONAI Label environment, or ``None``: ``$MONAI_MAMMO_LABEL_PYTHON`` when
    set, else this interpreter when it has MONAI Label (``tox -e label``), else the repository's
    ``.venv-label/bin/python``. The tests run the server (and the bundle run they compare it with) with it;
    the test code itself runs in any environment with monai_mammo. The path is not resolved: a venv's
    ``python`` is a link."""
    configured = os.environ.get("MONAI_MAMMO_LABEL_PYTHON")
    if configured:
        return Path(configured) if _has_monailabel(Path(configured)) else None
    for python in (Path(sys.executable), LABEL_VENV / "bin" / "python"):
        if _has_monailabel(python):
            return python
    return None


def require_label_python() -> Path:
    """:func:`label_python`; without one the calling test module is skipped, except in CI (``CI=true``), where
    ``.ci/run`` builds ``.venv-label`` and its absence is a failure."""
    python = label_python()
    if python is not None:
        return python
    configured = os.environ.get("MONAI_MAMMO_LABEL_PYTHON")
    where = f"MONAI_MAMMO_LABEL_PYTHON={configured}" if configured else f"this Python or {LABEL_VENV}"
    reason = f"MONAI Label is not installed ({where}): build .venv-label (docs/label.md) or use tox -e label"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}; in CI .ci/run builds .venv-label", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


def png(content: bytes) -> np.ndarray:
    """The array of a PNG file's bytes."""
    return np.array(Image.open(io.BytesIO(content)))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A running server: its address, process and log file."""

    url: str
    process: subprocess.Popen
    log: Path

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        timeout=300,
    ) -> tuple[int, bytes, str]:
        """Status, body and content type of one HTTP request (no exception for 4xx/5xx)."""
        req = urllib.request.Request(self.url + path, data=body, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as response:
                return response.status, response.read(), response.headers.get("Content-Type", "")
        except urllib.error.HTTPError as error:
            return error.code, error.read(), error.headers.get("Content-Type", "")

    def json(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        status, content, _ = self.request(method, path, data, {"Content-Type": "application/json"})
        return status, json.loads(content) if content else None

    def upload(self, method: str, path: str, field: str, filename: str, content: bytes, **form: str):
        """A multipart/form-data request with one file (and text fields)."""
        boundary = "----monai-mammo-test-boundary"
        parts = []
        for key, value in form.items():
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
            )
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n".encode()
            + content
            + b"\r\n"
        )
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        return self.request(method, path, body, {"Content-Type": f"multipart/form-data; boundary={boundary}"})

    def log_tail(self, n: int = 6000) -> str:
        return self.log.read_text(errors="replace")[-n:]


@contextlib.contextmanager
def running_server(
    app: Path,
    studies: Path | str,
    log: Path,
    conf: dict[str, str] | None = None,
    env: dict[str, str] | None = None,
    python: Path | None = None,
) -> Iterator[Server]:
    """``monailabel start_server`` for ``app`` on ``studies`` (a folder or a DICOMweb URL), with ``env``
    added to the environment, from the environment of ``python`` (default: this interpreter); stopped (its
    whole process group) on exit.

    The ``monailabel`` launcher starts the first ``python`` on PATH, so that interpreter's folder goes first.
    """
    port = free_port()
    bin_dir = str((python or Path(sys.executable)).parent)
    environment = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}
    environment.update({"CUDA_VISIBLE_DEVICES": "", "MONAI_LABEL_SESSION_PATH": str(log.parent / "sessions")})
    environment.setdefault("OMP_NUM_THREADS", "2")
    environment.update(env or {})
    options = {"models": "all", **(conf or {})}
    command = [
        str(Path(bin_dir) / "monailabel"),
        "start_server",
        "--app",
        str(app),
        "--studies",
        str(studies),
    ]
    for key, value in options.items():
        command += ["--conf", key, value]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    with log.open("w") as handle:
        process = subprocess.Popen(
            command, stdout=handle, stderr=subprocess.STDOUT, env=environment, start_new_session=True
        )
    server = Server(f"http://127.0.0.1:{port}", process, log)
    try:
        deadline = time.monotonic() + 180
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited with {process.returncode}:\n{server.log_tail()}")
            with contextlib.suppress(OSError):
                if server.request("GET", "/info/", timeout=5)[0] == 200:
                    break
            if time.monotonic() > deadline:
                raise TimeoutError(f"the server did not answer /info within 180 s:\n{server.log_tail()}")
            time.sleep(0.5)
        yield server
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_for_training(server: Server, timeout: float = 400) -> dict[str, Any]:
    """Poll ``GET /train/`` until the last training task is DONE or ERROR; its record."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, record = server.json("GET", "/train/")
        if status == 200 and record and record.get("status") in ("DONE", "ERROR"):
            return record
        time.sleep(1)
    raise TimeoutError(f"training did not finish within {timeout} s:\n{server.log_tail()}")
