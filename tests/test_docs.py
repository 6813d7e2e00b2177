"""The documentation site: every Python example runs, the API reference is complete.

Each page of ``docs/`` (``docs/**/*.md``) is one test: its fenced code blocks whose
info string is ``python`` run in order, in one fresh namespace per page, in a
temporary working directory. Blocks meant to be read, not run, are fenced as
``text``, ``console`` or ``bash``. None of this needs Sphinx; the build itself, with
warnings as errors, is the slow test at the end (skipped without Sphinx).
"""

from __future__ import annotations

import importlib
import inspect
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import deepbelief

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
#: Folders of docs/ that hold build output or generated stubs, not pages.
NOT_PAGES = {"_build", "generated", "_templates"}
PAGES = sorted(page for page in DOCS.rglob("*.md")
               if not NOT_PAGES & set(page.relative_to(DOCS).parts))

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
#: MyST directives whose body is not Markdown (so no code block can open inside).
_LITERAL_DIRECTIVES = {"eval-rst", "code-block", "code", "sourcecode", "literalinclude",
                       "math", "raw", "csv-table", "list-table"}


def code_blocks(text: str) -> list[tuple[int, str, str]]:
    """The fenced code blocks of a Markdown page: (first code line, info word, code).

    A MyST directive fenced with backticks (```` ```{note} ````) holds Markdown, so
    code blocks inside it are found too; one whose body is not Markdown
    (``{eval-rst}``, ``{code-block}``, ...) is skipped whole. Indented blocks (in a
    list item) are dedented.
    """
    blocks: list[tuple[int, str, str]] = []
    directives: list[tuple[str, int]] = []  # open Markdown-bodied directives
    block: tuple[str, int, str, int] | None = None  # fence char, length, info, start
    lines: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = _FENCE.match(line)
        if block is not None:
            char, length, info, start = block
            fence = match and match["fence"]
            if fence and fence[0] == char and len(fence) >= length and not match["info"].strip():
                blocks.append((start, info, textwrap.dedent("\n".join(lines))))
                block, lines = None, []
            else:
                lines.append(line)
            continue
        if match is None:
            continue
        fence, info = match["fence"], match["info"].strip()
        if directives and not info and fence[0] == directives[-1][0] \
                and len(fence) >= directives[-1][1]:
            directives.pop()
            continue
        word = info.split()[0] if info else ""
        if word.startswith("{") and word.endswith("}") and word[1:-1] not in _LITERAL_DIRECTIVES:
            directives.append((fence[0], len(fence)))
            continue
        block, lines = (fence[0], len(fence), word, number + 1), []
    return blocks


def python_blocks(text: str) -> list[tuple[int, str]]:
    """The blocks fenced as ``python``: (first code line, code)."""
    return [(start, code) for start, info, code in code_blocks(text) if info == "python"]


def run_page(path: Path, text: str | None = None) -> dict:
    """Run the page's ``python`` blocks in order in one fresh namespace; return it.

    Tracebacks point at the page's own lines (each block is compiled with the
    page as its file name and padded to its place in the page).
    """
    text = path.read_text(encoding="utf-8") if text is None else text
    namespace: dict = {"__name__": "__main__"}
    for start, code in python_blocks(text):
        exec(compile("\n" * (start - 1) + code, str(path), "exec"), namespace)
    return namespace


def _page_id(page: Path) -> str:
    return page.relative_to(ROOT).as_posix()


@pytest.mark.parametrize("page", PAGES, ids=[_page_id(page) for page in PAGES])
def test_page_examples_run(page, monkeypatch, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)
    try:
        run_page(page)
    finally:
        if "matplotlib.pyplot" in sys.modules:
            sys.modules["matplotlib.pyplot"].close("all")


# --------------------------------------------------------------- the runner itself
_SAMPLE = """\
# A page

```python
x = 1
```

```text
this is not run
```

````{note}
```python
x += 1
```
````

```{eval-rst}
.. code-block:: python

   x = 100
```

- a list item:

  ```python
  x *= 10
  ```

~~~python
y = x
~~~
"""


