"""The files a page's Python may read: what a Pyodide page finds in its folder, as a server
kernel started in that folder would.

A page folder offers its non-page files and those of its sub-folders (``livecells.files:
{include, exclude, maxBytes}`` in the project config changes which), described by a
*listing*: the folder, and each file's path (relative to the site's root), size and sha256.
``livecells build`` writes one listing per folder of pages under
``_livecells/files/<folder>/listing.json``; ``livecells serve`` answers the same URL from the
files as they are now (hashes cached while a file's size and mtime stay); ``livecells run
--runtime pyodide`` hands the listing of the notebook's folder to its Node.js worker. The
worker fetches a file the first time Python opens it and refuses one whose bytes do not match.

Never listed: hidden files and folders, pages (``.ipynb``, ``.md``), the project file, build
outputs (:data:`~livecells.notebooks.SKIPPED_DIRS`), symbolic links that lead out of the
project. Include globs are relative to the page's folder and may climb (``../datasets/*``)
but not out of the project: that is a :class:`~livecells.errors.ConfigError` naming the key.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from livecells.config import PROJECT_FILES, Project, load_project
from livecells.errors import ConfigError
from livecells.notebooks import SKIPPED_DIRS, walk

__all__ = [
    "DEFAULT_MAX_BYTES",
    "LISTING",
    "Entry",
    "Listing",
    "PageFiles",
    "Rules",
    "listing_url",
    "project_root",
]

DEFAULT_MAX_BYTES = 20_000_000
"""What a page folder offers at most, in bytes, unless ``livecells.files.maxBytes`` says."""
FILES_DIR = "files"
"""Where the listings live, under the site's ``_livecells/``."""
LISTING = "listing.json"
FORMAT = "livecells-files/1"
PAGE_SUFFIXES = (".ipynb", ".md")


@dataclass(frozen=True)
class Rules:
    """``livecells.files``, validated (see :func:`livecells.config.parse_options`)."""

    include: tuple[str, ...] = ("**",)
    exclude: tuple[str, ...] = ()
    max_bytes: int = DEFAULT_MAX_BYTES
    where: str = "project.livecells.files"
    """The key, as errors name it (``livecells.yml: project.livecells.files``)."""

    @classmethod
    def of(cls, project: Project) -> Rules:
        value = project.options.get("files") or {}
        source = project.source
        where = f"{source.name}: project.livecells.files" if source else "project.livecells.files"
        return cls(
            include=tuple(value.get("include") or ("**",)),
            exclude=tuple(value.get("exclude") or ()),
            max_bytes=int(value.get("maxBytes", DEFAULT_MAX_BYTES)),
            where=where,
        )


@dataclass(frozen=True)
class Entry:
    path: str
    """Relative to the site's root, ``/``-separated."""
    size: int
    sha256: str


@dataclass
class Listing:
    """What a page folder offers; ``problems``: one line per file left out for the cap."""

    folder: str
    files: list[Entry] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def to_json(self, root: str) -> dict[str, Any]:
        """The listing's JSON; ``root`` is the site's root, relative to the listing's URL (or
        absolute)."""
        return {
            "format": FORMAT,
            "root": root,
            "folder": self.folder,
            "files": [{"path": e.path, "size": e.size, "sha256": e.sha256} for e in self.files],
        }


def folder_of(page: Path) -> str:
    """A page's folder as listings name it: ``/``-separated, ``""`` for the top."""
    return "" if page.parent == Path(".") else page.parent.as_posix()


def listing_url(folder: str) -> str:
    """The listing of a page folder (``""`` for the top), relative to ``_livecells/``."""
    return posixpath.join(FILES_DIR, folder, LISTING)


def listing_root(folder: str) -> str:
    """The site's root relative to :func:`listing_url`'s folder (``_livecells/files/...``)."""
    return "../" * (2 + len(_parts(folder)))


def project_root(folder: Path) -> Path:
    """The project a notebook's folder belongs to: the nearest folder (itself or above) with
    a project file, else the folder itself."""
    folder = folder.resolve()
    for candidate in (folder, *folder.parents):
        if any((candidate / name).is_file() for name in PROJECT_FILES):
            return candidate
    return folder


