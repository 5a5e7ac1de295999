"""The ``livecells`` command.

Each subcommand lives with the module that implements it (``serve`` in
:mod:`livecells.server.app`, ``run`` in :mod:`livecells.execute`, ``build`` in
:mod:`livecells.site`); only the chosen one is imported.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from livecells import __version__

__all__ = ["main"]

# name -> (module, one-line help). A module provides add_arguments(parser) and command(args) -> int.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "serve": (
        "livecells.server.app",
        "preview a folder as a live website, on this server's kernels",
    ),
    "run": ("livecells.execute", "execute notebooks and MyST pages headlessly, in parallel"),
    "build": ("livecells.site", "write a static live site for a folder of notebooks and pages"),
}


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(
        prog="livecells",
        description="Make the code cells of notebooks and Markdown pages live.",
    )
    parser.add_argument("--version", action="version", version=f"livecells {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    chosen = next((arg for arg in args if not arg.startswith("-")), None)
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        sub = commands.add_parser(name, help=help_text, description=help_text)
        if name != chosen:
            continue  # only the chosen command's module is imported (jupyter_server is slow)
        module = importlib.import_module(module_name)
        module.add_arguments(sub)
        sub.set_defaults(
            handler=module.command, pass_through=getattr(module, "PASS_THROUGH", False)
        )
    options, extra = parser.parse_known_args(args)
    if extra and not getattr(options, "pass_through", False):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    options.extra = extra
    if options.command is None:
        parser.print_help()
        return 2
    code: int = options.handler(options)
    return code


if __name__ == "__main__":
    sys.exit(main())
