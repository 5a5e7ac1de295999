"""Running mystmd (PyPI ``mystmd``: the MyST reference implementation, a Node.js program) on a
folder and reading what it wrote: each page's AST, the project's page order, its messages.

mystmd writes into the folder it reads (``_build/``; ``myst init`` even renames a Jupyter Book
1 project's ``_config.yml`` and ``_toc.yml``), so it runs on a private *shadow* copy of the
author's folder, kept in step file by file, never on the folder itself. It runs offline:
``myst build --site`` with a local, empty site template (a named template would be downloaded),
the update check off and no terminal to prompt on. What it reads is checked first: a table of
contents entry, an ``extends`` or an include that leaves the folder is a ConfigError naming the
file, never read.

``livecells build`` runs ``myst build --site`` once; ``livecells serve`` keeps mystmd's own
watcher running on the shadow (:meth:`MystProject.watch`), which re-reads only an edited page.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from livecells import yamldoc
from livecells.errors import ConfigError, RuntimeNotAvailable
from livecells.notebooks import SKIPPED_DIRS

__all__ = ["MYST_TIMEOUT", "MystPage", "MystProject", "MystResult"]

TEMPLATE_DIR = Path(__file__).parent / "template"
"""A site template with nothing in it: mystmd then writes the content without downloading one."""
MYST_TIMEOUT = 600.0
NUDGE_AFTER = 2.0
"""Seconds after which a page mystmd's watcher has not re-read is copied into the shadow again."""
PAGE_WAIT = 15.0
"""Seconds a served page waits for mystmd's watcher to write the AST of its edited file."""
_CONFIGS = frozenset(Path(name) for name in ("myst.yml", "_config.yml", "_toc.yml"))
ASSETS = "_myst"
"""Where a site keeps the files mystmd copied under hashed names (images, downloads)."""
_MESSAGE = re.compile(r"^(⛔️|⚠️|🚫|❌)\s*(.*)$")
_WHERE = re.compile(r"^(\S+?\.(?:md|ipynb|yml|bib))(?::(\d+)(?::\d+)?)?\s+(.*)$")
_IGNORED = (
    # mystmd does not know these frontmatter keys; livecells does (its page config).
    re.compile(r"extra key ignored: (jupyter|livecells|kernelspec)\b"),
    re.compile(r"Usage of the \{doc\} role is not recommended"),
    # myst-nb's glue, which livecells renders itself (livecells.myst.glue).
    re.compile(r"unknown (role|directive): glue(:(any|text|md|math|figure)?)?$"),
    re.compile(r'unexpected option "mystnb" provided \(in code-cell\)'),
)
_INCLUDE = re.compile(
    r"^\s*(?:`{3,}|:{3,})\s*\{(include|literalinclude|figure|image|embed|csv-table)\}\s*(.*?)\s*$"
)
_FILE_OPTION = re.compile(r"^\s*:file:\s*(.*?)\s*$")
_BIBLIOGRAPHY = re.compile(r"^\s*bibliography:\s*(.*?)\s*$")
_LIST_ITEM = re.compile(r"^\s*-\s+(.+?)\s*$")
_SHA256 = re.compile(rb'"sha256":\s*"([0-9a-f]{64})"')
_MARKDOWN_IMAGE = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)")


@dataclass
class MystPage:
    """One page as mystmd wrote it."""

    path: Path
    """The source, relative to the folder."""
    slug: str
    title: str
    """The title as the author wrote it (Markdown allowed)."""
    frontmatter: dict[str, Any]
    mdast: dict[str, Any]
    citations: dict[str, Any]
    level: int = 1


