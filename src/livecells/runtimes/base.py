"""The Kernel contract every runtime implements, and the protocol engine they share.

A runtime subclasses :class:`Kernel` and supplies five things: how to start or attach to a
kernel (``_start``), how to send one message (``_send``), and how to interrupt, restart and shut
it down. Everything else, request/reply matching, iopub routing, outputs, stdin, comms, status and
timeouts, lives here, so every runtime behaves the same.

An execution is complete when both its ``execute_reply`` and the iopub ``status: idle`` for its
request have arrived. A kernel that dies, restarts or loses its connection ends every waiting
execution with a :class:`~livecells.errors.KernelDied` or
:class:`~livecells.errors.ConnectionFailed` that carries the outputs seen so far.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import uuid
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from types import TracebackType
from typing import Any, ClassVar, Literal, Self

from livecells.errors import (
    ConnectionFailed,
    ExecutionError,
    ExecutionTimeout,
    KernelDied,
    LivecellsError,
)
from livecells.messages import Message, new_message
from livecells.outputs import DisplayRegistry, Output, OutputArea, display_id_of
from livecells.runtimes.comms import Comm, CommManager, TargetHandler

__all__ = ["ExecutionResult", "ExecutionStream", "InputCallback", "Kernel", "Status"]

log = logging.getLogger("livecells")


INTERRUPT_GRACE = 10.0
"""Seconds an execution past its timeout may take to end once interrupted (a kernel that
ignores the interrupt is left running it)."""


class Status(StrEnum):
    """One lifecycle for every runtime.

    ``connecting`` (reaching the runtime) → ``starting`` (kernel booting) → ``ready`` (kernel
    answered ``kernel_info``) → ``busy``/``idle`` while it works → ``restarting`` → ``ready`` ...
    ``disconnected`` while a dropped connection is being re-established, ``dead`` when the
    kernel is gone, ``error`` when the runtime failed in a way a retry may fix.
    """

    IDLE = "idle"
    CONNECTING = "connecting"
    STARTING = "starting"
    READY = "ready"
    BUSY = "busy"
    RESTARTING = "restarting"
    ERROR = "error"
    DISCONNECTED = "disconnected"
    DEAD = "dead"


StatusCallback = Callable[[Status, str], object]
InputCallback = Callable[[str, bool], "str | Awaitable[str]"]
OutputCallback = Callable[[Output], object]

TIMED = {
    ("status", "busy"): "iopub.status.busy",
    ("execute_input", ""): "iopub.execute_input",
    ("execute_reply", ""): "shell.execute_reply",
    ("status", "idle"): "iopub.status.idle",
}
"""The messages of an execution whose dates nbclient records (``record_timing``)."""


@dataclass(slots=True)
class ExecutionResult:
    """What one execution produced: its reply status, execution count and nbformat outputs."""

    status: Literal["ok", "error", "aborted"]
    execution_count: int | None
    outputs: list[Output] = field(default_factory=list)
    truncated: bool = False
    """True when the server dropped output for exceeding its IOPub rate limit."""
    reply: dict[str, Any] = field(default_factory=dict)
    timing: dict[str, str] = field(default_factory=dict)
    """nbclient's ``metadata.execution`` for the cell: when the kernel went busy, echoed the
    input, replied and went idle (``iopub.status.busy``, ``iopub.execute_input``,
    ``shell.execute_reply``, ``iopub.status.idle``), from the kernel's message dates."""

    @property
    def stdout(self) -> str:
        """Everything the cell wrote to stdout."""
        return "".join(
            str(out.get("text", ""))
            for out in self.outputs
            if out.get("output_type") == "stream" and out.get("name") == "stdout"
        )

    @property
    def error(self) -> ExecutionError | None:
        if self.status != "error":
            return None
        return ExecutionError(
            str(self.reply.get("ename", "")),
            str(self.reply.get("evalue", "")),
            [str(line) for line in self.reply.get("traceback", [])],
        )

    def raise_for_error(self) -> Self:
        """Raise :class:`~livecells.errors.ExecutionError` if the cell failed."""
        error = self.error
        if error is not None:
            raise error
        return self


