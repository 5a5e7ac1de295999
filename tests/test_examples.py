"""The README's main command (the quickstart example) runs and exits 0."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_quickstart_runs_cells_on_the_local_kernel() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "quickstart.py")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "[stdout] step 2" in done.stdout
    assert "now reads: **done**" in done.stdout
    assert "ZeroDivisionError" in done.stdout
