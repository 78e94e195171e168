"""docs/label.md's install commands are the ones CI runs (.ci/run), and all go through the constraints file
that tox -e label uses too; that file pins MONAI Label's torch pair and what pydicom-seg needs."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CONSTRAINTS = "constraints/label.txt"


def _pins() -> dict[str, str]:
    pins = {}
    for line in (REPO / CONSTRAINTS).read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[name.lower()] = version
    return pins


def test_every_pip_install_of_the_docs_is_constrained_and_is_what_ci_runs() -> None:
    docs = (REPO / "docs" / "label.md").read_text()
    installs = re.findall(r"^(\.venv-label/bin/pip install .*)$", docs, flags=re.MULTILINE)
    assert len(installs) == 2, installs  # the torch pair, then the project with the label extra
    ci = (REPO / ".ci" / "run").read_text()
    for command in installs:
        assert command.endswith(f"-c {CONSTRAINTS}"), command
        assert command.replace("pip install ", "pip install -q ") in ci, command


def test_tox_label_uses_the_same_constraints() -> None:
    tox = configparser.ConfigParser(interpolation=None)
    tox.read(REPO / "tox.ini")
    setenv = tox["testenv:label"]["setenv"]
    assert f"PIP_CONSTRAINT = {{toxinidir}}/{CONSTRAINTS}" in setenv
    deps = tox["testenv:label"]["deps"].split()
    pins = _pins()
    assert all(pins[name] == version for name, version in (d.split("==") for d in deps))


def test_the_constraints_hold_what_monai_label_needs() -> None:
    pins = _pins()
    assert pins["monailabel"] == "0.8.5" and pins["torch"] == "2.14.1" and pins["torchvision"] == "0.29.1"
    assert pins["pydicom"].startswith("2.") and pins["numpy"].startswith("1.")  # pydicom-seg's needs
    assert pins["monai"] == "1.6.1"
