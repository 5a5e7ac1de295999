"""Start a kernel under resource limits: ``python -I -S .../livecells/server/limits.py
--memory=BYTES --cpu=SECONDS -- KERNEL COMMAND...`` sets the rlimits, then execs the kernel (same
process, so interrupts and shutdowns reach it as before); in a sandbox also ``--processes=N``
(RLIMIT_NPROC, which a user namespace counts for the sandbox alone) and ``--restore-sigint``
(bwrap is started with SIGINT ignored, which the kernel would inherit). It imports only the
standard library, so the server runs it by path, isolated and without ``site``: cheap on every
kernel start.

Past the address-space limit an allocation fails (Python raises MemoryError in the cell); past
the CPU limit the kernel gets SIGXCPU and dies, and the page says its kernel stopped.
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import sys
from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="livecells.server.limits")
    parser.add_argument("--memory", type=int, default=0, help="bytes of address space (0: none)")
    parser.add_argument("--cpu", type=int, default=0, help="CPU seconds (0: none)")
    parser.add_argument("--processes", type=int, default=0, help="RLIMIT_NPROC (0: none)")
    parser.add_argument(
        "--restore-sigint", action="store_true", help="SIGINT's default action (the sandbox)"
    )
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no kernel command after --")
    if args.memory:
        resource.setrlimit(resource.RLIMIT_AS, (args.memory, args.memory))
    if args.cpu:
        # The soft limit sends SIGXCPU; the hard one, a little later, SIGKILL.
        resource.setrlimit(resource.RLIMIT_CPU, (args.cpu, args.cpu + 5))
    if args.processes:
        resource.setrlimit(resource.RLIMIT_NPROC, (args.processes, args.processes))
    if args.restore_sigint:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.execvp(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
