"""``livecells serve _build/html``: a built HTML folder's pages, as they are, live on the
server's kernels (:mod:`livecells.sphinx.built` rewrites their page config)."""

from __future__ import annotations

from pathlib import Path

from tornado import web

from livecells.server.app import PageHandler, _servable
from livecells.sphinx.built import page_policy, served_page

__all__ = ["BuiltPageHandler"]


class BuiltPageHandler(PageHandler):
    """A page of the built folder with the serving kernels first; other files as they are."""

    @web.authenticated
    async def get(self, url: str) -> None:
        root: Path = self.settings["livecells_built"]
        if not _servable(url):
            raise web.HTTPError(404)
        target = (root / url).resolve()
        if target.is_dir():
            target = target / "index.html"
        if target.suffix != ".html":
            await self._send_file(root, url)
            return
        if not target.is_relative_to(root) or not target.is_file() or target.name.startswith("."):
            raise web.HTTPError(404)
        self.xsrf_token  # noqa: B018 - sets the _xsrf cookie the client's POSTs echo
        switchable = self.site.switchable
        body = served_page(
            target.read_text(encoding="utf-8", errors="replace"),
            self.site.served,  # type: ignore[arg-type]
            switchable=switchable,
        )
        self.set_header("Content-Security-Policy", page_policy(body))
        self._send_page(body)