def test_code_blocks_are_found_in_order():
    assert [code for _, code in python_blocks(_SAMPLE)] == ["x = 1", "x += 1", "x *= 10",
                                                          "y = x"]
    assert [info for _, info, _ in code_blocks(_SAMPLE)] == ["python", "text", "python",
                                                             "{eval-rst}", "python", "python"]
    assert run_page(Path("sample.md"), _SAMPLE)["y"] == 20


def test_a_raising_example_fails_at_its_line():
    page = "# Broken\n\nSome text.\n\n```python\nx = 1\nraise ValueError('boom')\n```\n"
    with pytest.raises(ValueError, match="boom") as info:
        run_page(Path("broken.md"), page)
    assert info.traceback[-1].lineno + 1 == 7  # the page's line of the raise


def test_every_page_is_collected():
    assert {"index.md", "api.md", "benchmarks.md", "migrating.md"} <= {
        page.relative_to(DOCS).as_posix() for page in PAGES}


# -------------------------------------------------------------- the API reference
#: The submodules ``deepbelief.__all__`` names; each has its section in docs/api.md.
SUBMODULES = sorted(name for name in deepbelief.__all__
                    if inspect.ismodule(getattr(deepbelief, name)))


def public_names(module) -> set[str]:
    """``__all__``, or the functions and classes a module defines under public names."""
    if hasattr(module, "__all__"):
        return set(module.__all__)
    return {name for name, obj in vars(module).items()
            if not name.startswith("_") and (inspect.isfunction(obj) or inspect.isclass(obj))
            and getattr(obj, "__module__", None) == module.__name__}


def api_entries(text: str) -> dict[str, set[str]]:
    """The names listed by the autosummary tables of ``api.md``, by ``currentmodule``."""
    entries: dict[str, set[str]] = {}
    module, listing = None, False
    for line in text.splitlines():
        if match := re.match(r"\s*\.\. currentmodule:: (\S+)", line):
            module, listing = match[1], False
        elif re.match(r"\s*\.\. autosummary::", line):
            listing = True
        elif listing and (match := re.match(r"\s+([A-Za-z_][\w.]*)\s*$", line)):
            entries.setdefault(module, set()).add(match[1])
        elif listing and line.strip() and not re.match(r"\s+:", line):
            listing = False
    return entries


def documented_names() -> dict[str, set[str]]:
    """What docs/api.md must list: every name of ``deepbelief.__all__`` and every public
    name of the submodules it names, and of any other submodule the page documents."""
    entries = api_entries((DOCS / "api.md").read_text(encoding="utf-8"))
    modules = {f"deepbelief.{name}" for name in SUBMODULES} | (set(entries) - {"deepbelief"})
    expected = {"deepbelief": set(deepbelief.__all__) - set(SUBMODULES)}
    for module in modules:
        expected[module] = public_names(importlib.import_module(module))
    return expected


def test_api_reference_lists_every_public_name():
    entries = api_entries((DOCS / "api.md").read_text(encoding="utf-8"))
    for module, names in documented_names().items():
        listed = entries.get(module, set())
        assert names - listed == set(), f"{module}: missing from docs/api.md"
        assert listed - names == set(), f"{module}: listed in docs/api.md but not public"


# ------------------------------------------------- the figures, written once
#: Where the measured figures are written: the pages include them from these files.
READMES = (ROOT / "README.md", ROOT / "bench" / "README.md")
_INCLUDE = re.compile(r"^[ \t]*(?:`{3,}|~{3,}|:{3,})\{include\}[ \t]+(?P<path>\S+)[ \t]*$")
_OPTION = re.compile(r"^[ \t]*:(?P<name>[\w-]+):(?:[ \t]+(?P<value>.*?))?[ \t]*$")


