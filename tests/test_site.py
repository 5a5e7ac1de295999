"""``livecells build``: a folder becomes a static site."""

from __future__ import annotations

import html as html_lib
import json
import re
import shutil
import time
from pathlib import Path

import pytest
from tests.conftest import page_config_of

from livecells.cli import main
from livecells.site import Site, build

EXAMPLES = Path(__file__).parents[1] / "examples"


@pytest.fixture
def book(tmp_path: Path) -> Path:
    root = tmp_path / "book"
    shutil.copytree(EXAMPLES, root)
    (root / "images").mkdir()
    (root / "images" / "logo.png").write_bytes(b"\x89PNG\r\n")
    return root


def test_every_page_the_index_the_client_and_the_assets_are_written(
    book: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    built = build(book, out)
    assert built.problems == []
    assert sorted(p.as_posix() for p in built.pages) == [
        "basics.md",
        "index.md",
        "interactive.md",
        "outputs.ipynb",
    ]
    for name in ["index.html", "basics.html", "outputs.html", "interactive.html"]:
        assert (out / name).is_file()
    assert (out / "_livecells" / "livecells.js").is_file()
    assert (out / "images" / "logo.png").read_bytes() == b"\x89PNG\r\n"
    assert not (out / "livecells.yml").exists()
    assert not (out / "basics.md").exists()


def test_pages_follow_the_table_of_contents_with_prev_and_next(book: Path) -> None:
    site = Site(book, default_runtime="pyodide")
    assert [p.as_posix() for p in site.pages()][:4] == [
        "index.md",
        "basics.md",
        "outputs.ipynb",
        "interactive.md",
    ]
    html = site.render(Path("basics.md"))
    assert 'rel="prev" href="index.html">← Welcome' in html
    assert 'rel="next" href="outputs.html">Rich outputs →' in html
    assert 'aria-current="page">Basics</a>' in html


def test_urls_are_relative_so_the_site_works_under_any_prefix(book: Path, tmp_path: Path) -> None:
    (book / "deep" / "er").mkdir(parents=True)
    (book / "deep" / "er" / "page.md").write_text("# Deep\n")
    build(book, tmp_path / "out")
    html = (tmp_path / "out" / "deep" / "er" / "page.html").read_text()
    assert 'href="../../_livecells/livecells.css"' in html
    assert page_config_of(html)["runtime"] is None  # no code on this page
    assert 'href="../../index.html"' in html


def test_a_static_build_runs_on_pyodide_by_default(book: Path, tmp_path: Path) -> None:
    build(book, tmp_path / "out")
    config = page_config_of((tmp_path / "out" / "basics.html").read_text())
    assert config["runtime"] == "pyodide"
    assert config["staticUrl"] == "_livecells/"


def test_a_bad_page_is_reported_and_the_others_still_written(
    book: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (book / "broken.ipynb").write_text("{")
    status = main(["build", str(book), "-o", str(tmp_path / "out")])
    assert status == 2
    err = capsys.readouterr().err
    assert "livecells build: error: broken.ipynb: not a notebook: invalid JSON" in err
    assert (tmp_path / "out" / "basics.html").is_file()


def test_bad_config_is_one_line_naming_the_file_and_key(
    book: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (book / "livecells.yml").write_text("project:\n  jupyter:\n    nonsense: 1\n")
    assert main(["build", str(book), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("livecells build: error: ") and "livecells.yml" in err
    assert "nonsense" in err and len(err.splitlines()) == 1


def test_one_page_can_point_at_another_binder_repository_and_kernel(tmp_path: Path) -> None:
    (tmp_path / "livecells.yml").write_text(
        "project:\n  jupyter:\n    binder: {repo: org/python-env}\n"
    )
    (tmp_path / "py.md").write_text("```{code-cell} python\n1\n```\n")
    (tmp_path / "r.md").write_text(
        "---\njupyter:\n  binder: {repo: org/r-env, ref: v2}\n  kernelName: ir\n"
        "kernelspec: {name: ir, display_name: R, language: R}\n---\n"
        "```{code-cell} r\n1 + 1\n```\n"
    )
    site = Site(tmp_path, default_runtime="pyodide")
    python = page_config_of(site.render(Path("py.md")))
    r = page_config_of(site.render(Path("r.md")))
    assert python["binder"] == {
        "repo": "org/python-env",
        "ref": "HEAD",  # MyST's default
        "url": "https://mybinder.org/",
        "provider": "github",
    }
    assert (python["runtime"], python["kernelName"]) == ("binder", "python3")
    assert r["binder"] == {
        "repo": "org/r-env",
        "ref": "v2",
        "url": "https://mybinder.org/",
        "provider": "github",
    }
    assert (r["runtime"], r["kernelName"]) == ("binder", "ir")
    assert r["runtimes"] == ["binder"]  # no Pyodide for R


def test_built_pages_carry_integrity_hashes_a_policy_and_a_headers_file(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "page.md").write_text("```{code-cell} python\n1\n```\n")
    build(tmp_path / "src", tmp_path / "out")
    html = (tmp_path / "out" / "page.html").read_text()
    assert re.search(
        r'<script type="module" src="_livecells/livecells.js" integrity="sha384-', html
    )
    assert re.search(r'livecells.css" integrity="sha384-', html)
    # Integrity keys must be URL-like ("./", "../", "/"): Chromium ignores bare ones.
    assert '"integrity":{"./_livecells/chunks/' in html
    config = page_config_of(html)
    assert config["math"] == {"engine": "katex", "integrity": config["math"]["integrity"]}  # type: ignore[index]
    assert str(config["math"]["integrity"]).startswith("sha384-")  # type: ignore[index]
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html)
    assert policy is not None
    assert "script-src 'self'" in html_lib.unescape(policy.group(1))
    assert "'wasm-unsafe-eval'" in html_lib.unescape(policy.group(1))
    headers = (tmp_path / "out" / "_headers").read_text()
    assert "Cross-Origin-Embedder-Policy: require-corp" in headers
    assert not (tmp_path / "out" / "_livecells" / "pyodide-node.mjs").exists()
    assert (tmp_path / "out" / "_livecells" / "pyodide" / "pyodide.asm.wasm").is_file()


# -- hostile input ---------------------------------------------------------------------------


def test_a_page_config_holding_script_markup_is_escaped_in_its_script_element(
    book: Path, tmp_path: Path
) -> None:
    """``<!--<script`` inside a script element would turn the rest of the page into script
    data; ``</script>`` would end it early. The JSON carries them as \\u escapes."""
    hostile = "<!--<script>&</script>\u2028"
    (book / "hostile.md").write_text(
        "---\nkernelspec: {name: python3, display_name: Python 3}\n"
        f"jupyter:\n  server: {{url: 'http://127.0.0.1:1/{hostile}', token: '{hostile}'}}\n---\n"
        "```{code-cell} python\n1\n```\n"
    )
    assert build(book, tmp_path / "out").problems == []
    html = (tmp_path / "out" / "hostile.html").read_text()
    script = re.search(r'id="livecells-config">(.*?)</script>', html)
    assert script is not None
    assert not set("<>&\u2028") & set(script.group(1))
    assert "\\u003c!--\\u003cscript\\u003e\\u0026\\u003c/script\\u003e\\u2028" in script.group(1)
    server = json.loads(script.group(1))["server"]
    assert server == {"url": f"http://127.0.0.1:1/{hostile}/", "token": hostile}


def test_a_yaml_bomb_in_a_pages_frontmatter_is_reported_at_once_naming_the_page(
    book: Path, tmp_path: Path
) -> None:
    from tests.test_config import MERGE_BOMB

    (book / "bomb.md").write_text(f"---\ntitle: Bomb\n{MERGE_BOMB}---\n# Bomb\n")
    started = time.monotonic()
    built = build(book, tmp_path / "out")
    assert time.monotonic() - started < 10
    (problem,) = built.problems
    assert problem.startswith("bomb.md: frontmatter refused: with its aliases expanded it has ")
    assert (tmp_path / "out" / "basics.html").is_file()


@pytest.mark.parametrize(
    ("name", "target", "message"),
    [
        ("data.csv", "{outside}/secret.txt", "to "),
        ("data", "{outside}", "to "),
        ("intro.md", "{outside}/page.md", "to "),
        ("self.txt", "self.txt", "that cannot"),
        ("loop", "loop/inner", "that cannot"),
        ("gone.png", "{book}/missing.png", "that cannot"),
    ],
    ids=["file-outside", "dir-outside", "page-outside", "self", "loop", "broken"],
)
def test_a_symlink_out_of_the_folder_or_that_loops_is_refused_naming_it(
    book: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    target: str,
    message: str,
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("the author's secret")
    (outside / "page.md").write_text("# A page from elsewhere\n")
    link = book / name
    link.symlink_to(target.format(outside=outside, book=book))
    status = main(["build", str(book), "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith(f"livecells build: error: {link.name}: a symbolic link {message}")
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    if message == "to ":
        assert f"outside {book.resolve()}: a build copies only what is inside the folder" in err
    assert not (tmp_path / "out").exists() or not any(
        "secret" in path.read_text(errors="replace")
        for path in (tmp_path / "out").rglob("*")
        if path.is_file() and path.stat().st_size < 1_000_000
    )


def test_a_symlink_within_the_folder_is_copied_as_its_target(book: Path, tmp_path: Path) -> None:
    (book / "logo-link.png").symlink_to(book / "images" / "logo.png")
    assert build(book, tmp_path / "out").problems == []
    assert (tmp_path / "out" / "logo-link.png").read_bytes() == b"\x89PNG\r\n"


def test_serve_tells_a_pages_warnings_once_and_again_when_they_come_back(tmp_path: Path) -> None:
    """Under serve (mystmd watching), each warning of a page is told once; one the author fixed
    is forgotten (not kept for ever), and told again if it comes back."""
    (tmp_path / "index.md").write_text("# Home\n\nSee [gone](nowhere).\n\n:::{nosuch}\n:::\n")
    site = Site(tmp_path, default_runtime="livecells")
    site.watch()
    page = Path("index.md")
    link = "index.md:3: link to 'nowhere' leads to no page or label of this book; shown as text"
    directive = "index.md:5: unknown directive: nosuch"
    try:
        site.render(page)
        assert sorted(site.untold_warnings(page)) == [link, directive]
        site.render(page)
        assert site.untold_warnings(page) == []
        (tmp_path / "index.md").write_text("# Home\n\nSee [gone](nowhere).\n")
        deadline = time.monotonic() + 30
        while directive in site.myst(fresh=True).warnings and time.monotonic() < deadline:
            time.sleep(0.05)
        site.render(page)
        assert site.untold_warnings(page) == []
        assert directive not in site.warnings[None]
        (tmp_path / "index.md").write_text("# Home\n\n:::{nosuch}\n:::\n")
        back = "index.md:3: unknown directive: nosuch"
        while back not in site.myst(fresh=True).warnings and time.monotonic() < deadline:
            time.sleep(0.05)
        site.render(page)
        assert site.untold_warnings(page) == [back]
    finally:
        site.close()
