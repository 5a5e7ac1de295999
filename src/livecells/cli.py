"""The ``livecells`` command: dispatches to :mod:`livecells.commands`, importing only the chosen
subcommand's module (jupyter_server alone takes a second to import)."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from livecells import __version__
from livecells.commands import COMMANDS

__all__ = ["main"]

SUMMARIES = {
    "serve": "preview a folder as a live website, on this server's kernels",
    "run": "execute notebooks and MyST pages headlessly, in parallel",
    "build": "write a static live site for a folder of notebooks and pages",
}


SKIPPED_IMPORTS = ("rfc3987_syntax", "rfc3986_validator", "isoduration")
"""Modules the command's process never imports. jsonschema (under nbformat and jupyter_server)
imports its format checkers' libraries where they are installed (jupyter_events'
``format-nongpl`` extra brings them): rfc3987_syntax compiles 38 lark grammars at import, 0.7 s
of CPU in every ``livecells`` run (nbformat's import 2.1 s -> 0.2 s; 5 s of a 60-page build on a
busy machine); rfc3986_validator and isoduration 0.1 s more. They check the "iri", "uri" and
"duration" formats, which nothing here asks for; jsonschema goes without a check whose library
is absent."""


def main(argv: Sequence[str] | None = None) -> int:
    for name in SKIPPED_IMPORTS:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]  # None: "not importable"
    args = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(
        prog="livecells",
        description="Make the code cells of notebooks and Markdown pages live.",
    )
    parser.add_argument("--version", action="version", version=f"livecells {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    chosen = next((arg for arg in args if not arg.startswith("-")), None)
    for name in COMMANDS:
        sub = commands.add_parser(name, help=SUMMARIES[name], description=SUMMARIES[name])
        if name != chosen:
            continue
        module = importlib.import_module(f"livecells.commands.{name}")
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
