"""How ``conf.py`` values map to livecells settings (``livecells.sphinx.settings``): MyST's
``project.jupyter`` meaning for ``livecells_jupyter``, sphinx-thebe's for ``thebe_config``,
sphinx-book-theme's for ``launch_buttons`` and ``repository``."""

from __future__ import annotations

import pytest

from livecells.config import Binder, Jupyter
from livecells.pageconfig import CellMarkup
from livecells.sphinx.settings import SphinxConfigError, read_settings


def test_the_extension_alone_runs_pages_on_pyodide() -> None:
    settings = read_settings(None, None, None, None)
    assert settings.jupyter == Jupyter(enabled=True)
    assert settings.markup == CellMarkup(".thebe", "pre", ".output")
    assert (settings.always_load, settings.warnings) == (False, ())


def test_book_theme_launch_buttons_mean_binder_on_the_books_repository_and_hub() -> None:
    theme = {
        "launch_buttons": {"thebe": True, "binderhub_url": "https://hub.example.org"},
        "repository_url": "https://github.com/owner/book.git",
        "repository_branch": "gh-pages",
    }
    settings = read_settings(None, None, None, theme)
    assert settings.jupyter.runtime == "binder"
    assert settings.jupyter.binder == Binder(
        repo="owner/book", ref="gh-pages", url="https://hub.example.org/", provider="github"
    )


def test_thebe_lite_always_load_and_selectors() -> None:
    thebe = {
        "use_thebe_lite": True,
        "always_load": "true",
        "selector": "div.highlight-python",
        "selector_output": ".out",
    }
    settings = read_settings(None, None, thebe, None)
    assert settings.jupyter == Jupyter(enabled=True, runtime="pyodide")
    assert settings.always_load is True
    assert settings.markup == CellMarkup("div.highlight-python", "pre", ".out")


def test_a_repository_off_github_uses_binderhubs_git_provider() -> None:
    thebe = {"repository_url": "https://gitlab.example.org/group/book"}
    binder = read_settings(None, None, thebe, None).jupyter.binder
    assert binder == Binder(
        repo="https://gitlab.example.org/group/book", provider="git", url="https://mybinder.org/"
    )


def test_livecells_jupyter_wins_over_thebe_config_and_keeps_its_repository() -> None:
    thebe = {"repository_url": "https://github.com/owner/repo", "use_thebe_lite": True}
    settings = read_settings(True, None, thebe, None)
    assert settings.jupyter.runtime == "binder"
    assert settings.jupyter.binder == Binder(repo="owner/repo", provider="github")
    server = read_settings(
        {"server": {"url": "http://127.0.0.1:18701", "token": ""}}, None, thebe, None
    )
    assert (server.jupyter.runtime, server.jupyter.server.url) == (  # type: ignore[union-attr]
        "server",
        "http://127.0.0.1:18701/",
    )
    assert read_settings(False, None, thebe, None).jupyter.enabled is False


def test_thebe_keys_without_a_meaning_here_are_warned_about_by_name() -> None:
    thebe = {"codemirror-theme": "abcdef", "path_to_docs": "docs", "binderOptions": {}}
    assert read_settings(None, None, thebe, None).warnings == (
        "thebe_config: 'codemirror-theme' has no meaning here: the editor follows the theme's "
        "light or dark mode",
        "thebe_config: 'path_to_docs' has no meaning here: a kernel starts in the repository's "
        "root on every runtime",
        "thebe_config: 'binderOptions' has no meaning here (ignored)",
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"lite": "yes"}, "conf.py: livecells_jupyter.lite: expected a boolean, got 'yes'"),
        ("colab", "conf.py: livecells_jupyter: expected true, false, 'lite', 'binder' or a"),
        ({"server": {}}, "conf.py: livecells_jupyter.server.url: required"),
    ],
)
def test_wrong_livecells_jupyter_values_are_refused_by_name(value: object, message: str) -> None:
    with pytest.raises(SphinxConfigError) as refused:
        read_settings(value, None, None, None)
    assert str(refused.value).startswith(message)


def test_a_thebe_config_that_is_not_a_dict_is_refused() -> None:
    with pytest.raises(SphinxConfigError, match="thebe_config: expected a dict or True"):
        read_settings(None, None, "yes", None)
