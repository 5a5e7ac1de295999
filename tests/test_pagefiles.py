"""What a page folder offers its Pyodide pages (``livecells.pagefiles``): the listings a build
writes, ``livecells.files`` in the project config, and the same listing from ``livecells
serve``."""

from __future__ import annotations

import hashlib
import json
import os
import urllib.request
from pathlib import Path

import pytest
from tests.conftest import livecells_cli, page_config_of, start_livecells_serve

from livecells.config import load_project
from livecells.errors import ConfigError
from livecells.pagefiles import PageFiles, Rules
from livecells.site import build

PAGE = (
    "---\nkernelspec: {name: python3, display_name: Python 3}\n---\n```{code-cell} python\n1\n```\n"
)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def make_book(root: Path, config: str = "") -> Path:
    """A page at the top, one in lectures/ (with data beside it and in a sub-folder), and what
    is never offered: hidden files, the project file, a build folder, other pages."""
    (root / "lectures" / "data").mkdir(parents=True)
    (root / "datasets").mkdir()
    (root / "_build").mkdir()
    (root / "lectures" / ".secret").mkdir()
    (root / "index.md").write_text(PAGE)
    (root / "lectures" / "one.md").write_text(PAGE)
    (root / "lectures" / "two.ipynb").write_text(
        json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": []})
    )
    (root / "lectures" / "prices.csv").write_bytes(b"day,price\n1,10\n2,12\n")
    (root / "lectures" / "data" / "note.txt").write_bytes(b"hello\n")
    (root / "lectures" / ".env").write_bytes(b"TOKEN=x\n")
    (root / "lectures" / ".secret" / "key").write_bytes(b"k")
    (root / "datasets" / "shared.csv").write_bytes(b"a\n1\n")
    (root / "_build" / "cache.bin").write_bytes(b"c")
    (root / "livecells.yml").write_text("project:\n  jupyter: lite\n" + config)
    return root


def listing_of(site: Path, folder: str = "lectures") -> dict[str, object]:
    path = site / "_livecells" / "files" / folder / "listing.json"
    data: dict[str, object] = json.loads(path.read_text())
    return data


def test_a_build_lists_the_non_page_files_of_each_page_folder(tmp_path: Path) -> None:
    source = make_book(tmp_path / "book")
    built = build(source, tmp_path / "site")
    assert built.problems == []
    assert listing_of(tmp_path / "site") == {
        "format": "livecells-files/1",
        "root": "../../../",
        "folder": "lectures",
        "files": [
            {"path": "lectures/data/note.txt", "size": 6, "sha256": sha(b"hello\n")},
            {"path": "lectures/prices.csv", "size": 20, "sha256": sha(b"day,price\n1,10\n2,12\n")},
        ],
    }
    top = listing_of(tmp_path / "site", "")
    assert top["root"] == "../../"
    assert [f["path"] for f in top["files"]] == [  # type: ignore[attr-defined]
        "datasets/shared.csv",
        "lectures/data/note.txt",
        "lectures/prices.csv",
    ]
    # Each listed file is in the site where the listing's root says.
    for entry in top["files"]:  # type: ignore[attr-defined]
        data = (tmp_path / "site" / entry["path"]).read_bytes()
        assert (len(data), sha(data)) == (entry["size"], entry["sha256"])
    page = page_config_of((tmp_path / "site" / "lectures" / "one.html").read_text())
    assert page["pyodide"]["filesURL"] == "../_livecells/files/lectures/listing.json"


def test_include_and_exclude_globs_are_relative_to_the_page_folder(tmp_path: Path) -> None:
    config = (
        "  livecells:\n    files:\n"
        "      include: ['*.csv', '../datasets/*.csv', 'data', '.env', '.secret/*', '**/.*']\n"
        "      exclude: ['data/*.txt']\n"
    )
    source = make_book(tmp_path / "book", config)
    (source / "lectures" / "data" / "keep.json").write_text("{}")
    (source / "index.md").unlink()
    assert build(source, tmp_path / "site").problems == []
    paths = [f["path"] for f in listing_of(tmp_path / "site")["files"]]  # type: ignore[attr-defined]
    assert paths == ["datasets/shared.csv", "lectures/data/keep.json", "lectures/prices.csv"]


