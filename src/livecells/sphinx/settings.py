"""What a Sphinx project's ``conf.py`` asks of livecells: ``livecells_jupyter`` (MyST's
``project.jupyter``), ``livecells`` (the project config's ``livecells:`` options), and what a
site written for sphinx-thebe already says (``thebe_config``; Jupyter Book 1's
``launch_buttons`` and ``repository``, which reach ``conf.py`` as ``html_theme_options``).

A wrong ``livecells_jupyter`` or ``livecells`` value is a :class:`SphinxConfigError` (the build
stops, naming the key); a thebe key that means nothing here is a warning naming it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from sphinx.errors import ConfigError as SphinxConfigBase

from livecells.config import Binder, Jupyter, binder_with_repo, parse_jupyter, parse_options
from livecells.errors import ConfigError
from livecells.pageconfig import CellMarkup

__all__ = ["LIVECELLS_JUPYTER_KEYS", "Settings", "SphinxConfigError", "read_settings"]

LIVECELLS_JUPYTER_KEYS = ("lite", "binder", "server", "kernelName", "disableSessionSaving")
"""MyST's ``project.jupyter`` keys; its math keys are the Sphinx theme's business here."""
THEBE_DEFAULT_SELECTOR = CellMarkup(".thebe", "pre", ".output")
"""sphinx-thebe's own cells, beside MyST-NB's and nbsphinx's (found by the client)."""
THEBE_IGNORED = {
    "codemirror-theme": "the editor follows the theme's light or dark mode",
    "path_to_docs": "a kernel starts in the repository's root on every runtime",
}
"""thebe_config keys understood but without a meaning here, and why."""


class SphinxConfigError(ConfigError, SphinxConfigBase):
    """A livecells setting in ``conf.py`` that cannot be used: Sphinx stops the build with it."""


@dataclass(frozen=True)
class Settings:
    """The site's livecells settings, as every page starts from them."""

    jupyter: Jupyter
    options: Mapping[str, Any]
    markup: CellMarkup
    always_load: bool = False
    """Load the client on every page, not only those with cells (thebe's ``always_load``)."""
    warnings: tuple[str, ...] = field(default=())


def read_settings(
    livecells_jupyter: object,
    livecells: object,
    thebe_config: object,
    theme_options: Mapping[str, Any] | None,
) -> Settings:
    """The site's settings from its ``conf.py`` values (None: not set)."""
    thebe = thebe_config if isinstance(thebe_config, dict) else {}
    if thebe_config is True:
        thebe = {}
    elif thebe_config not in (None, False) and not isinstance(thebe_config, dict):
        raise SphinxConfigError(f"thebe_config: expected a dict or True, got {thebe_config!r}")
    theme = dict(theme_options or {})
    launch = theme.get("launch_buttons")
    launch = launch if isinstance(launch, dict) else {}
    warnings: list[str] = []
    options = _options(livecells)
    repo_url = thebe.get("repository_url") or theme.get("repository_url")
    branch = thebe.get("repository_branch") or theme.get("repository_branch")
    github, provider = _repository(repo_url)
    if livecells_jupyter is not None:
        jupyter = _jupyter(livecells_jupyter)
    elif thebe.get("use_thebe_lite"):
        jupyter = Jupyter(enabled=True, runtime="pyodide")
    elif thebe or launch.get("thebe"):
        # sphinx-thebe's meaning: Binder, on the repository thebe_config (or the theme) names.
        url = launch.get("binderhub_url") or Binder().url
        jupyter = Jupyter(enabled=True, runtime="binder", binder=Binder(url=_slash(url)))
    else:
        jupyter = Jupyter(enabled=True)  # the extension alone: live, on Pyodide
    if jupyter.binder is not None:
        binder = jupyter.binder
        if not binder.repo and github:
            # sphinx-thebe's branch, unless the Binder settings name another than the default
            ref = branch if branch and binder.ref in (None, Binder().ref) else binder.ref
            binder = replace(binder, repo=github, provider=provider, ref=ref)
        jupyter = replace(jupyter, binder=binder_with_repo(binder, None))
    for key in thebe:
        if key in THEBE_IGNORED:
            warnings.append(f"thebe_config: {key!r} has no meaning here: {THEBE_IGNORED[key]}")
        elif key not in THEBE_KEYS:
            warnings.append(f"thebe_config: {key!r} has no meaning here (ignored)")
    markup = THEBE_DEFAULT_SELECTOR
    if any(key in thebe for key in ("selector", "selector_input", "selector_output")):
        markup = CellMarkup(
            _text(thebe, "selector", THEBE_DEFAULT_SELECTOR.selector),
            _text(thebe, "selector_input", "pre"),
            _text(thebe, "selector_output", ".output"),
        )
    always = thebe.get("always_load") in (True, "true", "True")
    return Settings(jupyter, options, markup, always_load=always, warnings=tuple(warnings))


THEBE_KEYS = {
    "repository_url",
    "repository_branch",
    "selector",
    "selector_input",
    "selector_output",
    "use_thebe_lite",
    "always_load",
    *THEBE_IGNORED,
}


def _jupyter(value: object) -> Jupyter:
    where = "conf.py: livecells_jupyter"
    if isinstance(value, dict):
        for key in value:
            if key not in LIVECELLS_JUPYTER_KEYS:
                allowed = ", ".join(LIVECELLS_JUPYTER_KEYS)
                raise SphinxConfigError(f"{where}: unknown key {key!r}; allowed: {allowed}")
    if value is True:
        # MyST's meaning: Binder, on the repository (else thebe-binder-base).
        return Jupyter(enabled=True, runtime="binder", binder=Binder())
    try:
        return parse_jupyter(value, where=where)
    except ConfigError as exc:
        raise SphinxConfigError(str(exc)) from None


def _options(value: object) -> dict[str, Any]:
    try:
        return parse_options(value, where="conf.py: livecells")
    except ConfigError as exc:
        raise SphinxConfigError(str(exc)) from None


def _repository(url: object) -> tuple[str | None, str]:
    """``https://github.com/org/repo`` as Binder's ``org/repo`` on GitHub; another Git URL as
    it is (BinderHub's ``git`` provider)."""
    if not isinstance(url, str) or not url:
        return None, "github"
    if "github.com/" in url:
        parts = url.split("github.com/", 1)[1].strip("/").removesuffix(".git").split("/")
        if len(parts) >= 2:
            return f"{parts[0]}/{parts[1]}", "github"
    return url, "git"


def _text(thebe: Mapping[str, Any], key: str, default: str) -> str:
    value = thebe.get(key, default)
    if not isinstance(value, str):
        raise SphinxConfigError(f"thebe_config: {key}: expected a CSS selector, got {value!r}")
    return value


def _slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"