class PageFiles:
    """The listings of a project folder's page folders, with their hashes cached while a
    file's size and modification time are unchanged. ``skip``: folders never listed (a build's
    output inside the project)."""

    def __init__(self, root: Path, *, skip: Collection[Path] = ()) -> None:
        self.root = root.resolve()
        self.skip = frozenset(Path(os.path.abspath(p)) for p in skip)
        self.offered: set[str] = set()
        """The page folders whose listings pages were given (what a build writes)."""
        self._hashes: dict[str, tuple[int, int, str]] = {}

    def offer(self, page: Path) -> str:
        """The page at ``page`` (relative to the root) reads the files of its folder through
        this listing: its URL relative to the site's ``_livecells/``."""
        folder = folder_of(page)
        self.offered.add(folder)
        return listing_url(folder)

    def listing(self, folder: str, rules: Rules) -> Listing:
        """What ``folder`` (relative to the root, ``""`` for the top) offers under ``rules``.
        Raises ConfigError when an include glob leaves the project from this folder."""
        if not listable(folder):
            return Listing(folder)
        depth = len(_parts(folder))
        climbs = 0
        for pattern in rules.include:
            up = _climb(pattern)
            if up > depth:
                raise ConfigError(
                    f"{rules.where}.include: {pattern!r} leads out of the project folder from "
                    f"the pages in {folder or 'the top folder'}: globs are relative to each "
                    "page's folder and may name only files inside the project"
                )
            climbs = max(climbs, up)
        start = posixpath.join(*(_parts(folder)[: depth - climbs] or ["."]))
        include = [_regex(p) for p in rules.include]
        exclude = [_regex(p) for p in rules.exclude]
        listing = Listing(folder)
        total = 0
        for path in self._candidates(start):
            relative = posixpath.relpath(path, folder or ".")
            climbing = relative.startswith("../")
            climbs_too = (
                r for r, p in zip(include, rules.include, strict=True) if _climb(p) or not climbing
            )
            if not any(r.fullmatch(relative) for r in climbs_too):
                continue
            if any(r.fullmatch(relative) for r in exclude):
                continue
            full = self.root / path
            size = full.stat().st_size
            if total + size > rules.max_bytes:
                listing.problems.append(
                    f"{path}: {_megabytes(size)}, not offered to the Python (Pyodide) pages in "
                    f"{folder or 'the top folder'}: with it their folder's files would pass "
                    f"{rules.where}.maxBytes ({_megabytes(rules.max_bytes)}); raise maxBytes, "
                    "or leave the file out with exclude"
                )
                continue
            total += size
            listing.files.append(Entry(path, size, self._sha256(path, full)))
        return listing

    def write(self, assets: Path, project: Project) -> list[str]:
        """Write the listing of every offered folder into ``assets`` (the built site's
        ``_livecells/``); returns the problems (files left out for the cap)."""
        rules = Rules.of(project)
        problems: list[str] = []
        for folder in sorted(self.offered):
            listing = self.listing(folder, rules)
            target = assets / listing_url(folder)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(listing.to_json(listing_root(folder))), "utf-8")
            problems += listing.problems
        return problems

    def for_notebook(self, folder: Path) -> Listing:
        """The listing a notebook in ``folder`` (inside the root) gets, under the project's
        own rules (``livecells run --runtime pyodide``)."""
        relative = folder.resolve().relative_to(self.root).as_posix()
        rules = Rules.of(load_project(self.root))
        return self.listing("" if relative == "." else relative, rules)

    def _candidates(self, start: str) -> list[str]:
        """Every file that may be listed under ``start`` (relative to the root), sorted."""
        base = self.root / start
        found = []
        for path in walk(base, skip=self.skip):
            relative = path.relative_to(self.root).as_posix()
            if path.suffix.lower() in PAGE_SUFFIXES or relative in PROJECT_FILES:
                continue
            if path.is_symlink():
                try:
                    if not path.resolve(strict=True).is_relative_to(self.root):
                        continue
                except (OSError, RuntimeError):
                    continue
            # A name a URL or the worker could not carry as a path part is not offered.
            if path.is_file() and "\\" not in relative:
                found.append(relative)
        return sorted(found)

    def _sha256(self, key: str, path: Path) -> str:
        stat = path.stat()
        cached = self._hashes.get(key)
        if cached is not None and cached[:2] == (stat.st_size, stat.st_mtime_ns):
            return cached[2]
        digest = hashlib.sha256()
        with path.open("rb") as file:
            while chunk := file.read(1 << 20):
                digest.update(chunk)
        value = digest.hexdigest()
        self._hashes[key] = (stat.st_size, stat.st_mtime_ns, value)
        return value


def listable(folder: str) -> bool:
    """Whether ``folder`` (relative to the root) may have a listing: no hidden or skipped
    folder on the way, no climbing."""
    return all(
        not part.startswith(".") and part not in SKIPPED_DIRS for part in _parts(folder)
    ) and not folder.startswith("/")


def _parts(folder: str) -> list[str]:
    return [part for part in folder.split("/") if part not in ("", ".")]


def _climb(pattern: str) -> int:
    """How many folders up a glob starts (``../../x/*``: 2)."""
    parts = posixpath.normpath(pattern).split("/")
    return next((i for i, part in enumerate(parts) if part != ".."), len(parts))


@cache
def _regex(pattern: str) -> re.Pattern[str]:
    """A glob as a regular expression over ``/``-separated paths: ``**`` any number of folders,
    ``*`` and ``?`` within one name, ``[...]`` a class; a glob that names a folder covers
    what is in it."""
    pattern = posixpath.normpath(pattern)
    out = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if pattern.startswith("**/", index):
            out.append("(?:[^/]+/)*")
            index += 3
        elif pattern.startswith("**", index):
            out.append(".*")
            index += 2
        elif char == "*":
            out.append("[^/]*")
            index += 1
        elif char == "?":
            out.append("[^/]")
            index += 1
        elif char == "[" and "]" in pattern[index + 2 :]:
            end = pattern.index("]", index + 2)
            body = pattern[index + 1 : end]
            out.append("[" + ("^" + body[1:] if body.startswith("!") else body) + "]")
            index = end + 1
        else:
            out.append(re.escape(char))
            index += 1
    return re.compile("".join(out) + "(?:/.*)?")


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB" if size >= 100_000 else f"{size} bytes"
