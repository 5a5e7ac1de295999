"""Runtime ``binder``: a BinderHub builds (or reuses) an environment for a repository and
launches a Jupyter Server in it; the kernel then runs there, as on the ``server`` runtime.

The build API is an event stream: ``GET {binder_url}build/{provider}/{spec}`` answers ``data:``
lines of JSON, each with a ``phase`` (``waiting``, ``fetching``, ``building``, ``pushing``,
``built``, ``launching``, ``ready``, ``failed``) and a ``message`` (build log lines arrive in the
``building`` phase); ``ready`` carries the server's ``url`` and ``token``. Every event reaches
``on_status`` as ``starting`` with its phase and message, so a long build is never opaque.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any
from urllib.parse import quote

import httpx

from livecells.config import DEFAULT_BINDER_URL
from livecells.errors import ConfigError, ConnectionFailed
from livecells.runtimes.base import Status
from livecells.runtimes.server import ServerKernel

__all__ = ["BinderKernel", "build_spec"]

PROVIDERS = ("github", "gitlab", "git", "gist", "zenodo", "figshare", "hydroshare", "dataverse")


def build_spec(repo: str, ref: str | None = None, provider: str = "github") -> str:
    """The ``{provider}/{spec}`` part of a build URL, as BinderHub's own launch form makes it.

    ``repo`` is ``owner/name`` or a repository URL; ``ref`` a branch, tag or commit (default
    ``HEAD``). Providers outside the list (a custom BinderHub repo provider) take ``repo`` as
    their spec unchanged.
    """
    ref = ref or "HEAD"
    if provider == "github":
        match = re.match(r"^(?:https?://github\.com/)?([^/\s]+/[^/\s]+?)(?:\.git)?/?$", repo)
        if not match:
            raise ConfigError(f"not a GitHub repository: {repo!r} (expected owner/name or a URL)")
        return f"github/{match.group(1)}/{quote(ref, safe='')}"
    if provider == "gitlab":
        path = re.sub(r"^https?://gitlab\.com/", "", repo).removesuffix(".git").strip("/")
        return f"gitlab/{quote(path, safe='')}/{quote(ref, safe='')}"
    if provider == "git":
        return f"git/{quote(repo, safe='')}/{quote(ref, safe='')}"
    return f"{provider}/{repo}"


class BinderKernel(ServerKernel):
    """A kernel on a server a BinderHub launched for ``repo`` at ``ref``."""

    runtime = "binder"

    def __init__(
        self,
        repo: str,
        *,
        ref: str | None = None,
        binder_url: str = DEFAULT_BINDER_URL,
        provider: str = "github",
        build_timeout: float = 900.0,
        **options: Any,
    ) -> None:
        # The server's URL and token are the build's answer; until then, none.
        super().__init__("http://binder.invalid/", **options)
        self.repo = repo
        self.ref = ref
        self.binder_url = binder_url.rstrip("/") + "/"
        self.provider = provider
        self.build_timeout = build_timeout
        self.spec = build_spec(repo, ref, provider)
        self.phases: list[str] = []
        """Every phase the build went through, in order."""

    async def _start(self) -> None:
        try:
            async with asyncio.timeout(self.build_timeout):
                await self._build()
        except TimeoutError:
            raise ConnectionFailed(
                f"the BinderHub at {self.binder_url} did not launch {self.spec} within "
                f"{self.build_timeout:.0f} s; try again (a first build takes longest)"
            ) from None
        await super()._start()

    async def _build(self) -> None:
        url = f"{self.binder_url}build/{self.spec}"
        self._set_status(Status.CONNECTING, f"asking the BinderHub at {self.binder_url}")
        timeout = httpx.Timeout(30.0, read=None)
        try:
            async with (
                httpx.AsyncClient(timeout=timeout) as http,
                http.stream("GET", url, headers={"Accept": "text/event-stream"}) as response,
            ):
                if response.status_code != 200:
                    body = (await response.aread()).decode(errors="replace")[:300]
                    raise ConnectionFailed(
                        f"the BinderHub at {self.binder_url} answered HTTP "
                        f"{response.status_code} for {self.spec}: {body.strip()}"
                    )
                async for line in response.aiter_lines():
                    if line.startswith("data:") and self._event(line[5:].strip()):
                        return
        except httpx.HTTPError as exc:
            raise ConnectionFailed(
                f"cannot reach the BinderHub at {self.binder_url} ({exc or type(exc).__name__})"
            ) from None
        raise ConnectionFailed(
            f"the BinderHub at {self.binder_url} ended the build of {self.spec} without "
            "launching a server"
        )

    def _event(self, data: str) -> bool:
        """Handle one build event; True once the server is ready."""
        try:
            event = json.loads(data)
        except ValueError:
            return False
        phase = str(event.get("phase", ""))
        message = str(event.get("message", "")).strip()
        if not self.phases or self.phases[-1] != phase:
            self.phases.append(phase)
        if phase == "failed":
            raise ConnectionFailed(f"Binder could not build {self.spec}: {message}")
        self._set_status(Status.STARTING, f"binder {phase}: {message}" if message else phase)
        if phase == "ready":
            if not event.get("url"):
                raise ConnectionFailed("the BinderHub said ready but gave no server URL")
            self.url = str(event["url"]).rstrip("/") + "/"
            self.token = event.get("token")
            return True
        return False
