"""``livecells serve`` listens at once, whatever its pages' wheels cost: a Pyodide page's wheels
are resolved in the background (its panel says it is preparing, and the page reloads when they
are ready), and a Binder page's ``requirements.txt`` (MyST's ``jupyter: true``) is never
resolved at all. Pip talks to a local package index (tests/packageindex.py) that holds the
Pyodide page's project until the test releases it, and the Binder page's forever."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, expect
from tests.conftest import page_config_of, start_livecells_serve
from tests.packageindex import package_index

KERNELSPEC = "kernelspec: {name: python3, display_name: Python 3}\n"
CELL = "```{code-cell} python\nimport quick\nquick.VALUE\n```\n"
WAIT = 60.0  # s: a deadline for events on 2 busy cores


def test_serve_listens_while_a_pyodide_pages_wheels_resolve_and_never_resolves_binders(
    browser: Browser, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "book"
    (source / "lite").mkdir(parents=True)
    (source / "myst.yml").write_text("version: 1\nproject:\n  github: o/book\n  jupyter: true\n")
    (source / "binder.md").write_text(f"---\n{KERNELSPEC}---\n# Binder\n{CELL}")
    (source / "requirements.txt").write_text("slow\n")  # Binder's: pip would wait forever
    (source / "lite" / "page.md").write_text(f"---\n{KERNELSPEC}jupyter: lite\n---\n{CELL}")
    (source / "lite" / "requirements.txt").write_text("quick\n")
    projects = {"quick": "VALUE = 1\n", "slow": "VALUE = 2\n"}
    with package_index(tmp_path / "index", projects) as index:
        index.hold("slow")
        release = index.hold("quick")
        for name in [name for name in os.environ if name.startswith("PIP_")]:
            monkeypatch.delenv(name)
        for name, value in index.pip_environment(tmp_path / "cache").items():
            monkeypatch.setenv(name, value)
        # Returns once the server answers: with the wheels resolved before it listens, pip
        # held on "quick" would keep it from ever answering.
        server = start_livecells_serve(source)
        context = browser.new_context()
        try:
            assert index.was_asked("quick").wait(WAIT), "the wheels were never resolved"
            cookies = {"Authorization": f"token {server.token}"}
            lite = httpx.get(f"{server.url}livecells/lite/page.html", headers=cookies)
            assert lite.status_code == 200
            assert page_config_of(lite.text)["pyodide"]["preparing"] is True
            binder = page_config_of(
                httpx.get(f"{server.url}livecells/binder.html", headers=cookies).text
            )
            assert (binder["runtime"], binder["configured"]) == ("livecells", "binder")
            assert binder["runtimes"] == ["livecells", "binder"]
            assert binder["binder"]["repo"] == "https://github.com/o/book"

            page = context.new_page()
            page.goto(f"{server.url}livecells/?token={server.token}")
            page.goto(f"{server.url}livecells/lite/page.html")
            panel = page.locator(".lc-panel")
            expect(panel).to_have_attribute("data-status", "preparing")
            expect(panel.locator(".lc-status")).to_contain_text("Preparing this page's Python")
            expect(page.locator("button.lc-power")).to_be_disabled()
            # A page on the server's kernels, open meanwhile, is not reloaded when the wheels
            # are ready: its reader may be running cells.
            changes = f"{server.url}livecells/api/changes"
            with httpx.stream(
                "GET", changes, params={"path": "binder.md"}, headers=cookies, timeout=WAIT
            ) as other:
                other_lines = other.iter_lines()
                assert next(other_lines) == ": watching"
                with page.expect_event("load", timeout=WAIT * 1000):
                    release.set()  # the page reloads by itself once they are ready
                beats = 0
                for line in other_lines:  # three heartbeats (each 5 beats) after the reload
                    assert line != "event: changed"
                    beats += line == ": still watching"
                    if beats == 3:
                        break
                assert beats == 3
            expect(panel).not_to_have_attribute("data-status", "preparing")
            config = page.evaluate("window.livecells.config")
            assert config["pyodide"]["preparing"] is False
            assert config["pyodide"]["lockFileURL"] == "../_livecells/wheels/pyodide-lock.json"
            lock = page.evaluate(
                "fetch('../_livecells/wheels/pyodide-lock.json').then((r) => r.json())"
            )
            assert sorted(lock["packages"]) == ["micropip", "packaging", "quick"]

            page.goto(f"{server.url}livecells/binder.html")
            expect(panel.locator(".lc-status")).to_contain_text(
                "This site's server, for this preview (the site is configured for Binder)"
            )
            page.locator(".lc-settings-button").click()
            options = page.locator(".lc-runtime-option")
            expect(options).to_have_text(
                [
                    "This site's server, for this preview (the site is configured for Binder)",
                    "Binder (the site's configured runtime)",
                ]
            )
            assert not index.was_asked("slow").is_set()
        finally:
            context.close()
            server.stop()
