"""``livecells.sphinx`` in real Sphinx builds: what it writes into the build, what it reads from
``conf.py`` (its own settings, sphinx-thebe's), and what it refuses."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import pytest
from tests.sphinx.conftest import html_of, page_config_of, project, sphinx_build

from livecells.pageconfig import Served
from livecells.sphinx.built import is_built_html, served_page


def sha384(path: Path) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(path.read_bytes()).digest()).decode()


@pytest.fixture(scope="module")
def mystnb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = project(tmp_path_factory.mktemp("sphinx"), "mystnb")
    notebook = (
        "---\njupytext:\n  text_representation:\n    format_name: myst\n"
        "kernelspec:\n  name: python3\n  display_name: Python 3\n{extra}---\n"
        "# {title}\n\n```{{code-cell}} python\n1 + 1\n```\n"
    )
    (root / "off.md").write_text(notebook.format(extra="livecells: false\n", title="Off"))
    on = notebook.format(extra="livecells:\n  autoRun: false\n", title="On")
    (root / "on.md").write_text(on)
    done = sphinx_build(root)
    assert done.returncode == 0, done.stderr
    return html_of(root)


def test_pages_with_cells_get_the_page_config_and_the_client_with_its_hashes(
    mystnb: Path,
) -> None:
    html = (mystnb / "analysis.html").read_text()
    config = page_config_of(html)
    assert config["runtime"] == "pyodide"
    assert config["runtimes"] == ["pyodide"]
    assert config["staticUrl"] == "_static/livecells/"
    assert config["cells"] == {"selector": ".thebe", "input": "pre", "output": ".output"}
    static = mystnb / "_static" / "livecells"
    entry = re.search(r'<script integrity="([^"]+)" type="module" src="([^"]+)"', html)
    assert entry is not None
    assert entry.group(2).split("?")[0] == "_static/livecells/livecells.js"
    assert entry.group(1) == sha384(static / "livecells.js")
    style = re.search(
        r'<link integrity="([^"]+)" rel="stylesheet" type="text/css" href="([^"?]+)', html
    )
    assert style is not None and style.group(2) == "_static/livecells/livecells-sphinx.css"
    assert style.group(1) == sha384(static / "livecells-sphinx.css")
    importmap = re.search(r'<script type="importmap">(.*?)</script>', html)
    assert importmap is not None
    for chunk in sorted((static / "chunks").glob("*.js")):
        assert f'"./_static/livecells/chunks/{chunk.name}":"{sha384(chunk)}"' in importmap.group(1)
    # the config comes before the import map, and that before the entry module
    assert html.index('id="livecells-config"') < html.index("importmap") < entry.start()


def test_the_build_is_self_hosted_and_katex_free(mystnb: Path) -> None:
    static = mystnb / "_static" / "livecells"
    assert (static / "pyodide" / "pyodide.asm.wasm").is_file()
    assert (static / "pyodide-worker.js").is_file()
    assert not (static / "katex").exists()
    assert not (static / "pyodide-node.mjs").exists()
    assert not (static / "livecells.css").exists()


def test_pages_without_cells_and_pages_switched_off_load_nothing(mystnb: Path) -> None:
    on = page_config_of((mystnb / "on.html").read_text())
    assert (on["runtime"], on["autoRun"]) == ("pyodide", False)  # the page's own options
    for page in ("prose.html", "off.html"):
        html = (mystnb / page).read_text()
        assert "livecells" not in html, page


def test_the_stylesheet_leaves_the_theme_alone_and_follows_its_dark_mode(mystnb: Path) -> None:
    css = (mystnb / "_static" / "livecells" / "livecells-sphinx.css").read_text()
    assert ".admonition" not in css
    assert not re.search(r"[{;]\s*color-scheme:", css)
    assert "lc-site" not in css
    assert ".lc-source {" not in css  # the theme styles its own code blocks
    assert 'html[data-theme="dark"], body[data-theme="dark"] { --lc-fg: #e6edf3;' in css
    assert '@media (prefers-color-scheme: dark) {\nbody[data-theme="auto"] { --lc-fg:' in css
    assert "@media (prefers-color-scheme: dark) {\n:root" not in css  # alabaster stays light


def test_an_unknown_livecells_jupyter_key_fails_the_build_naming_it(tmp_path: Path) -> None:
    root = project(tmp_path, "thebe", 'livecells_jupyter = {"lite": True, "colab": True}')
    done = sphinx_build(root)
    assert done.returncode == 2
    assert (
        "conf.py: livecells_jupyter: unknown key 'colab'; allowed: lite, binder, server, "
        "kernelName, disableSessionSaving"
    ) in done.stderr
    # MyST's math keys are the theme's business here
    root = project(tmp_path / "math", "thebe", 'livecells_jupyter = {"mathjaxUrl": "x"}')
    done = sphinx_build(root)
    assert done.returncode == 2
    assert "conf.py: livecells_jupyter: unknown key 'mathjaxUrl'; allowed: lite," in done.stderr


def test_a_notebooks_metadata_cannot_break_out_of_the_page_config(tmp_path: Path) -> None:
    root = project(tmp_path, "mystnb")
    hostile = "x</script><script>alert(1)</script><!--"
    text = (root / "analysis.ipynb").read_text()
    (root / "analysis.ipynb").write_text(text.replace('"name": "python3"', f'"name": "{hostile}"'))
    assert sphinx_build(root).returncode == 0
    html = (html_of(root) / "analysis.html").read_text()
    assert page_config_of(html)["kernelName"] == hostile
    assert "<script>alert(1)" not in html


def test_a_wrong_page_option_fails_the_build_naming_the_page(tmp_path: Path) -> None:
    root = project(tmp_path, "mystnb")
    text = (root / "analysis.ipynb").read_text()
    (root / "analysis.ipynb").write_text(
        text.replace(
            ' "metadata": {\n  "kernelspec"',
            ' "metadata": {\n  "livecells": {"autoRun": 1}, "kernelspec"',
        )
    )
    done = sphinx_build(root)
    assert done.returncode == 2, done.stderr
    assert "analysis: livecells.autoRun: expected a boolean, got 1" in done.stderr


def test_a_wrong_livecells_option_fails_the_build_naming_it(tmp_path: Path) -> None:
    root = project(tmp_path, "thebe", 'livecells = {"runtime": "colab"}')
    done = sphinx_build(root)
    assert done.returncode == 2
    assert "conf.py: livecells.runtime: expected one of livecells, server, binder, pyodide" in (
        done.stderr
    )


def test_allow_widget_esm_reaches_the_pages_config(tmp_path: Path) -> None:
    root = project(tmp_path, "thebe", 'livecells = {"allowWidgetESM": True}')
    done = sphinx_build(root)
    assert done.returncode == 0, done.stderr
    assert page_config_of((html_of(root) / "index.html").read_text())["allowWidgetESM"] is True
    off = project(tmp_path / "off", "thebe")
    assert sphinx_build(off).returncode == 0
    assert page_config_of((html_of(off) / "index.html").read_text())["allowWidgetESM"] is False


def test_a_thebe_config_alone_is_read_as_sphinx_thebe_means_it(tmp_path: Path) -> None:
    root = project(tmp_path, "thebe")
    done = sphinx_build(root)
    assert done.returncode == 0, done.stderr
    assert (
        "WARNING: livecells: thebe_config: 'codemirror-theme' has no meaning here: the editor "
        "follows the theme's light or dark mode"
    ) in done.stderr
    config = page_config_of((html_of(root) / "index.html").read_text())
    assert config["runtime"] == "binder"
    assert config["binder"] == {
        "repo": "owner/thebe-repo",
        "ref": "main",
        "url": "https://mybinder.org/",
        "provider": "github",
    }
    assert config["cells"] == {
        "selector": "div.highlight-python",
        "input": "pre",
        "output": ".output",
    }


def test_livecells_jupyter_true_is_binder_on_the_thebe_base_repository(tmp_path: Path) -> None:
    root = project(tmp_path, "mystnb", "livecells_jupyter = True")
    assert sphinx_build(root).returncode == 0
    config = page_config_of((html_of(root) / "analysis.html").read_text())
    assert config["runtime"] == "binder"
    assert config["binder"]["repo"] == "executablebooks/thebe-binder-base"
    lite = project(
        tmp_path / "lite",
        "mystnb",
        'livecells_jupyter = "lite"\nlivecells = {"runtimes": ["pyodide"]}',
    )
    assert sphinx_build(lite).returncode == 0
    config = page_config_of((html_of(lite) / "analysis.html").read_text())
    assert (config["runtime"], config["runtimes"]) == ("pyodide", ["pyodide"])


# -- served by livecells serve ----------------------------------------------------------------

SERVED = Served(base_url="/base/", open_in_jupyter=None, watch=False, auto_run=None)


def test_a_built_folder_is_told_from_a_source_folder(mystnb: Path, tmp_path: Path) -> None:
    assert is_built_html(mystnb)
    assert not is_built_html(mystnb.parent.parent)  # the sources
    (tmp_path / "index.html").write_text("<p>")
    (tmp_path / "_static").mkdir()
    (tmp_path / "myst.yml").write_text("project: {}\n")
    assert not is_built_html(tmp_path)


def test_served_pages_put_the_serving_kernels_first(mystnb: Path) -> None:
    html = (mystnb / "analysis.html").read_text()
    served = served_page(html, SERVED)
    config = page_config_of(served)
    assert config["runtime"] == "livecells"
    assert config["runtimes"] == ["livecells", "pyodide"]
    assert config["baseUrl"] == "/base/"
    public = page_config_of(served_page(html, SERVED, switchable={"livecells", "pyodide"}))
    assert public["runtimes"] == ["livecells", "pyodide"]
    # everything but the config is as it was
    before = html.split('id="livecells-config"')
    after = served.split('id="livecells-config"')
    assert before[0] == after[0]
    assert before[1].split("</script>", 1)[1] == after[1].split("</script>", 1)[1]


def test_served_pages_without_a_live_config_are_sent_as_they_are(mystnb: Path) -> None:
    html = (mystnb / "prose.html").read_text()
    assert served_page(html, SERVED) == html
    off = '<script id="livecells-config" type="application/json">{"runtime":null}</script>'
    assert served_page(off, SERVED) == off
    broken = '<script id="livecells-config" type="application/json">{nope</script>'
    assert served_page(broken, SERVED) == broken


def test_always_load_puts_the_client_on_pages_without_cells(tmp_path: Path) -> None:
    for always in (False, True):
        root = project(tmp_path / str(always), "thebe", f'thebe_config["always_load"] = {always}')
        (root / "other.rst").write_text(":orphan:\n\nOther\n=====\n\nNo code.\n")
        assert sphinx_build(root).returncode == 0
        html = (html_of(root) / "other.html").read_text()
        assert ('id="livecells-config"' in html) is always


def test_e_books_get_no_client(tmp_path: Path) -> None:
    root = project(tmp_path, "mystnb")
    assert sphinx_build(root, builder="epub").returncode == 0
    epub = root / "_build" / "epub"
    assert not (epub / "_static" / "livecells").exists()
    assert "livecells" not in (epub / "analysis.xhtml").read_text()
