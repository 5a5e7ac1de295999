"""An execution cache in jupyter-cache's format, so that ``livecells run --cache DIR`` and
Jupyter Book 1 (``execute_notebooks: cache``, ``jcache``) share one: a notebook executed by
either is not executed again by the other while its code is unchanged.

The folder is jupyter-cache 1.x's: ``global.db`` (SQLite; the ``nbcache``, ``nbproject`` and
``settings`` tables as its SQLAlchemy models create them), ``__version__.txt``, and one
``executed/<hashkey>/base.ipynb`` per cached run (the executed notebook's code cells). The
hashkey is jupyter-cache's: the MD5 of the notebook's code cells (source and metadata) and its
``kernelspec``, written by nbformat as nbformat 4.4; a hit merges the cached cells into the
notebook as its ``merge_match_into_notebook`` does. One deliberate difference: a cell's
``metadata.execution`` (nbclient's timing, new on every run) is left out of the key, or a
notebook run ``--inplace`` would never hit again. jupyter-cache runs nbclient with timing off
and JupyterLab does not record it by default, so for the notebooks both tools see the keys are
the same; a source that does carry timing is a miss for the other tool, never a wrong hit.
The folder is written with :mod:`sqlite3` rather than by importing jupyter-cache, which would
bring SQLAlchemy into every ``livecells run``.

What jupyter-cache's key does not cover livecells records beside it, in the record's ``data``
(a JSON column jupyter-cache keeps for "extra data"): the runtime that ran the notebook and a
SHA-256 of its ``requirements.txt``. A record whose fingerprint differs is a miss (and is
replaced); a record jupyter-cache wrote has none, and counts as a local run with unknown
requirements (a hit for the ``local`` runtime), since that is what jupyter-cache runs.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from livecells.errors import CacheError

if TYPE_CHECKING:
    from nbformat import NotebookNode

__all__ = ["ExecutionCache", "fingerprint"]

DB_NAME = "global.db"
VERSION_FILE = "__version__.txt"
FORMAT_VERSION = "1.0.1"
"""The jupyter-cache release whose folder layout and schema this writes."""
CACHE_LIMIT_KEY = "cache_limit"
DEFAULT_CACHE_LIMIT = 1000
UNHASHED_CELL_METADATA = frozenset({"execution"})
"""nbclient's timing, which differs on every run: left out of the key (see the module doc)."""
MERGED_METADATA = ("kernelspec", "language_info", "widgets")
"""Notebook metadata a hit takes from the cached run (jupyter-cache's default)."""
SCHEMA = """
CREATE TABLE IF NOT EXISTS settings (
\tpk INTEGER NOT NULL,
\t"key" VARCHAR(36) NOT NULL,
\tvalue JSON,
\tPRIMARY KEY (pk),
\tUNIQUE ("key")
);
CREATE TABLE IF NOT EXISTS nbproject (
\tpk INTEGER NOT NULL,
\turi VARCHAR(255) NOT NULL,
\tread_data JSON NOT NULL,
\tassets JSON NOT NULL,
\texec_data JSON,
\tcreated DATETIME NOT NULL,
\ttraceback TEXT,
\tPRIMARY KEY (pk),
\tUNIQUE (uri)
);
CREATE TABLE IF NOT EXISTS nbcache (
\tpk INTEGER NOT NULL,
\thashkey VARCHAR(255) NOT NULL,
\turi VARCHAR(255) NOT NULL,
\tdescription VARCHAR(255) NOT NULL,
\tdata JSON,
\tcreated DATETIME NOT NULL,
\taccessed DATETIME NOT NULL,
\tPRIMARY KEY (pk),
\tUNIQUE (hashkey)
);
"""
"""jupyter-cache 1.0's tables, as SQLAlchemy creates them for SQLite."""


def fingerprint(*, runtime: str, requirements: Path | None) -> dict[str, Any]:
    """What, beyond jupyter-cache's key, must match for a cached run to be reused."""
    digest = None
    if requirements is not None and requirements.is_file():
        digest = hashlib.sha256(requirements.read_bytes()).hexdigest()
    return {"runtime": runtime, "requirements": digest}


