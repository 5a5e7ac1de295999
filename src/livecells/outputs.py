"""Turning iopub messages into nbformat v4 outputs, as Jupyter frontends do.

An :class:`OutputArea` holds the outputs of one execution. It applies ``clear_output`` (with
``wait=True`` deferred until the next output arrives) and merges consecutive stream chunks of the
same name, as JupyterLab does when it saves a notebook. A :class:`DisplayRegistry`, shared by
every area of one kernel or notebook, routes ``update_display_data`` and re-displays with an
existing ``display_id`` to every output that carries that id, in any area.
"""

from __future__ import annotations

import weakref
from typing import Any

from livecells.messages import Message

__all__ = ["DisplayRegistry", "OutputArea", "output_from_message"]

Output = dict[str, Any]

IOPUB_DATA_RATE_NOTICE = "IOPub data rate exceeded"
IOPUB_MESSAGE_RATE_NOTICE = "IOPub message rate exceeded"

OUTPUT_TYPES = frozenset({"stream", "display_data", "execute_result", "error"})


def output_from_message(msg: Message) -> Output | None:
    """The nbformat v4 output for an iopub message, or ``None`` when it is not an output."""
    content = msg.content
    msg_type = msg.msg_type
    if msg_type == "stream":
        return {
            "output_type": "stream",
            "name": content.get("name", "stdout"),
            "text": content.get("text", ""),
        }
    if msg_type in ("display_data", "execute_result"):
        out: Output = {
            "output_type": msg_type,
            "data": dict(content.get("data", {})),
            "metadata": dict(content.get("metadata", {})),
        }
        if msg_type == "execute_result":
            out["execution_count"] = content.get("execution_count")
        return out
    if msg_type == "error":
        return {
            "output_type": "error",
            "ename": str(content.get("ename", "")),
            "evalue": str(content.get("evalue", "")),
            "traceback": [str(line) for line in content.get("traceback", [])],
        }
    return None


def display_id_of(msg: Message) -> str | None:
    transient = msg.content.get("transient") or {}
    value = transient.get("display_id") if isinstance(transient, dict) else None
    return str(value) if value else None


class DisplayRegistry:
    """Maps each ``display_id`` to the outputs that show it, across areas."""

    def __init__(self) -> None:
        self._areas: dict[str, weakref.WeakSet[OutputArea]] = {}

    def register(self, display_id: str, area: OutputArea) -> None:
        self._areas.setdefault(display_id, weakref.WeakSet()).add(area)

    def update(self, display_id: str, data: dict[str, Any], metadata: dict[str, Any]) -> bool:
        """Replace data and metadata of every output showing ``display_id``; True if any."""
        found = False
        for area in list(self._areas.get(display_id, ())):
            found = area.update_display(display_id, data, metadata) or found
        return found


class OutputArea:
    """The outputs of one execution, kept as a list of nbformat v4 output dicts."""

    def __init__(
        self, displays: DisplayRegistry | None = None, *, merge_streams: bool = True
    ) -> None:
        self.outputs: list[Output] = []
        self.displays = displays if displays is not None else DisplayRegistry()
        self.merge_streams = merge_streams
        self.truncated = False
        self._clear_pending = False
        self._display_ids: dict[int, str] = {}

    def handle(self, msg: Message) -> Output | None:
        """Apply one iopub message; returns the output it added or changed, if any."""
        msg_type = msg.msg_type
        if msg_type == "clear_output":
            if msg.content.get("wait"):
                self._clear_pending = True
            else:
                self.clear()
            return None
        display_id = display_id_of(msg)
        if msg_type == "update_display_data":
            if display_id:
                self.displays.update(
                    display_id, msg.content.get("data", {}), msg.content.get("metadata", {})
                )
            return None
        out = output_from_message(msg)
        if out is None:
            return None
        if self._clear_pending:
            self.clear()
        if out["output_type"] == "stream" and self._is_rate_notice(out["text"]):
            self.truncated = True
        if display_id:
            self.displays.update(display_id, out["data"], out["metadata"])
            self.displays.register(display_id, self)
            self._display_ids[len(self.outputs)] = display_id
        return self.append(out)

    def append(self, out: Output) -> Output:
        last = self.outputs[-1] if self.outputs else None
        if (
            self.merge_streams
            and out["output_type"] == "stream"
            and last is not None
            and last["output_type"] == "stream"
            and last["name"] == out["name"]
        ):
            last["text"] += out["text"]
            return last
        self.outputs.append(out)
        return out

    def clear(self) -> None:
        self.outputs.clear()
        self._display_ids.clear()
        self._clear_pending = False

    def update_display(
        self, display_id: str, data: dict[str, Any], metadata: dict[str, Any]
    ) -> bool:
        found = False
        for index, shown in self._display_ids.items():
            if shown == display_id and index < len(self.outputs):
                self.outputs[index]["data"] = dict(data)
                self.outputs[index]["metadata"] = dict(metadata)
                found = True
        return found

    @staticmethod
    def _is_rate_notice(text: str) -> bool:
        return IOPUB_DATA_RATE_NOTICE in text or IOPUB_MESSAGE_RATE_NOTICE in text
