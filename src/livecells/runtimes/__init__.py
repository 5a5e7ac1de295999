"""Runtimes: one Kernel contract, several back-ends. A new runtime is one new module here."""

from __future__ import annotations

import importlib
from typing import Any

from livecells.errors import RuntimeNotAvailable
from livecells.runtimes.base import ExecutionResult, ExecutionStream, Kernel, Status

__all__ = ["KERNEL_CLASSES", "ExecutionResult", "ExecutionStream", "Kernel", "Status", "connect"]

KERNEL_CLASSES: dict[str, str] = {
    "local": "livecells.runtimes.local:LocalKernel",
    "server": "livecells.runtimes.server:ServerKernel",
    "pyodide": "livecells.runtimes.pyodide:PyodideKernel",
    "binder": "livecells.runtimes.binder:BinderKernel",
}
"""What :func:`connect` can start from Python, imported when used. Not the runtimes a page offers
(``livecells``, ``server``, ``binder``, ``pyodide``: :data:`livecells.config.PAGE_RUNTIMES`)."""


def connect(runtime: str = "local", /, **options: Any) -> Kernel:
    """A Kernel on ``runtime``; use it as ``async with connect(...) as kernel``.

    ``local`` takes ``kernel_name``; ``server`` takes ``url``, ``token``, ``kernel_name``,
    ``kernel_id`` and ``shutdown_on_dispose``; ``pyodide`` (Node.js) takes ``packages``,
    ``requirements``, ``index_urls`` and ``figure_formats``; ``binder`` takes ``repo``, ``ref``,
    ``binder_url`` and ``provider``, then the ``server`` options.
    Every runtime takes ``on_status``, ``on_input``
    and the timeouts of :class:`~livecells.runtimes.base.Kernel`.
    """
    target = KERNEL_CLASSES.get(runtime)
    if target is None:
        raise RuntimeNotAvailable(
            f"unknown runtime {runtime!r}; choose one of: {', '.join(sorted(KERNEL_CLASSES))}"
        )
    module_name, _, class_name = target.partition(":")
    kernel_class: type[Kernel] = getattr(importlib.import_module(module_name), class_name)
    return kernel_class(**options)
