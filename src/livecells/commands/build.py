"""``livecells build``: write a static live site for a folder of notebooks and pages."""

from __future__ import annotations

import argparse
from pathlib import Path

from livecells.commands import fail
from livecells.errors import ConfigError

__all__ = ["add_arguments", "command"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("directory", metavar="DIR", help="the folder of notebooks and pages")
    parser.add_argument(
        "-o", "--output", default="_site", metavar="OUT", help="where to write (default: _site/)"
    )
    parser.add_argument(
        "--runtime",
        choices=["pyodide", "server", "binder", "livecells"],
        default="pyodide",
        help="what `jupyter: true` means for these pages (default: pyodide)",
    )


def command(args: argparse.Namespace) -> int:
    """``livecells build``: 0 when every page was written, 2 when a page or the config was bad
    (one line each, naming the file; the other pages are still written)."""
    from livecells.site import build

    try:
        built = build(Path(args.directory), Path(args.output), default_runtime=args.runtime)
    except ConfigError as exc:
        return fail("build", str(exc))
    for problem in built.problems:
        fail("build", problem)
    print(f"wrote {len(built.pages)} pages to {args.output}/ (open {args.output}/index.html)")
    return 2 if built.problems else 0
