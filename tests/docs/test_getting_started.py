"""docs/getting_started.md: every command of its steps 2-4 runs as written, in a fresh folder, and does what
the page says; the install command is the README's (CI runs it, see .ci/run).

The only changes to the page's commands are in :data:`CPU_SIZED`: the GPU-sized training run of step 4 is
run at a CPU size (smaller images and patches, one epoch). Each substitution must match the page, so the
table cannot drift from it.
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PAGE = REPO / "docs" / "getting_started.md"

CPU_SIZED = {
    "--image_size 1024": "--image_size 256",
    '--patch_size "[512, 512]"': '--patch_size "[128, 128]"',
    '--roi_size "[512, 512]"': '--roi_size "[128, 128]"',
    "--num_workers 8": "--num_workers 0",
    "--epochs 40": "--epochs 1",
}


def _sections(text: str) -> dict[str, str]:
    parts = re.split(r"^## ", text, flags=re.M)
    return {p.splitlines()[0].strip(): p for p in parts[1:]}


def _bash_commands(section: str) -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    return [line for block in blocks for line in block.splitlines() if line.strip()]


def _steps() -> dict[str, list[str]]:
    sections = _sections(PAGE.read_text(encoding="utf-8"))
    return {title: _bash_commands(body) for title, body in sections.items()}


def test_the_install_command_is_the_readmes_and_ci_runs_it() -> None:
    install = _steps()["1. Install"]
    assert len(install) == 1
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert f"{install[0]} && python -m monai.bundle run" in readme
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    for part in install[0].split(" && "):
        assert part.replace("pip install", "python -m pip install -q") in ci, part


def test_every_cpu_substitution_matches_the_page() -> None:
    commands = " ".join(_steps()["4. Train on your data (on a GPU)"])
    for written in CPU_SIZED:
        assert written in commands, written


def _run(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    for written, cpu in CPU_SIZED.items():
        command = command.replace(written, cpu)
    env = {**os.environ, "OMP_NUM_THREADS": "2"}
    return subprocess.run(
        ["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, timeout=900
    )


def test_steps_2_to_4_run_as_written(tmp_path: Path) -> None:
    (tmp_path / "bundles").symlink_to(REPO / "bundles", target_is_directory=True)
    steps = _steps()
    titles = [t for t in steps if t[:2] in ("2.", "3.", "4.")]
    assert len(titles) == 3
    for title in titles:
        for command in steps[title]:
            done = _run(command, tmp_path)
            assert done.returncode == 0, f"{title}: {command}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"

    def rows(path: Path) -> list[dict[str, str]]:
        with path.open(newline="") as f:
            return list(csv.DictReader(f))

    # 2: the sample's two images
    assert len(rows(tmp_path / "sample_results" / "summary.csv")) == 2
    # 3: four phantom views of one woman, each segmented and classified, one exam
    assert len(rows(tmp_path / "my_results" / "lesions" / "summary.csv")) == 4
    assert json.loads((tmp_path / "my_results" / "lesions" / "failures.json").read_text())["n_failed"] == 0
    exams = rows(tmp_path / "my_results" / "classification" / "exams.csv")
    assert len(exams) == 1 and exams[0]["grouped_by"]
    # 4: weights, an evaluation of the test fold, and inference with them
    assert (tmp_path / "my_runs" / "lesions" / "model.pt").is_file()
    metrics = json.loads((tmp_path / "my_runs" / "lesions" / "eval" / "metrics.json").read_text())
    assert metrics["n_images"] > 0
    assert len(rows(tmp_path / "my_results" / "my_model" / "summary.csv")) == 4


def test_the_test_and_docs_commands_are_what_ci_runs() -> None:
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    tests = _steps()["Tests"][0].split("#")[0].strip()
    assert f"{tests} -q" in ci
    docs = _steps()["Build these docs"][0].split()
    assert " ".join(docs[:4]) in ci and " ".join(docs[-4:]) in ci
