"""The Kernel contract, run against every runtime (``local`` and ``server``) with real kernels."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import nbformat
import pytest
from tests.conftest import JupyterServer
from tests.runtimes.conftest import interrupt_busy_loop, kernel_options

import livecells
from livecells import ExecutionError, ExecutionTimeout, KernelDied, Status
from livecells.runtimes.base import Kernel


async def test_execute_returns_status_count_and_outputs(kernel: Kernel) -> None:
    result = await kernel.execute("print('hello')\n6 * 7")
    assert result.status == "ok"
    assert result.execution_count == 1  # a fresh kernel per test
    assert result.outputs == [
        {"output_type": "stream", "name": "stdout", "text": "hello\n"},
        {
            "output_type": "execute_result",
            "data": {"text/plain": "42"},
            "metadata": {},
            "execution_count": result.execution_count,
        },
    ]


async def test_outputs_of_every_kind_are_valid_nbformat(kernel: Kernel) -> None:
    code = """
import sys
from IPython.display import display, HTML, Image, SVG, Markdown, Latex, JSON
print('out'); print('err', file=sys.stderr)
display(HTML('<b>bold</b>'))
display(SVG('<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>'))
display(Markdown('*md*')); display(Latex('$x^2$')); display(JSON({'a': 1}))
display(Image(data=bytes.fromhex(
    '89504e470d0a1a0a0000000d4948445200000001000000010806000000'
    '1f15c4890000000d4944415478da63f8cfc0f01f0005000201a5f6d1ab0000000049454e44ae426082'),
    format='png'))
1 / 0
"""
    result = await kernel.execute(code)
    assert result.status == "error"
    kinds = [o["output_type"] for o in result.outputs]
    assert kinds[:2] == ["stream", "stream"]
    mimes = {m for o in result.outputs if "data" in o for m in o["data"]}
    assert {"text/html", "image/svg+xml", "text/markdown", "text/latex"} <= mimes
    assert {"application/json", "image/png"} <= mimes
    error = result.outputs[-1]
    assert error["output_type"] == "error"
    assert error["ename"] == "ZeroDivisionError"
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(code, outputs=result.outputs, execution_count=1)]
    )
    nbformat.validate(nbformat.from_dict(notebook))


async def test_error_reply_can_be_raised(kernel: Kernel) -> None:
    result = await kernel.execute("raise ValueError('bad value')")
    assert result.error is not None
    with pytest.raises(ExecutionError, match="ValueError: bad value") as info:
        result.raise_for_error()
    assert any("bad value" in line for line in info.value.traceback)


async def test_stream_yields_outputs_as_they_arrive(kernel: Kernel) -> None:
    code = "import time\nprint('first', flush=True)\ntime.sleep(1)\nprint('second', flush=True)"
    arrivals: list[tuple[float, str]] = []
    stream = kernel.stream(code)
    async for output in stream:
        arrivals.append((time.monotonic(), output["text"]))
    assert [text for _, text in arrivals] == ["first\n", "second\n"]
    assert arrivals[1][0] - arrivals[0][0] > 0.5
    assert stream.result is not None
    assert stream.result.outputs == [
        {"output_type": "stream", "name": "stdout", "text": "first\nsecond\n"}
    ]


async def test_clear_output_wait_defers_until_next_output(kernel: Kernel) -> None:
    code = """
