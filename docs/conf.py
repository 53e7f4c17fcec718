"""Sphinx configuration: Markdown pages (MyST) plus an API reference from docstrings."""

import os
import sys

sys.path.insert(0, os.path.abspath(".."))

project = "stochgrad"
author = "stochgrad developers"
release = "0.1.0"
extensions = ["myst_parser", "sphinx.ext.autodoc", "sphinx.ext.napoleon", "sphinx.ext.mathjax"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "core_api_brief.md"]
autodoc_member_order = "bysource"
autodoc_typehints = "none"
napoleon_google_docstring = True
myst_heading_anchors = 3
suppress_warnings = ["myst.header"]
html_theme = "alabaster"
