"""``livecells serve`` forks its python3 kernels from a kernel image; with
``--no-kernel-image`` each starts as a new process of the server's."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from tests.conftest import start_livecells_serve
from tests.server.test_public import Visitor, serve_public, text_of

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


def descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{current}/task").iterdir():
                children = [int(child) for child in (task / "children").read_text().split()]
                found += children
                todo += children
    return found


def test_public_kernels_start_cold_each_in_its_sandbox(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """The image is on for serve, never for --public: no image process serves two visitors'
    sandboxes (each visitor's kernel is the first Python of a sandbox of its own)."""
    server = serve_public(tmp_path_factory, "--pool-size=0")
    try:
        alice, bob = Visitor(server), Visitor(server)
        kernels = [alice.start_kernel(), bob.start_kernel()]
        for visitor, kernel in zip((alice, bob), kernels, strict=True):
            assert text_of(visitor.run(kernel, "print(6 * 7)")).strip() == "42"
        argv = {}
        for pid in descendants(server.process.pid):
            with contextlib.suppress(OSError):
                argv[pid] = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        assert not [pid for pid, args in argv.items() if any(a.endswith(b"image.py") for a in args)]
        pythons = [pid for pid, args in argv.items() if args[1:3] == [b"-m", b"ipykernel_launcher"]]
        assert len(pythons) == 2
        for pid in pythons:  # each the child of its sandbox's bwrap, not of an image
            parent = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
            assert argv[parent][0].endswith(b"bwrap"), argv[parent]
    finally:
        server.stop()
