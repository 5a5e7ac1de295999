"""The public API is what ``livecells.__all__`` promises, no more, no less."""

from __future__ import annotations

import livecells


def test_all_names_are_exported() -> None:
    for name in livecells.__all__:
        assert hasattr(livecells, name), name


def test_public_api_is_pinned() -> None:
    core = {
        "AuthenticationFailed", "ConfigError", "ConnectionFailed", "ExecutionError",
        "ExecutionResult", "ExecutionStream", "ExecutionTimeout", "Kernel", "KernelDied",
        "KernelNotFound", "LivecellsError", "Message", "MessageError", "NotebookError",
        "OutputArea", "RuntimeNotAvailable", "Status", "__version__", "connect",
    }  # fmt: skip
    assert core <= set(livecells.__all__)
    extra = set(livecells.__all__) - core
    assert extra <= {"run_notebook", "run_many"}


def test_errors_share_one_base() -> None:
    for name in livecells.__all__:
        value = getattr(livecells, name)
        if isinstance(value, type) and issubclass(value, Exception):
            assert issubclass(value, livecells.LivecellsError), name
