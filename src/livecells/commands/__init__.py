"""The ``livecells`` subcommands, one module each (``run``, ``serve``, ``build``).

A command module has ``add_arguments(parser)`` and ``command(args) -> int``
(the exit status), and may set ``PASS_THROUGH`` to receive the arguments it does not know.
Commands own their process: they alone import the display (rich) and print to the terminal.
"""

from __future__ import annotations

import sys

__all__ = ["COMMANDS", "fail"]

COMMANDS = ("serve", "run", "build")
"""In the order ``livecells --help`` lists them."""


def fail(command: str, message: str, *, status: int = 2) -> int:
    """Print ``livecells COMMAND: error: MESSAGE`` on stderr; return ``status`` to exit with."""
    print(f"livecells {command}: error: {message}", file=sys.stderr)
    return status
