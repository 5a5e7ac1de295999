"""``livecells serve``: preview a folder as a live website, on this server's kernels (or, with
``--public``, serve it to anyone, a kernel set per visitor). The server is jupyter_server's, so
every option the command does not know goes to it."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from livecells.commands import fail
from livecells.errors import ConfigError, NotebookError

__all__ = ["PASS_THROUGH", "add_arguments", "command", "server_arguments"]


PASS_THROUGH = True
"""Arguments the command does not know go to jupyter_server (``--port``, ``--ServerApp.*``)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("directory", metavar="DIR", nargs="?", default=".", help="folder to serve")
    public = parser.add_argument_group(
        "public serving",
        "--public serves anyone: each visitor (a signed cookie, no token) gets kernels of their "
        "own and nothing else of the server; the limits below apply (defaults in brackets).",
    )
    public.add_argument("--public", action="store_true", help="serve the public, safely")
    public.add_argument(
        "--allow-origin",
        action="append",
        metavar="URL",
        help="let the pages of this site (https://book.example.org; repeatable) use this "
        "server's kernels: thebe, MyST / Jupyter Book 2 sites (needs HTTPS in front)",
    )
    for flag, default, text in PUBLIC_LIMITS:
        public.add_argument(flag, type=_count, metavar="N", help=f"{text} [{default}]")
    public.add_argument(
        "--sandbox",
        choices=["auto", "bwrap", "none"],
        help="each visitor's kernel in a bubblewrap sandbox; auto (the default) refuses to "
        "serve --public without one; none: no sandbox, said loudly",
    )
    public.add_argument(
        "--kernel-network",
        choices=["on", "none"],
        help="whether sandboxed kernels may use the network [on]",
    )
    parser.add_argument(
        "--no-kernel-image",
        dest="kernel_image",
        action="store_false",
        help="start each python3 kernel as a new process, not forked from a kernel image "
        "(with --public: from one in a sandbox, each kernel then making its own)",
    )
    parser.add_argument(
        "--with-extensions",
        action="store_true",
        help="also load the other jupyter_server extensions installed here (JupyterLab, for "
        "Open in Jupyter; jupytext; terminals): by default only livecells runs",
    )
    scale = parser.add_argument_group("behind a proxy, and past one machine")
    scale.add_argument(
        "--gateway-url",
        metavar="URL",
        help="run kernels on a Jupyter Enterprise Gateway or Kernel Gateway (GatewayClient.url); "
        "with --public, visitors stay isolated there",
    )
    scale.add_argument("--base-url", metavar="PATH", help="serve under this path (/live/)")
    scale.add_argument(
        "--trust-forwarded-headers",
        action="store_true",
        help="believe X-Forwarded-For/-Proto/-Host and X-Real-IP from the reverse proxy in "
        "front (--public's limits then bind X-Real-IP or the right-most X-Forwarded-For hop; "
        "without it, the socket's peer)",
    )
    parser.epilog = (
        "Any other option goes to jupyter_server: --port=N, --ip=..., --no-browser, "
        "--ServerApp.*, --IdentityProvider.token=..., --LivecellsApp.auto_run=False."
    )


PUBLIC_LIMITS: list[tuple[str, int, str]] = [
    ("--max-kernels-per-visitor", 2, "running kernels per visitor"),
    ("--max-kernels", 40, "running visitor kernels in all"),
    ("--kernel-starts-per-minute", 6, "kernel starts per visitor per minute"),
    ("--cull-idle-timeout", 600, "seconds before an idle kernel is shut down"),
    ("--connection-timeout", 60, "seconds before a silent kernel WebSocket is closed (0: 90)"),
    ("--kernel-memory", 1024, "megabytes of memory per kernel (local kernels)"),
    ("--kernel-cpu-time", 600, "CPU seconds per kernel (local kernels)"),
    ("--max-output-bytes", 1_000_000, "output bytes per cell execution"),
    ("--pool-size", 2, "kernels started ahead, so a first cell does not wait"),
    ("--kernel-processes", 256, "processes and threads per sandboxed kernel"),
]


