"""Code cells highlighted at render time, so the first paint (and a page without JavaScript)
shows coloured code.

Pygments tokenises; each token gets the class CodeMirror's ``classHighlighter`` gives the same
construct (``tok-keyword``, ``tok-string``, ...), and one stylesheet (livecells.css) colours
those classes for light and dark pages: the editor, when it replaces the ``<pre>``, keeps the
same look because it is the same CSS."""

from __future__ import annotations

import html

from pygments import lex
from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.token import (
    Comment,
    Keyword,
    Literal,
    Name,
    Number,
    Operator,
    String,
    _TokenType,
    is_token_subtype,
)
from pygments.util import ClassNotFound

# Most specific first: a token takes the first entry it is a subtype of.
_CLASSES: list[tuple[_TokenType, str]] = [
    (Keyword.Constant, "tok-bool"),
    (Keyword, "tok-keyword"),
    (Operator.Word, "tok-keyword"),
    (Operator, "tok-operator"),
    (Name.Function, "tok-variableName tok-definition"),
    (Name.Class, "tok-className tok-definition"),
    (Name.Decorator, "tok-meta"),
    (String.Escape, "tok-string2"),
    (String, "tok-string"),
    (Number, "tok-number"),
    (Literal, "tok-literal"),
    (Comment, "tok-comment"),
]


def _lexer(language: str) -> Lexer | None:
    try:
        return get_lexer_by_name(language or "text", stripnl=False, ensurenl=False)
    except ClassNotFound:
        return None


def _css_class(token: _TokenType) -> str | None:
    for kind, css in _CLASSES:
        if is_token_subtype(token, kind):
            return css
    return None


def highlight(source: str, language: str) -> str:
    """``source`` as escaped HTML with ``<span class="tok-...">`` around its tokens (plain
    escaped text for a language Pygments does not know)."""
    lexer = _lexer(language)
    if lexer is None:
        return html.escape(source)
    runs: list[tuple[str | None, str]] = []  # adjacent tokens of one class in one span
    for token, text in lex(source, lexer):
        css = _css_class(token) if text.strip() else None
        if runs and runs[-1][0] == css:
            runs[-1] = (css, runs[-1][1] + text)
        else:
            runs.append((css, text))
    return "".join(
        f'<span class="{css}">{html.escape(text)}</span>' if css else html.escape(text)
        for css, text in runs
    )
