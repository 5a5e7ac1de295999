"""Runtime ``server`` against a real jupyter server: framing, reconnects, errors, reuse."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import httpx
import pytest
from tests.conftest import JupyterServer, free_port, start_jupyter_server
from tests.tcpproxy import TcpProxy

import livecells
from livecells import (
    AuthenticationFailed,
    ConnectionFailed,
    KernelDied,
    KernelNotFound,
    Status,
)
from livecells.messages import V1_SUBPROTOCOL
from livecells.runtimes.server import ServerKernel

COUNT_SLOWLY = "import time\nfor i in range(10):\n    print(i, flush=True)\n    time.sleep(0.2)"


@pytest.mark.parametrize(("protocol", "expected"), [("auto", V1_SUBPROTOCOL), ("json", None)])
async def test_offers_v1_framing_and_falls_back_to_json(
    jupyter_server: JupyterServer, protocol: str, expected: str | None
) -> None:
    async with livecells.connect(
        "server", url=jupyter_server.url, token=jupyter_server.token, protocol=protocol
    ) as kernel:
        assert isinstance(kernel, ServerKernel)
        assert kernel.codec.subprotocol == expected
        result = await kernel.execute("import sys; print(sys.version_info[0])")
        assert result.outputs[0]["text"] == "3\n"


async def test_a_server_without_v1_framing_is_spoken_to_in_json(tmp_path: Path) -> None:
    legacy = start_jupyter_server(tmp_path, "--ZMQChannelsWebsocketConnection.kernel_ws_protocol=")
    try:
        options = {"url": legacy.url, "token": legacy.token}
        async with livecells.connect("server", **options) as kernel:
            assert isinstance(kernel, ServerKernel)
            assert kernel.codec.subprotocol is None
            assert (await kernel.execute("print(6 * 7)")).outputs[0]["text"] == "42\n"
        with pytest.raises(ConnectionFailed, match="does not speak v1"):
            async with livecells.connect("server", protocol="v1", **options):
                pass
    finally:
        legacy.stop()


async def test_a_kernel_slower_to_answer_than_a_request_still_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server holds the WebSocket's handshake until the new kernel answers kernel_info: a
    kernel's start, bound by ``startup_timeout``, not by ``request_timeout``."""
    spec = tmp_path / "data" / "kernels" / "slow"
    spec.mkdir(parents=True)
    launch = f'sleep 3; exec "{sys.executable}" -m ipykernel_launcher -f "$0"'
    argv = ["sh", "-c", launch, "{connection_file}"]
    spec.joinpath("kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "Slow", "language": "python"})
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "data"))
    root = tmp_path / "root"
    root.mkdir()
    server = start_jupyter_server(root)
    try:
        options = {"url": server.url, "token": server.token, "kernel_name": "slow"}
        async with livecells.connect("server", request_timeout=1.5, **options) as kernel:
            assert (await kernel.execute("print(6 * 7)")).outputs[0]["text"] == "42\n"
    finally:
        server.stop()


async def test_binary_buffers_survive_json_framing(jupyter_server: JupyterServer) -> None:
    async with livecells.connect(
        "server", url=jupyter_server.url, token=jupyter_server.token, protocol="json"
    ) as kernel:
        await kernel.execute(
            "get_ipython().kernel.comm_manager.register_target('echo', lambda c, m: "
            "c.on_msg(lambda x: c.send(x['content']['data'], buffers=x['buffers'])))"
        )
        comm = await kernel.open_comm("echo")
        got: asyncio.Queue[livecells.Message] = asyncio.Queue()
        comm.on_msg(got.put_nowait)
        await comm.send({"k": "v"}, buffers=[b"\x00\x01\x02" * 1000])
        echoed = await asyncio.wait_for(got.get(), 10)
        assert echoed.buffers == [b"\x00\x01\x02" * 1000]


async def test_websocket_dropped_mid_cell_loses_no_output(
    jupyter_server: JupyterServer, proxy: TcpProxy
) -> None:
    statuses: list[Status] = []
    async with livecells.connect(
        "server",
        url=f"http://127.0.0.1:{proxy.port}/",
        token=jupyter_server.token,
        on_status=lambda status, detail: statuses.append(status),
    ) as kernel:
        printed = asyncio.Event()
        task = asyncio.create_task(kernel.execute(COUNT_SLOWLY, on_output=lambda _: printed.set()))
        await asyncio.wait_for(printed.wait(), 30)  # mid-cell: the first line is out
        proxy.cut()
        result = await asyncio.wait_for(task, 30)
        assert proxy.cuts == 1
        assert Status.DISCONNECTED in statuses
        assert result.status == "ok"
        assert result.outputs == [
            {
                "output_type": "stream",
                "name": "stdout",
                "text": "".join(f"{i}\n" for i in range(10)),
            }
        ]
        assert (await kernel.execute("'still here'")).status == "ok"


