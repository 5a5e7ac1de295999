"""The notebooks ``livecells run`` executes: finding them, reading them, writing them back.

Sources are ``.ipynb`` files and MyST Markdown notebooks (``.md`` with ``{code-cell}`` blocks,
read through jupytext). Every problem with an input is a :class:`~livecells.errors.NotebookError`
whose message is one line that starts with the path, so a batch can report it and go on.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import re
import tempfile
import threading
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from livecells.errors import NotebookError

if TYPE_CHECKING:
    from nbformat import NotebookNode

# nbformat is imported where it is used: importing it costs seconds on some installs.

__all__ = [
    "Discovery",
    "find_notebooks",
    "output_path",
    "peek_notebook",
    "read_notebook",
    "split_frontmatter",
    "walk",
    "write_notebook",
]

MYST_MARKER = "{code-cell}"
FRONTMATTER = re.compile(r"\A---[ \t]*\r?\n(.*?\r?\n)?---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
JUPYTEXT_KEYS = ("kernelspec", "jupytext")
"""The frontmatter keys jupytext reads; MyST's own (``jupyter: false``...) would confuse it."""
SKIPPED_DIRS = frozenset(
    {"__pycache__", "node_modules", "site-packages", "_build", "_site", "executed"}
)
"""Folders no walk enters (besides hidden ones): caches, environments and build outputs."""


@dataclass
class Discovery:
    """What a list of command-line paths named: notebooks to run and paths that named none."""

    notebooks: list[Path] = field(default_factory=list)
    problems: list[tuple[str, NotebookError]] = field(default_factory=list)
    """(path as given, error) for each path that named no notebook."""


def find_notebooks(paths: Iterable[str | Path], *, exclude: Sequence[Path] = ()) -> Discovery:
    """Expand files, directories (recursively, hidden ones skipped) and glob patterns.

    A directory contributes its ``.ipynb`` files and the ``.md`` files that hold a
    ``{code-cell}`` block; a file named explicitly is taken as it is. Directories in
    ``exclude`` (the output directory) are never entered. Each notebook appears once.
    """
    found = Discovery()
    seen: set[Path] = set()
    skip = set(exclude)

    def add(path: Path) -> None:
        key = Path(os.path.abspath(path))
        if key not in seen:
            seen.add(key)
            found.notebooks.append(path)

    for raw in paths:
        text = str(raw)
        if glob.has_magic(text):
            matched = 0
            for match in sorted(glob.glob(text, recursive=True)):
                path = Path(match)
                if path.is_dir():
                    candidates = list(_walk(path, skip))
                else:
                    candidates = [path] if _is_notebook_name(path) else []
                matched += len(candidates)
                for candidate in candidates:
                    add(candidate)
            if not matched:
                found.problems.append(
                    _problem(text, f"{text}: no notebook matches this pattern (.ipynb or MyST .md)")
                )
            continue
        path = Path(text)
        if path.is_dir():
            notebooks = list(_walk(path, skip))
            if not notebooks:
                found.problems.append(
                    _problem(
                        text,
                        f"{text}: no notebooks in this directory "
                        "(looked for .ipynb, and .md files with {code-cell} blocks)",
                    )
                )
            for notebook in notebooks:
                add(notebook)
        elif path.is_file() or path.is_symlink():
            if path.suffix.lower() not in (".ipynb", ".md"):
                found.problems.append(
                    _problem(text, f"{text}: not a notebook (expected .ipynb or MyST .md)")
                )
            else:
                add(path)
        else:
            found.problems.append(_problem(text, f"{text}: no such file or directory"))
    return found


def _problem(path: str, message: str) -> tuple[str, NotebookError]:
    return path, NotebookError(message)


def walk(root: Path, *, skip: Collection[Path] = (), folders: bool = False) -> Iterator[Path]:
    """The files under ``root`` (as ``root / ...`` paths), in sorted order: hidden files and
    folders, :data:`SKIPPED_DIRS` and the folders in ``skip`` left out (compared resolved, so
    an output folder is known however either path is spelled: through a link, ``..``).
    ``folders``: the folders too, each before what it holds (a link to a folder is yielded,
    not entered)."""
    skip = {Path(os.path.realpath(path)) for path in skip}  # realpath: a link loop is no error
    for directory, dirnames, filenames in os.walk(root):
        here = Path(directory)
        dirnames[:] = sorted(
            name
            for name in dirnames
            if not name.startswith(".")
            and name not in SKIPPED_DIRS
            and Path(os.path.realpath(here / name)) not in skip
        )
        if folders:
            yield from (here / name for name in dirnames)
        for name in sorted(filenames):
            if not name.startswith("."):
                yield here / name


def _walk(root: Path, skip: set[Path]) -> Iterator[Path]:
    return (path for path in walk(root, skip=skip) if _is_notebook_name(path))


