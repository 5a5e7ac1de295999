"""myst-nb's glue alone (livecells.myst.glue): what each role and directive shows of an output
stored by ``myst_nb.glue``, as myst-nb shows it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from livecells.myst.glue import Glue


def shown(output: Mapping[str, Any]) -> str:
    return "<shown " + ",".join(sorted(output["data"])) + ">"


def glued(name: str, data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    scrapbook = {"name": name, "mime_prefix": prefix}
    return {"output_type": "display_data", "data": data, "metadata": {"scrapbook": scrapbook}}


RECORD = "application/papermill.record/"
FIGURE = {"type": "mystDirective", "name": "glue:figure", "args": "plot", "value": ":name: f1\n"}
GLUE = Glue.of(
    [
        glued("mean", {"text/plain": "3.14159"}),
        glued("who", {f"{RECORD}text/plain": "'Ada <b>'"}, RECORD),
        glued("plot", {"image/png": "iVBOR", "text/plain": "<Figure>"}),
        glued("eq", {"text/latex": "$x^2$", "text/plain": "x**2"}),
        {"output_type": "stream", "name": "stdout", "text": "not glued\n"},
    ],
    shown,
    mdast={"type": "root", "children": [{"type": "block", "children": [FIGURE]}]},
)  # fmt: skip


def test_text_is_formatted_by_its_spec_and_strings_lose_their_quotes() -> None:
    assert GLUE.role("glue:text", "mean:.2f") == "3.14"
    assert GLUE.role("glue:text", "mean") == "3.14159"
    assert GLUE.role("glue:text", "mean:d") == "3.14159"  # a spec that does not apply
    assert GLUE.role("glue:", "who") == "Ada &lt;b&gt;"  # display=False: under its prefix
    assert GLUE.role("glue:text", "nothing") is None


def test_rich_outputs_are_shown_whole_or_as_the_one_type_the_role_names() -> None:
    assert GLUE.role("glue", "plot") == '<span class="lc-glue"><shown image/png,text/plain></span>'
    assert GLUE.role("glue:math", "eq") == '<span class="lc-glue"><shown text/latex></span>'
    assert GLUE.directive("glue:any", "eq", "") == (
        '<div class="lc-glue"><shown text/latex,text/plain></div>\n'
    )


def test_a_glued_figure_has_its_name_and_caption_and_is_a_reference_target() -> None:
    figure = GLUE.directive("glue:figure", "plot", ":name: f1\n:align: left\n\nA <plot>.\n")
    assert figure == (
        '<figure class="lc-figure lc-glue" id="f1"><shown image/png,text/plain>'
        "<figcaption>A &lt;plot&gt;.</figcaption></figure>\n"
    )
    assert GLUE.figures == frozenset({"f1"})
    assert GLUE.directive("glue:figure", "missing", "") is None