class _Execution:
    def __init__(self, msg: Message, area: OutputArea, on_output: OutputCallback | None) -> None:
        self.msg = msg
        self.area = area
        self.on_output = on_output
        self.reply: Message | None = None
        self.idle = False
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.idle_timer: asyncio.TimerHandle | None = None
        self.on_input: InputCallback | None = None
        self.seen = False
        """True once any message for this request came back: the kernel has it."""
        self.timing: dict[str, str] = {}

    def finish(self, exc: BaseException | None = None) -> None:
        if self.idle_timer is not None:
            self.idle_timer.cancel()
        if self.done.done():
            return
        if exc is None:
            self.done.set_result(None)
        else:
            self.done.set_exception(exc)

    def result(self) -> ExecutionResult:
        content = self.reply.content if self.reply else {}
        status = content.get("status", "aborted")
        if status not in ("ok", "error", "aborted"):
            status = "error"
        return ExecutionResult(
            status=status,
            execution_count=content.get("execution_count"),
            outputs=self.area.outputs,
            truncated=self.area.truncated,
            reply=content,
            timing=dict(self.timing),
        )


class Kernel(ABC):
    """An async connection to one Jupyter kernel, on some runtime.

    Use it as an async context manager: entering starts (or attaches to) the kernel and waits
    until it answers ``kernel_info``; leaving shuts it down (runtimes that attached to a kernel
    they did not start leave it running).
    """

    runtime: ClassVar[str]

    def __init__(
        self,
        *,
        on_status: StatusCallback | None = None,
        on_input: InputCallback | None = None,
        startup_timeout: float = 60.0,
        request_timeout: float = 30.0,
        iopub_timeout: float = 4.0,
    ) -> None:
        self.session_id = uuid.uuid4().hex
        self.status = Status.IDLE
        self.kernel_info: dict[str, Any] = {}
        self.on_status = on_status
        self.on_input = on_input
        self.startup_timeout = startup_timeout
        self.request_timeout = request_timeout
        self.iopub_timeout = iopub_timeout
        self.comms = CommManager(self)
        self.displays = DisplayRegistry()
        self._executions: dict[str, _Execution] = {}
        self._requests: dict[str, asyncio.Future[Message]] = {}
        self._background: set[asyncio.Task[Any]] = set()
        self._iopub_seen = asyncio.Event()
        self._closed = False
        self.launched = asyncio.Event()
        """Set once :meth:`start` has launched the kernel (process spawned, or created on the
        server, and connected), while it is still booting."""

    # -- the runtime-specific part ------------------------------------------------------------

    @abstractmethod
    async def _start(self) -> None:
        """Start or attach to the kernel and begin delivering messages to :meth:`_dispatch`."""

    @abstractmethod
    async def _send(self, msg: Message) -> None:
        """Send one message on ``msg.channel``."""

    @abstractmethod
    async def _interrupt(self) -> None: ...

    @abstractmethod
    async def _restart(self) -> None:
        """Restart the kernel process; the connection stays usable afterwards."""

    @abstractmethod
    async def _shutdown(self) -> None:
        """Stop the kernel (if this client owns it) and release every connection."""

    # -- lifecycle ----------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.shutdown()

    async def start(self) -> None:
        """Start the kernel and wait until it answers ``kernel_info``."""
        self._set_status(Status.CONNECTING, f"connecting to the {self.runtime} runtime")
        try:
            await self._start()
            self.launched.set()
            await self._wait_ready(self.startup_timeout)
        except BaseException as exc:
            self._closed = True
            for task in list(self._background):
                task.cancel()
            with contextlib.suppress(Exception):
                await self._shutdown()
            self._set_status(Status.ERROR, f"the kernel did not start: {exc}")
            raise

    async def _wait_ready(self, timeout: float) -> None:
        """Ask for ``kernel_info`` until the kernel answers on shell *and* its busy/idle status
        reaches us on iopub: until then a subscriber's first outputs can be lost (the
        late-joiner problem jupyter_server's "nudge" solves the same way)."""
        self._iopub_seen.clear()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise ExecutionTimeout(
                    f"the kernel did not answer within {timeout:.0f} s; "
                    "check that it starts in a terminal, or raise startup_timeout"
                )
            try:
                reply = await self.request("kernel_info_request", timeout=min(1.0, remaining))
            except ExecutionTimeout:
                continue
            try:
                await asyncio.wait_for(self._iopub_seen.wait(), min(0.5, remaining))
            except TimeoutError:
                continue
            self.kernel_info = reply.content
            await self._await_channels(max(0.1, deadline - loop.time()))
            self._set_status(Status.READY, "kernel ready")
            return

    async def _await_channels(self, timeout: float) -> None:  # noqa: B027 - optional hook
        """Wait, at most ``timeout`` seconds, until channels that answer no request of ours
        (stdin) are connected too; runtimes whose transport makes that certain do nothing."""

    async def interrupt(self) -> None:
        """Interrupt the running cell; it ends with a ``KeyboardInterrupt`` error."""
        await self._interrupt()

    async def restart(self) -> None:
        """Restart the kernel: its state is lost, and cells that were running end with an error."""
        self._set_status(Status.RESTARTING, "restarting the kernel")
        self._fail_pending(KernelDied("the kernel was restarted while this cell was running"))
        await self._restart()
        await self._wait_ready(self.startup_timeout)

    async def shutdown(self) -> None:
        """Stop the kernel and release its connections; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self._fail_pending(KernelDied("the kernel was shut down while this cell was running"))
        try:
            await self._shutdown()
        finally:
            for task in list(self._background):
                task.cancel()
            self._set_status(Status.DEAD, "kernel shut down")

    # -- requests -----------------------------------------------------------------------------

    async def send_shell(
        self,
        msg_type: str,
        content: dict[str, Any],
        *,
        buffers: list[bytes] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Message:
        msg = new_message(
            msg_type, content, session=self.session_id, buffers=buffers, metadata=metadata
        )
        await self._send(msg)
        return msg

    async def request(
        self,
        msg_type: str,
        content: dict[str, Any] | None = None,
        *,
        channel: str = "shell",
        timeout: float | None = None,
    ) -> Message:
        """Send a request and wait for its reply (within ``timeout``, default request_timeout)."""
        msg = new_message(msg_type, content, channel=channel, session=self.session_id)
        waiter: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        self._requests[msg.msg_id] = waiter
        try:
            await self._send(msg)
            limit = self.request_timeout if timeout is None else timeout
            return await asyncio.wait_for(waiter, limit)
        except TimeoutError:
            raise ExecutionTimeout(
                f"no {msg_type} reply from the kernel within {limit} s"
            ) from None
        finally:
            self._requests.pop(msg.msg_id, None)

    async def execute(
        self,
        code: str,
        *,
        timeout: float | None = None,
        silent: bool = False,
        store_history: bool = True,
        user_expressions: dict[str, str] | None = None,
        stop_on_error: bool = True,
        on_output: OutputCallback | None = None,
        on_input: InputCallback | None = None,
        area: OutputArea | None = None,
    ) -> ExecutionResult:
        """Run ``code`` and return its result once the kernel is idle again.

        ``timeout`` bounds the whole execution; when it passes the kernel is interrupted and
        :class:`~livecells.errors.ExecutionTimeout` raised. ``on_input`` (or the kernel's)
        answers ``input()``; without one the kernel is told stdin is not available.
        """
        execution = await self._submit(
            code,
            silent=silent,
            store_history=store_history,
            user_expressions=user_expressions,
            stop_on_error=stop_on_error,
            on_output=on_output,
            on_input=on_input,
            area=area,
        )
        try:
            await asyncio.wait_for(asyncio.shield(execution.done), timeout)
        except TimeoutError:
            with contextlib.suppress(LivecellsError):
                await self._interrupt()
            # The interrupted cell ends (its error, then idle) before this returns: a request
            # sent sooner would be aborted by the kernel (stop_on_error) and show nothing.
            with contextlib.suppress(TimeoutError, LivecellsError):
                await asyncio.wait_for(asyncio.shield(execution.done), INTERRUPT_GRACE)
            self._executions.pop(execution.msg.msg_id, None)
            error = ExecutionTimeout(
                f"the cell did not finish within {timeout} s; it was interrupted"
            )
            error.partial = execution.result()
            raise error from None
        except LivecellsError as exc:
            exc.partial = execution.result()
            raise
        except asyncio.CancelledError:
            # Nobody waits for this execution any more: forget it, so that a shutdown or death
            # of the kernel does not fail its future unobserved ("exception never retrieved").
            self._executions.pop(execution.msg.msg_id, None)
            raise
        return execution.result()

    def stream(self, code: str, **options: Any) -> ExecutionStream:
        """Run ``code`` and yield its outputs as they arrive (see :class:`ExecutionStream`)."""
        return ExecutionStream(self, code, options)

    async def _submit(
        self,
        code: str,
        *,
        silent: bool,
        store_history: bool,
        user_expressions: dict[str, str] | None,
        stop_on_error: bool,
        on_output: OutputCallback | None,
        on_input: InputCallback | None,
        area: OutputArea | None,
    ) -> _Execution:
        if self._closed:
            raise KernelDied("the kernel was shut down; start a new one")
        input_handler = on_input or self.on_input
        msg = new_message(
            "execute_request",
            {
                "code": code,
                "silent": silent,
                "store_history": store_history,
                "user_expressions": user_expressions or {},
                "allow_stdin": input_handler is not None,
                "stop_on_error": stop_on_error,
            },
            session=self.session_id,
        )
        execution = _Execution(msg, area or OutputArea(self.displays), on_output)
        execution.on_input = input_handler
        self._executions[msg.msg_id] = execution
        try:
            await self._send(msg)
        except BaseException:
            self._executions.pop(msg.msg_id, None)
            raise
        return execution

    # -- comms --------------------------------------------------------------------------------

    def register_comm_target(self, target_name: str, handler: TargetHandler) -> None:
        """Call ``handler(comm, comm_open_message)`` when the kernel opens a comm to target."""
        self.comms.register_target(target_name, handler)

    async def open_comm(
        self,
        target_name: str,
        data: dict[str, Any] | None = None,
        *,
        buffers: list[bytes] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Comm:
        return await self.comms.open(target_name, data, buffers=buffers, metadata=metadata)

    # -- incoming messages --------------------------------------------------------------------

    def _dispatch(self, msg: Message) -> None:
        """Route one message from the kernel; runtimes call this for everything they receive."""
        parent = msg.parent_id
        execution = self._executions.get(parent) if parent else None
        if execution is not None:
            execution.seen = True
            moment = TIMED.get((msg.msg_type, str(msg.content.get("execution_state", ""))))
            if moment is not None:
                execution.timing[moment] = timestamp(msg)
        if msg.channel == "iopub":
            self._on_iopub(msg, execution)
        elif msg.channel == "stdin":
            if msg.msg_type == "input_request":
                self._spawn(self._answer_input(msg))
        elif parent:
            if execution is not None and msg.msg_type == "execute_reply":
                execution.reply = msg
                self._maybe_finish(execution)
            else:
                waiter = self._requests.get(parent)
                if waiter is not None and not waiter.done():
                    waiter.set_result(msg)

    def _on_iopub(self, msg: Message, execution: _Execution | None) -> None:
        self._iopub_seen.set()
        msg_type = msg.msg_type
        if msg_type == "status":
            state = str(msg.content.get("execution_state", ""))
            self._on_kernel_state(state, msg, execution)
            return
        if msg_type.startswith("comm_"):
            reply = self.comms.handle(msg)
            if reply is not None:
                self._spawn(reply)
            return
        if msg_type in ("execute_input", "shutdown_reply"):
            return
        if execution is not None:
            execution.area.handle(msg)
            if execution.on_output is not None:
                event = _event_from_message(msg)
                if event is not None:
                    execution.on_output(event)
        elif msg_type == "update_display_data":
            # An update from a thread or a later cell for an earlier cell's display.
            display_id = display_id_of(msg)
            if display_id:
                self.displays.update(
                    display_id, msg.content.get("data", {}), msg.content.get("metadata", {})
                )

    def _on_kernel_state(self, state: str, msg: Message, execution: _Execution | None) -> None:
        if state == "busy":
            self._set_status(Status.BUSY, "")
        elif state == "idle":
            if execution is not None:
                execution.idle = True
                self._maybe_finish(execution)
            if not any(not e.done.done() for e in self._executions.values()):
                self._set_status(Status.IDLE, "")
        elif state == "starting" and not msg.parent_id:
            self._set_status(Status.STARTING, "kernel starting")
        elif state == "restarting":
            self._set_status(Status.RESTARTING, "the kernel restarted")
            self._fail_pending(
                KernelDied("the kernel died or restarted while this cell was running")
            )
        elif state == "dead":
            self._kernel_died("the kernel died and could not be restarted")

    def _maybe_finish(self, execution: _Execution) -> None:
        if execution.reply is None:
            return
        if execution.idle:
            self._executions.pop(execution.msg.msg_id, None)
            execution.finish()
        elif execution.idle_timer is None:
            # Reply without idle: give iopub a moment to catch up, then finish anyway.
            def finish_late() -> None:
                self._executions.pop(execution.msg.msg_id, None)
                execution.finish()

            execution.idle_timer = asyncio.get_running_loop().call_later(
                self.iopub_timeout, finish_late
            )

    async def _answer_input(self, msg: Message) -> None:
        execution = self._executions.get(msg.parent_id or "")
        handler = (execution.on_input if execution else None) or self.on_input
        prompt = str(msg.content.get("prompt", ""))
        password = bool(msg.content.get("password", False))
        value = ""
        if handler is not None:
            answer = handler(prompt, password)
            value = await answer if inspect.isawaitable(answer) else answer
        reply = new_message(
            "input_reply",
            {"value": str(value)},
            channel="stdin",
            session=self.session_id,
            parent=msg,
        )
        await self._send(reply)

    # -- failure handling ---------------------------------------------------------------------

    def _kernel_died(self, detail: str) -> None:
        self._set_status(Status.DEAD, detail)
        self._fail_pending(KernelDied(f"{detail}; call restart() to start it again"))

    def _fail_pending(self, exc: LivecellsError) -> None:
        executions, self._executions = self._executions, {}
        for execution in executions.values():
            execution.finish(_copy_error(exc))
        for waiter in self._requests.values():
            if not waiter.done():
                waiter.set_exception(_copy_error(exc))

    def _connection_lost(self, detail: str) -> None:
        self._set_status(Status.ERROR, detail)
        self._fail_pending(ConnectionFailed(detail))

    def _set_status(self, status: Status, detail: str) -> None:
        if status == self.status and not detail:
            return
        self.status = status
        if self.on_status is not None:
            try:
                self.on_status(status, detail)
            except Exception:
                log.exception("on_status callback failed")

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        task.add_done_callback(_log_failure)


class ExecutionStream:
    """Async iterator over an execution's outputs as they arrive.

    Yields nbformat output dicts, plus two events frontends must apply:
    ``{"output_type": "clear_output", "wait": bool}`` and
    ``{"output_type": "update_display_data", "data", "metadata", "transient"}``.
    After iteration, :attr:`result` holds the :class:`ExecutionResult`.
    """

    def __init__(self, kernel: Kernel, code: str, options: dict[str, Any]) -> None:
        self.kernel = kernel
        self.code = code
        self.options = options
        self.result: ExecutionResult | None = None
        self._queue: asyncio.Queue[Output | None] = asyncio.Queue()

    def __aiter__(self) -> AsyncIterator[Output]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Output]:
        options = dict(self.options)
        user_callback = options.pop("on_output", None)

        def on_output(event: Output) -> None:
            self._queue.put_nowait(event)
            if user_callback is not None:
                user_callback(event)

        task = asyncio.ensure_future(self.kernel.execute(self.code, on_output=on_output, **options))
        task.add_done_callback(lambda _: self._queue.put_nowait(None))
        try:
            while (event := await self._queue.get()) is not None:
                yield event
            self.result = await task
        finally:
            if not task.done():
                task.cancel()


def timestamp(msg: Message) -> str:
    """The message's date as nbclient writes it (``2024-01-31T12:00:00.123456Z``, UTC), or
    now when it has none."""
    date = msg.header.get("date")
    moment = None
    if isinstance(date, str):
        with contextlib.suppress(ValueError):
            moment = datetime.fromisoformat(date)
    elif isinstance(date, datetime):
        moment = date
    if moment is None:
        moment = datetime.now(UTC)
    elif moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _event_from_message(msg: Message) -> Output | None:
    if msg.msg_type == "clear_output":
        return {"output_type": "clear_output", "wait": bool(msg.content.get("wait", False))}
    if msg.msg_type == "update_display_data":
        return {
            "output_type": "update_display_data",
            "data": msg.content.get("data", {}),
            "metadata": msg.content.get("metadata", {}),
            "transient": msg.content.get("transient", {}),
        }
    from livecells.outputs import output_from_message

    return output_from_message(msg)


def _copy_error(exc: LivecellsError) -> LivecellsError:
    return type(exc)(*exc.args)


def _log_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("livecells background task failed", exc_info=task.exception())
