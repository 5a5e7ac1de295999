"""Runtime ``server`` against Jupyter Kernel Gateway, started on 127.0.0.1 by the test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.conftest import kernel_gateway
from tests.runtimes.conftest import interrupt_busy_loop

import livecells
from livecells import AuthenticationFailed


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    with kernel_gateway(tmp_path_factory.mktemp("gateway")) as running:
        yield running


async def test_kernel_gateway_runs_cells_and_interrupts(gateway: tuple[str, str]) -> None:
    url, token = gateway
    async with livecells.connect("server", url=url, token=token) as kernel:
        result = await kernel.execute("print('via gateway'); 2 + 2")
        assert [o["output_type"] for o in result.outputs] == ["stream", "execute_result"]
        interrupted = await interrupt_busy_loop(kernel)
        assert interrupted.outputs[-1]["ename"] == "KeyboardInterrupt"


async def test_kernel_gateway_refuses_a_wrong_token(gateway: tuple[str, str]) -> None:
    url, _ = gateway
    with pytest.raises(AuthenticationFailed):
        async with livecells.connect("server", url=url, token="wrong"):
            pass
