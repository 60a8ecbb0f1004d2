"""Sphinx configuration of the fastloss documentation.

Build: ``pip install ".[docs]"`` then ``make -C docs html`` (warnings are
errors). The API pages and their figures are generated from the package's
registry by ``_ext/fastloss_api.py``; the gallery runs ``examples/`` with
``--small``.
"""

from __future__ import annotations

import importlib.machinery
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE / "_ext"))
# A checkout's package (with its built _core extension, not only the _core.pyi
# stub every clone has) comes first when it is there; otherwise the installed
# fastloss is documented.
if (ROOT / "python" / "fastloss" / "__init__.py").is_file() and any(
        (ROOT / "python" / "fastloss" / f"_core{suffix}").is_file()
        for suffix in importlib.machinery.EXTENSION_SUFFIXES):
    sys.path.insert(0, str(ROOT / "python"))
sys.path.insert(0, str(ROOT / "examples"))  # the examples import their _common
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("KERAS_BACKEND", "torch")

import fastloss  # noqa: E402

project = "fastloss"
author = "the fastloss authors"
copyright = "the fastloss authors, MIT licence"  # noqa: A001
release = version = getattr(fastloss, "__version__", "0.1.0")

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx_gallery.gen_gallery",
    "fastloss_api",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py",
                    "auto_examples/*.zip", "auto_examples/*.json", "auto_examples/*.md5"]
myst_enable_extensions = ["dollarmath", "colon_fence"]
myst_heading_anchors = 3

autodoc_member_order = "bysource"
autodoc_typehints = "none"
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False

html_theme = "furo"
html_title = "fastloss"
html_static_path: list[str] = []

sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r".*\.py$",  # every example runs
    "ignore_pattern": r"(^|[/\\])_[^/\\]*\.py$",  # the shared helpers do not
    "reset_argv": "fastloss_gallery.reset_argv",  # --small, PNGs out of the tree
    "download_all_examples": False,
    "remove_config_comments": True,
    "plot_gallery": "True",
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
    "within_subsection_order": "FileNameSortKey",
    "show_memory": False,
    "min_reported_time": 10_000,
}