from IPython.display import clear_output
print('old')
clear_output(wait=True)
print('new')
"""
    events: list[dict[str, Any]] = []
    result = await kernel.execute(code, on_output=events.append)
    assert result.outputs == [{"output_type": "stream", "name": "stdout", "text": "new\n"}]
    assert {"output_type": "clear_output", "wait": True} in events


async def test_clear_output_without_wait_clears_now(kernel: Kernel) -> None:
    code = "from IPython.display import clear_output\nprint('old')\nclear_output()"
    result = await kernel.execute(code)
    assert result.outputs == []


async def test_update_display_data_updates_an_earlier_cell(kernel: Kernel) -> None:
    first = await kernel.execute(
        "from IPython.display import display\nh = display('v1', display_id='counter')"
    )
    assert first.outputs[0]["data"]["text/plain"] == "'v1'"
    second = await kernel.execute("h.update('v2')")
    assert second.outputs == []
    assert first.outputs[0]["data"]["text/plain"] == "'v2'"


async def test_display_with_same_id_updates_every_copy(kernel: Kernel) -> None:
    result = await kernel.execute(
        "from IPython.display import display\n"
        "display('a', display_id='d')\ndisplay('b', display_id='d');"
    )
    assert [o["data"]["text/plain"] for o in result.outputs] == ["'b'", "'b'"]


async def test_input_is_answered_by_on_input(kernel: Kernel) -> None:
    prompts: list[tuple[str, bool]] = []

    async def answer(prompt: str, password: bool) -> str:
        prompts.append((prompt, password))
        return "Ada"

    result = await kernel.execute("name = input('Name? ')\nprint('hi', name)", on_input=answer)
    assert prompts == [("Name? ", False)]
    assert result.outputs[-1]["text"] == "hi Ada\n"


async def test_getpass_is_a_password_prompt(kernel: Kernel) -> None:
    seen: list[bool] = []
    result = await kernel.execute(
        "import getpass\nsecret = getpass.getpass('pw: ')\nprint(len(secret))",
        on_input=lambda prompt, password: seen.append(password) or "xyz",
    )
    assert seen == [True]
    assert result.outputs[-1]["text"] == "3\n"


async def test_input_without_handler_fails_like_jupyter(kernel: Kernel) -> None:
    result = await kernel.execute("input('?')")
    assert result.status == "error"
    assert result.outputs[-1]["ename"] == "StdinNotImplementedError"


async def test_interrupt_stops_a_running_cell(kernel: Kernel) -> None:
    result = await interrupt_busy_loop(kernel)
    assert result.status == "error"
    assert result.outputs[-1]["ename"] == "KeyboardInterrupt"
    assert (await kernel.execute("1")).status == "ok"


async def test_restart_loses_state_and_reports_status(kernel: Kernel) -> None:
    statuses: list[Status] = []
    kernel.on_status = lambda status, detail: statuses.append(status)
    await kernel.execute("x = 1")
    await kernel.restart()
    result = await kernel.execute("x")
    assert result.outputs[-1]["ename"] == "NameError"
    assert Status.RESTARTING in statuses
    assert statuses.index(Status.READY) > statuses.index(Status.RESTARTING)


async def test_restart_ends_a_running_cell_with_an_error(kernel: Kernel) -> None:
    started = asyncio.Event()
    code = "print('started', flush=True)\nimport time; time.sleep(60)"
    task = asyncio.create_task(kernel.execute(code, on_output=lambda _: started.set()))
    await asyncio.wait_for(started.wait(), 60)
    await kernel.restart()
    with pytest.raises(KernelDied, match="restarted"):
        await asyncio.wait_for(task, 30)
    assert (await kernel.execute("2")).outputs[-1]["data"]["text/plain"] == "2"


async def test_kernel_killed_mid_cell_ends_execution_with_partial_outputs(kernel: Kernel) -> None:
    # The sleep lets the kernel's IO thread publish 'before': a SIGKILL straight after print
    # can kill the output inside the kernel, before any client could see it.
    code = (
        "import os, signal, time\nprint('before', flush=True)\ntime.sleep(1)\n"
        "os.kill(os.getpid(), signal.SIGKILL)"
    )
    with pytest.raises(KernelDied) as info:
        await asyncio.wait_for(kernel.execute(code), 30)
    partial = info.value.partial
    assert partial.outputs == [{"output_type": "stream", "name": "stdout", "text": "before\n"}]


async def test_execution_timeout_interrupts_and_keeps_the_kernel(kernel: Kernel) -> None:
    with pytest.raises(ExecutionTimeout, match="interrupted"):
        await kernel.execute("print('started', flush=True)\nimport time; time.sleep(30)", timeout=1)
    # At once: the interrupted kernel takes the next request without a pause.
    assert (await kernel.execute("'alive'")).outputs[-1]["data"]["text/plain"] == "'alive'"


async def test_kernel_info_is_available_after_start(kernel: Kernel) -> None:
    assert kernel.kernel_info["language_info"]["name"] == "python"
    assert kernel.status in (Status.READY, Status.IDLE, Status.BUSY)


async def test_comms_route_messages_and_binary_buffers_both_ways(kernel: Kernel) -> None:
    await kernel.execute(
        "def _echo(comm, open_msg):\n"
        "    comm.on_msg(lambda m: comm.send(m['content']['data'], buffers=m['buffers']))\n"
        "get_ipython().kernel.comm_manager.register_target('echo', _echo)"
    )
    comm = await kernel.open_comm("echo")
    received: asyncio.Queue[livecells.Message] = asyncio.Queue()
    comm.on_msg(received.put_nowait)
    payload = bytes(range(256))
    await comm.send({"n": 1}, buffers=[payload, b"\x00\xff"])
    echoed = await asyncio.wait_for(received.get(), 10)
    assert echoed.content["data"] == {"n": 1}
    assert echoed.buffers == [payload, b"\x00\xff"]
    await comm.close()


async def test_comm_opened_by_the_kernel_reaches_its_target(kernel: Kernel) -> None:
    opened: asyncio.Queue[livecells.Message] = asyncio.Queue()
    kernel.register_comm_target("from-kernel", lambda comm, msg: opened.put_nowait(msg))
    await kernel.execute(
        "import comm\n"
        "c = comm.create_comm(target_name='from-kernel', data={'hi': 1}, buffers=[b'\\x01\\x02'])"
    )
    msg = await asyncio.wait_for(opened.get(), 10)
    assert msg.content["data"] == {"hi": 1}
    assert msg.buffers == [b"\x01\x02"]


@pytest.mark.parametrize("runtime", ["local", "server"])
async def test_bash_kernel_runs_through_the_same_contract(
    runtime: str, jupyter_server: JupyterServer
) -> None:
    options = kernel_options(runtime, jupyter_server, kernel_name="bash")
    async with livecells.connect(runtime, **options) as bash:
        assert bash.kernel_info["language_info"]["name"] == "bash"
        result = await bash.execute("echo one; sleep 0.2; echo two")
        assert result.status == "ok"
        assert "".join(o.get("text", "") for o in result.outputs) == "one\ntwo\n"
        failed = await bash.execute("exit_code_test() { return 3; }; exit_code_test")
        assert failed.status == "error"


async def test_unknown_runtime_names_the_choices() -> None:
    with pytest.raises(livecells.RuntimeNotAvailable, match="local, pyodide, server"):
        livecells.connect("nowhere")