def includes(text: str) -> list[tuple[int, str, dict[str, str]]]:
    """The MyST ``{include}`` directives of a page: (line, path, options).

    Options are the ``:name: value`` lines that follow the opening fence; an
    ``{include}`` shown inside a code block is not one.
    """
    in_code = {line for start, _, code in code_blocks(text)
               for line in range(start, start + len(code.splitlines()))}
    lines = text.splitlines()
    found = []
    for number, line in enumerate(lines, start=1):
        match = _INCLUDE.match(line)
        if match is None or number in in_code:
            continue
        options = {}
        for option_line in lines[number:]:
            option = _OPTION.match(option_line)
            if option is None:
                break
            options[option["name"]] = option["value"] or ""
        found.append((number, match["path"], options))
    return found


_INCLUDING = """\
# A page

```{include} ../README.md
:start-after: <!-- benchmarks:one:start -->
:end-before: <!-- benchmarks:one:end -->
:relative-images:
```

````text
```{include} ../not-an-include.md
```
````

:::{include} other.md
:::
"""


def test_includes_are_found():
    assert includes(_INCLUDING) == [
        (3, "../README.md", {"start-after": "<!-- benchmarks:one:start -->",
                             "end-before": "<!-- benchmarks:one:end -->",
                             "relative-images": ""}),
        (14, "other.md", {})]


INCLUDING_PAGES = [page for page in PAGES if includes(page.read_text(encoding="utf-8"))]


def test_benchmarks_page_includes_both_readmes():
    page = DOCS / "benchmarks.md"
    sources = {(page.parent / path).resolve()
               for _, path, _ in includes(page.read_text(encoding="utf-8"))}
    assert sources == set(READMES)


@pytest.mark.parametrize("page", INCLUDING_PAGES, ids=[_page_id(p) for p in INCLUDING_PAGES])
def test_include_markers_occur_once_in_their_file(page):
    for line, path, options in includes(page.read_text(encoding="utf-8")):
        where = f"{_page_id(page)}:{line}"
        source = (page.parent / path).resolve()
        assert source.is_file(), f"{where}: no file {path}"
        text = source.read_text(encoding="utf-8")
        markers = [options[name] for name in ("start-after", "end-before") if name in options]
        for marker in markers:
            assert marker, f"{where}: an empty marker"
            count = text.count(marker)
            assert count == 1, f"{where}: {marker!r} occurs {count} times in {path}"
        if len(markers) == 2:
            assert text.index(markers[0]) < text.index(markers[1]), (
                f"{where}: the end-before marker comes before the start-after one in {path}")


def _table_rows(text: str) -> set[str]:
    rows = set()
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("|") and not re.fullmatch(r"[|\s:-]+", line):
            rows.add(re.sub(r"\]\([^)]*\)", "]()", line))  # link targets differ by folder
    return rows


@pytest.mark.parametrize("page", PAGES, ids=[_page_id(page) for page in PAGES])
def test_no_page_copies_a_readme_table(page):
    recorded = set().union(*(_table_rows(readme.read_text(encoding="utf-8"))
                             for readme in READMES))
    copied = sorted(_table_rows(page.read_text(encoding="utf-8")) & recorded)
    assert not copied, (f"{_page_id(page)} copies rows of README.md or bench/README.md "
                        "(include the passage instead):\n" + "\n".join(copied))


@pytest.mark.parametrize("page", PAGES, ids=[_page_id(page) for page in PAGES])
def test_pictures_exist(page):
    text = page.read_text(encoding="utf-8")
    for target in re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", text):
        if "://" not in target:
            assert (page.parent / target).is_file(), f"{_page_id(page)}: no picture {target}"


# ----------------------------------------------------------------------- the build
@pytest.mark.slow
def test_site_builds_without_warnings(tmp_path):
    for module in ("sphinx", "numpydoc", "myst_parser", "pydata_sphinx_theme"):
        pytest.importorskip(module)
    out = tmp_path / "html"
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html",
         "-d", str(tmp_path / "doctrees"), str(DOCS), str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-8000:]
    for module, names in documented_names().items():
        for name in names:
            assert (out / "generated" / f"{module}.{name}.html").is_file(), f"{module}.{name}"
