"""Pyodide wheels are resolved only for pages that offer Pyodide, within a time bound, and never
delay a Binder site: ``livecells build`` against a local package index (tests/packageindex.py)
that answers some projects at once and holds others, as a resolver backtracking for minutes
would be held."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.conftest import page_config_of
from tests.packageindex import PackageIndex, package_index

CELL = "```{code-cell} python\nimport quick\nquick.VALUE\n```\n"
KERNELSPEC = "kernelspec: {name: python3, display_name: Python 3}\n"


@pytest.fixture
def index(tmp_path: Path) -> Iterator[PackageIndex]:
    with package_index(tmp_path / "index", {"quick": "VALUE = 1\n", "slow": "VALUE = 2\n"}) as it:
        it.hold("slow")  # never released: pip would wait on it for as long as it is let
        yield it


def book(root: Path, project: str, frontmatter: str = "", requirement: str = "slow") -> Path:
    root.mkdir(parents=True)
    (root / "myst.yml").write_text(f"version: 1\nproject:\n  title: Book\n{project}")
    (root / "page.md").write_text(f"---\n{KERNELSPEC}{frontmatter}---\n# Page\n{CELL}")
    (root / "requirements.txt").write_text(f"# for Binder\n{requirement}\n")
    return root


def build(source: Path, output: Path, index: PackageIndex) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "livecells", "build", str(source), "-o", str(output)]
    env = index.pip_environment(output.parent / "cache")
    # Far longer than a build without wheels takes; a build that waited on the held project
    # would run into it and fail here.
    return subprocess.run(command, capture_output=True, text=True, timeout=150, env=env)


@pytest.mark.parametrize("jupyter", ["true", "binder", "{binder: true}", "{binder: {repo: o/r}}"])
def test_a_binder_build_never_resolves_the_binder_requirements(
    tmp_path: Path, index: PackageIndex, jupyter: str
) -> None:
    source = book(tmp_path / "book", f"  github: o/book\n  jupyter: {jupyter}\n")
    done = build(source, tmp_path / "site", index)
    assert done.returncode == 0, done.stderr
    assert index.requests == []
    assert not (tmp_path / "site" / "_livecells" / "wheels").exists()
    config = page_config_of((tmp_path / "site" / "page.html").read_text())
    assert config["runtime"] == "binder"
    assert config["runtimes"] == ["binder"]
    assert config["pyodide"] is None


def test_a_lite_build_resolves_its_requirements_from_the_index(
    tmp_path: Path, index: PackageIndex
) -> None:
    """The control for the test above: the same book on Pyodide does ask the index."""
    source = book(tmp_path / "book", "  jupyter: lite\n", requirement="quick")
    done = build(source, tmp_path / "site", index)
    assert done.returncode == 0, done.stderr
    assert "/simple/quick/" in index.requests
    lock = json.loads((tmp_path / "site" / "_livecells/wheels/pyodide-lock.json").read_text())
    assert sorted(lock["packages"]) == ["micropip", "packaging", "quick"]


def test_resolving_past_the_time_bound_is_one_line_naming_the_file(
    tmp_path: Path, index: PackageIndex
) -> None:
    # Long enough for micropip and packaging (answered at once) on a loaded machine.
    source = book(tmp_path / "book", "  jupyter: lite\n  livecells: {wheelsTimeout: 20}\n")
    done = build(source, tmp_path / "site", index)
    assert index.was_asked("slow").is_set()
    assert done.returncode == 2
    (line,) = done.stderr.splitlines()
    assert line == (
        "livecells build: error: requirements.txt: resolving 'slow' for Pyodide took more than "
        "20 s (pip may be backtracking through its versions) and was stopped: pin exact versions "
        "(name==1.2.3) there, give livecells.wheelsTimeout more seconds, or leave Pyodide out "
        "of the page's runtimes (livecells.runtimes)"
    )
    assert (tmp_path / "site" / "page.html").is_file()  # the pages are still written


def test_a_lite_page_beside_binder_pages_resolves_only_its_own(
    tmp_path: Path, index: PackageIndex
) -> None:
    source = book(tmp_path / "book", "  jupyter: true\n")
    (source / "lite").mkdir()
    (source / "lite" / "page.md").write_text(f"---\n{KERNELSPEC}jupyter: lite\n---\n{CELL}")
    (source / "lite" / "requirements.txt").write_text("quick\n")
    done = build(source, tmp_path / "site", index)
    assert done.returncode == 0, done.stderr
    assert "/simple/quick/" in index.requests
    assert not index.was_asked("slow").is_set()


def test_wheels_timeout_must_be_a_positive_number(tmp_path: Path, index: PackageIndex) -> None:
    source = book(tmp_path / "book", "  jupyter: lite\n  livecells: {wheelsTimeout: -1}\n")
    done = build(source, tmp_path / "site", index)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "livecells build: error: myst.yml: project.livecells.wheelsTimeout: expected a "
        "positive number of seconds: how long resolving Pyodide wheels may take, got -1"
    )
