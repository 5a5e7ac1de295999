"""Sphinx sites built for real in the tests (``tests/sphinx/projects/``), then opened in
Chromium: the browser fixtures are tests/browser's."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.browser.conftest import browser, chromium_path  # noqa: F401 - fixtures

PROJECTS = Path(__file__).parent / "projects"
SRC = str(Path(__file__).resolve().parents[2] / "src")


def project(tmp: Path, name: str, conf: str = "") -> Path:
    """A copy of ``projects/NAME`` in ``tmp``, with ``conf`` appended to its ``conf.py``."""
    root = tmp / name
    shutil.copytree(PROJECTS / name, root)
    if conf:
        with (root / "conf.py").open("a", encoding="utf-8") as file:
            file.write("\n" + conf + "\n")
    return root


def sphinx_build(
    source: Path, *, builder: str = "html", timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """``sphinx-build -b BUILDER SOURCE SOURCE/_build/BUILDER`` in a process of its own, this
    worktree's livecells first on its path."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([SRC, os.environ.get("PYTHONPATH", "")])}
    output = source / "_build" / builder
    command = [sys.executable, "-m", "sphinx", "-b", builder, "-q", str(source), str(output)]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)


def html_of(source: Path) -> Path:
    return source / "_build" / "html"


def page_config_of(html: str) -> dict[str, Any]:
    """The page config the extension wrote (Sphinx sorts a tag's attributes: ``id``, then
    ``type``)."""
    match = re.search(r'<script id="livecells-config" type="application/json">(.*?)</script>', html)
    assert match is not None, "the page has no #livecells-config"
    config: dict[str, Any] = json.loads(match.group(1))
    return config
