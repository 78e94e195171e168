"""Write ``docs/api.md``: one ``automodule`` section per module of ``monai_mammo``, grouped by subpackage.

Run by ``docs/conf.py`` on every build, so the API reference never misses a module.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# (title, modules or package folder); a folder lists every module under it
SECTIONS: list[tuple[str, list[str] | str]] = [
    ("Utilities and enums", "monai_mammo/utils"),
    ("Writing files", "monai_mammo/io"),
    (
        "Readers and errors",
        [
            "monai_mammo.data.errors",
            "monai_mammo.data.file_types",
            "monai_mammo.data.reader_base",
            "monai_mammo/data/readers",
            "monai_mammo.data.image_reader",
            "monai_mammo.data.nifti_reader",
            "monai_mammo.data.mammo_meta",
        ],
    ),
    ("Phantom", "monai_mammo/data/phantom"),
    (
        "Data sets, datalists and exams",
        [
            "monai_mammo.data.datalist",
            "monai_mammo/data/datasets",
            "monai_mammo.data.exam_grouping",
            "monai_mammo.data.export_variants",
        ],
    ),
    (
        "Training input",
        [
            "monai_mammo.data.preprocessed_cache",
            "monai_mammo.data.preprocessed_dataset",
            "monai_mammo.data.cache_keys",
            "monai_mammo.data.cache_entry",
            "monai_mammo.data.failures",
            "monai_mammo.data.training_items",
            "monai_mammo.data.loader_settings",
            "monai_mammo/engines",
        ],
    ),
    ("Transforms", "monai_mammo/transforms"),
    ("Networks", "monai_mammo/networks"),
    ("Inferers", "monai_mammo/inferers"),
    ("Metrics", "monai_mammo/metrics"),
    ("Handlers", "monai_mammo/handlers"),
    ("Run outputs and exam reports", "monai_mammo/outputs"),
    ("Bundle support", "monai_mammo/bundle"),
    ("Visualisation", "monai_mammo/visualize"),
    ("MONAI Label", "monai_mammo/label"),
    ("Command line", ["monai_mammo.cli"]),
]


def _deprecated(path: Path) -> bool:
    """A module kept only so that old import paths still work (its docstring opens "Deprecated module")."""
    return path.read_text().startswith('"""Deprecated module')


def _modules(entry: str) -> list[str]:
    if "/" not in entry:
        return [entry]
    folder = ROOT / entry
    if not folder.is_dir():
        return []
    files = sorted(p for p in folder.rglob("*.py") if p.name != "__init__.py" and not _deprecated(p))
    return [".".join(p.relative_to(ROOT).with_suffix("").parts) for p in files]


def api_page() -> str:
    """The Markdown text of the API reference."""
    lines = [
        "# API reference",
        "",
        "Generated from the docstrings, one section per module. Every public class and function is also",
        "importable from its package (e.g. `monai_mammo.transforms.CropBreastd`).",
        "",
    ]
    for title, entries in SECTIONS:
        modules = [m for e in ([entries] if isinstance(entries, str) else entries) for m in _modules(e)]
        if not modules:
            continue
        lines += [f"## {title}", ""]
        for module in modules:
            lines += [f"### `{module}`", "", "```{eval-rst}", f".. automodule:: {module}", "```", ""]
    return "\n".join(lines)


def write_api_page(path: Path = ROOT / "docs" / "api.md") -> None:
    """Write the page only when its text changed (keeps Sphinx's incremental builds)."""
    text = api_page()
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


if __name__ == "__main__":
    write_api_page()
