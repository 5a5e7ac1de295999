"""Code cells' first paint: Pygments tokens as the editor's ``tok-*`` classes."""

from __future__ import annotations

import html
import re

from livecells.highlight import highlight


def test_python_tokens_get_the_editors_classes() -> None:
    assert highlight("def f(x):\n    return None  # done", "python") == (
        '<span class="tok-keyword">def</span> '
        '<span class="tok-variableName tok-definition">f</span>(x):\n'
        '    <span class="tok-keyword">return</span> <span class="tok-bool">None</span>  '
        '<span class="tok-comment"># done</span>'
    )


def test_the_text_is_the_source_escaped() -> None:
    source = "s = \"<b>&\" + '\\n'\n\n\t@deco\nclass A: pass\n"
    text = html.unescape(re.sub(r"<[^>]+>", "", highlight(source, "python")))
    assert text == source
    assert "<b>" not in highlight(source, "python")


def test_an_unknown_language_is_plain_escaped_text() -> None:
    assert highlight("<x> & y", "no-such-language") == "&lt;x&gt; &amp; y"
