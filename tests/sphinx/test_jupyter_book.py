"""A Jupyter Book 1 book, built by jupyter-book 1.x in a virtual environment of its own
(created on first use under ``.test-build/``, which git ignores, and reused), with
``sphinx: extra_extensions: [livecells.sphinx]`` added to a book that used thebe."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from tests.conftest import start_livecells_serve
from tests.sphinx.conftest import PROJECTS, SRC, page_config_of

VENV = Path(__file__).resolve().parents[2] / ".test-build" / "jupyter-book-1"
JUPYTER_BOOK = VENV / "bin" / "jupyter-book"
BOOT = 120_000
LOAD = 30_000  # ms: a page and its module scripts, on 2 busy cores


def jupyter_book() -> Path:
    """jupyter-book 1.x in its own environment (it pins Sphinx 7 and older MyST-NB); the
    shared environment's packages stay visible for livecells' own dependencies."""
    if not JUPYTER_BOOK.is_file():
        subprocess.run(
            [sys.executable, "-m", "venv", "--system-site-packages", str(VENV)], check=True
        )
        subprocess.run(
            [str(VENV / "bin" / "pip"), "install", "-q", "jupyter-book>=1,<2"],
            check=True,
            timeout=1200,
        )
    return JUPYTER_BOOK


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("jb1") / "book"
    shutil.copytree(PROJECTS / "jupyterbook", root)
    env = {**os.environ, "PYTHONPATH": SRC}
    done = subprocess.run(
        [str(jupyter_book()), "build", str(root)],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return root / "_build" / "html"


def test_launch_buttons_and_repository_become_binder_on_the_books_repository(book: Path) -> None:
    html = (book / "analysis.html").read_text()
    config = page_config_of(html)
    assert config["runtime"] == "binder"
    assert config["binder"] == {
        "repo": "owner/jb1-book",
        "ref": "main",
        "url": "https://mybinder.org/",
        "provider": "github",
    }
    # Jupyter Book 1 always loads sphinx-thebe: its scripts (thebe from unpkg) are left out
    for page in ("analysis.html", "intro.html"):  # with cells and without
        text = (book / page).read_text()
        assert "sphinx-thebe.js" not in text, page
        assert "unpkg.com/thebe" not in text, page
    assert (book / "_static" / "livecells" / "livecells.js").is_file()


def test_the_books_live_code_button_starts_the_serving_kernels(
    book: Path, browser: Browser
) -> None:
    server = start_livecells_serve(book)
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    try:
        page = context.new_page()
        page.set_default_timeout(30_000)
        # Every violation of the page's CSP, from before its first script on.
        page.add_init_script(
            "window.__violations = [];"
            "document.addEventListener('securitypolicyviolation', e =>"
            "  __violations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sample}`));"
        )
        # The book's index.html redirects (to intro.html): log in on the page itself.
        response = page.goto(f"{server.url}livecells/analysis.html?token={server.token}")
        assert response is not None and "script-src" in response.headers["content-security-policy"]
        cells = page.locator(".lc-cell")
        expect(cells).to_have_count(2, timeout=LOAD)
        # sphinx-book-theme's "Live Code" launch button: an onclick handler, which runs under
        # the served page's CSP by its hash.
        launch = page.locator("button[onclick='initThebeSBT()']")
        expect(launch).to_have_count(1, timeout=LOAD)
        page.locator("button[aria-label='Launch interactive content']").click()
        launch.click()
        expect(cells.nth(0).locator(".lc-outputs")).to_have_text("45", timeout=BOOT)
        expect(cells.nth(1).locator(".lc-outputs")).to_contain_text("hidden 90", timeout=LOAD)
        assert page.locator(".lc-panel").get_attribute("data-runtime") == "livecells"
        assert page.locator(".thebe-launch-button").count() == 0
        # The theme's scripts (inline and its own files) all ran under the policy.
        assert page.evaluate("window.__violations") == []
    finally:
        context.close()
        server.stop()
