"""The browser client's own checks, run with the Node.js livecells uses: strict TypeScript
(``tsc --noEmit``) and the unit tests of its pure logic (``frontend/test``, Node's runner)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from livecells.node import node_executable

FRONTEND = Path(__file__).resolve().parent.parent / "frontend"


def npm(*args: str) -> subprocess.CompletedProcess[str]:
    node = node_executable()
    cli = Path(node).resolve().parent.parent / "lib" / "node_modules" / "npm" / "bin" / "npm-cli.js"
    env = {**os.environ, "PATH": os.pathsep.join([str(Path(node).parent), os.environ["PATH"]])}
    return subprocess.run(
        [node, str(cli), *args], cwd=FRONTEND, env=env, capture_output=True, text=True, timeout=300
    )


pytestmark = pytest.mark.skipif(
    not (FRONTEND / "node_modules").is_dir(),
    reason="frontend/node_modules: install livecells first",
)


def test_the_client_type_checks_strictly() -> None:
    done = npm("run", "typecheck")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def test_the_client_unit_tests_pass() -> None:
    done = npm("test")
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    counts = dict(re.findall(r"^\u2139 (pass|fail) (\d+)$", done.stdout, re.MULTILINE))
    assert counts["fail"] == "0"
    assert int(counts["pass"]) >= 11
