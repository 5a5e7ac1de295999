"""``livecells serve`` forks its python3 kernels from a kernel image; with
``--no-kernel-image`` each starts as a new process of the server's."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.conftest import start_livecells_serve

import livecells


@pytest.mark.parametrize(("flags", "forked"), [((), True), (("--no-kernel-image",), False)])
async def test_serve_kernels_are_forked_from_the_image_unless_told_not_to(
    tmp_path: Path, flags: tuple[str, ...], forked: bool
) -> None:
    root = tmp_path / "site"
    root.mkdir()
    (root / "index.md").write_text("# Hello\n")
    server = start_livecells_serve(root, *flags)
    try:
        async with livecells.connect("server", url=server.url, token=server.token) as kernel:
            result = await kernel.execute(
                "import os\n"
                "stat = open(f'/proc/{os.getppid()}/stat').read()\n"
                "grandparent = stat.rsplit(')')[1].split()[1]\n"
                "print(os.getppid(), grandparent, os.getcwd())"
            )
            parent, grandparent, cwd = "".join(o.get("text", "") for o in result.outputs).split()
    finally:
        server.stop()
    # A forked kernel is the image's child (the image is the server's); a cold one the server's.
    pids = [int(parent), int(grandparent)]
    assert pids.index(server.process.pid) == (1 if forked else 0)
    assert cwd == str(root)
