"""Sphinx configuration: MyST Markdown pages + an API reference generated from docstrings."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from api_page import write_api_page  # noqa: E402

import monai_mammo  # noqa: E402

write_api_page()

project = "monai_mammo"
author = "monai_mammo contributors"
copyright = "2026, monai_mammo contributors"
release = monai_mammo.__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build", "scripts", "api_page.py"]
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}
# MONAI Label lives in an environment of its own (docs/label.md): document monai_mammo.label without it.
autodoc_mock_imports = ["monailabel", "fastapi"]
napoleon_google_docstring = True
napoleon_numpy_docstring = False
# Type hints name classes from torch/monai/numpy that have no Sphinx inventory offline.
nitpicky = False
suppress_warnings = ["myst.header"]

html_theme = "furo"
html_static_path = ["_static"]
html_title = f"monai_mammo {release}"