@dataclass
class MystResult:
    """What one mystmd run produced."""

    pages: dict[Path, MystPage]
    order: list[Path]
    """The site's pages, in mystmd's order (its index first)."""
    title: str | None
    public: Path
    """The files mystmd copied under hashed names."""
    warnings: list[str] = field(default_factory=list)

    @functools.cached_property
    def downloads(self) -> frozenset[str]:
        """Files of ``public`` that pages link to as downloads (``{download}``, a link to a
        file): the only pages' sources that are published."""
        found: set[str] = set()
        todo: list[Any] = [page.mdast for page in self.pages.values()]
        while todo:
            node = todo.pop()
            if isinstance(node, list):
                todo += node
            elif isinstance(node, dict):
                url = node.get("url")
                if node.get("static") and isinstance(url, str) and url.startswith("/"):
                    found.add(url[1:])
                todo += [value for value in node.values() if isinstance(value, dict | list)]
        return frozenset(found)

    def published(self, name: str) -> bool:
        """Whether a file mystmd copied to ``public`` is part of the site: all but its copies
        of the pages' own sources (for its download buttons; they hold the removed cells),
        unless a page offers one as a download."""
        return not name.endswith((".md", ".ipynb")) or name in self.downloads

    def page_urls(self) -> dict[str, str]:
        """mystmd's URL of each page (``/slug``) -> ours (``path.html``)."""
        urls = {
            f"/{page.slug}": page.path.with_suffix(".html").as_posix()
            for page in self.pages.values()
        }
        if self.order:
            urls["/"] = self.order[0].with_suffix(".html").as_posix()
        return urls


