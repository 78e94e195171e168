"""Safe loading: no checkpoint or array file can run code.

- Every ``torch.load`` in the tree (package, bundles, tests, benchmarks, docs; Python, bundle configs and
  Markdown) passes ``weights_only=True``; no ``pickle``/``dill``/``joblib`` load, ``np.load`` with
  ``allow_pickle=True`` or ``yaml.load`` outside the allow-list. A new unsafe call fails this test.
- A checkpoint whose pickle would run code when loaded (``__reduce__``) is refused, without running it, by
  the segmentation bundle's inference (MONAI's ``CheckpointLoader``) and by training resume
  (:class:`~monai_mammo.handlers.ResumeCheckpoint`).
"""

from __future__ import annotations

import ast
import pickle
import re
from pathlib import Path

import pytest
import torch
from ignite.engine import Engine
from monai.bundle import ConfigWorkflow

from monai_mammo.data import root_cause
from monai_mammo.handlers import ResumeCheckpoint

REPO = Path(__file__).resolve().parents[2]
SCANNED = ("monai_mammo", "bundles", "tests", "benchmarks", "docs")
SKIPPED_PARTS = {"_build", "__pycache__", ".git", "runs", "eval", ".venv", "node_modules"}
# (file, call) pairs that may load pickles: the tests of the errors' own pickling across worker processes
# round trips of objects the test itself just pickled (errors and mask specs cross process boundaries)
PICKLE_ALLOWED = {
    ("tests/data/test_errors.py", "pickle.loads"),
    ("tests/data/datasets/test_box_mask.py", "pickle.loads"),
}
UNSAFE_CALLS = ("pickle.load", "pickle.loads", "dill.load", "dill.loads", "joblib.load", "cloudpickle.load")
CONFIGS = REPO / "bundles" / "mammo_lesion_segmentation" / "configs"


def _files(suffixes: tuple[str, ...]) -> list[Path]:
    out = []
    for top in SCANNED:
        for path in (REPO / top).rglob("*"):
            parts = set(path.relative_to(REPO).parts)
            if path.is_file() and path.suffix in suffixes and not parts & SKIPPED_PARTS:
                out.append(path)
    return sorted(out)


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def _keyword(call: ast.Call, name: str) -> ast.AST | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def unsafe_python_loads(source: str, filename: str) -> list[str]:
    """The unsafe load calls in one Python source, as ``file:line: reason``."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if not isinstance(node, ast.Call):
            continue
        name = _dotted(node.func)
        where = f"{filename}:{node.lineno}"
        if name in ("torch.load", "torch.serialization.load"):
            value = _keyword(node, "weights_only")
            if not (isinstance(value, ast.Constant) and value.value is True):
                found.append(f"{where}: {name} without weights_only=True")
        elif name in ("np.load", "numpy.load"):
            value = _keyword(node, "allow_pickle")
            if value is not None and not (isinstance(value, ast.Constant) and value.value is False):
                found.append(f"{where}: {name} with allow_pickle other than False")
        elif name in UNSAFE_CALLS and (filename, name) not in PICKLE_ALLOWED:
            found.append(f"{where}: {name} runs code stored in the file")
        elif name == "yaml.load" and "SafeLoader" not in ast.unparse(node):
            found.append(f"{where}: yaml.load without SafeLoader (use yaml.safe_load)")
    return found


TEXT_LOAD = re.compile(r"torch\.load\(([^()]*(\([^()]*\))?)*\)")


def unsafe_text_loads(text: str, filename: str) -> list[str]:
    """``torch.load(...)`` calls in a config or a Markdown page without ``weights_only=True``."""
    return [
        f"{filename}: {m.group(0)[:80]} without weights_only=True"
        for m in TEXT_LOAD.finditer(text)
        if "weights_only=True" not in m.group(0).replace(" ", "")
    ]


def test_the_scanner_finds_unsafe_calls() -> None:
    """The checks below would see a regression (each pattern is caught, its safe form is not)."""
    bad = (
        "import torch, pickle, numpy as np, yaml\n"
        "torch.load('a.pt')\n"
        "torch.load('a.pt', weights_only=False)\n"
        "np.load('a.npy', allow_pickle=True)\n"
        "pickle.load(open('a', 'rb'))\n"
        "yaml.load(open('a.yaml'))\n"
    )
    assert len(unsafe_python_loads(bad, "bad.py")) == 5
    good = "import torch, numpy as np\ntorch.load('a', map_location='cpu', weights_only=True)\nnp.load('a')\n"
    assert unsafe_python_loads(good, "good.py") == []
    config = "\"$torch.load(@checkpoint, map_location=torch.device('cpu'))\""
    assert len(unsafe_text_loads(config, "c.json")) == 1
    assert (
        unsafe_text_loads("torch.load(path, map_location=torch.device('cpu'), weights_only=True)", "d") == []
    )


def test_every_load_in_the_tree_is_safe() -> None:
    python = _files((".py",))
    assert len(python) > 50, "the scan found too few files: is the tree there?"
    found = [f for p in python for f in unsafe_python_loads(p.read_text(), str(p.relative_to(REPO)))]
    texts = _files((".json", ".md", ".yaml", ".yml", ".txt", ".rst"))
    found += [
        f for p in texts for f in unsafe_text_loads(p.read_text(errors="replace"), str(p.relative_to(REPO)))
    ]
    assert not found, "unsafe loading:\n" + "\n".join(found)


def test_bundle_configs_document_the_trust_model() -> None:
    """The user guide says that a bundle config is code and must come from a trusted source."""
    for page in ("bundles.md", "reliability.md"):
        text = (REPO / "docs" / page).read_text()
        assert "config is code" in text and "trust" in text and "weights_only=True" in text, page


class _RunsCode:
    """A pickled object that, when loaded without ``weights_only``, creates ``marker``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


@pytest.fixture()
def malicious_checkpoint(tmp_path: Path) -> tuple[Path, Path]:
    """A checkpoint whose unpickling would create ``marker`` (as code execution would)."""
    marker = tmp_path / "code_ran"
    path = tmp_path / "model.pt"
    torch.save({"model": _RunsCode(marker)}, path)
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        torch.load(path, weights_only=True)
    assert not marker.exists()
    return path, marker


def test_bundle_inference_refuses_a_checkpoint_that_runs_code(malicious_checkpoint, tmp_path: Path) -> None:
    path, marker = malicious_checkpoint
    workflow = ConfigWorkflow(
        config_file=str(CONFIGS / "inference.json"),
        meta_file=str(CONFIGS / "metadata.json"),
        logging_file=str(CONFIGS / "logging.conf"),
        workflow_type="inference",
        checkpoint=str(path),
        output_dir=str(tmp_path / "out"),
    )
    with pytest.raises(RuntimeError) as info:  # "initialize" checks the checkpoint (check_checkpoint)
        workflow.initialize()
        workflow.run()
    assert isinstance(root_cause(info.value), pickle.UnpicklingError)  # torch's weights-only unpickler
    assert "not an allowed global" in str(root_cause(info.value))
    assert not marker.exists()


def test_training_resume_refuses_a_checkpoint_that_runs_code(malicious_checkpoint) -> None:
    path, marker = malicious_checkpoint
    network = torch.nn.Linear(2, 1)
    engine = Engine(lambda e, b: None)
    ResumeCheckpoint(path.parent, {"network": network}, filename=path.name, resume=True).attach(engine)
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        engine.run([0], max_epochs=1)
    assert not marker.exists()
