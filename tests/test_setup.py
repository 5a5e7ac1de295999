"""A fresh machine: the README's two commands from a fresh clone in a fresh virtual environment,
with no system Node.js; root; the browser the tests need; what ``import livecells`` costs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from tests.conftest import free_port
from tests.test_readme import ROOT, readme_commands


def test_import_livecells_loads_neither_rich_nor_yaml() -> None:
    """The library is light; the terminal display (rich) and config files (yaml) are the
    commands' business."""
    code = (
        "import sys, livecells\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'rich', 'yaml', 'jupyter_server'}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_the_command_imports_no_format_checker_library_of_jsonschema(tmp_path: Path) -> None:
    """nbformat's import pulls jsonschema, which imports the libraries of its format checkers
    where installed (rfc3987_syntax compiles 38 grammars: 0.7 s); a build needs none of them."""
    (tmp_path / "book").mkdir()
    page = "---\nkernelspec:\n  name: python3\n---\n# Home\n\n```{code-cell} python\n1\n```\n"
    (tmp_path / "book" / "index.md").write_text(page)
    code = (
        "import sys\nfrom livecells.cli import main\n"
        f"main(['build', {str(tmp_path / 'book')!r}, '-o', {str(tmp_path / 'out')!r}])\n"
        "print('jsonschema' in sys.modules, sorted(n for n in "
        "('rfc3987_syntax', 'rfc3986_validator', 'isoduration') if sys.modules.get(n)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "True []"  # jsonschema, without them


def test_a_missing_browser_fails_the_browser_tests_with_one_line_saying_how(
    tmp_path: Path,
) -> None:
    env = {**os.environ, "LIVECELLS_CHROMIUM": str(tmp_path / "no-chromium")}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--no-header", "-n", "0",
         "tests/browser/test_pages.py::test_shift_enter_runs_the_focused_cell"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout
    expected = (
        f"Chromium not found at {tmp_path / 'no-chromium'}: install it (`apt-get install "
        "chromium`) or set LIVECELLS_CHROMIUM to a Chromium"
    )
    assert expected in done.stdout
    assert "Traceback" not in done.stdout


@contextmanager
def serve_until_ready(command: list[str], *, env: dict[str, str], log: Path) -> Iterator[str]:
    """Start ``livecells serve`` (``command``) and yield its URL once ``/api`` answers."""
    port = free_port()
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [*command, f"--port={port}", "--ServerApp.port_retries=0", "--no-browser",
             "--ServerApp.ip=127.0.0.1", "--IdentityProvider.token=fresh"],
            stdout=sink, stderr=subprocess.STDOUT, env=env, cwd=log.parent,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert process.poll() is None, log.read_text()[-3000:]
            try:
                if httpx.get(f"{url}api", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            raise AssertionError(f"livecells serve did not answer: {log.read_text()[-3000:]}")
        yield url
    finally:
        process.terminate()
        process.wait(20)


@pytest.mark.skipif(os.geteuid() != 0, reason="checks what root gets (CI runs as root)")
def test_as_root_serve_says_what_allow_root_means_and_serves(tmp_path: Path) -> None:
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "index.md").write_text("# Hello\n\n```{code-cell} python\n1 + 1\n```\n")
    log = tmp_path / "serve.log"
    command = [sys.executable, "-m", "livecells", "serve", str(tmp_path / "book")]
    with serve_until_ready(command, env=dict(os.environ), log=log) as url:
        page = httpx.get(f"{url}?token=fresh", follow_redirects=True, timeout=30)
        assert page.status_code == 200
        assert "<h1" in page.text and "Hello" in page.text
        # Only livecells: jupyter_server_terminals (installed beside it) is not loaded.
        assert httpx.get(f"{url}api/terminals?token=fresh", timeout=10).status_code == 404
    first = log.read_text().splitlines()[0]
    assert first == (
        "livecells serve: running as root (--allow-root): kernels run as root too, with "
        "root's access to this machine; serve as an unprivileged user where that matters"
    )


def test_with_extensions_loads_the_other_server_extensions(tmp_path: Path) -> None:
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "index.md").write_text("# Hello\n")
    log = tmp_path / "serve.log"
    command = [sys.executable, "-m", "livecells", "serve", str(tmp_path / "book"),
               "--with-extensions"]  # fmt: skip
    with serve_until_ready(command, env=dict(os.environ), log=log) as url:
        assert httpx.get(f"{url}api/terminals?token=fresh", timeout=10).status_code == 200


def _without_node(tmp_path: Path) -> str:
    """A PATH like ours in which no ``node``, ``npm`` or ``npx`` can be found."""
    hidden = {"node", "nodejs", "npm", "npx", "corepack"}
    entries: list[str] = []
    for entry in os.environ.get("PATH", "").split(os.pathsep):
        folder = Path(entry)
        if not any((folder / name).exists() for name in hidden):
            entries.append(entry)
            continue
        shadow = tmp_path / f"path-{len(entries)}"
        shadow.mkdir()
        for item in folder.iterdir() if folder.is_dir() else []:
            if item.name not in hidden:
                (shadow / item.name).symlink_to(item)
        entries.append(str(shadow))
    return os.pathsep.join(entries)


@pytest.mark.timeout(1500)
def test_the_readme_commands_work_from_a_fresh_clone_in_a_fresh_venv(tmp_path: Path) -> None:
    """``pip install -e .`` and ``pip install -e '.[test]'`` in a new venv, from a clone of
    this repository, on a PATH with no Node.js: the first serves the example book, the second
    gives a test run that finds its browser and the kernels of the venv."""
    if not (ROOT / ".git").exists():
        pytest.skip("needs the git repository to clone")
    clone, venv = tmp_path / "clone", tmp_path / "venv"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "JUPYTER_PATH"}},
        "PATH": os.pathsep.join([str(venv / "bin"), _without_node(tmp_path)]),
        "VIRTUAL_ENV": str(venv),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    assert shutil.which("node", path=env["PATH"]) is None
    install, test = (command.split(" && ")[0] for command in readme_commands())
    pip = str(venv / "bin" / "pip")
    first = subprocess.run(
        install.replace("pip", pip, 1), shell=True, cwd=clone, env=env,
        capture_output=True, text=True,
    )  # fmt: skip
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert (clone / "src" / "livecells" / "static" / "livecells.js").is_file()

    log = tmp_path / "serve.log"
    command = [str(venv / "bin" / "livecells"), "serve", str(clone / "examples")]
    with serve_until_ready(command, env=env, log=log) as url:
        page = httpx.get(f"{url}?token=fresh", follow_redirects=True, timeout=30)
        assert page.status_code == 200
        assert page.url.path.startswith("/livecells/")
        assert 'id="livecells-config"' in page.text

    second = subprocess.run(
        test.replace("pip", pip, 1), shell=True, cwd=clone, env=env,
        capture_output=True, text=True,
    )  # fmt: skip
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    tests = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "0",
         "tests/test_execute.py::test_install_requirements_puts_them_in_the_kernels_environment_first",
         "tests/browser/test_pages.py::test_shift_enter_runs_the_focused_cell"],
        cwd=clone, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert tests.returncode == 0, tests.stdout[-4000:]
    assert "2 passed" in tests.stdout
