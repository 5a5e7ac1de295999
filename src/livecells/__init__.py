"""livecells: make the code cells of notebooks and Markdown pages live."""

from __future__ import annotations

from livecells.batch import BatchOptions, run_many
from livecells.errors import (
    AuthenticationFailed,
    CacheError,
    ConfigError,
    ConnectionFailed,
    ExecutionError,
    ExecutionTimeout,
    KernelDied,
    KernelNotFound,
    LivecellsError,
    MessageError,
    NotebookError,
    RuntimeNotAvailable,
)
from livecells.execute import run_notebook
from livecells.messages import Message
from livecells.outputs import OutputArea
from livecells.reports import BatchReport, NotebookReport
from livecells.runtimes import ExecutionResult, ExecutionStream, Kernel, Status, connect

__version__ = "0.1.0"

__all__ = [
    "AuthenticationFailed",
    "BatchOptions",
    "BatchReport",
    "CacheError",
    "ConfigError",
    "ConnectionFailed",
    "ExecutionError",
    "ExecutionResult",
    "ExecutionStream",
    "ExecutionTimeout",
    "Kernel",
    "KernelDied",
    "KernelNotFound",
    "LivecellsError",
    "Message",
    "MessageError",
    "NotebookError",
    "NotebookReport",
    "OutputArea",
    "RuntimeNotAvailable",
    "Status",
    "__version__",
    "connect",
    "run_many",
    "run_notebook",
]
