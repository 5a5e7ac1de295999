"""Rendering: MyST pages (through mystmd), stored outputs as sanitised static HTML."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from livecells.render import ansi_to_html, render_outputs
from livecells.site import Site


def page_html(tmp_path: Path, text: str, *, trusted: bool = False) -> str:
    """``text`` as the one page of a folder, rendered through mystmd as a site renders it."""
    (tmp_path / "p.md").write_text(text)
    if trusted:
        (tmp_path / "livecells.yml").write_text("project:\n  livecells:\n    trusted: true\n")
    site = Site(tmp_path, default_runtime="pyodide")
    try:
        return site.render(Path("p.md"))
    finally:
        site.close()


def test_math_is_left_for_the_browser_in_lc_math_elements(tmp_path: Path) -> None:
    html = page_html(tmp_path, "Inline $x^2$ and\n\n$$\n\\frac{a}{b}\n$$\n")
    assert '<span class="lc-math">\\(x^2\\)</span>' in html
    assert (
        '<div class="lc-math">\\[\\frac{a}{b}\\]</div><span class="lc-eq-number">(1)</span>' in html
    )


def test_admonitions_in_colon_and_backtick_fences_render_as_asides(tmp_path: Path) -> None:
    html = page_html(tmp_path, ":::{note} Careful\nBody **bold**\n:::\n\n```{warning}\nW\n```\n")
    assert '<aside class="admonition note"><p class="admonition-title">Careful</p>' in html
    assert "<strong>bold</strong>" in html
    assert '<aside class="admonition warning"><p class="admonition-title">Warning</p>' in html


def test_tables_footnotes_and_frontmatter(tmp_path: Path) -> None:
    html = page_html(
        tmp_path, "---\ntitle: x\n---\n| a |\n|---|\n| 1 |\n\nNote[^n]\n\n[^n]: text\n"
    )
    assert "<table>" in html and '<a href="#fn-n">1</a>' in html
    assert "title: x" not in html


def test_stored_html_outputs_lose_scripts_and_handlers() -> None:
    html = render_outputs(
        [
            {
                "output_type": "display_data",
                "metadata": {},
                "data": {"text/html": '<b onclick="alert(1)">hi</b><script>alert(2)</script>'},
            }
        ]
    )
    assert "<b>hi</b>" in html
    assert "script" not in html and "onclick" not in html


def test_stored_svg_is_shown_as_an_image_where_its_scripts_cannot_run() -> None:
    svg = '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    html = render_outputs(
        [{"output_type": "display_data", "metadata": {}, "data": {"image/svg+xml": svg}}]
    )
    assert html.startswith(
        '<div class="lc-output lc-image"><img alt="SVG output" src="data:image/svg+xml;base64,'
    )
    assert "<script" not in html


def test_the_richest_mime_type_is_chosen() -> None:
    html = render_outputs(
        [
            {
                "output_type": "execute_result",
                "execution_count": 1,
                "metadata": {},
                "data": {"text/plain": "<P>", "image/png": "iVBORw0KGgo="},
            }
        ]
    )
    assert 'src="data:image/png;base64,iVBORw0KGgo="' in html


def test_text_is_escaped_and_ansi_colours_become_spans() -> None:
    html = render_outputs(
        [{"output_type": "stream", "name": "stderr", "text": "\x1b[31m<red>\x1b[0m ok"}]
    )
    red = '<span class="ansi-red-fg">&lt;red&gt;</span>'
    assert html == f'<pre class="lc-output lc-stream lc-stderr">{red} ok</pre>'


def test_ansi_bold_bright_and_reset() -> None:
    assert ansi_to_html("\x1b[1;92mA\x1b[39mB\x1b[0mC") == (
        '<span class="ansi-bold ansi-bright-green-fg">A</span><span class="ansi-bold">B</span>C'
    )


def test_errors_show_their_traceback() -> None:
    html = render_outputs(
        [
            {
                "output_type": "error",
                "ename": "ZeroDivisionError",
                "evalue": "division by zero",
                "traceback": ["\x1b[0;31mZeroDivisionError\x1b[0m: division by zero"],
            }
        ]
    )
    assert 'class="lc-output lc-error"' in html and "ZeroDivisionError" in html


def xss_payloads() -> list[tuple[str, str]]:
    """(mime type, payload) for the corpus the browser test shows live (tests/browser/pages)."""
    page = (Path(__file__).parent / "browser" / "pages" / "xss.md").read_text()
    code = page.split("```{code-cell} python\n", 1)[1].split("\nn = 0", 1)[0]
    code = code.replace("from IPython.display import HTML, Markdown, display\n", "")
    names: dict[str, Any] = {}
    exec(code, names)
    payloads = []
    for key, mime in [
        ("HTML_PAYLOADS", "text/html"),
        ("SVG_PAYLOADS", "image/svg+xml"),
        ("MARKDOWN_PAYLOADS", "text/markdown"),
    ]:
        for n, template in enumerate(names[key]):
            payloads.append((mime, template.format(c=names["call"](n), n=n)))
    return payloads


class _Dangers(HTMLParser):
    """Collects what could run: script-capable elements, handlers, javascript: URLs."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "iframe", "object", "embed", "base", "meta", "svg", "math", "form"):
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            squashed = re.sub(r"\s", "", value or "").lower()
            if name.startswith("on") or squashed.startswith(("javascript:", "data:text")):
                self.found.append(f"{tag} {name}={value}")


def test_no_stored_xss_payload_survives_static_rendering() -> None:
    payloads = xss_payloads()
    assert len(payloads) >= 50
    for mime, payload in payloads:
        output = {"output_type": "display_data", "metadata": {}, "data": {mime: payload}}
        parser = _Dangers()
        parser.feed(render_outputs([output]))
        assert parser.found == [], (mime, payload)


RAW = (
    "Euler $e^x$, a task:\n\n- [x] done\n\n<script>steal()</script>\n\n"
    '<img src="x.png" onerror="steal()"><a href="javascript:steal()">link</a>\n\n'
    '<iframe src="https://evil.example/"></iframe><details><summary>More</summary>d</details>\n'
)


def markdown_section(tmp_path: Path, *, trusted: bool) -> str:
    html = page_html(tmp_path, RAW, trusted=trusted)
    match = re.search(r'<section class="lc-markdown">(.*?)</section>', html, re.S)
    assert match is not None
    return match.group(1)


def test_an_untrusted_pages_markdown_keeps_its_prose_and_loses_what_could_run(
    tmp_path: Path,
) -> None:
    html = markdown_section(tmp_path, trusted=False)
    for gone in ("<script", "steal()", "onerror", "javascript:", "<iframe"):
        assert gone not in html
    assert '<span class="lc-math">\\(e^x\\)</span>' in html
    assert '<input type="checkbox" disabled checked>' in html
    assert '<img src="x.png" alt="">' in html
    assert '<details class="lc-dropdown"><summary>More</summary>d</details>' in html
    assert '<a class="lc-iframe-link" href="https://evil.example/"' in html


def test_a_trusted_pages_markdown_keeps_its_raw_html_as_mystmd_reads_it(tmp_path: Path) -> None:
    """mystmd turns raw HTML into AST nodes and drops scripts and handlers itself; an iframe is
    embedded only on a trusted page (elsewhere it is a link, see above)."""
    html = markdown_section(tmp_path, trusted=True)
    assert '<iframe class="lc-iframe" src="https://evil.example/"' in html
    assert '<img src="x.png" alt="">' in html
    for gone in ("<script", "onerror", "javascript:"):
        assert gone not in html
