"""The livecells jupyter_server extension: ``livecells serve`` (see :mod:`livecells.server.app`)."""

from __future__ import annotations

from typing import Any

__all__: list[str] = []


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    from livecells.server.app import LivecellsApp

    return [{"module": "livecells.server.app", "app": LivecellsApp}]
