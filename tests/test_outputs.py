"""OutputArea turns iopub messages into nbformat outputs the way Jupyter frontends do."""

from __future__ import annotations

from typing import Any

from livecells.messages import new_message
from livecells.outputs import DisplayRegistry, OutputArea


def iopub(msg_type: str, **content: Any) -> Any:
    return new_message(msg_type, content, channel="iopub", session="s")


def test_consecutive_streams_of_one_name_merge() -> None:
    area = OutputArea()
    for name, text in [("stdout", "a"), ("stdout", "b"), ("stderr", "c"), ("stdout", "d")]:
        area.handle(iopub("stream", name=name, text=text))
    assert [(o["name"], o["text"]) for o in area.outputs] == [
        ("stdout", "ab"),
        ("stderr", "c"),
        ("stdout", "d"),
    ]


def test_streams_stay_separate_when_asked() -> None:
    area = OutputArea(merge_streams=False)
    area.handle(iopub("stream", name="stdout", text="a"))
    area.handle(iopub("stream", name="stdout", text="b"))
    assert len(area.outputs) == 2


def test_clear_output_wait_keeps_outputs_until_the_next_one() -> None:
    area = OutputArea()
    area.handle(iopub("stream", name="stdout", text="old"))
    area.handle(iopub("clear_output", wait=True))
    assert area.outputs[0]["text"] == "old"
    area.handle(iopub("stream", name="stdout", text="new"))
    assert [o["text"] for o in area.outputs] == ["new"]


def test_update_display_reaches_other_areas_and_forgets_cleared_ones() -> None:
    displays = DisplayRegistry()
    first, second = OutputArea(displays), OutputArea(displays)
    shown = {"data": {"text/plain": "1"}, "metadata": {}, "transient": {"display_id": "x"}}
    first.handle(iopub("display_data", **shown))
    second.handle(iopub("update_display_data", **{**shown, "data": {"text/plain": "2"}}))
    assert first.outputs[0]["data"] == {"text/plain": "2"}
    first.handle(iopub("clear_output", wait=False))
    assert not displays.update("x", {"text/plain": "3"}, {})


def test_rate_limit_notice_marks_the_area_truncated() -> None:
    area = OutputArea()
    area.handle(iopub("stream", name="stderr", text="IOPub data rate exceeded.\nThe ..."))
    assert area.truncated


def test_non_output_messages_are_ignored() -> None:
    area = OutputArea()
    assert area.handle(iopub("execute_input", code="1")) is None
    assert area.outputs == []