async def test_message_sent_while_disconnected_is_delivered_after_reconnect(
    jupyter_server: JupyterServer, proxy: TcpProxy
) -> None:
    async with livecells.connect(
        "server", url=f"http://127.0.0.1:{proxy.port}/", token=jupyter_server.token
    ) as kernel:
        proxy.cut()
        result = await asyncio.wait_for(kernel.execute("'queued'"), 30)
        assert result.outputs[-1]["data"]["text/plain"] == "'queued'"


async def test_server_gone_for_good_fails_waiting_cells_within_the_timeout(
    tmp_path: Path,
) -> None:
    server = start_jupyter_server(tmp_path)
    try:
        async with livecells.connect(
            "server", url=server.url, token=server.token, reconnect_timeout=2
        ) as kernel:
            started = asyncio.Event()
            code = "print('started', flush=True)\nimport time; time.sleep(60)"
            task = asyncio.create_task(kernel.execute(code, on_output=lambda _: started.set()))
            await asyncio.wait_for(started.wait(), 30)
            server.process.kill()
            server.process.wait()
            with pytest.raises(ConnectionFailed, match="could not reconnect"):
                await asyncio.wait_for(task, 30)
            assert kernel.status == Status.ERROR
    finally:
        server.stop()


async def test_kernel_restarted_by_the_server_ends_the_cell(jupyter_server: JupyterServer) -> None:
    async with livecells.connect(
        "server", url=jupyter_server.url, token=jupyter_server.token
    ) as kernel:
        with pytest.raises(KernelDied, match="died or restarted"):
            await asyncio.wait_for(kernel.execute("import os; os._exit(1)"), 30)
        await asyncio.sleep(1)
        # the server restarted it automatically: the same client carries on
        assert (await kernel.execute("'back'")).status == "ok"


async def test_wrong_token_says_to_pass_the_servers_token(jupyter_server: JupyterServer) -> None:
    with pytest.raises(AuthenticationFailed, match=r"HTTP 403.*token"):
        async with livecells.connect("server", url=jupyter_server.url, token="wrong"):
            pass


async def test_unreachable_url_says_to_check_the_server() -> None:
    url = f"http://127.0.0.1:{free_port()}/"
    with pytest.raises(ConnectionFailed, match=r"cannot reach a Jupyter Server at .*running"):
        async with livecells.connect("server", url=url, token="x"):
            pass


async def test_unknown_kernel_name_lists_the_available_ones(jupyter_server: JupyterServer) -> None:
    with pytest.raises(KernelNotFound, match=r"no kernel named 'cobol'.*bash.*python3"):
        async with livecells.connect(
            "server", url=jupyter_server.url, token=jupyter_server.token, kernel_name="cobol"
        ):
            pass


async def test_unknown_kernel_id_is_a_clear_error(jupyter_server: JupyterServer) -> None:
    with pytest.raises(KernelNotFound, match="no kernel with id"):
        async with livecells.connect(
            "server", url=jupyter_server.url, token=jupyter_server.token, kernel_id="nope"
        ):
            pass


async def test_reuse_by_kernel_id_shares_state_and_leaves_the_kernel_running(
    jupyter_server: JupyterServer,
) -> None:
    auth = {"Authorization": f"token {jupyter_server.token}"}
    async with livecells.connect(
        "server", url=jupyter_server.url, token=jupyter_server.token
    ) as owner:
        assert isinstance(owner, ServerKernel)
        await owner.execute("shared = 42")
        async with livecells.connect(
            "server", url=jupyter_server.url, token=jupyter_server.token, kernel_id=owner.kernel_id
        ) as guest:
            result = await guest.execute("shared")
            assert result.outputs[-1]["data"]["text/plain"] == "42"
        kernel_url = f"{jupyter_server.url}api/kernels/{owner.kernel_id}"
        assert httpx.get(kernel_url, headers=auth).status_code == 200
    assert httpx.get(kernel_url, headers=auth).status_code == 404


async def test_xsrf_is_honoured_on_a_server_without_token(tmp_path: Path) -> None:
    server = start_jupyter_server(tmp_path, token="")
    try:
        refused = httpx.post(f"{server.url}api/kernels", json={"name": "python3"})
        assert refused.status_code == 403  # the server really enforces XSRF
        async with livecells.connect("server", url=server.url) as kernel:
            assert (await kernel.execute("1 + 1")).outputs[-1]["data"]["text/plain"] == "2"
    finally:
        server.stop()


async def test_iopub_rate_limit_is_reported_as_truncation(tmp_path: Path) -> None:
    server = start_jupyter_server(
        tmp_path,
        "--ServerApp.iopub_data_rate_limit=20000",
        "--ServerApp.rate_limit_window=0.5",
    )
    try:
        async with livecells.connect("server", url=server.url, token=server.token) as kernel:
            result = await kernel.execute(
                "import time\nfor i in range(30):\n    print('x' * 5000, flush=True)\n"
                "    time.sleep(0.01)"
            )
            assert result.truncated
            assert any("IOPub data rate exceeded" in o.get("text", "") for o in result.outputs)
    finally:
        server.stop()
