"""``livecells serve`` forks its python3 kernels from a kernel image; with
``--no-kernel-image`` each starts as a new process of the server's."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
from tests.conftest import start_livecells_serve
from tests.server.test_public import Visitor, serve_public, text_of

import livecells
from livecells.server import sandbox


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


@pytest.mark.parametrize("forked", [True, False], ids=["forked", "cold"])
def test_public_kernels_are_forked_each_into_a_sandbox_of_its_own(
    tmp_path_factory: pytest.TempPathFactory, forked: bool
) -> None:
    """With --public, kernels are forked from one image in a sandbox (the template), and each
    makes a sandbox of its own before its code runs: namespaces of its own, no capability;
    with --no-kernel-image each is the first Python of a bwrap sandbox of its own."""
    flags = () if forked else ("--no-kernel-image",)
    server = serve_public(tmp_path_factory, "--pool-size=0", *flags)
    probe = (
        "import json, os\n"
        "status = dict(l.split(':', 1) for l in open('/proc/self/status'))\n"
        "print(json.dumps({'init': open('/proc/1/cmdline').read().split(chr(0)),\n"
        "  'pids': sorted(int(p) for p in os.listdir('/proc') if p.isdigit()),\n"
        "  'ns': [os.readlink(f'/proc/self/ns/{n}') for n in ('pid', 'mnt', 'ipc', 'uts')],\n"
        "  'caps': [status[k].strip() for k in ('CapEff', 'CapPrm', 'CapBnd', 'NoNewPrivs')]}))"
    )
    try:
        alice, bob = Visitor(server), Visitor(server)
        seen = []
        for visitor in (alice, bob):
            kernel = visitor.start_kernel()
            seen.append(json.loads(text_of(visitor.run(kernel, probe, timeout=90))))
        argv, parent = {}, {}
        for pid in descendants(server.process.pid):
            with contextlib.suppress(OSError):
                argv[pid] = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
                stat = Path(f"/proc/{pid}/stat").read_text()
                parent[pid] = int(stat.rsplit(")", 1)[1].split()[1])
    finally:
        server.stop()
    # Pythons running the image (bwrap's own arguments name it too).
    images = [
        pid
        for pid, args in argv.items()
        if not args[0].endswith(b"bwrap") and any(a.endswith(b"image.py") for a in args)
    ]
    for mine in seen:
        assert mine["pids"] == [1, 2]  # its init and itself: no other kernel, no image
        assert any(part.endswith("bwrap") for part in mine["init"]) is not forked
        assert any(part.endswith("image.py") for part in mine["init"]) is forked
    # Namespaces of its own each: PID, mount, IPC, UTS.
    assert all(a != b for a, b in zip(seen[0]["ns"], seen[1]["ns"], strict=True)), seen
    if forked:
        # Every image runs in a sandbox: each template's image is bwrap's child (two templates
        # where the environment changed between the starts, which rebuilds the image: on a
        # busy CI machine, once), and every other process running the image was forked there
        # (each kernel's three at least: outside, init, kernel).
        templates = [pid for pid in images if parent.get(pid) not in images]
        assert templates, argv
        assert all(argv[parent[pid]][0].endswith(b"bwrap") for pid in templates), argv
        assert len(images) >= len(templates) + 2 * 3, argv
        zero = "0000000000000000"
        assert seen[0]["caps"] == seen[1]["caps"] == [zero, zero, zero, "1"]
    else:
        assert images == []


def test_where_kernels_cannot_make_their_sandbox_they_start_cold(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bwrap that does not keep capabilities in the template (``--cap-add`` dropped by a
    wrapper around the real bwrap): each forked kernel fails to make its namespaces. The first
    one says why and dies; from then on kernels start cold, and the visitor's kernel runs."""
    wrapper = tmp_path_factory.mktemp("bwrap") / "bwrap"
    wrapper.write_text(
        "#!/bin/sh\n"
        'for a in "$@"; do shift; [ "$a" = --cap-add ] && { skip=1; continue; }\n'
        '  [ -n "$skip" ] && { skip=; continue; }; set -- "$@" "$a"; done\n'
        f'exec {sandbox.BWRAP} "$@"\n'
    )
    wrapper.chmod(0o755)
    monkeypatch.setenv("LIVECELLS_BWRAP", str(wrapper))
    server = serve_public(tmp_path_factory, "--pool-size=0")
    try:
        alice = Visitor(server)
        kernel = alice.start_kernel()
        init = "print(open('/proc/1/cmdline').read().split(chr(0))[0])"
        assert text_of(alice.run(kernel, init, timeout=120)).strip() == sandbox.BWRAP  # cold
        log = server.log.read_text()
        assert "livecells: the kernel's sandbox could not be made: unshare: [Errno 1]" in log
        assert log.count("a kernel could not make its sandbox in the template") == 1
    finally:
        server.stop()
