"""Sphinx configuration of the skvae documentation site.

Build: ``pip install -e ".[docs]" && sphinx-build -W docs docs/_build/html``.
"""

import os
import sys
import warnings

sys.path.insert(0, os.path.abspath(".."))

import skvae  # noqa: E402

project = "skvae"
author = "The skvae developers"
copyright = "2026, The skvae developers"
release = skvae.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "README.md", "examples/README.txt"]
templates_path = ["_templates"]

autosummary_generate = True
autodoc_default_options = {"members": False}
# The estimators' methods are listed by the class template (_templates/), each
# with its docstring; numpydoc's own member tables would repeat them.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": "/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "abort_on_example_error": True,
}

html_theme = "pydata_sphinx_theme"
html_title = f"skvae {release}"
html_theme_options = {
    "github_url": "https://github.com/skvae/skvae",
    "navigation_with_keys": False,
}
html_static_path = []

myst_heading_anchors = 3

# Examples train small networks for a few epochs on purpose.
warnings.filterwarnings("ignore", message=".*max_epochs.*", category=UserWarning)