def _count(text: str) -> int:
    """A limit's value: a whole number, 0 or more (argparse names the flag with the error)."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number, 0 or more, got {text!r}")
    return value


_LIMIT_CONFIG = {
    "max_kernels_per_visitor": "VisitorKernels.max_kernels_per_visitor",
    "max_kernels": "VisitorKernels.max_kernels",
    "kernel_starts_per_minute": "VisitorKernels.kernel_starts_per_minute",
    "cull_idle_timeout": "MappingKernelManager.cull_idle_timeout",
    "connection_timeout": "LivecellsApp.connection_timeout",
    "kernel_memory": "LimitedKernelManager.memory_limit",
    "kernel_cpu_time": "LimitedKernelManager.cpu_limit",
    "max_output_bytes": "OutputCap.max_output_bytes",
    "pool_size": "VisitorKernels.pool_size",
    "kernel_processes": "LimitedKernelManager.process_limit",
}
_PUBLIC = "livecells.server.public"
_KERNEL_IMAGE = "livecells.server.kernels.ImageServerKernelManager"


def server_arguments(args: argparse.Namespace) -> list[str]:
    """The jupyter_server configuration the command's own flags stand for."""
    gateway = getattr(args, "gateway_url", None)
    config: dict[str, object] = {}
    if gateway:
        config["GatewayClient.url"] = gateway
    if getattr(args, "base_url", None):
        config["ServerApp.base_url"] = args.base_url
    if getattr(args, "trust_forwarded_headers", False):
        config["ServerApp.trust_xheaders"] = True
    origins = [_origin(url) for url in getattr(args, "allow_origin", None) or ()]
    if origins and not getattr(args, "public", False):
        raise ConfigError("--allow-origin only applies with --public")
    limits = {_LIMIT_CONFIG[name]: getattr(args, name) for name in _LIMIT_CONFIG}
    limits = {key: value for key, value in limits.items() if value is not None}
    if getattr(args, "public", False):
        manager = "PublicGatewayKernelManager" if gateway else "PublicKernelManager"
        config |= {
            "LivecellsApp.public": True,
            "ServerApp.identity_provider_class": f"{_PUBLIC}.VisitorIdentityProvider",
            "ServerApp.authorizer_class": f"{_PUBLIC}.VisitorAuthorizer",
            "ServerApp.kernel_manager_class": f"{_PUBLIC}.{manager}",
            "IdentityProvider.token": "",
            "ServerApp.open_browser": False,
            "MappingKernelManager.cull_idle_timeout": 600,
            "MappingKernelManager.cull_interval": 30,
            "MappingKernelManager.cull_connected": True,
            # Busy without a message for that long too: `while True: sleep(1)` holds no kernel.
            "MappingKernelManager.cull_busy": True,
        }
        if not gateway:  # a gateway runs and limits its kernels itself
            config["PublicKernelManager.kernel_manager_class"] = f"{_PUBLIC}.LimitedKernelManager"
            config |= _sandbox_config(args)
            if not getattr(args, "kernel_image", True):
                config["LimitedKernelManager.kernel_image"] = False
        elif getattr(args, "sandbox", None) == "bwrap" or getattr(args, "kernel_network", None):
            raise ConfigError(
                "--sandbox bwrap and --kernel-network are for local kernels: with --gateway-url "
                "the gateway's containers are the sandbox (set their network there)"
            )
        else:
            print(
                "livecells serve: kernels run on the gateway: its containers are the sandbox "
                "(no bwrap here)",
                file=sys.stderr,
            )
        config |= limits
    elif limits or getattr(args, "sandbox", None) or getattr(args, "kernel_network", None):
        flags = [name for name in _LIMIT_CONFIG if getattr(args, name, None) is not None]
        flags += [name for name in ("sandbox", "kernel_network") if getattr(args, name, None)]
        raise ConfigError(
            f"{', '.join('--' + name.replace('_', '-') for name in flags)} only apply with --public"
        )
    if not getattr(args, "public", False) and not gateway and getattr(args, "kernel_image", True):
        # --public forks in its sandboxes' templates (LimitedKernelManager.kernel_image).
        config["AsyncMappingKernelManager.kernel_manager_class"] = _KERNEL_IMAGE
    arguments = [f"--{key}={value}" for key, value in config.items()]
    return arguments + [f"--LivecellsApp.allow_origins={origin}" for origin in origins]


