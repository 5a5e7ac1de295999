"""Test-only bundles, never shipped: ``@jupyterlab/services`` as a Node.js client
(``jlab-client.mjs``) and thebe-core for a page of another site (``thebe.js``), built by
``build.mjs`` with the client's esbuild from frontend/'s devDependencies."""

from __future__ import annotations

import subprocess
from pathlib import Path

from livecells.node import node_executable

HERE = Path(__file__).parent


def build_bundles(folder: Path) -> Path:
    """Build both bundles into ``folder``; returns it."""
    done = subprocess.run(
        [str(node_executable()), str(HERE / "build.mjs"), str(folder)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return folder
