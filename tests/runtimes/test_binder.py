"""Runtime ``binder`` against a local stand-in BinderHub (tests/binderhub.py: mybinder.org
cannot be reached from here) that streams the real build events and launches a real
``jupyter server``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.binderhub import StandInBinderHub, standin_binderhub

import livecells
from livecells.errors import ConfigError, ConnectionFailed
from livecells.runtimes.binder import BinderKernel, build_spec


@pytest.fixture
def binderhub(tmp_path: Path) -> Iterator[StandInBinderHub]:
    root = tmp_path / "repo"
    root.mkdir()
    with standin_binderhub(root) as hub:
        yield hub


def test_build_specs_follow_binderhubs_forms() -> None:
    assert build_spec("owner/name") == "github/owner/name/HEAD"
    assert build_spec("https://github.com/owner/name.git", "v1.0") == "github/owner/name/v1.0"
    assert build_spec("group/sub/project", "main", "gitlab") == "gitlab/group%2Fsub%2Fproject/main"
    assert build_spec("https://example.org/r.git", None, "git") == (
        "git/https%3A%2F%2Fexample.org%2Fr.git/HEAD"
    )
    with pytest.raises(
        ConfigError,
        match="not a GitHub repository: 'not a repo' \\(expected owner/name or a URL\\)",
    ):
        build_spec("not a repo")


async def test_a_build_is_followed_phase_by_phase_then_the_kernel_runs(
    binderhub: StandInBinderHub,
) -> None:
    details: list[str] = []
    kernel = livecells.connect(
        "binder",
        repo="owner/name",
        ref="main",
        binder_url=binderhub.url,
        kernel_name="python3",
        on_status=lambda status, detail: details.append(detail),
    )
    async with kernel:
        result = await kernel.execute("6 * 7")
    assert result.outputs[0]["data"]["text/plain"] == "42"
    assert isinstance(kernel, BinderKernel)
    assert kernel.phases == ["waiting", "fetching", "building", "launching", "ready"]
    assert "binder building: Step 2/2 : RUN pip install ipykernel" in details
    assert binderhub.launches == ["github/owner/name/main"]


async def test_a_failed_build_is_a_clear_error(binderhub: StandInBinderHub) -> None:
    with pytest.raises(ConnectionFailed, match=r"could not build .*repository not found"):
        async with livecells.connect("binder", repo="owner/fail", binder_url=binderhub.url):
            pass


async def test_an_unreachable_binderhub_is_a_clear_error() -> None:
    with pytest.raises(ConnectionFailed, match="cannot reach the BinderHub"):
        async with livecells.connect("binder", repo="o/n", binder_url="http://127.0.0.1:9/"):
            pass
