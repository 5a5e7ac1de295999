"""``livecells run``: execute notebooks and MyST pages headlessly, in parallel, with progress."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from dataclasses import fields
from typing import Any

from livecells.batch import Batch, BatchOptions
from livecells.commands import fail
from livecells.commands.progress import choose_progress, print_report
from livecells.errors import CacheError, ConfigError
from livecells.parameters import collect_parameters

__all__ = ["add_arguments", "command"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="notebooks (.ipynb, MyST .md), directories (searched recursively) or globs",
    )
    parser.add_argument(
        "--runtime",
        choices=["local", "server", "pyodide"],
        default="local",
        help="local kernels (default), a Jupyter Server (--url, --token), or pyodide: Python "
        "in WebAssembly under Node.js, as the readers of a built site run it",
    )
    parser.add_argument("--url", help="the Jupyter Server's base URL (--runtime server)")
    parser.add_argument(
        "--token",
        default=os.environ.get("JUPYTER_TOKEN"),
        help="the Jupyter Server's token (default: $JUPYTER_TOKEN)",
    )
    parser.add_argument(
        "--kernel",
        dest="kernel_name",
        metavar="NAME",
        help="kernel to use (default: each notebook's kernelspec)",
    )
    parser.add_argument(
        "--jobs", "-j", type=_positive_int, default=3, help="notebooks run at once (default: 3)"
    )
    parser.add_argument(
        "--timeout", type=_seconds, metavar="SECONDS", help="per cell (default: no limit)"
    )
    parser.add_argument(
        "--notebook-timeout",
        type=_seconds,
        metavar="SECONDS",
        help="per notebook (default: no limit)",
    )
    parser.add_argument(
        "--allow-errors",
        action="store_true",
        help="keep going after a cell raises (the error is recorded as its output)",
    )
    parser.add_argument(
        "--output-dir",
        default="executed",
        metavar="DIR",
        help="where executed notebooks go, mirroring the input paths (default: executed/)",
    )
    parser.add_argument(
        "--inplace", action="store_true", help="overwrite .ipynb sources instead of --output-dir"
    )
    parser.add_argument(
        "--install-requirements",
        action="store_true",
        help="pip install the requirements.txt beside each notebook into its kernel first",
    )
    parser.add_argument(
        "--cache",
        metavar="DIR",
        help="an execution cache (jupyter-cache's format, shared with Jupyter Book): skip "
        "notebooks whose code, kernel and requirements.txt are unchanged",
    )
    group = parser.add_argument_group(
        "parameters (as papermill: injected after the cell tagged 'parameters')"
    )
    group.add_argument(
        "-p",
        "--parameters",
        nargs=2,
        action="append",
        metavar=("NAME", "VALUE"),
        help="a parameter, typed as papermill types it (int, float, True/False, None, else text)",
    )
    group.add_argument(
        "-r",
        "--parameters-raw",
        nargs=2,
        action="append",
        metavar=("NAME", "VALUE"),
        help="a parameter kept as text",
    )
    group.add_argument(
        "-y", "--parameters-yaml", action="append", metavar="YAML", help="parameters as YAML"
    )
    group.add_argument(
        "-f", "--parameters-file", action="append", metavar="FILE", help="a YAML file of parameters"
    )
    parser.add_argument("--json", action="store_true", help="print a JSON report on stdout")
    parser.add_argument(
        "--no-kernel-image",
        dest="kernel_image",
        action="store_false",
        help="start each local python3 kernel as a new process, not forked from a kernel image",
    )


def command(args: argparse.Namespace) -> int:
    """``livecells run``: exit status 0 if every notebook passed, 1 if one failed, 2 for bad
    input (a one-line error names the file; the other notebooks still run), 130 on Ctrl-C."""
    runtime_options: dict[str, Any] = {}
    if args.runtime == "server":
        if not args.url:
            return fail("run", "--runtime server needs --url")
        runtime_options = {"url": args.url, "token": args.token}
    elif args.runtime == "local" and not args.kernel_image:
        runtime_options = {"kernel_image": False}
    try:
        args.parameters = collect_parameters(
            files=args.parameters_file or (),
            yaml_texts=args.parameters_yaml or (),
            typed=args.parameters or (),
            raw=args.parameters_raw or (),
        )
    except ConfigError as exc:
        return fail("run", str(exc))
    _skip_iri_grammars()
    given = {f.name: getattr(args, f.name) for f in fields(BatchOptions) if hasattr(args, f.name)}
    try:
        options = BatchOptions(**given, runtime_options=runtime_options)
    except ConfigError as exc:
        return fail("run", str(exc))
    batch = Batch(args.paths, options, progress=choose_progress(sys.stderr))
    # On Ctrl-C the batch shuts its kernels down and writes what ran; then we report it.
    with contextlib.suppress(KeyboardInterrupt, asyncio.CancelledError):
        try:
            asyncio.run(_run_until_signalled(batch))
        except (CacheError, ConfigError) as exc:
            return fail("run", str(exc))
    print_report(batch.report, sys.stdout, as_json=args.json)
    return batch.report.exit_status


async def _run_until_signalled(batch: Batch) -> None:
    """Run ``batch``; SIGTERM stops it as cleanly as Ctrl-C does (kernels down, partial
    notebooks written)."""
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    if task is not None:
        loop.add_signal_handler(signal.SIGTERM, task.cancel)
    try:
        await batch.run()
    finally:
        loop.remove_signal_handler(signal.SIGTERM)


def _skip_iri_grammars() -> None:
    """Keep this process from importing ``rfc3987_syntax``.

    nbformat imports jsonschema, which imports ``rfc3987_syntax`` when it is installed (it is,
    wherever jupyter_server is) to check the "iri" string format, compiling 38 Lark grammars:
    2-3 s of CPU before the first notebook can be read. Notebook validation never checks
    formats, so the command (which owns its process) does without it; the library does not.
    """
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _seconds(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, not {text}")
    return value