def _is_notebook_name(path: Path) -> bool:
    suffix = path.suffix.lower()
    if suffix == ".ipynb":
        return True
    if suffix == ".md":
        try:
            return MYST_MARKER in path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return True  # let reading it report the problem
    return False


def peek_notebook(path: Path) -> dict[str, Any]:
    """What a batch needs before a kernel starts, cheaply: the notebook as plain JSON.

    An ``.ipynb`` is parsed with :mod:`json` only (importing nbformat costs seconds on some
    installs, time better spent while the kernel boots); a MyST ``.md`` is read in full.
    Raises :class:`~livecells.errors.NotebookError` as :func:`read_notebook` does for what it
    checks: unreadable, invalid JSON, an unsupported nbformat version.
    """
    text = _read_text(path)
    if path.suffix.lower() == ".md":
        return _read_myst(path, text)  # a NotebookNode, which is a dict
    return _parse_json(path, text)


def read_notebook(path: Path) -> NotebookNode:
    """Read a ``.ipynb`` (any nbformat major version 1 to 4, converted to 4) or MyST ``.md``.

    Raises :class:`~livecells.errors.NotebookError` naming the file: unreadable, invalid JSON,
    an unsupported nbformat version, or a notebook that does not validate.
    """
    import nbformat

    text = _read_text(path)
    if path.suffix.lower() == ".md":
        return _read_myst(path, text)
    _parse_json(path, text)
    try:
        notebook: NotebookNode = nbformat.reads(text, as_version=4)  # type: ignore[no-untyped-call]
        nbformat.validate(notebook)
    except nbformat.ValidationError as exc:
        raise NotebookError(f"{path}: not a valid notebook: {_first_line(exc.message)}") from None
    except Exception as exc:
        raise NotebookError(f"{path}: cannot read it as a notebook: {_first_line(exc)}") from None
    return notebook


SUPPORTED_VERSIONS = (1, 2, 3, 4)
"""The nbformat major versions nbformat reads (and converts to 4)."""


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise NotebookError(f"{path}: cannot read it: not UTF-8 text") from None
    except OSError as exc:
        raise NotebookError(f"{path}: cannot read it: {exc.strerror or exc}") from None


def _parse_json(path: Path, text: str) -> dict[str, Any]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotebookError(
            f"{path}: not a notebook: invalid JSON at line {exc.lineno} column {exc.colno} "
            f"({exc.msg})"
        ) from None
    if not isinstance(document, dict):
        raise NotebookError(f"{path}: not a notebook: the JSON is not an object")
    version = document.get("nbformat")
    if version not in SUPPORTED_VERSIONS:
        raise NotebookError(
            f"{path}: nbformat version {version!r} is not supported "
            f"(livecells reads versions {SUPPORTED_VERSIONS[0]} to {SUPPORTED_VERSIONS[-1]})"
        )
    return document


_CELL_CHECKS = threading.Lock()


@contextlib.contextmanager
def _cells_unchecked() -> Iterator[None]:
    """jupytext makes each cell with nbformat's ``new_*_cell``, which validates the cell on its
    own, through jsonschema (fastjsonschema takes no sub-schema): 1.7 s of a 60-page build's
    CPU. The notebook is validated once, whole, right after (by fastjsonschema)."""
    from nbformat.v4 import nbbase

    with _CELL_CHECKS:
        checked = nbbase.validate
        nbbase.validate = lambda node, ref=None: None
        try:
            yield
        finally:
            nbbase.validate = checked


def _read_myst(path: Path, text: str) -> NotebookNode:
    import jupytext
    import nbformat
    import yaml

    frontmatter, body, error = split_frontmatter(text)
    if error:
        raise NotebookError(f"{path}: {error}")
    nested = frontmatter.get("jupyter")
    if isinstance(nested, dict):  # jupytext's own place for them; mystmd unnests it too
        for key in JUPYTEXT_KEYS:
            if key in nested and key not in frontmatter:
                frontmatter[key] = nested[key]
        rest = {k: v for k, v in nested.items() if k not in JUPYTEXT_KEYS}
        if rest:
            frontmatter["jupyter"] = rest
        else:
            del frontmatter["jupyter"]
    if "kernelspec" in frontmatter:
        frontmatter["kernelspec"] = _kernelspec(path, frontmatter["kernelspec"])
    header = {key: frontmatter[key] for key in JUPYTEXT_KEYS if key in frontmatter}
    if header:
        body = f"---\n{yaml.safe_dump(header, sort_keys=False)}---\n{body}"
    try:
        with _cells_unchecked():
            notebook: NotebookNode = jupytext.reads(body, fmt="md:myst")
        nbformat.validate(notebook)
    except Exception as exc:
        raise NotebookError(
            f"{path}: cannot read it as a MyST notebook: {_first_line(exc)}"
        ) from None
    # The rest of the frontmatter (title, subtitle, description, file_format, MyST's own
    # keys...) is notebook metadata, where jupytext keeps it and an executed copy must too.
    rest = {key: value for key, value in frontmatter.items() if key not in JUPYTEXT_KEYS}
    notebook.metadata.update(json.loads(json.dumps(rest, default=str)))
    return notebook


