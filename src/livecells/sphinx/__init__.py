"""``livecells.sphinx``: live code cells in any Sphinx site (MyST-NB, nbsphinx, Jupyter Book 1),
a drop-in for sphinx-thebe.

``extensions = [..., "livecells.sphinx"]`` (Jupyter Book 1: ``sphinx: extra_extensions:
[livecells.sphinx]``). The build gets the browser client, Pyodide and the site's wheels under
``_static/livecells/`` (self-hosted; the entry script, its chunks and the stylesheet carry SRI
hashes), and each page with cells gets its page config (``#livecells-config``, the JSON
livecells' own pages carry, from :func:`livecells.pageconfig.page_config`). Settings come from
``livecells_jupyter`` and ``livecells`` in ``conf.py``, else from sphinx-thebe's
``thebe_config`` and the theme's ``launch_buttons`` (:mod:`livecells.sphinx.settings`); page
metadata ``livecells: false`` leaves a page as it is. ``livecells serve _build/html`` serves
the result on its own kernels (:mod:`livecells.sphinx.built`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sphinx.application import Sphinx

__all__ = ["setup"]


def setup(app: Sphinx) -> dict[str, Any]:
    """Sphinx's entry point. Sphinx is imported only here: ``livecells serve`` imports
    :mod:`livecells.sphinx.built` without it."""
    from livecells.sphinx.extension import setup as setup_extension

    return setup_extension(app)