class ExecutionCache:
    """A jupyter-cache folder. :meth:`open` it (checking it is usable), then :meth:`lookup`
    a notebook before running it and :meth:`store` it once it passed."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._used: list[int] = []
        """Records hit since the last :meth:`flush`, whose last use is still to be written."""

    @classmethod
    def open(cls, path: str | Path) -> ExecutionCache:
        """Create the folder and its database if needed; raise
        :class:`~livecells.errors.CacheError` (one line) when it cannot be used."""
        cache = cls(Path(path))
        where = cache.path
        try:
            where.mkdir(parents=True, exist_ok=True)
            if not where.is_dir():
                raise CacheError(f"{where}: not a folder; --cache needs a folder")
            probe, name = tempfile.mkstemp(prefix=".livecells-probe-", dir=where)
            os.close(probe)
            os.unlink(name)
            database = where / DB_NAME
            created = not database.exists()
            with cache._connect() as db:
                db.executescript(SCHEMA)
            if created:
                (where / VERSION_FILE).write_text(FORMAT_VERSION)
        except FileExistsError:
            raise CacheError(f"{where}: not a folder; --cache needs a folder") from None
        except OSError as exc:
            raise CacheError(
                f"{where}: cannot write to this cache folder: {exc.strerror or exc}"
            ) from None
        except sqlite3.Error as exc:
            raise CacheError(f"{where}: cannot use this cache folder's {DB_NAME}: {exc}") from None
        return cache

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path / DB_NAME, timeout=30)
        try:
            with db:
                yield db
        finally:
            db.close()

    # -- the key ----------------------------------------------------------------------------

    @staticmethod
    def key(notebook: NotebookNode, *, kernel_name: str | None = None) -> str:
        """jupyter-cache's hashkey of ``notebook`` (run on ``kernel_name``, when that is not
        the kernel its ``kernelspec`` names)."""
        import nbformat

        converted = _code_only(notebook)
        metadata = (
            {"kernelspec": converted.metadata["kernelspec"]}
            if "kernelspec" in converted.metadata
            else {}
        )
        if kernel_name is not None and metadata.get("kernelspec", {}).get("name") != kernel_name:
            metadata["kernelspec"] = {**metadata.get("kernelspec", {}), "name": kernel_name}
        for_hash = nbformat.from_dict(  # type: ignore[no-untyped-call]
            {
                "nbformat": converted.nbformat,
                "nbformat_minor": 4,  # as jupyter-cache: cell ids are not part of the key
                "metadata": metadata,
                "cells": [
                    {
                        "cell_type": cell.cell_type,
                        "source": cell.source,
                        "metadata": {
                            key: value
                            for key, value in cell.metadata.items()
                            if key not in UNHASHED_CELL_METADATA
                        },
                        "execution_count": None,
                        "outputs": [],
                    }
                    for cell in converted.cells
                ],
            }
        )
        text = nbformat.writes(for_hash, nbformat.NO_CONVERT)  # type: ignore[no-untyped-call]
        return hashlib.md5(text.encode()).hexdigest()

    # -- reading and writing ----------------------------------------------------------------

    def lookup(
        self, notebook: NotebookNode, key: str, *, fingerprint: Mapping[str, Any]
    ) -> NotebookNode | None:
        """The executed notebook for ``key``: ``notebook`` with the cached run's code cells
        merged in, or ``None`` on a miss."""
        import nbformat

        try:
            with self._connect() as db:
                query = "SELECT pk, data FROM nbcache WHERE hashkey = ?"
                row = db.execute(query, (key,)).fetchone()
        except sqlite3.Error as exc:
            raise CacheError(f"{self.path}: cannot read the cache: {exc}") from None
        if row is None:
            return None
        pk, data = row
        recorded = (json.loads(data) if data else None) or {}
        if not _fits(recorded.get("livecells"), fingerprint):
            return None
        path = self.path / "executed" / key / "base.ipynb"
        try:
            text = path.read_text(encoding="utf-8")
            cached = nbformat.reads(text, nbformat.NO_CONVERT)  # type: ignore[no-untyped-call]
        except (OSError, ValueError):
            return None  # a record without its notebook: run it again
        self._used.append(pk)
        return _merge(notebook, cached)

    def flush(self) -> None:
        """Record when the hits since the last flush were used (jupyter-cache's ``accessed``,
        which decides what :meth:`store` drops past the limit), in one transaction: a commit
        per hit costs a disk sync each, most of a warm run's time."""
        used, self._used = self._used, []
        if not used:
            return
        with contextlib.suppress(sqlite3.Error), self._connect() as db:
            db.executemany(
                "UPDATE nbcache SET accessed = ? WHERE pk = ?", [(_now(), pk) for pk in used]
            )

    def store(
        self,
        executed: NotebookNode,
        key: str,
        *,
        uri: str,
        fingerprint: Mapping[str, Any],
        seconds: float,
    ) -> None:
        """Cache the ``executed`` notebook under ``key`` (the key of the notebook as it was
        before it ran), replacing a record with that key."""
        import nbformat

        try:
            folder = self.path / "executed" / key
            data = {"execution_seconds": seconds, "livecells": dict(fingerprint)}
            now = _now()
            if folder.exists():
                shutil.rmtree(folder)
            folder.mkdir(parents=True)
            (folder / "base.ipynb").write_text(
                nbformat.writes(_code_only(executed), nbformat.NO_CONVERT),  # type: ignore[no-untyped-call]
                encoding="utf8",
            )
            with self._connect() as db:
                db.execute("DELETE FROM nbcache WHERE hashkey = ?", (key,))
                db.execute(
                    "INSERT INTO nbcache (hashkey, uri, description, data, created, accessed) "
                    "VALUES (?, ?, '', ?, ?, ?)",
                    (key, uri, json.dumps(data), now, now),
                )
            self._truncate()
        except (OSError, sqlite3.Error) as exc:
            raise CacheError(f"{self.path}: cannot write to the cache: {exc}") from None

    def _truncate(self) -> None:
        """Keep the ``cache_limit`` most recently used records (jupyter-cache's setting)."""
        with self._connect() as db:
            row = db.execute("SELECT value FROM settings WHERE key = ?", (CACHE_LIMIT_KEY,))
            found = row.fetchone()
            limit = int(json.loads(found[0])) if found else DEFAULT_CACHE_LIMIT
            old = db.execute(
                "SELECT pk, hashkey FROM nbcache WHERE pk NOT IN "
                "(SELECT pk FROM nbcache ORDER BY accessed DESC LIMIT ?)",
                (limit,),
            ).fetchall()
            for pk, key in old:
                shutil.rmtree(self.path / "executed" / key, ignore_errors=True)
                db.execute("DELETE FROM nbcache WHERE pk = ?", (pk,))