def test_a_file_over_the_cap_is_reported_with_its_size_and_the_setting(tmp_path: Path) -> None:
    source = make_book(tmp_path / "book", "  livecells:\n    files: {maxBytes: 1000000}\n")
    (source / "index.md").unlink()
    (source / "lectures" / "big.bin").write_bytes(b"x" * 1_500_000)
    built = build(source, tmp_path / "site")
    assert built.problems == [
        "lectures/big.bin: 1.5 MB, not offered to the Python (Pyodide) pages in lectures: with "
        "it their folder's files would pass livecells.yml: project.livecells.files.maxBytes "
        "(1.0 MB); raise maxBytes, or leave the file out with exclude"
    ]
    paths = [f["path"] for f in listing_of(tmp_path / "site")["files"]]  # type: ignore[attr-defined]
    assert paths == ["lectures/data/note.txt", "lectures/prices.csv"]
    result = livecells_cli("build", str(source), "-o", str(tmp_path / "site2"))
    assert result.returncode == 2
    assert "livecells build: error: lectures/big.bin: 1.5 MB" in result.stderr


def test_the_default_cap_is_20_MB_per_page_folder(tmp_path: Path) -> None:
    source = make_book(tmp_path / "book")
    with (source / "lectures" / "big.bin").open("wb") as file:
        file.truncate(20_000_001)
    listing = PageFiles(source).listing("lectures", Rules.of(load_project(source)))
    assert [e.path for e in listing.files] == ["lectures/data/note.txt", "lectures/prices.csv"]
    assert listing.problems[0].startswith("lectures/big.bin: 20.0 MB, not offered")


def test_include_globs_that_leave_the_project_are_an_error_naming_the_key(tmp_path: Path) -> None:
    source = make_book(tmp_path / "book", "  livecells:\n    files: {include: ['../*']}\n")
    with pytest.raises(ConfigError) as raised:
        build(source, tmp_path / "site")
    assert str(raised.value) == (
        "livecells.yml: project.livecells.files.include: '../*' leads out of the project folder "
        "from the pages in the top folder: globs are relative to each page's folder and may "
        "name only files inside the project"
    )
    for glob in ("/etc/*", "~/x", "lectures/../../../x"):
        (source / "livecells.yml").write_text(
            f"project:\n  livecells:\n    files: {{include: [{glob!r}]}}\n"
        )
        result = livecells_cli("build", str(source), "-o", str(tmp_path / "site"))
        assert result.returncode == 2, glob
        assert "project.livecells.files.include:" in result.stderr
        assert "leads out of the project folder" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ("[a]", "project.livecells.files: expected a mapping of include, exclude, maxBytes"),
        ("{include: '*.csv'}", "project.livecells.files.include: expected a list of globs"),
        ("{exclude: [1]}", "project.livecells.files.exclude: expected a list of globs"),
        ("{maxBytes: -1}", "project.livecells.files.maxBytes: expected a number of bytes"),
        ("{maxBytes: true}", "project.livecells.files.maxBytes: expected a number of bytes"),
        ("{size: 1}", "project.livecells.files: unknown key 'size'"),
    ],
)
def test_a_wrong_files_setting_names_the_file_and_key(
    tmp_path: Path, files: str, message: str
) -> None:
    (tmp_path / "livecells.yml").write_text(f"project:\n  livecells:\n    files: {files}\n")
    with pytest.raises(ConfigError, match="^livecells.yml: " + message.replace(".", r"\.")):
        load_project(tmp_path)


