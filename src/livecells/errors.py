"""The livecells exception hierarchy.

Every error livecells raises on purpose derives from :class:`LivecellsError`, so callers can catch
one type. Messages say what happened and what to do about it, on one line.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AuthenticationFailed",
    "CacheError",
    "ConfigError",
    "ConnectionFailed",
    "ExecutionError",
    "ExecutionTimeout",
    "KernelDied",
    "KernelNotFound",
    "LivecellsError",
    "MessageError",
    "NotebookError",
    "RuntimeNotAvailable",
]


class LivecellsError(Exception):
    """Base class of every error livecells raises on purpose."""

    partial: Any = None
    """For errors that end an execution early: the ``ExecutionResult`` seen so far."""


class MessageError(LivecellsError):
    """A Jupyter message or WebSocket frame could not be decoded."""


class ConnectionFailed(LivecellsError):
    """A runtime could not be reached, or the connection to it was lost for good."""


class AuthenticationFailed(ConnectionFailed):
    """The runtime refused our credentials (wrong or missing token)."""


class KernelNotFound(LivecellsError):
    """The requested kernel name or kernel id does not exist on the runtime."""


class KernelDied(LivecellsError):
    """The kernel died or restarted while work was waiting on it."""


class ExecutionTimeout(LivecellsError, TimeoutError):
    """An execution, or a wait for the kernel, took longer than its timeout."""


class ExecutionError(LivecellsError):
    """A cell raised an exception in the kernel (see ``ename``, ``evalue``, ``traceback``)."""

    def __init__(self, ename: str, evalue: str, traceback: list[str]) -> None:
        super().__init__(f"{ename}: {evalue}")
        self.ename = ename
        self.evalue = evalue
        self.traceback = traceback


class RuntimeNotAvailable(LivecellsError):
    """The requested runtime is unknown or cannot run on this machine."""


class ConfigError(LivecellsError):
    """A configuration file or option is invalid."""


class NotebookError(LivecellsError):
    """A notebook or page could not be read or written."""


class CacheError(LivecellsError):
    """An execution cache folder cannot be created, written or read."""
