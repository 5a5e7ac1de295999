"""The AST renderer alone (livecells.myst.html): escaping by construction, unsafe URLs dropped,
unknown node types rendered as their children with a warning naming file:line."""

from __future__ import annotations

from typing import Any

from livecells.myst.html import AstRenderer, Links


def render(node: dict[str, Any], *, trusted: bool = False) -> tuple[str, list[str]]:
    renderer = AstRenderer(
        "page.md",
        Links({"/other": "sub/other.html"}, "../", "_myst/"),
        cell=lambda block, code: "<cell>",
        raw_html=lambda value: "<raw>",
        trusted=trusted,
    )
    return renderer.render(node), renderer.warnings


def text(value: str) -> dict[str, Any]:
    return {"type": "text", "value": value}


def test_text_and_attributes_are_escaped() -> None:
    heading = {
        "type": "heading",
        "depth": 2,
        "html_id": 'x"><script>',
        "children": [text("<script>alert(1)</script>")],
    }
    html, _ = render(heading)
    assert html == (
        '<h2 id="x&quot;&gt;&lt;script&gt;">&lt;script&gt;alert(1)&lt;/script&gt;'
        '<a class="lc-anchor" href="#x&quot;&gt;&lt;script&gt;" aria-label="Link to this section">'
        "#</a></h2>\n"
    )


def test_javascript_urls_are_dropped_and_site_urls_made_relative() -> None:
    bad = {"type": "link", "url": "javascript:alert(1)", "children": [text("click")]}
    assert render(bad)[0] == "click"
    assert render({"type": "link", "url": "JaVaScRiPt:x", "children": []})[0] == "JaVaScRiPt:x"
    page = {"type": "link", "url": "/other#part", "internal": True, "children": [text("o")]}
    assert render(page)[0] == '<a href="../sub/other.html#part">o</a>'
    # A page named by its file, as a card's :link: names it (mystmd leaves it as written).
    card = {"type": "card", "url": "/sub/other", "children": [text("c")]}
    assert 'href="../sub/other.html"' in render(card)[0]
    image = {"type": "image", "url": "/dot-0123.png", "alt": "d"}
    assert render(image)[0] == '<img src="../_myst/dot-0123.png" alt="d">'
    assert render({"type": "image", "url": "javascript:x"})[0] == ""


def test_an_unknown_node_type_shows_its_children_with_a_warning_naming_file_and_line() -> None:
    node = {
        "type": "fancyNewThing",
        "position": {"start": {"line": 7, "column": 1}},
        "children": [{"type": "paragraph", "children": [text("kept")]}],
    }
    html, warnings = render(node)
    assert html == "<p>kept</p>\n"
    assert warnings == ["page.md:7: MyST node 'fancyNewThing' has no renderer; showing its content"]


def test_raw_html_goes_through_the_pages_policy_and_iframes_need_trust() -> None:
    assert render({"type": "html", "value": "<b>x</b>"})[0] == "<raw>"
    iframe = {"type": "iframe", "src": "https://example.org/"}
    assert render(iframe)[0].startswith('<p><a class="lc-iframe-link"')
    assert render(iframe, trusted=True)[0].startswith('<iframe class="lc-iframe"')


def test_a_cross_reference_never_links_to_an_unsafe_url() -> None:
    node = {
        "type": "crossReference",
        "url": "javascript:alert(1)",
        "html_id": "x",
        "children": [text("see")],
    }
    assert render(node)[0] == "see"
    node["url"] = "/other"
    assert render(node)[0] == '<a class="lc-xref" href="../sub/other.html#x">see</a>'


def test_an_image_mystmd_could_not_fetch_links_where_it_lives() -> None:
    """Offline, mystmd leaves a remote image's ``url`` as ``/undefined``: the page links the
    image's own address instead of a file the site does not have."""
    remote = "https://example.org/figure.png"
    lost = {"type": "image", "url": "/undefined", "urlSource": remote, "alt": "f"}
    assert render(lost)[0] == f'<img src="{remote}" alt="f">'
    fetched = {"type": "image", "url": "/figure-ab12.png", "urlSource": remote, "alt": "f"}
    assert render(fetched)[0] == '<img src="../_myst/figure-ab12.png" alt="f">'
    hostile = {"type": "image", "url": "/undefined", "urlSource": "javascript:x"}
    assert render(hostile) == ("", ["page.md:?: image 'javascript:x' not found; left out"])


def test_links_and_cards_to_no_page_of_the_book_are_text_with_a_warning() -> None:
    # What mystmd leaves as written: a page or label the book does not have.
    missing = {
        "type": "link",
        "url": "basics/organize",
        "position": {"start": {"line": 3}},
        "children": [text("Organise")],
    }
    html, warnings = render(missing)
    assert html == '<span class="lc-unresolved">Organise</span>'
    assert warnings == [
        "page.md:3: link to 'basics/organize' leads to no page or label of this book; shown as text"
    ]
    card = {"type": "card", "url": "content/myst", "children": [text("c")]}
    assert render(card)[0] == '<div class="lc-card">c</div>\n'
    # Elsewhere, an anchor of this page, a download: links as before.
    away = {"type": "link", "url": "https://example.org/x", "children": [text("e")]}
    assert render(away) == ('<a href="https://example.org/x" rel="noopener">e</a>', [])
    here = {"type": "link", "url": "#part", "children": [text("p")]}
    assert render(here) == ('<a href="#part" rel="noopener">p</a>', [])
    download = {"type": "link", "url": "/data-01ab.csv", "static": True, "children": [text("d")]}
    assert render(download)[0] == '<a href="../_myst/data-01ab.csv" rel="noopener">d</a>'


def test_a_cross_reference_mystmd_did_not_resolve_is_text() -> None:
    unresolved = {
        "type": "crossReference",
        "kind": "ref",
        "identifier": "my-fig",
        "label": "my-fig",
    }
    assert render({**unresolved, "children": [text("My fig")]}) == (
        '<span class="lc-unresolved">My fig</span>',
        [],
    )
    resolved = {**unresolved, "resolved": True, "html_id": "my-fig", "children": [text("F")]}
    assert render(resolved)[0] == '<a class="lc-xref" href="#my-fig">F</a>'
