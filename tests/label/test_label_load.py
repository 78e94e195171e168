"""Serving under load: a bounded burst of concurrent /infer requests with bad uploads in between, against the
real MONAI Label server on 127.0.0.1. Every good request must give the same mask as a request made alone,
every bad one a 4xx with a reason, and the server must still answer afterwards.

Slow (about a minute on 2 CPU cores): ``tox -e label`` runs it; the server runs from the MONAI Label
environment (``label_server.label_python``). With ``MONAI_MAMMO_RELIABILITY_RESULTS`` set,
the latency percentiles are written to ``<that path>.serving.json``.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from label_server import (
    PHANTOMS,
    SAMPLE,
    SEGMENTATION,
    Server,
    png,
    require_label_python,
    running_server,
)

from monai_mammo.label import write_label_app

N_GOOD, N_BAD, CONCURRENCY = 50, 10, 4
RESULT_FILE = os.environ.get("MONAI_MAMMO_RELIABILITY_RESULTS")
LABEL_PYTHON = require_label_python()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("load")
    app = write_label_app(root / "app", names=[SEGMENTATION])
    studies = root / "studies"
    studies.mkdir()
    for name in PHANTOMS:
        shutil.copy(SAMPLE / "images" / f"{name}.dcm", studies)
    log = root / "server.log"
    with running_server(app, studies, log, {"skip_trainers": "true"}, python=LABEL_PYTHON) as running:
        yield running


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_a_burst_of_concurrent_requests_with_bad_uploads(server: Server) -> None:
    reference = {}
    for name in PHANTOMS:
        status, content, _ = server.request("POST", f"/infer/{SEGMENTATION}?image={name}&output=image")
        assert status == 200
        reference[name] = png(content)
    truncated = (SAMPLE / "images" / f"{PHANTOMS[0]}.dcm").read_bytes()[:3000]

    def good(i: int) -> tuple[str, int, float, bool]:
        name = PHANTOMS[i % len(PHANTOMS)]
        start = time.perf_counter()
        status, content, _ = server.request("POST", f"/infer/{SEGMENTATION}?image={name}&output=image")
        elapsed = time.perf_counter() - start
        same = status == 200 and np.array_equal(png(content), reference[name])
        return "good", status, elapsed, same

    def bad(i: int) -> tuple[str, int, float, bool]:
        start = time.perf_counter()
        if i % 3 == 0:
            status, body, _ = server.upload(
                "POST", f"/infer/{SEGMENTATION}?output=json", "file", "x.png", b"text"
            )
        elif i % 3 == 1:
            status, body, _ = server.upload(
                "POST", f"/infer/{SEGMENTATION}?output=json", "file", "x.dcm", truncated
            )
        else:
            status, body, _ = server.request("POST", f"/infer/no_such_model?image={PHANTOMS[0]}&output=json")
        elapsed = time.perf_counter() - start
        has_reason = bool(json.loads(body).get("detail")) if body else False
        return "bad", status, elapsed, has_reason

    jobs = [(good, i) for i in range(N_GOOD)]
    for k in range(N_BAD):  # a bad request after every fifth good one
        jobs.insert(5 * (k + 1) + k, (bad, k))
    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
        results = list(pool.map(lambda job: job[0](job[1]), jobs))
    wall = time.perf_counter() - began

    goods = [r for r in results if r[0] == "good"]
    bads = [r for r in results if r[0] == "bad"]
    assert len(goods) == N_GOOD and len(bads) == N_BAD
    assert all(status == 200 and same for _, status, _, same in goods), [r for r in goods if not r[3]][:3]
    assert all(400 <= status < 500 and reason for _, status, _, reason in bads), bads
    assert server.process.poll() is None and server.request("GET", "/info/")[0] == 200  # still up

    latency = np.array([elapsed for _, _, elapsed, _ in goods])
    figures = {
        "requests": len(jobs),
        "good": N_GOOD,
        "bad": N_BAD,
        "concurrency": CONCURRENCY,
        "wall_s": round(wall, 2),
        "throughput_per_s": round(N_GOOD / wall, 2),
        "latency_s": {f"p{q}": round(float(np.percentile(latency, q)), 3) for q in (50, 90, 95, 99)},
        "bad_latency_max_s": round(max(elapsed for _, _, elapsed, _ in bads), 3),
    }
    print(json.dumps(figures))
    if RESULT_FILE:
        Path(RESULT_FILE).with_suffix(".serving.json").write_text(json.dumps(figures, indent=1))