def _origin(url: str) -> str:
    """An ``--allow-origin`` value as browsers send it in ``Origin``: scheme, host, port."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or parts.username is not None
    ):
        raise ConfigError(
            f"--allow-origin {url!r}: not an origin; give the other site's scheme, host and "
            "port only, e.g. https://book.example.org"
        )
    return f"{parts.scheme}://{parts.netloc}".lower()


def _sandbox_config(args: argparse.Namespace) -> dict[str, object]:
    """``--sandbox`` and ``--kernel-network`` for local public kernels (bwrap probed here, once);
    the start-up line says what visitors' kernels run in."""
    from livecells.server import sandbox

    choice = getattr(args, "sandbox", None) or "auto"
    network = getattr(args, "kernel_network", None) != "none"
    if not sandbox.check_bwrap(choice):
        if not network:
            raise ConfigError("--kernel-network none needs the sandbox: drop --sandbox none")
        print(
            "livecells serve: WARNING: --sandbox none: every visitor's kernel runs as this "
            "server's user with its view of the disk: a visitor can read other visitors' "
            "kernels and outputs, the cookie secret, and write into the folder served",
            file=sys.stderr,
        )
        return {}
    print(f"livecells serve: {sandbox.describe(network=network)}", file=sys.stderr)
    return {"LimitedKernelManager.sandbox": True, "LimitedKernelManager.kernel_network": network}


KERNEL_HEADROOM_MB = 64
"""Address space a kernel needs past its start, for a first cell (the minimum's margin)."""


def _check_kernel_memory(own: list[str], root: Path) -> None:
    """Refuse a ``--kernel-memory`` (or default) too small for a kernel to start, with the
    minimum measured by starting one kernel as visitors' kernels start."""
    config = dict(arg.removeprefix("--").split("=", 1) for arg in own)
    limit = int(config.get("LimitedKernelManager.memory_limit", 1024))
    if "PublicKernelManager.kernel_manager_class" not in config or not limit:
        return
    import asyncio

    from jupyter_client.kernelspec import NATIVE_KERNEL_NAME

    from livecells.server.sandbox import kernel_address_space

    measured = asyncio.run(
        kernel_address_space(
            kernel_name=NATIVE_KERNEL_NAME,
            root_dir=str(root),
            sandbox=config.get("LimitedKernelManager.sandbox") == "True",
            network=config.get("LimitedKernelManager.kernel_network") != "False",
        )
    )
    measured_mb = -(-measured // (1024 * 1024))
    minimum = measured_mb + KERNEL_HEADROOM_MB
    if limit < minimum:
        raise ConfigError(
            f"--kernel-memory {limit}: a {NATIVE_KERNEL_NAME} kernel needs {minimum} MB of "
            f"address space here (measured {measured_mb} MB at start, plus "
            f"{KERNEL_HEADROOM_MB} for a first cell): give --kernel-memory {minimum} or more"
        )


def command(args: argparse.Namespace) -> int:
    """``livecells serve``: runs jupyter_server until stopped; 2 for a bad folder or config."""
    from livecells.server.app import LivecellsApp
    from livecells.site import Site

    root = Path(args.directory)
    if not root.is_dir():
        return fail("serve", f"{root}: not a directory")
    site = Site(root, default_runtime="livecells")
    try:
        site.project  # noqa: B018 - fail early on bad config
        site.check()  # and on a toc entry or include outside the folder
        own = server_arguments(args)
        _check_kernel_memory(own, root.resolve())
    except (ConfigError, NotebookError) as exc:
        return fail("serve", str(exc))
    finally:
        site.close()
    extra = list(getattr(args, "extra", []))
    # What the operator sets outright wins (traitlets refuses a key given twice).
    given = {arg.split("=", 1)[0] for arg in extra}
    own = [arg for arg in own if arg.split("=", 1)[0] not in given]
    argv = [f"--LivecellsApp.directory={root.resolve()}", *own, *extra]
    if not any(arg.startswith(("--ServerApp.root_dir", "--root-dir")) for arg in extra):
        argv.insert(0, f"--ServerApp.root_dir={root.resolve()}")
    if os.geteuid() == 0 and not given & {"--allow-root", "--ServerApp.allow_root"}:
        # A container's usual user. jupyter_server refuses root unless told; say what it means.
        print(
            "livecells serve: running as root (--allow-root): kernels run as root too, with "
            "root's access to this machine; serve as an unprivileged user where that matters",
            file=sys.stderr,
        )
        argv.insert(0, "--allow-root")
    LivecellsApp.load_other_extensions = bool(getattr(args, "with_extensions", False))
    LivecellsApp.launch_instance(argv=argv)  # type: ignore[no-untyped-call]
    return 0
