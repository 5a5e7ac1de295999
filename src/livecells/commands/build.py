"""``livecells build``: write a static live site for a folder of notebooks and pages."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from livecells.commands import fail
from livecells.commands.progress import choose_progress, print_failures
from livecells.errors import LivecellsError

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
    parser.add_argument(
        "--execute",
        action="store_true",
        help="run the pages' code first (local kernels, in parallel) so the site shows fresh "
        "outputs; also `livecells: {execute: true}` in the project config",
    )
    parser.add_argument(
        "--cache",
        metavar="DIR",
        help="with --execute: an execution cache (jupyter-cache's format); unchanged pages "
        "are not run again",
    )
    parser.add_argument(
        "--jobs", "-j", type=int, default=3, help="with --execute: pages run at once (default: 3)"
    )


def command(args: argparse.Namespace) -> int:
    """``livecells build``: 0 when every page was written, 2 when a page or the config was bad
    or (with ``--execute``) a page's code failed (one line each, naming the file, then the
    failing cells' tracebacks; the other pages are still written)."""
    from livecells.batch import BatchOptions
    from livecells.site import build

    execute = None
    try:
        if args.execute or args.cache:
            execute = BatchOptions(jobs=args.jobs, cache=args.cache)
        built = build(
            Path(args.directory),
            Path(args.output),
            default_runtime=args.runtime,
            execute=execute,
            progress=choose_progress(sys.stderr),
        )
    except LivecellsError as exc:  # the config, the client build, the cache folder
        return fail("build", str(exc))
    for warning in built.warnings:
        print(f"livecells build: warning: {warning}", file=sys.stderr)
    for problem in built.problems:
        fail("build", problem)
    if built.execution is not None:
        print_failures(built.execution.report, sys.stderr)
    print(f"wrote {len(built.pages)} pages to {args.output}/ (open {args.output}/index.html)")
    return 2 if built.problems else 0