def test_files_is_a_project_setting_not_a_page_one(tmp_path: Path) -> None:
    source = make_book(tmp_path / "book")
    (source / "index.md").write_text(
        "---\nlivecells:\n  files: {maxBytes: 1}\n---\n```{code-cell} python\n1\n```\n"
    )
    built = build(source, tmp_path / "site")
    assert built.problems == [
        "index.md: livecells.files: set it in the project config (project.livecells.files): it "
        "applies to a whole folder of pages"
    ]


@pytest.mark.skipif(os.name != "posix", reason="symbolic links")
def test_symbolic_links_out_of_the_project_are_never_listed(tmp_path: Path) -> None:
    source = make_book(tmp_path / "book")
    (tmp_path / "outside.txt").write_text("private")
    (source / "lectures" / "link.txt").symlink_to(tmp_path / "outside.txt")
    (source / "lectures" / "inside.csv").symlink_to(source / "lectures" / "prices.csv")
    listing = PageFiles(source).listing("lectures", Rules.of(load_project(source)))
    assert [e.path for e in listing.files] == [
        "lectures/data/note.txt",
        "lectures/inside.csv",
        "lectures/prices.csv",
    ]


def test_serve_offers_the_same_listing_from_the_files_as_they_are(tmp_path: Path) -> None:
    source = make_book(tmp_path / "book")
    build(source, tmp_path / "site")
    server = start_livecells_serve(source)
    try:
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        opener.open(f"{server.url}livecells/?token={server.token}").read()

        def get(path: str) -> tuple[int, bytes]:
            try:
                with opener.open(f"{server.url}livecells/{path}") as response:
                    return response.status, response.read()
            except urllib.error.HTTPError as error:
                return error.code, error.read()

        status, body = get("_livecells/files/lectures/listing.json")
        assert status == 200
        assert json.loads(body) == listing_of(tmp_path / "site")
        assert get("lectures/prices.csv") == (200, b"day,price\n1,10\n2,12\n")
        # Changed since: the listing follows the file.
        (source / "lectures" / "prices.csv").write_bytes(b"day,price\n")
        files = json.loads(get("_livecells/files/lectures/listing.json")[1])["files"]
        changed = {"path": "lectures/prices.csv", "size": 10, "sha256": sha(b"day,price\n")}
        assert files[1] == changed
        for hidden in ("lectures/.secret/", "_build/", "../", "nowhere/"):
            assert get(f"_livecells/files/{hidden}listing.json")[0] == 404, hidden
        served = page_config_of(get("lectures/one.html")[1].decode())
        assert served["pyodide"]["filesURL"] == "../_livecells/files/lectures/listing.json"
    finally:
        server.stop()


def test_livecells_run_on_pyodide_offers_what_a_build_would(tmp_path: Path) -> None:
    """The notebook's folder, its project's rules: a file over the cap is reported and not
    there, as in the browser; the others are."""
    source = make_book(tmp_path / "book", "  livecells:\n    files: {maxBytes: 30}\n")
    (source / "lectures" / "big.csv").write_text("x" * 40)
    (source / "lectures" / "one.md").write_text(
        PAGE.replace("1\n```", "import os\nprint(sorted(os.listdir()))\nopen('big.csv')\n```")
    )
    result = livecells_cli(
        "run", "--runtime", "pyodide", str(source / "lectures" / "one.md"),
        "--output-dir", str(tmp_path / "out"), timeout=300,
    )  # fmt: skip
    assert result.returncode == 1
    assert "lectures/big.csv: 40 bytes, not offered to the Python (Pyodide) pages in lectures" in (
        result.stderr + result.stdout
    )
    written = next((tmp_path / "out").rglob("one.ipynb"))
    outputs = json.loads(written.read_text())["cells"][0]["outputs"]
    assert outputs[0]["text"] == ["['data', 'prices.csv']\n"]
    assert (outputs[1]["ename"], outputs[1]["evalue"]) == (
        "FileNotFoundError",
        "[Errno 44] No such file or directory: 'big.csv'",
    )
