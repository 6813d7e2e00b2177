"""Sphinx configuration of the deepbelief documentation.

Why Sphinx with numpydoc rather than MkDocs: every docstring in the package is
already written in numpydoc, the convention of NumPy, SciPy and scikit-learn, and
Sphinx's autodoc/autosummary with the numpydoc extension render those sections
(Parameters, Attributes, Notes, ...) as they are, one generated page per public
name, with cross-references between them. MkDocs would need mkdocstrings and a
second docstring parser for the same result. The narrative pages stay in Markdown
through MyST, so they read as plain Markdown on GitHub too.

Build (warnings are errors)::

    pip install -e '.[docs]'
    sphinx-build -W --keep-going -b html docs docs/_build/html

The stubs of the API reference are generated into ``docs/generated`` (ignored by
git) at every build.
"""

from __future__ import annotations

import inspect

import deepbelief

project = "deepbelief"
author = "the deepbelief authors"
copyright = "the deepbelief authors, MIT licence"
version = release = deepbelief.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_parser",
]

source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "**/.ipynb_checkpoints"]
templates_path = ["_templates"]

# --- MyST: Markdown pages -----------------------------------------------------------------
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

# --- API reference: autosummary stubs, numpydoc sections --------------------------------
autosummary_generate = True
autosummary_imported_members = False
autosummary_ignore_module_all = False
autodoc_member_order = "groupwise"
autodoc_typehints = "none"
autodoc_class_signature = "mixed"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False


def _owner_module(obj) -> str | None:
    """The module a class member was written in, or None for plain data."""
    objclass = getattr(obj, "__objclass__", None)
    if objclass is not None:  # slot wrappers, method and member descriptors of builtins
        return getattr(objclass, "__module__", "builtins")
    if isinstance(obj, property):
        obj = obj.fget
    obj = getattr(obj, "__func__", obj)
    if inspect.isroutine(obj):
        return getattr(obj, "__module__", None) or "builtins"
    return None


def _skip_foreign_members(app, what, name, obj, skip, options):
    """Leave out what a class inherits from scikit-learn, PyTorch or the builtins.

    ``get_params``, ``set_params``, ``score``, ``fit_transform``, ``set_output`` and
    the like are documented by scikit-learn; the pages list what this package adds.
    """
    if what != "class" or skip:
        return None
    module = _owner_module(obj)
    if module is not None and not module.startswith("deepbelief"):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_foreign_members)


# --- HTML --------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"deepbelief {release}"
html_static_path: list[str] = []
html_show_sourcelink = False
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