KERNELSPEC_KEYS = ("name", "display_name", "language", "argv", "env")


def _kernelspec(path: Path, value: object) -> dict[str, Any]:
    """A frontmatter ``kernelspec`` as mystmd's ``validateKernelSpec`` takes it: ``name``
    defaults to ``python3`` and ``display_name`` to ``"{name} Kernel"`` (MyST-NB and mystmd
    accept a kernelspec without them; nbformat requires both); a wrong type is one line naming
    the file and the key."""
    if not isinstance(value, dict):
        raise NotebookError(
            f"{path}: kernelspec: expected a mapping of {', '.join(KERNELSPEC_KEYS)}, "
            f"e.g. {{name: python3}}; got {_show(value)}"
        )
    spec = dict(value)
    for key in ("name", "display_name", "language"):
        if key in spec and not isinstance(spec[key], str):
            raise NotebookError(
                f"{path}: kernelspec.{key}: expected a string, got {_show(spec[key])}"
            )
    argv = spec.get("argv")
    if argv is not None and not (isinstance(argv, list) and all(isinstance(a, str) for a in argv)):
        raise NotebookError(
            f"{path}: kernelspec.argv: expected a list of strings, got {_show(argv)}"
        )
    env = spec.get("env")
    if env is not None and not isinstance(env, dict):
        raise NotebookError(f"{path}: kernelspec.env: expected a mapping, got {_show(env)}")
    spec.setdefault("name", "python3")
    spec.setdefault("display_name", f"{spec['name']} Kernel")
    return spec


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def split_frontmatter(text: str) -> tuple[dict[str, Any], str, str | None]:
    """``(frontmatter, body, error)``: the YAML block at the top of ``text``, and the rest.

    ``error`` describes YAML that does not parse to a mapping (the block is then kept as
    text); the caller names the file.
    """
    match = FRONTMATTER.match(text)
    if match is None:
        return {}, text, None
    import yaml  # here, not at the top: `import livecells` stays light (the commands need yaml)

    from livecells import yamldoc

    body = text[match.end() :]
    try:
        data = yamldoc.load(match.group(1) or "")
    except yamldoc.DocumentTooLarge as exc:
        return {}, body, f"frontmatter refused: {exc.problem}"
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 2}" if mark is not None else ""
        return {}, body, f"frontmatter is not valid YAML{where}"
    if data is None:
        return {}, body, None
    if not isinstance(data, dict):
        return {}, body, "frontmatter must be a mapping of keys to values"
    return data, body, None


def write_notebook(notebook: Any, path: Path) -> None:
    """Validate ``notebook`` and write it to ``path`` in one step (a temporary file, renamed).

    Raises :class:`~livecells.errors.NotebookError` if it does not validate.
    """
    import nbformat

    node = nbformat.from_dict(notebook)  # type: ignore[no-untyped-call]
    try:
        nbformat.validate(node)
    except nbformat.ValidationError as exc:
        raise NotebookError(f"{path}: not a valid notebook: {_first_line(exc.message)}") from None
    path.parent.mkdir(parents=True, exist_ok=True)
    # A name of its own per write: two runs writing into one folder never share a temporary.
    descriptor, name = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".livecells-tmp"
    )
    temporary = Path(name)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as sink:
            nbformat.write(node, sink)  # type: ignore[no-untyped-call]
        temporary.chmod(0o666 & ~_umask())
        temporary.replace(path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()


def _umask() -> int:
    """The process's umask (mkstemp creates files 0600; a written notebook gets the usual
    mode, as ``open()`` would give it)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def output_path(source: Path, *, output_dir: Path, inplace: bool = False) -> Path:
    """Where the executed copy of ``source`` goes.

    ``inplace`` overwrites ``.ipynb`` sources; otherwise (and always for ``.md`` sources, which
    cannot hold outputs) the copy goes under ``output_dir``, mirroring the source's path relative
    to the current directory (or its absolute path, when it lies outside it), as ``.ipynb``.
    """
    if inplace and source.suffix.lower() == ".ipynb":
        return source
    absolute = Path(os.path.abspath(source))
    try:
        relative = absolute.relative_to(Path.cwd())
    except ValueError:
        relative = absolute.relative_to(absolute.anchor)
    return output_dir / relative.with_suffix(".ipynb")


def _first_line(value: object) -> str:
    text = str(value).strip()
    return text.splitlines()[0] if text else type(value).__name__
