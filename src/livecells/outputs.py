"""Turning iopub messages into nbformat v4 outputs, as Jupyter frontends do.

An :class:`OutputArea` holds the outputs of one execution. It applies ``clear_output`` (with
``wait=True`` deferred until the next output arrives) and merges consecutive stream chunks of the
same name, as JupyterLab does when it saves a notebook. A :class:`DisplayRegistry`, shared by
every area of one kernel or notebook, routes ``update_display_data`` and re-displays with an
existing ``display_id`` to every output that carries that id, in any area.
"""

from __future__ import annotations

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
    """Maps each ``display_id`` to the output dicts that show it, across areas.

    It holds the output dicts themselves (the ones in every ``ExecutionResult.outputs``), so an
    update reaches an earlier cell's result after its area is gone.
    """

    def __init__(self) -> None:
        self._outputs: dict[str, list[Output]] = {}

    def register(self, display_id: str, output: Output) -> None:
        self._outputs.setdefault(display_id, []).append(output)

    def forget(self, outputs: list[Output]) -> None:
        """Stop tracking ``outputs`` (they were cleared)."""
        gone = {id(out) for out in outputs}
        for display_id, shown in list(self._outputs.items()):
            kept = [out for out in shown if id(out) not in gone]
            if kept:
                self._outputs[display_id] = kept
            else:
                del self._outputs[display_id]

    def update(self, display_id: str, data: dict[str, Any], metadata: dict[str, Any]) -> bool:
        """Replace data and metadata of every output showing ``display_id``; True if any."""
        shown = self._outputs.get(display_id, [])
        for out in shown:
            out["data"] = dict(data)
            out["metadata"] = dict(metadata)
        return bool(shown)


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
            self.displays.register(display_id, out)
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
        self.displays.forget(self.outputs)
        self.outputs.clear()
        self._clear_pending = False

    @staticmethod
    def _is_rate_notice(text: str) -> bool:
        return IOPUB_DATA_RATE_NOTICE in text or IOPUB_MESSAGE_RATE_NOTICE in text