class MystProject:
    """mystmd on a shadow of ``root``; :meth:`result` runs it again when a file changed."""

    def __init__(self, root: Path, *, skip: Path | None = None) -> None:
        self.root = root.resolve()
        self.skip = skip.resolve() if skip is not None else None
        self._shadow_dir = tempfile.TemporaryDirectory(prefix="livecells-myst-")
        self.shadow = Path(self._shadow_dir.name) / "project"
        self.shadow.mkdir()
        self._stamps: dict[Path, tuple[float, int]] = {}
        self._result: MystResult | None = None
        self._lock = threading.Lock()
        self._watcher: subprocess.Popen[str] | None = None
        self._watched: tuple[tuple[str, float], ...] = ()
        self._messages: list[str] = []
        self._closed = threading.Event()
        self._ready = threading.Event()
        self.started = threading.Event()
        """Set once mystmd has been started (a build reads the pages' cells meanwhile)."""
        self._pending: dict[Path, str] = {}
        """Pages copied into the shadow whose AST mystmd's watcher has not written yet (the
        sha256 of the source copied)."""

    def close(self) -> None:
        """Stop mystmd's watcher (if any) and remove the shadow."""
        self._closed.set()
        if self._watcher is not None and self._watcher.poll() is None:
            self._watcher.terminate()
            try:
                self._watcher.wait(10)
            except subprocess.TimeoutExpired:
                self._watcher.kill()
        self._shadow_dir.cleanup()

    def result(self) -> MystResult:
        """The pages as mystmd renders the folder now (run again only when a file changed;
        when watching, what mystmd's watcher last wrote)."""
        with self._lock:
            if self._watcher is not None:
                self._sync(self._scan())  # an edit shows at once, not at the next look
                return self._watched_result()
            stamps = self._scan()
            if self._result is None or stamps != self._stamps:
                self._sync(stamps)
                self._result = self._run()
            return self._result

    def prepare(self) -> None:
        """Copy the folder into the shadow and check it (a toc entry, ``extends`` or include
        outside the folder: ConfigError), without running mystmd's build."""
        with self._lock:
            self._sync(self._scan())

    def content_stamp(self, path: Path) -> float:
        """When mystmd last wrote the page's AST (``-1`` before it did): what a served page
        watches, so that it reloads once its new AST is there, not before."""
        result = self._result
        page = result.pages.get(path) if result is not None else None
        name = page.slug if page is not None else path.with_suffix("").as_posix()
        try:
            return (self.shadow / "_build" / "site" / "content" / f"{name}.json").stat().st_mtime
        except OSError:
            return -1.0

    def _written_hash(self, path: Path) -> str | None:
        """The sha256 of the source mystmd's AST of ``path`` was made from (its file begins
        with it), or None."""
        result = self._result
        page = result.pages.get(path) if result is not None else None
        name = page.slug if page is not None else path.with_suffix("").as_posix()
        try:
            with open(self.shadow / "_build" / "site" / "content" / f"{name}.json", "rb") as f:
                head = f.read(512)
        except OSError:
            return None
        found = _SHA256.search(head)
        return found.group(1).decode() if found else None

    def watch(self, *, interval: float = 0.1) -> None:
        """Serve mode: mystmd's own watcher (``myst start --headless``) keeps the AST of the
        shadow current, re-reading only the page that changed; a thread copies the author's
        edits into the shadow every ``interval`` seconds. Measured (benchmarks/build.py): a
        new process per edit costs mystmd's start-up and a whole-project pass each time."""
        with self._lock:
            self._sync(self._scan())
            port = _free_port()
            self._watcher = self._myst_process(["start", "--headless", "--server-port", str(port)])
        threading.Thread(target=self._read_messages, daemon=True).start()
        threading.Thread(target=self._follow, args=(interval,), daemon=True).start()
        atexit.register(self.close)

    def _follow(self, interval: float) -> None:
        while not self._closed.wait(interval):
            try:
                with self._lock:
                    stamps = self._scan()
                    if stamps != self._stamps:
                        self._sync(stamps)
            except (ConfigError, OSError):  # shown when the page is rendered
                continue

    def _read_messages(self) -> None:
        watcher = self._watcher
        assert watcher is not None and watcher.stdout is not None
        for line in watcher.stdout:
            if "Content server started" in line:
                self._ready.set()  # its watcher is on
            for message in _messages(line):
                located = _locate(self.root, message)
                if located not in self._messages:
                    self._messages.append(located)
        self._ready.set()  # mystmd stopped: nothing to wait for

    def _watched_result(self) -> MystResult:
        site = self.shadow / "_build" / "site"
        deadline = time.monotonic() + MYST_TIMEOUT
        while not (site / "config.json").is_file():
            if self._watcher is not None and self._watcher.poll() is not None:
                raise ConfigError(f"{self.root}: mystmd stopped: {self._messages[-1:] or ''}")
            if time.monotonic() > deadline:
                raise ConfigError(f"{self.root}: mystmd wrote no pages in {MYST_TIMEOUT:.0f} s")
            time.sleep(0.05)
        self._ready.wait(MYST_TIMEOUT)
        began = time.monotonic()
        nudged = began
        while self._pending and time.monotonic() < began + PAGE_WAIT:
            for path, expected in list(self._pending.items()):
                if self._written_hash(path) == expected:
                    del self._pending[path]
            if self._pending and time.monotonic() - nudged > NUDGE_AFTER:
                # a change mystmd's watcher missed (made while it was starting): again
                for path in self._pending:
                    (self.shadow / path).write_bytes((self.shadow / path).read_bytes())
                nudged = time.monotonic()
            if self._pending:
                time.sleep(0.02)
        self._pending.clear()  # mystmd did not write them (broken?): what it has
        stamps = (
            *((file.name, file.stat().st_mtime) for file in sorted(site.glob("content/*.json"))),
            ("config.json", (site / "config.json").stat().st_mtime),
        )
        if self._result is None or stamps != self._watched:
            self._result = _read_site(site, list(self._messages))
            self._watched = stamps
        self._result.warnings = list(self._messages)
        return self._result

    # -- the shadow -------------------------------------------------------------------------

    def _scan(self) -> dict[Path, tuple[float, int]]:
        found: dict[Path, tuple[float, int]] = {}
        for directory, dirnames, filenames in os.walk(self.root):
            here = Path(directory)
            dirnames[:] = sorted(
                name
                for name in dirnames
                if not name.startswith(".")
                and name not in SKIPPED_DIRS
                and (self.skip is None or (here / name).resolve() != self.skip)
            )
            for name in filenames:
                path = here / name
                if name.startswith(".") or name.endswith(".livecells-tmp"):
                    continue
                try:
                    if path.is_symlink() and not path.resolve().is_relative_to(self.root):
                        continue  # never copy what a link points at outside the folder
                    info = path.stat()
                except OSError:
                    continue
                found[path.relative_to(self.root)] = (info.st_mtime, info.st_size)
        return found

    def _sync(self, stamps: dict[Path, tuple[float, int]]) -> None:
        changed = [p for p, stamp in stamps.items() if self._stamps.get(p) != stamp]
        self._check_sources(changed)  # before mystmd can see them
        # mystmd reads a changed page again and says again what is still wrong with it.
        stale = tuple(
            f"{path.as_posix()}:" for path in {*changed, *(set(self._stamps) - set(stamps))}
        )
        self._messages[:] = [m for m in self._messages if not m.startswith(stale)]
        for gone in set(self._stamps) - set(stamps):
            (self.shadow / gone).unlink(missing_ok=True)
        for path in stamps:
            if path in _CONFIGS:
                continue  # the shadow's own myst.yml is written by _configure
            if path in changed or not (self.shadow / path).exists():
                target = self.shadow / path
                target.parent.mkdir(parents=True, exist_ok=True)
                data = (self.root / path).read_bytes()
                # in place: mystmd's watcher re-reads a changed page, but rebuilds the whole
                # site for a file removed and added again
                target.write_bytes(data)
                if path.suffix.lower() in (".md", ".ipynb"):
                    # mystmd's AST of a page carries the sha256 of the source it read
                    self._pending[path] = hashlib.sha256(data).hexdigest()
        configs = ("myst.yml", "_config.yml", "_toc.yml", "livecells.yml")
        reconfigure = not self._stamps or any(
            self._stamps.get(Path(name)) != stamps.get(Path(name)) for name in configs
        )
        self._stamps = stamps
        if reconfigure:
            for name in ("myst.yml", "_config.yml", "_toc.yml"):
                if not (self.root / name).exists():
                    (self.shadow / name).unlink(missing_ok=True)
            for backup in ("._config.yml.bak", "._toc.yml.bak"):
                (self.shadow / backup).unlink(missing_ok=True)
            self._configure()

    def _configure(self) -> None:
        """The shadow's ``myst.yml``: the author's (a Jupyter Book 1 project's upgraded by
        mystmd itself, a livecells.yml's title, or none), with the local template."""
        source = "myst.yml"
        if (self.root / "myst.yml").is_file():
            data = _load(self.root / "myst.yml", "myst.yml")
        elif (self.root / "_config.yml").is_file() or (self.root / "_toc.yml").is_file():
            self._upgrade_jupyter_book()
            data = _load(self.shadow / "myst.yml", "_config.yml")
            source = "_toc.yml"
            # mystmd ignores a _config.yml it cannot validate ("Ignoring Jupyter Book
            # configuration!"), title and all: the book keeps its title.
            book = (
                _load(self.root / "_config.yml", "_config.yml")
                if (self.root / "_config.yml").is_file()
                else {}
            )
            upgraded = data.setdefault("project", {})
            if isinstance(upgraded, dict) and not upgraded.get("title") and book.get("title"):
                upgraded["title"] = str(book["title"])
        else:
            data = {"version": 1, "project": {}}
            if (self.root / "livecells.yml").is_file():
                own = _load(self.root / "livecells.yml", "livecells.yml").get("project") or {}
                if isinstance(own, dict):
                    # its toc orders the pages, but every page of the folder is built
                    data["project"] = {k: own[k] for k in ("title",) if k in own}
        project = data.get("project")
        if isinstance(project, dict):
            _check_toc(project.get("toc"), self.shadow, source)
            _check_bibliography(project.get("bibliography"), self.shadow, source)
            project.pop("jupyter", None)  # livecells reads it; mystmd would resolve Binder
            project.pop("livecells", None)
        _check_extends(data.get("extends"), self.shadow, "myst.yml")
        site = data.get("site")
        site = dict(site) if isinstance(site, dict) else {}
        site["template"] = str(TEMPLATE_DIR)
        data["site"] = site
        data.setdefault("version", 1)
        target = self.shadow / "myst.yml"
        text = json.dumps(data)  # JSON is YAML
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            target.unlink(missing_ok=True)
            target.write_text(text, encoding="utf-8")

    def _upgrade_jupyter_book(self) -> None:
        (self.shadow / "myst.yml").unlink(missing_ok=True)
        for name in ("_config.yml", "_toc.yml"):
            if (self.root / name).is_file():
                shutil.copyfile(self.root / name, self.shadow / name)
        self._myst(["init"], answers="Y\nn\n")
        if not (self.shadow / "myst.yml").is_file():
            raise ConfigError(
                "_config.yml: mystmd could not upgrade this Jupyter Book 1 project (myst init "
                "wrote no myst.yml): check _config.yml and _toc.yml"
            )

    def _check_sources(self, paths: list[Path]) -> None:
        """What a page includes (include, literalinclude, figure, image, csv-table ``:file:``,
        a Markdown image; in a page or a notebook's Markdown cell) and the ``bibliography`` of
        its frontmatter must be files inside the folder: mystmd resolves ``/x`` from the
        project's root and ``x`` from the page's folder, and would read what ``../`` reaches."""
        for path in paths:
            listing = False  # in a YAML list of bibliography files
            for where, line in _markdown_lines(self.root / path):
                match = _INCLUDE.match(line) or _FILE_OPTION.match(line)
                targets = [match.group(match.lastindex or 1)] if match else []
                targets += _MARKDOWN_IMAGE.findall(line)
                bibliography = _BIBLIOGRAPHY.match(line)
                item = _LIST_ITEM.match(line) if listing else None
                listing = bool(bibliography and not bibliography.group(1)) or item is not None
                listed = bibliography or item
                if listed is not None:
                    targets += [t for t in re.split(r"[\s,\[\]]+", listed.group(1)) if t]
                for target in (t.strip().strip("'\"") for t in targets):
                    if not target or "://" in target or target.startswith(("#", "data:")):
                        continue
                    base = self.root if target.startswith("/") else self.root / path.parent
                    if not (base / target.lstrip("/")).resolve().is_relative_to(self.root):
                        raise ConfigError(
                            f"{path}:{where}: {target}: outside {self.root}; a page may "
                            "include only files of its own folder (copy the file in)"
                        )

    # -- running mystmd ---------------------------------------------------------------------

    def _command(self, args: list[str]) -> tuple[list[str], dict[str, str]]:
        from livecells.node import node_executable, node_path

        spec = find_spec("mystmd_py")
        if spec is None or not spec.submodule_search_locations:
            raise RuntimeNotAvailable("livecells needs mystmd to read pages: `pip install mystmd`")
        script = Path(next(iter(spec.submodule_search_locations))) / "myst.cjs"
        node = node_executable(minimum=(20, 0))
        env = {
            **os.environ,
            # mystmd asks node and npm their versions first: ours, whatever PATH holds
            "PATH": os.pathsep.join([node_path(node), os.environ.get("PATH", "")]),
            "NO_UPDATE_NOTIFIER": "1",
            "CI": "1",
            "MYST_LANG": "PYTHON",
            "HOST": "127.0.0.1",
            "NODE_COMPILE_CACHE": str(Path(tempfile.gettempdir()) / "livecells-node-cache"),
        }
        return [node, str(script), *args], env

    def _myst_process(self, args: list[str]) -> subprocess.Popen[str]:
        command, env = self._command(args)
        return subprocess.Popen(
            command,
            cwd=self.shadow,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            preexec_fn=_die_with_parent,
        )

    def _myst(self, args: list[str], *, answers: str = "") -> subprocess.CompletedProcess[str]:
        command, env = self._command(args)
        self.started.set()
        try:
            return subprocess.run(
                command,
                cwd=self.shadow,
                env=env,
                input=answers,
                capture_output=True,
                text=True,
                timeout=MYST_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise ConfigError(
                f"{self.root}: mystmd took more than {MYST_TIMEOUT:.0f} s and was stopped"
            ) from None

    def _run(self) -> MystResult:
        self._pending.clear()  # this run writes every page
        shutil.rmtree(self.shadow / "_build" / "site", ignore_errors=True)
        done = self._myst(["build", "--site"])
        warnings = [_locate(self.root, w) for w in _messages(done.stdout + "\n" + done.stderr)]
        site = self.shadow / "_build" / "site"
        if not (site / "config.json").is_file():
            last = (done.stderr.strip() or done.stdout.strip() or "no output").splitlines()[-1]
            raise ConfigError(f"{self.root}: mystmd could not read the project: {last}")
        return _read_site(site, warnings)


def _die_with_parent() -> None:
    """Linux: the watcher gets SIGTERM when the server that started it dies, however it dies
    (atexit covers only an orderly exit)."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _load(path: Path, name: str) -> dict[str, Any]:
    try:
        data = yamldoc.load(path.read_text(encoding="utf-8"))
    except Exception as exc:  # yaml's errors, a document too large, a read error
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{name}{where}: not valid YAML: {problem}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{name}: expected a mapping of keys to values at the top")
    return data


def _markdown_lines(file: Path) -> Iterator[tuple[str, str]]:
    """The Markdown lines of a page (``.md``) or of a notebook's Markdown cells (``.ipynb``),
    each with where it is (``line``, or ``cell N, line M``)."""
    suffix = file.suffix.lower()
    try:
        text = file.read_text(encoding="utf-8") if suffix in (".md", ".ipynb") else ""
    except (OSError, UnicodeDecodeError):
        return
    if suffix == ".md":
        for number, line in enumerate(text.splitlines(), 1):
            yield str(number), line
        return
    try:
        cells = json.loads(text).get("cells", [])
    except (ValueError, AttributeError):
        return  # not a notebook: reading it says so
    for index, cell in enumerate(cells if isinstance(cells, list) else [], 1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "markdown":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        for number, line in enumerate(source.splitlines(), 1):
            yield f"cell {index}, line {number}", line


def _inside(root: Path, value: str) -> bool:
    return not value.startswith("/") and (root / value).resolve().is_relative_to(root.resolve())


def _check_toc(entries: object, root: Path, source: str) -> None:
    if not isinstance(entries, list):
        return
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        for key in ("file", "glob", "pattern"):
            value = entry.get(key)
            if isinstance(value, str) and not _inside(root, value):
                raise ConfigError(
                    f"{source}: toc entry {key}: {value}: outside the book's folder; list only "
                    "the book's own files"
                )
        _check_toc(entry.get("children"), root, source)


def _check_bibliography(value: object, root: Path, source: str) -> None:
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, str) and "://" not in item and not _inside(root, item):
            raise ConfigError(
                f"{source}: bibliography: {item}: outside the book's folder; copy it in"
            )


def _check_extends(value: object, root: Path, source: str) -> None:
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, str) and "://" not in item and not _inside(root, item):
            raise ConfigError(f"{source}: extends: {item}: outside the book's folder; copy it in")


def _messages(output: str) -> list[str]:
    """mystmd's errors and warnings, one line each, as ``file:line: message``."""
    found: list[str] = []
    for line in output.splitlines():
        match = _MESSAGE.match(line.strip())
        if match is None:
            continue
        text = match.group(2).strip()
        if any(pattern.search(text) for pattern in _IGNORED):
            continue
        where = _WHERE.match(text)
        if where is not None:
            location = where.group(1) + (f":{where.group(2)}" if where.group(2) else "")
            text = f"{location}: {where.group(3).strip()}"
        if text not in found:
            found.append(text)
    return found


def _locate(root: Path, message: str) -> str:
    """``file: message`` -> ``file:line: message`` where mystmd gave no line: the first line of
    the file holding what the message names (a quoted name, or the word after the last colon)."""
    match = re.match(r"^([^:\s]+\.md): (.*)$", message)
    if match is None:
        return message
    file, text = match.groups()
    wanted = re.findall(r'"([^"]+)"', text) or [text.rsplit(": ", 1)[-1].strip()]
    try:
        lines = (root / file).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return message
    for name in wanted:
        for number, line in enumerate(lines, 1):
            if name and name in line:
                return f"{file}:{number}: {text}"
    return message


def _read_json(file: Path) -> dict[str, Any] | None:
    """A page's AST; mystmd's watcher writes in place, so a half-written file is read again
    (None if it never completes, or vanished: the page is left out this time)."""
    for _ in range(40):
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            time.sleep(0.025)
            continue
        except OSError:
            return None
        return data if isinstance(data, dict) else None
    return None


def _read_site(site: Path, warnings: list[str]) -> MystResult:
    config = _read_json(site / "config.json") or {}
    project = (config.get("projects") or [{}])[0]
    levels = {page.get("slug"): int(page.get("level", 1)) for page in project.get("pages", [])}
    by_slug: dict[str, MystPage] = {}
    for file in sorted((site / "content").glob("*.json")):
        doc = _read_json(file)
        if doc is None:
            continue
        location = str(doc.get("location", "")).lstrip("/")
        if not location:
            continue
        frontmatter = doc.get("frontmatter") or {}
        page = MystPage(
            path=Path(location),
            slug=str(doc.get("slug", file.stem)),
            title=str(frontmatter.get("title") or Path(location).stem),
            frontmatter=frontmatter,
            mdast=doc.get("mdast") or {"type": "root", "children": []},
            citations=(doc.get("references") or {}).get("cite") or {},
        )
        page.level = levels.get(page.slug, 1)
        by_slug[page.slug] = page
    slugs = [project.get("index"), *(p.get("slug") for p in project.get("pages", []))]
    order = [by_slug[slug].path for slug in slugs if slug in by_slug]
    pages = {page.path: page for page in by_slug.values()}
    order += sorted(path for path in pages if path not in order)
    return MystResult(pages, order, project.get("title"), site / "public", warnings)
