"""Comms for the livecells kernel in Pyodide: what ipykernel gives the ``comm`` package.

Jupyter widgets talk over comms. The ``comm`` package leaves two functions for a kernel to
replace, ``comm.create_comm`` and ``comm.get_comm_manager``; ipykernel does it when it starts.
Here ``comm`` is a wheel loaded only when a cell imports ipywidgets, so the replacement is made
as ``comm`` is imported (an import hook), or at once if it already was. A comm publishes its
``comm_open`` / ``comm_msg`` / ``comm_close`` as iopub messages, metadata and binary buffers
included, parented to the request being handled (a cell, or the page's comm message), and the
page's comm messages are handed to the comm manager by :func:`dispatch`. ``Comm.kernel`` is the
kernel, whose ``get_parent()`` is what ipywidgets' ``Output`` widget reads to capture a cell's
(or an ``interact`` callback's) outputs, as it does from ipykernel.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
import types
from collections.abc import Sequence
from typing import Any, Protocol


class Host(Protocol):
    """What comms need of the kernel."""

    def emit_comm(
        self,
        msg_type: str,
        content: dict[str, Any],
        metadata: dict[str, Any],
        buffers: Sequence[bytes | memoryview],
    ) -> None: ...

    def get_parent(self) -> dict[str, Any]: ...


_host: Host | None = None


def install(host: Host) -> None:
    """Make ``comm`` publish through ``host``, now or when it is first imported."""
    global _host
    _host = host
    if "comm" in sys.modules:
        _patch(sys.modules["comm"])
    elif not any(isinstance(finder, _CommFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _CommFinder())


class _CommFinder(importlib.abc.MetaPathFinder):
    """Finds ``comm`` as the other finders do, and patches it once it has run."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != "comm":
            return None
        sys.meta_path.remove(self)
        try:
            spec = importlib.util.find_spec(fullname)
        finally:
            sys.meta_path.insert(0, self)
        loader = spec.loader if spec is not None else None
        if spec is None or loader is None or not hasattr(loader, "exec_module"):
            return spec
        run = loader.exec_module

        def exec_module(module: types.ModuleType) -> None:
            run(module)
            _patch(module)

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def _patch(module: types.ModuleType) -> None:
    if getattr(module, "_livecells", False):
        return
    from comm.base_comm import BaseComm, CommManager

    host = _host

    class Comm(BaseComm):
        kernel = host

        def publish_msg(
            self,
            msg_type: str,
            data: dict[str, Any] | None = None,
            metadata: dict[str, Any] | None = None,
            buffers: Sequence[bytes | memoryview] | None = None,
            **keys: Any,
        ) -> None:
            if host is None:
                return
            content = {"data": data or {}, "comm_id": self.comm_id, **keys}
            host.emit_comm(msg_type, content, metadata or {}, list(buffers or ()))

    manager = CommManager()
    vars(module).update(create_comm=Comm, get_comm_manager=lambda: manager, _livecells=True)


def _manager() -> Any:
    """The comm manager; None while nothing here has comms (``comm`` is not installed)."""
    try:
        import comm
    except ImportError:
        return None
    return comm.get_comm_manager()


def dispatch(msg_type: str, msg: dict[str, Any]) -> None:
    """A ``comm_open``, ``comm_msg`` or ``comm_close`` from the page, to the comm manager (its
    target's or comm's callbacks run now; their errors are logged, as ipykernel logs them)."""
    manager = _manager()
    if manager is None:
        return
    target = msg["content"].get("target_name")
    if msg_type == "comm_open" and target not in manager.targets and "ipywidgets" in sys.modules:
        # ipywidgets registers its targets on import only under IPython; a page that opens a
        # widget's comm gets them here, as from ipykernel.
        sys.modules["ipywidgets"].register_comm_target()
    getattr(manager, msg_type)(None, None, msg)


def info(target: str | None) -> dict[str, Any]:
    """``comm_info_reply``'s comms (of ``target`` only, when given)."""
    manager = _manager()
    comms = manager.comms if manager is not None else {}
    return {
        comm_id: {"target_name": comm.target_name}
        for comm_id, comm in comms.items()
        if not target or comm.target_name == target
    }
