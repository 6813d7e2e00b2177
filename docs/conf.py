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
import re
from pathlib import Path

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

# --- Passages of the READMEs -------------------------------------------------------------
# docs/benchmarks.md and the guide's "Measured" sections include their figures from
# README.md and bench/README.md ({include} with :start-after: / :end-before: markers), so
# that each figure is written once. The includes rewrite links and images that point into
# docs/ (:relative-docs: docs/, :relative-images:); a link to a repository file outside
# docs/ is rewritten here, in the included text only: to the page that shows the file
# (bench/README.md is the benchmarks page), else to its plain link text.
#: Repository files, relative to the repository root, that the site shows as a page.
REPOSITORY_PAGES = {"bench/README.md": "/benchmarks.md"}
_LINK = re.compile(r"(?<!!)\[(?P<text>[^\]]*)\]\((?P<target>[^)\s]+)\)")
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def _repository_links(app, relative_path, parent_docname, content):
    """Point an included file's links to repository files outside docs/ at the site."""
    srcdir = Path(app.srcdir).resolve()
    source = (srcdir / relative_path).resolve()
    if source.is_relative_to(srcdir):
        return
    root = srcdir.parent

    def rewrite(match):
        target = match["target"]
        if target.startswith("#") or _SCHEME.match(target):
            return match[0]
        path, _, anchor = target.partition("#")
        linked = (source.parent / path).resolve()
        if linked.is_relative_to(srcdir):
            return match[0]
        in_repository = linked.is_relative_to(root)
        page = REPOSITORY_PAGES.get(linked.relative_to(root).as_posix() if in_repository else "")
        if page is None:
            return match["text"]
        return f"[{match['text']}]({page}{'#' + anchor if anchor else ''})"

    content[0] = _LINK.sub(rewrite, content[0])


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
    app.connect("include-read", _repository_links)


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