def _code_only(notebook: NotebookNode) -> NotebookNode:
    """A copy as nbformat 4 with only its code cells: what jupyter-cache hashes and stores."""
    import nbformat

    converted: NotebookNode = nbformat.convert(copy.deepcopy(notebook), to_version=4)  # type: ignore[no-untyped-call]
    if converted.nbformat_minor > 5:
        raise CacheError("notebooks newer than nbformat 4.5 cannot be cached yet")
    converted.cells = [cell for cell in converted.cells if cell.cell_type == "code"]
    return converted


def _fits(recorded: Any, wanted: Mapping[str, Any]) -> bool:
    if recorded is None:  # written by jupyter-cache itself: a local run
        return wanted.get("runtime") == "local"
    return isinstance(recorded, dict) and all(recorded.get(k) == v for k, v in wanted.items())


def _merge(notebook: NotebookNode, cached: NotebookNode) -> NotebookNode:
    """jupyter-cache's ``merge_match_into_notebook`` with its defaults."""
    import nbformat

    merged: NotebookNode = nbformat.convert(copy.deepcopy(notebook), 4)  # type: ignore[no-untyped-call]
    for key in MERGED_METADATA:
        if key in cached.metadata:
            merged.metadata[key] = cached.metadata[key]
    cells = list(cached.cells)
    for index, cell in enumerate(merged.cells):
        if cell.cell_type != "code" or not cells:
            continue
        replacement = cells.pop(0)
        if merged.nbformat_minor >= 5:
            replacement["id"] = cell.get("id")
        else:
            replacement.pop("id", None)
        merged.cells[index] = replacement
    return merged


def _now() -> str:
    """A timestamp as SQLAlchemy stores a ``DateTime`` in SQLite (UTC, naive)."""
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
