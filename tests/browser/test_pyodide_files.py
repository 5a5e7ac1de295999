"""Python in the reader's browser sees the page's own files (``livecells.pagefiles`` and the
worker's ``files.ts``): a built site served by a plain static server, with and without
cross-origin isolation; the same notebooks under ``livecells run --runtime pyodide``."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect
from tests.conftest import livecells_cli, start_livecells_serve

from livecells.site import build

BOOT = 90_000  # ms: loading Pyodide on 2 busy cores
READY = re.compile(r"^(ready|idle)$")
HEAD = "---\ntitle: {title}\nkernelspec: {{name: python3, display_name: Python 3}}\n---\n"
READS = """```{code-cell} python
import csv, os
print(os.getcwd().rsplit("/", 1)[-1], sorted(os.listdir()), os.listdir("data"))
rows = list(csv.DictReader(open("prices.csv")))
print(len(rows), sum(float(row["price"]) for row in rows))
print(open("data/note.txt").read().strip())
```
"""
MISSING_ERROR = "FileNotFoundError: [Errno 44] No such file or directory: 'prices.csv'"
OpenPage = Callable[[str], Page]


def page(title: str, *cells: str) -> str:
    blocks = "".join(f"```{{code-cell}} python\n{code}\n```\n" for code in cells)
    return HEAD.format(title=title) + blocks


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("files-book")
    (root / "livecells.yml").write_text("project:\n  title: Files\n  jupyter: lite\n")
    (root / "index.md").write_text("# Files\n")
    complete = root / "complete"
    (complete / "data").mkdir(parents=True)
    (complete / "files.md").write_text(HEAD.format(title="Reads") + READS)
    (complete / "prices.csv").write_text("day,price\n1,10.5\n2,12\n3,9.5\n")
    (complete / "data" / "note.txt").write_text("beside, in a sub-folder\n")
    missing = root / "missing"  # the same notebook, its data not there
    missing.mkdir()
    (missing / "data").mkdir()
    (missing / "data" / "note.txt").write_text("beside, in a sub-folder\n")
    (missing / "files.md").write_text(HEAD.format(title="Reads") + READS)
    tampered = root / "tampered"
    tampered.mkdir()
    (tampered / "values.csv").write_text("1,2,3\n")
    (tampered / "read.md").write_text(page("Tampered", "open('values.csv').read()"))
    lazy = root / "lazy"
    lazy.mkdir()
    (lazy / "blob.bin").write_bytes(b"\0" * 3_000_000)
    (lazy / "stat.md").write_text(
        page("Lazy", "import os\nprint(os.listdir(), os.path.getsize('blob.bin'))")
    )
    writes = root / "writes"
    writes.mkdir()
    (writes / "log.txt").write_text("first\n")
    (writes / "append.md").write_text(
        page(
            "Writes",
            "import os\nwith open('log.txt', 'a') as f: f.write('second\\n')\n"
            "with open('new.txt', 'w') as f: f.write('made here')\n"
            "print(open('log.txt').read().split(), open('new.txt').read(), sorted(os.listdir()))",
        )
    )
    gone = root / "gone"
    gone.mkdir()
    (gone / "x.csv").write_text("x\n")
    (gone / "read.md").write_text(page("Gone", "open('x.csv').read()"))
    imports = root / "imports"
    imports.mkdir()
    (imports / "helper.py").write_text("def greet():\n    return 'from a module beside the page'\n")
    (imports / "page.md").write_text(page("Imports", "import helper\nhelper.greet()"))
    bad = root / "badlisting"
    bad.mkdir()
    (bad / "x.csv").write_text("x\n")
    (bad / "page.md").write_text(page("Bad listing", "print('never')"))
    return root


@pytest.fixture(scope="module")
def site(source: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("files-site")
    built = build(source, output)
    assert built.problems == []
    # Changed on the host after the build: refused.
    (output / "tampered" / "values.csv").write_text("1,2,4\n")
    # Deleted from the host after the build.
    (output / "gone" / "x.csv").unlink()
    # A listing that names a file outside the site.
    listing = output / "_livecells" / "files" / "badlisting" / "listing.json"
    data = json.loads(listing.read_text())
    data["files"][0]["path"] = "../../etc/passwd"
    listing.write_text(json.dumps(data))
    return output


@pytest.fixture
def requests() -> list[str]:
    return []


@pytest.fixture
def open_page(browser: Browser, base_url: str, requests: list[str]) -> Iterator[OpenPage]:
    context = browser.new_context()
    context.on("request", lambda request: requests.append(request.url))

    def open_(url: str) -> Page:
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.goto(base_url + url)
        return page

    yield open_
    context.close()


def run_all(page: Page) -> None:
    page.locator("button.lc-power").click()
    expect(page.locator(".lc-panel")).to_have_attribute("data-status", READY, timeout=BOOT)


def outputs(page: Page, index: int = 0) -> Locator:
    return page.locator(".lc-cell").nth(index).locator(".lc-outputs")


def test_a_cell_reads_files_beside_the_page_and_in_a_sub_folder(open_page: OpenPage) -> None:
    page = open_page("complete/files.html")
    run_all(page)
    expect(outputs(page)).to_have_text(
        "complete ['data', 'prices.csv'] ['note.txt']\n3 32.0\nbeside, in a sub-folder\n",
        timeout=BOOT,
    )


def test_a_missing_file_fails_as_it_does_on_the_command_line(
    open_page: OpenPage, source: Path, tmp_path: Path
) -> None:
    page = open_page("missing/files.html")
    run_all(page)
    expect(outputs(page)).to_contain_text(MISSING_ERROR, timeout=BOOT)
    expect(outputs(page)).to_contain_text("missing ['data'] ['note.txt']")


def test_a_file_changed_after_the_build_is_refused_naming_it(open_page: OpenPage) -> None:
    page = open_page("tampered/read.html")
    run_all(page)
    expect(outputs(page)).to_contain_text(
        "OSError: [Errno 29] I/O error: 'values.csv': tampered/values.csv was refused: its "
        "bytes (6 bytes, sha256 ",
        timeout=BOOT,
    )
    expect(outputs(page)).to_contain_text("the file changed after the listing was made")


def test_a_listed_file_the_host_no_longer_has_is_an_error_naming_it(
    open_page: OpenPage, base_url: str
) -> None:
    page = open_page("gone/read.html")
    run_all(page)
    expect(outputs(page)).to_contain_text(
        f"OSError: [Errno 29] I/O error: 'x.csv': gone/x.csv could not be fetched from "
        f"{base_url}gone/x.csv: HTTP 404",
        timeout=BOOT,
    )


def test_a_module_beside_the_page_imports(open_page: OpenPage) -> None:
    page = open_page("imports/page.html")
    run_all(page)
    expect(outputs(page)).to_have_text("'from a module beside the page'", timeout=BOOT)


def test_files_cost_nothing_until_a_cell_reads_them(
    open_page: OpenPage, requests: list[str]
) -> None:
    page = open_page("lazy/stat.html")
    run_all(page)
    expect(outputs(page)).to_have_text("['blob.bin'] 3000000\n", timeout=BOOT)
    assert any(url.endswith("/_livecells/files/lazy/listing.json") for url in requests)
    assert not [url for url in requests if "blob.bin" in url]


def test_writes_stay_in_the_session(open_page: OpenPage, site: Path) -> None:
    page = open_page("writes/append.html")
    run_all(page)
    expect(outputs(page)).to_have_text(
        "['first', 'second'] made here ['log.txt', 'new.txt']\n", timeout=BOOT
    )
    assert (site / "writes" / "log.txt").read_text() == "first\n"


def test_a_listing_naming_files_outside_the_site_is_refused(open_page: OpenPage) -> None:
    page = open_page("badlisting/page.html")
    page.locator("button.lc-power").click()
    expect(page.locator(".lc-status")).to_contain_text("the page's file listing (", timeout=BOOT)
    expect(page.locator(".lc-status")).to_contain_text(
        'is wrong: files[0].path "../../etc/passwd" is not a path inside the site; rebuild '
        "the site (livecells build)"
    )
    expect(page.locator(".lc-panel")).to_have_attribute("data-status", "error")


def run_cli(source: Path, notebook: str, tmp_path: Path) -> dict[str, object]:
    result = livecells_cli(
        "run", "--runtime", "pyodide", "--allow-errors", str(source / notebook),
        "--output-dir", str(tmp_path), "--json", timeout=300,
    )  # fmt: skip
    assert result.returncode in (0, 1), result.stderr
    written = next(tmp_path.rglob(Path(notebook).with_suffix(".ipynb").name))
    cell: dict[str, object] = json.loads(written.read_text())["cells"][0]
    return cell


def test_the_same_notebooks_pass_and_fail_the_same_way_under_livecells_run(
    source: Path, tmp_path: Path
) -> None:
    passed = run_cli(source, "complete/files.md", tmp_path / "a")
    assert passed["outputs"] == [
        {
            "name": "stdout",
            "output_type": "stream",
            "text": [
                "complete ['data', 'prices.csv'] ['note.txt']\n",
                "3 32.0\n",
                "beside, in a sub-folder\n",
            ],
        }
    ]
    failed = run_cli(source, "missing/files.md", tmp_path / "b")
    error = failed["outputs"][-1]  # type: ignore[index]
    assert f"{error['ename']}: {error['evalue']}" == MISSING_ERROR


def test_livecells_serve_offers_the_same_files_to_pyodide_pages(
    browser: Browser, source: Path
) -> None:
    server = start_livecells_serve(source)
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.goto(f"{server.url}livecells/?token={server.token}")
        page.goto(f"{server.url}livecells/complete/files.html")
        run_all(page)
        expect(outputs(page)).to_have_text(
            "complete ['data', 'prices.csv'] ['note.txt']\n3 32.0\nbeside, in a sub-folder\n",
            timeout=BOOT,
        )
    finally:
        context.close()
        server.stop()
