"""docs/install_bundles.md: each route's commands run as written, in a fresh folder, and do what the page
says; the wheel carries both bundles (their parts, never their outputs) and every package of monai_mammo.

The only changes to the page's commands are in :data:`SUBSTITUTIONS` (each must match the page). The clone
route is the README's command, which CI runs (.ci/run).
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from setuptools import find_packages

REPO = Path(__file__).resolve().parents[2]
PAGE = REPO / "docs" / "install_bundles.md"
NAMES = ("mammo_lesion_segmentation", "mammo_classification")
PARTS = ("configs", "models", "docs", "LICENSE", "sample", "scripts")  # BUNDLE_PARTS, restated on purpose

SUBSTITUTIONS = {
    # the new environment sees this one's packages (torch, MONAI, ...): nothing is downloaded, and the
    # wheel's monai_mammo still comes first in it (checked below)
    "python -m venv mammo-env": "python -m venv --system-site-packages mammo-env",
}


def _sections() -> dict[str, list[str]]:
    parts = re.split(r"^## ", PAGE.read_text(encoding="utf-8"), flags=re.M)
    blocks = {p.splitlines()[0].strip(): re.findall(r"```bash\n(.*?)```", p, flags=re.S) for p in parts[1:]}
    return {
        title: [line for b in found for line in b.splitlines() if line.strip()]
        for title, found in blocks.items()
    }


def _script(commands: list[str]) -> str:
    script = "\n".join(["set -euo pipefail", *commands])
    for written, used in SUBSTITUTIONS.items():
        script = script.replace(written, used)
    return script


def _run(script: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OMP_NUM_THREADS": "2", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.pop("PYTHONPATH", None)
    return subprocess.run(
        ["bash", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=900
    )


def _clone(dest: Path) -> Path:
    """The checkout's project files, as a clone has them, with run outputs and byte caches in its bundles."""
    skip = shutil.ignore_patterns("__pycache__", "*.egg-info", "eval", "runs", ".*")
    for name in ("pyproject.toml", "setup.py", "README.md"):
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, dest / name)
    for name in ("monai_mammo", "bundles"):
        shutil.copytree(REPO / name, dest / name, ignore=skip)
    for name in NAMES:
        for junk in ("eval/summary.csv", "runs/model.pt", "scripts/__pycache__/x.cpython-311.pyc"):
            (dest / "bundles" / name / junk).parent.mkdir(parents=True, exist_ok=True)
            (dest / "bundles" / name / junk).write_text("x")
    return dest


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def test_every_substitution_matches_the_page() -> None:
    commands = "\n".join(line for lines in _sections().values() for line in lines)
    for written in SUBSTITUTIONS:
        assert written in commands, written


def test_the_clone_route_is_the_readmes_command() -> None:
    (command,) = _sections()["From a clone"]
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert f"```bash\n{command}\n```" in readme
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert 'python -m pip install -q -e ".[dev]"' in ci


def test_the_wheel_carries_both_bundles_and_every_package(tmp_path: Path) -> None:
    clone = _clone(tmp_path / "clone")
    build = [
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "--no-build-isolation",
        "-q",
        "-w",
        "dist",
        ".",
    ]
    done = subprocess.run(build, cwd=clone, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    (wheel,) = (clone / "dist").glob("monai_mammo-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in NAMES:
        source = clone / "bundles" / name
        expected = {
            f"monai_mammo/bundles_data/{name}/{p.relative_to(source).as_posix()}"
            for p in source.rglob("*")
            if p.is_file() and p.relative_to(source).parts[0] in PARTS and "__pycache__" not in p.parts
        }
        shipped = {n for n in names if n.startswith(f"monai_mammo/bundles_data/{name}/")}
        assert shipped == expected, shipped ^ expected
        assert f"monai_mammo/bundles_data/{name}/models/model.pt" in shipped
    assert "monai_mammo/bundles_data/schema/metadata_schema.json" in names
    packages = find_packages(str(REPO), include=["monai_mammo", "monai_mammo.*"])
    assert packages and all(f"{p.replace('.', '/')}/__init__.py" in names for p in packages)


def test_the_wheel_route_runs_as_written(tmp_path: Path) -> None:
    clone = _clone(tmp_path / "clone")
    commands = _sections()["From a wheel"]
    where = 'python -c "import monai_mammo; print(monai_mammo.__file__)"'  # in my_work, in the environment
    done = _run(_script([*commands, where]), clone)
    assert done.returncode == 0, f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    # the wheel's package, not the editable install of this checkout that the environment also sees
    env = clone / "mammo-env"
    installed = Path(done.stdout.strip().splitlines()[-1])
    assert installed.is_relative_to(env), installed
    work = clone / "my_work"
    assert len(_rows(work / "installed_results" / "summary.csv")) == 2
    assert len(_rows(work / "my_results" / "summary.csv")) == 2
    copy = work / "my_bundles" / "mammo_lesion_segmentation"
    assert sorted(p.name for p in copy.iterdir()) == sorted(PARTS)
    assert not (installed.parent / "bundles_data" / "mammo_lesion_segmentation" / "eval").exists()


def test_the_release_archive_route_runs_as_written(tmp_path: Path) -> None:
    done = _run(_script(_sections()["From a release archive"]), tmp_path)
    assert done.returncode == 0, f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    (archive,) = (tmp_path / "dist").glob("mammo_lesion_segmentation_v*.zip")
    bundle = tmp_path / "my_bundles" / "mammo_lesion_segmentation"
    assert (bundle / "models" / "model.ts").is_file() and (bundle / "configs" / "metadata.json").is_file()
    assert len(_rows(tmp_path / "zip_results" / "summary.csv")) == 2
