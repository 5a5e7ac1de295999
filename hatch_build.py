"""Build the browser client (``frontend/``, TypeScript) into ``src/livecells/static/`` as part of
every package build, editable installs included: ``npm ci`` when ``node_modules`` is missing or
older than ``package-lock.json``, then ``npm run build``. An sdist that already carries the
built client (and no ``frontend/``) is used as it is.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class ClientBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        root = Path(self.root)
        frontend = root / "frontend"
        built = root / "src" / "livecells" / "static" / "livecells.js"
        if not (frontend / "package.json").is_file():
            if not built.is_file():
                raise RuntimeError("neither frontend/ nor a built client: a broken source tree")
            return
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError(
                "building livecells' browser client needs Node.js and npm (>= 18): install "
                "them (e.g. `apt-get install nodejs npm`) and run the install again"
            )
        lock = frontend / "package-lock.json"
        modules = frontend / "node_modules" / ".package-lock.json"
        if not modules.is_file() or (
            lock.is_file() and modules.stat().st_mtime < lock.stat().st_mtime
        ):
            install = "ci" if lock.is_file() else "install"
            subprocess.run([npm, install, "--no-audit", "--no-fund"], cwd=frontend, check=True)
        subprocess.run([npm, "run", "build"], cwd=frontend, check=True)
