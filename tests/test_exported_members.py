"""The public API is what ``livecells.__all__`` promises, no more, no less."""

from __future__ import annotations

import ast
import builtins
from pathlib import Path

import livecells


def test_all_names_are_exported() -> None:
    for name in livecells.__all__:
        assert hasattr(livecells, name), name


def test_public_api_is_pinned() -> None:
    """Exactly these names, in this order (as httpx pins its own): adding or dropping one is a
    decision, made here."""
    assert livecells.__all__ == [
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


def test_every_exported_name_says_where_it_belongs() -> None:
    """Each public object is defined in a livecells module (not re-exported from a library)."""
    for name in livecells.__all__:
        value = getattr(livecells, name)
        module = getattr(value, "__module__", "livecells")
        assert module.split(".")[0] == "livecells", (name, module)


def test_errors_share_one_base() -> None:
    for name in livecells.__all__:
        value = getattr(livecells, name)
        if isinstance(value, type) and issubclass(value, Exception):
            assert issubclass(value, livecells.LivecellsError), name


def test_livecells_raises_only_its_own_errors() -> None:
    """No ``raise ValueError(...)`` and the like in the package: callers catch LivecellsError.
    (NotImplementedError marks abstract methods; commands' argparse errors are argparse's.)"""
    found = []
    for path in Path(livecells.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
                name = node.exc.func
                if isinstance(name, ast.Name) and name.id != "NotImplementedError":
                    builtin = getattr(builtins, name.id, None)
                    if isinstance(builtin, type) and issubclass(builtin, BaseException):
                        found.append(f"{path.name}:{node.lineno}: {name.id}")
    assert found == []
