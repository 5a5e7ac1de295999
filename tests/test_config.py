"""Project configuration: livecells.yml / myst.yml, MyST's ``project.jupyter`` forms, pages."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from livecells import pageconfig
from livecells.config import (
    Binder,
    Server,
    load_project,
    page_settings,
    parse_jupyter,
    parse_options,
)
from livecells.errors import ConfigError

WHERE = "myst.yml: project.jupyter"


def page_config(jupyter: Any, **options: Any) -> dict[str, Any]:
    """The page config as the client receives it (JSON names and values)."""
    return pageconfig.page_config(jupyter, **options).to_json()


def pyodide_config(options: dict[str, Any], packages: list[str]) -> dict[str, Any]:
    settings = pageconfig.pyodide_settings(options, packages)
    config: dict[str, Any] = pageconfig.PageConfig(pyodide=settings).to_json()["pyodide"]
    return config


def project(tmp_path: Path, text: str, name: str = "myst.yml") -> Path:
    (tmp_path / name).write_text(text)
    return tmp_path


def runtime_of(value: object, default: str = "livecells") -> str | None:
    jupyter = parse_jupyter(value, where=WHERE)
    config = page_config(
        jupyter, default_runtime=default, auto_run=True, trusted=False, kernel_name=None
    )
    runtime: str | None = config["runtime"]
    return runtime


# -- MyST's forms ---------------------------------------------------------------------------


def test_true_means_binder_and_only_livecells_serve_starts_on_its_own_kernels() -> None:
    """MyST: ``jupyter: true`` is Binder. Under ``livecells serve`` the page starts on the
    serving kernels, says Binder is the configured one, and offers it."""
    assert runtime_of(True, "pyodide") == "binder"
    served = page_config(
        parse_jupyter(True, where=WHERE),
        default_runtime="livecells",
        auto_run=True,
        trusted=False,
        kernel_name=None,
    )
    assert (served["runtime"], served["configured"]) == ("livecells", "binder")
    assert served["runtimes"] == ["livecells", "binder"]
    assert served["binder"]["repo"] == "executablebooks/thebe-binder-base"


def test_a_configured_runtime_is_not_replaced_by_serve_unless_binder() -> None:
    assert runtime_of("lite", "livecells") == "pyodide"
    assert runtime_of({"server": {"url": "http://h/", "token": "t"}}, "livecells") == "server"
    forced = page_config(
        parse_jupyter(True, where=WHERE),
        default_runtime="livecells",
        auto_run=True,
        trusted=False,
        kernel_name=None,
        runtime="binder",
    )
    assert (forced["runtime"], forced["configured"]) == ("binder", None)


def test_no_runtime_configured_means_the_contexts_default(tmp_path: Path) -> None:
    """No project file, or a livecells.yml without ``jupyter``: live, on the serving kernels
    under serve and Pyodide in a build (livecells' own default, not MyST's)."""
    for folder, text in [("none", None), ("lc", "project:\n  title: T\n")]:
        root = tmp_path / folder
        root.mkdir()
        if text:
            project(root, text, "livecells.yml")
        jupyter = load_project(root).jupyter
        for default in ("livecells", "pyodide"):
            config = page_config(
                jupyter, default_runtime=default, auto_run=True, trusted=False, kernel_name=None
            )
            assert (config["runtime"], config["configured"]) == (default, None)


def test_false_and_absent_turn_execution_off() -> None:
    assert runtime_of(False) is None
    assert runtime_of(None) is None


def test_lite_means_pyodide() -> None:
    assert runtime_of("lite") == "pyodide"
    assert runtime_of({"lite": True}) == "pyodide"


MYBINDER_BASE = Binder("executablebooks/thebe-binder-base", "HEAD", "https://mybinder.org/")


@pytest.mark.parametrize(
    ("value", "binder", "server", "lite"),
    [
        # The cases of mystmd's packages/myst-frontmatter/src/thebe/thebe.yml, normalised as
        # MyST normalises them (the repository defaulted as pages get it).
        ("lite", None, None, True),
        (True, MYBINDER_BASE, None, False),
        ("binder", MYBINDER_BASE, None, False),
        ({"binder": True}, MYBINDER_BASE, None, False),
        ({"binder": {"repo": "username/my-repo"}}, Binder("username/my-repo"), None, False),
        (
            {"binder": {"repo": "https://github.com/username/my-repo"}},
            Binder("https://github.com/username/my-repo"),
            None,
            False,
        ),
        (
            {"binder": {"provider": "custom", "repo": "doi:/10292.131k2"}},
            Binder("doi:/10292.131k2", "", provider="custom"),
            None,
            False,
        ),
        (
            {"binder": False, "server": {"url": "https://my.server.com", "token": "test-secret"}},
            None,
            Server("https://my.server.com/", "test-secret"),
            False,
        ),
        (
            {
                "lite": False,
                "binder": {
                    "url": "https://my.binder.org/blah",
                    "ref": "HEAD",
                    "repo": "my-org/my-repo",
                    "provider": "github",
                },
                "server": {"url": "https://my.server.com", "token": "test-secret"},
                "kernelName": "python3",
                "sessionName": "some-path",
                "disableSessionSaving": True,
                "mathjaxConfig": "TeX-AMS_CHTML-full,Safe",
                "mathjaxUrl": "https://cdnjs.cloudflare.com/ajax/libs/mathjax/2.7.5/MathJax.js",
            },
            Binder("my-org/my-repo", "HEAD", "https://my.binder.org/blah", "github"),
            Server("https://my.server.com/", "test-secret"),
            False,
        ),
    ],
)
def test_mysts_forms_mean_what_myst_normalises_them_to(
    tmp_path: Path, value: object, binder: Binder | None, server: Server | None, lite: bool
) -> None:
    loaded = load_project(project(tmp_path, "project:\n  title: T\n"))
    settings, _ = page_settings(loaded, {"jupyter": value}, page="p.md")
    assert settings.enabled is True
    assert (settings.binder, settings.server, settings.lite) == (binder, server, lite)


@pytest.mark.parametrize("value", [{}, {"binder": False}, False])
def test_an_empty_object_is_off_as_myst_drops_it(value: object) -> None:
    assert parse_jupyter(value, where=WHERE).enabled is False


def test_thebe_is_mysts_other_name_for_jupyter(tmp_path: Path) -> None:
    assert load_project(project(tmp_path, "project:\n  thebe: lite\n")).jupyter.lite is True
    project(tmp_path, "project:\n  thebe: lite\n  jupyter: true\n")
    with pytest.raises(ConfigError, match=r"^myst.yml: project.thebe: the same as project.jup"):
        load_project(tmp_path)


def test_a_server_gets_a_trailing_slash_and_its_token() -> None:
    jupyter = parse_jupyter({"server": {"url": "http://h:8888", "token": "t"}}, where=WHERE)
    assert jupyter.server == Server("http://h:8888/", "t")
    assert jupyter.runtime == "server"
    tokenless = parse_jupyter({"server": {"url": "http://h:8888", "token": ""}}, where=WHERE)
    assert tokenless.server == Server("http://h:8888/", None)


def test_binder_wins_over_lite_wins_over_server_as_in_myst_theme() -> None:
    """myst-theme's ThebeServerProvider: useBinder, else useJupyterLite, else the server."""
    server = {"url": "http://h/", "token": "t"}
    assert runtime_of({"server": server, "lite": True, "binder": True}, "pyodide") == "binder"
    assert runtime_of({"server": server, "lite": True}, "pyodide") == "pyodide"
    assert runtime_of({"server": server}, "pyodide") == "server"


def test_kernel_name_session_saving_and_mathjax() -> None:
    value = {
        "kernelName": "bash",
        "disableSessionSaving": True,
        "mathjaxUrl": "/mathjax/tex-chtml.js",
        "mathjaxConfig": "{}",
    }
    config = page_config(
        parse_jupyter(value, where=WHERE),
        default_runtime="livecells",
        auto_run=False,
        trusted=True,
        kernel_name="python3",
    )
    assert config["kernelName"] == "bash"
    assert config["sessionSaving"] is False
    assert config["sessionMaxAge"] == 86400
    assert config["math"] == {"engine": "mathjax", "url": "/mathjax/tex-chtml.js", "config": "{}"}
    assert (config["autoRun"], config["trusted"]) == (False, True)


def test_katex_by_default_and_the_pages_kernelspec() -> None:
    config = page_config(
        parse_jupyter(True, where=WHERE),
        default_runtime="livecells",
        auto_run=True,
        trusted=False,
        kernel_name="bash",
    )
    assert config["math"] == {"engine": "katex"}
    assert config["kernelName"] == "bash"


def offered(value: object, default: str, **options: object) -> list[str]:
    config = page_config(
        parse_jupyter(value, where=WHERE),
        default_runtime=default,
        auto_run=True,
        trusted=False,
        kernel_name=None,
        **options,  # type: ignore[arg-type]
    )
    runtimes: list[str] = config["runtimes"]
    return runtimes


def test_the_reader_may_switch_to_every_runtime_the_configuration_asks_for() -> None:
    default = {"kernelName": "python3"}  # live, with no runtime configured
    assert offered(default, "livecells") == ["livecells", "pyodide"]
    assert offered(default, "pyodide") == ["pyodide"]
    assert offered("lite", "livecells") == ["pyodide", "livecells"]
    # Pyodide is not offered beside Binder or a server unless lite asks for it: their
    # requirements.txt is the Binder image's or the server's, not the browser's.
    assert offered({"binder": {"repo": "o/r"}}, "pyodide") == ["binder"]
    assert offered({"binder": True, "lite": True}, "pyodide") == ["binder", "pyodide"]
    assert offered(True, "livecells") == ["livecells", "binder"]
    server = {"server": {"url": "http://h:8888/", "token": "t"}}
    assert offered(server, "pyodide") == ["server"]
    # Pyodide runs Python only.
    assert offered(default, "livecells", language="R") == ["livecells"]


def test_a_server_of_the_readers_own_is_offered_only_when_the_author_allows_it() -> None:
    default = {"kernelName": "python3"}
    allowed = {"allow_reader_server": True}
    assert offered(default, "livecells", **allowed) == ["livecells", "server", "pyodide"]
    assert offered(True, "livecells", **allowed) == ["livecells", "server", "binder"]
    assert offered(default, "pyodide", runtimes=["server"]) == ["pyodide"]
    assert offered(default, "pyodide", runtimes=["server"], **allowed) == ["pyodide", "server"]
    with pytest.raises(ConfigError, match=r"livecells.allowReaderServer: expected a boolean"):
        parse_options({"allowReaderServer": "yes"}, where="livecells.yml: project.livecells")


def test_allow_widget_esm_is_a_boolean() -> None:
    assert parse_options({"allowWidgetESM": True}, where="x") == {"allowWidgetESM": True}
    with pytest.raises(ConfigError, match=r"^x.allowWidgetESM: expected a boolean, got 'yes'"):
        parse_options({"allowWidgetESM": "yes"}, where="x")


def test_livecells_runtimes_narrows_the_choice_and_the_chosen_one_comes_first() -> None:
    default = {"kernelName": "python3"}
    assert offered(default, "livecells", runtimes=["pyodide"]) == ["livecells", "pyodide"]
    assert offered(default, "pyodide", runtimes=[]) == ["pyodide"]
    assert offered(True, "pyodide", runtimes=["pyodide"]) == ["binder", "pyodide"]
    assert offered(False, "livecells", runtimes=["pyodide"]) == []


def test_runtimes_must_be_known_names(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"livecells.runtimes: expected a list of the runtimes"):
        parse_options({"runtimes": ["lite"]}, where="livecells.yml: project.livecells")


# -- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"nonsense": 1}, "myst.yml: project.jupyter: unknown key 'nonsense'; allowed: lite"),
        ({"kernelName": 3}, "myst.yml: project.jupyter.kernelName: expected a string, got 3"),
        ({"lite": "yes"}, "myst.yml: project.jupyter.lite: expected a boolean, got 'yes'"),
        ({"binder": {"ref": 1}}, "myst.yml: project.jupyter.binder.ref: expected a string"),
        ({"binder": {"branch": "x"}}, "project.jupyter.binder: unknown key 'branch'"),
        ({"server": {"token": "t"}}, "project.jupyter.server.url: required"),
        ({"server": {"url": "http://h/"}}, "project.jupyter.server.token: required (as MyST)"),
        ({"server": {"url": "h:8888", "token": ""}}, "server.url: expected an http(s) URL"),
        ({"binder": {"repo": "not a repo"}}, "binder.repo: expected owner/name or the repo"),
        ({"binder": {"provider": "custom"}}, "binder.repo: required with provider 'custom'"),
        ({"binder": {"url": "mybinder.org"}}, "binder.url: expected the BinderHub's http(s)"),
        ({"binder": "yes"}, "project.jupyter.binder: expected true, false or a mapping"),
        ({"sessionName": 1}, "project.jupyter.sessionName: expected a string, got 1"),
        ("pyodide", "expected true, false, 'lite', 'binder' or a mapping"),
    ],
)
def test_a_wrong_key_or_type_names_the_file_the_key_and_what_is_allowed(
    value: object, message: str
) -> None:
    with pytest.raises(ConfigError, match=None) as caught:
        parse_jupyter(value, where=WHERE)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_bad_yaml_names_the_file_and_line(tmp_path: Path) -> None:
    project(tmp_path, "project:\n  title: [unclosed\n")
    with pytest.raises(ConfigError, match=r"^myst.yml: not valid YAML at line 3"):
        load_project(tmp_path)


def test_a_livecells_option_of_the_wrong_type_is_an_error(tmp_path: Path) -> None:
    project(tmp_path, "project:\n  livecells:\n    packages: numpy\n", "livecells.yml")
    with pytest.raises(ConfigError, match=r"livecells.yml: project.livecells.packages: expected"):
        load_project(tmp_path)


def test_a_toc_file_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    project(tmp_path, "project:\n  toc:\n    - file: missing.md\n")
    with pytest.raises(ConfigError, match=r"project.toc\[0\].file: missing.md: no such file"):
        load_project(tmp_path)


def _laughs(levels: int, first: str, repeat: str) -> str:
    """A "billion laughs" document: each level repeats the one before nine times."""
    lines = [f"l0: &l0 {first}"]
    for level in range(1, levels + 1):
        lines.append(f"l{level}: &l{level} " + repeat.format(", ".join([f"*l{level - 1}"] * 9)))
    return "\n".join(lines) + "\n"


ALIAS_BOMB = _laughs(8, "[lol, lol, lol, lol, lol, lol, lol, lol, lol]", "[{}]")
"""486 bytes; 9**9 strings once expanded."""
MERGE_BOMB = _laughs(7, "{a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8, i: 9}", "{{<<: [{}]}}")
"""483 bytes. PyYAML's own merge of ``<<`` keys copies each mapping it merges: 6 levels took
``yaml.safe_load`` 3 s here, each level 9 times more, before documents were capped."""


@pytest.mark.timeout(10)
@pytest.mark.parametrize("bomb", [ALIAS_BOMB, MERGE_BOMB], ids=["aliases", "merge-keys"])
def test_a_yaml_alias_bomb_is_refused_at_once_naming_the_file(tmp_path: Path, bomb: str) -> None:
    assert len(bomb) < 500
    project(tmp_path, "project:\n  title: Bomb\n" + bomb, "livecells.yml")
    started = time.monotonic()
    with pytest.raises(ConfigError) as caught:
        load_project(tmp_path)
    assert time.monotonic() - started < 1.0
    message = str(caught.value)
    assert message.startswith("livecells.yml: refused: with its aliases expanded it has more ")
    assert "100,000 values" in message and "\n" not in message


def test_a_recursive_yaml_alias_is_refused_naming_the_file(tmp_path: Path) -> None:
    project(tmp_path, "project:\n  title: &t [a, *t]\n", "livecells.yml")
    with pytest.raises(ConfigError, match=r"^livecells.yml: refused: an alias refers to a value"):
        load_project(tmp_path)


def test_yaml_nested_too_deeply_is_refused_naming_the_file(tmp_path: Path) -> None:
    project(tmp_path, "project:\n  title: " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(ConfigError, match=r"^myst.yml: refused: the document is nested too deeply"):
        load_project(tmp_path)


def test_a_large_but_honest_document_loads(tmp_path: Path) -> None:
    toc = "".join(f"    - file: p{n}.md\n" for n in range(3000))
    for n in range(3000):
        (tmp_path / f"p{n}.md").write_text(f"# Page {n}\n")
    project(tmp_path, "project:\n  title: Big\n  toc:\n" + toc, "livecells.yml")
    assert load_project(tmp_path).title == "Big"


# -- files ----------------------------------------------------------------------------------


def test_a_real_myst_yml_is_read_unchanged(tmp_path: Path) -> None:
    (tmp_path / "intro.md").write_text("# Intro\n")
    project(
        tmp_path,
        """version: 1
project:
  id: 1234-abcd
  title: My Book
  authors: [{name: Ada}]
  license: CC-BY-4.0
  github: https://github.com/o/r
  jupyter:
    binder:
      repo: o/r
  toc:
    - file: intro.md
site:
  template: book-theme
  options: {logo: logo.png}
""",
    )
    loaded = load_project(tmp_path)
    assert loaded.title == "My Book"
    assert loaded.jupyter.runtime == "binder"
    assert loaded.toc is not None and loaded.toc[0].file == Path("intro.md")


def test_livecells_yml_wins_over_myst_yml(tmp_path: Path) -> None:
    project(tmp_path, "project:\n  title: From MyST\n")
    project(tmp_path, "project:\n  title: From livecells\n", "livecells.yml")
    assert load_project(tmp_path).title == "From livecells"


def test_no_file_means_live_pages_titled_after_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "my-course"
    folder.mkdir()
    loaded = load_project(folder)
    assert loaded.title == "my course"
    assert loaded.toc is None and loaded.jupyter.enabled is True
    assert (loaded.auto_run, loaded.trusted) == (True, False)


def test_without_a_jupyter_key_livecells_yml_is_live_and_myst_yml_is_not(
    tmp_path: Path,
) -> None:
    project(tmp_path, "project:\n  title: T\n")
    assert load_project(tmp_path).jupyter.enabled is False
    project(tmp_path, "project:\n  title: T\n", "livecells.yml")
    assert load_project(tmp_path).jupyter.enabled is True


def test_toc_children_titles_urls_and_globs(tmp_path: Path) -> None:
    for name in ["a.md", "part/b.md", "part/c.ipynb", "part/notes.txt"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("{}" if name.endswith("ipynb") else "# x\n")
    project(
        tmp_path,
        """project:
  toc:
    - file: a.md
      children:
        - glob: part/*
    - title: Elsewhere
      children:
        - url: https://example.org
          title: Example
""",
    )
    toc = load_project(tmp_path).toc
    assert toc is not None
    assert [entry.file for entry in toc[0].children] == [Path("part/b.md"), Path("part/c.ipynb")]
    assert toc[1].title == "Elsewhere"
    assert toc[1].children[0].url == "https://example.org"


# -- pages ----------------------------------------------------------------------------------


def test_frontmatter_false_turns_a_page_off(tmp_path: Path) -> None:
    loaded = load_project(project(tmp_path, "project:\n  jupyter: true\n"))
    jupyter, _ = page_settings(loaded, {"jupyter": False}, page="p.md")
    assert jupyter.enabled is False


def test_frontmatter_true_keeps_the_projects_settings(tmp_path: Path) -> None:
    loaded = load_project(project(tmp_path, "project:\n  jupyter: {kernelName: bash}\n"))
    jupyter, _ = page_settings(loaded, {"jupyter": True}, page="p.md")
    assert (jupyter.enabled, jupyter.kernel_name) == (True, "bash")


def test_a_frontmatter_object_replaces_the_projects_settings(tmp_path: Path) -> None:
    loaded = load_project(project(tmp_path, "project:\n  jupyter: {kernelName: bash}\n"))
    jupyter, _ = page_settings(loaded, {"jupyter": {"lite": True}}, page="p.md")
    assert (jupyter.runtime, jupyter.kernel_name) == ("pyodide", None)


def test_frontmatter_livecells_keys_override_the_projects_one_by_one(tmp_path: Path) -> None:
    text = "project:\n  livecells: {autoRun: true, trusted: true}\n"
    loaded = load_project(project(tmp_path, text, "livecells.yml"))
    _, options = page_settings(loaded, {"livecells": {"autoRun": False}}, page="p.md")
    assert options == {"autoRun": False, "trusted": True}


def test_a_pages_bad_jupyter_value_names_the_page(tmp_path: Path) -> None:
    loaded = load_project(tmp_path)
    with pytest.raises(ConfigError, match=r"^p.md: jupyter.kernelName: expected a string"):
        page_settings(loaded, {"jupyter": {"kernelName": []}}, page="p.md")


def test_pyodide_settings_are_checked_and_src_is_indexurl(tmp_path: Path) -> None:
    ok = {"src": ["local", "https://cdn.example/pyodide/"], "timeoutMs": 5000, "snapshot": False}
    assert parse_options({"pyodide": ok}, where="livecells.yml: project.livecells")
    config = pyodide_config({"pyodide": ok}, ["attrs"])
    assert config["indexURLs"] == ["local", "https://cdn.example/pyodide/"]
    assert (config["timeoutMs"], config["snapshot"], config["packages"]) == (5000, False, ["attrs"])
    bad = [
        ({"indexURL": 3}, "indexURL"),
        ({"indexURL": "a/", "src": "b/"}, "not both"),
        ({"timeoutMs": -1}, "timeoutMs"),
        ({"figureFormats": ["gif"]}, "figureFormats"),
        ({"preload": "yes"}, "preload"),
        ({"wasm": True}, "wasm"),
    ]
    for value, named in bad:
        with pytest.raises(ConfigError, match=named):
            parse_options({"pyodide": value}, where="livecells.yml: project.livecells")


@pytest.mark.parametrize(
    ("jupyter", "frontmatter", "repo"),
    [
        ("binder", {}, "https://github.com/o/r"),
        ("{binder: true}", {}, "https://github.com/o/r"),
        ("{binder: {ref: main}}", {}, "https://github.com/o/r"),
        ("true", {"jupyter": "binder"}, "https://github.com/o/r"),
        ("{binder: {repo: x/y}}", {}, "x/y"),
    ],
)
def test_binder_without_a_repo_builds_the_projects_github_repository(
    tmp_path: Path, jupyter: str, frontmatter: dict[str, object], repo: str
) -> None:
    text = f"project:\n  github: https://github.com/o/r\n  jupyter: {jupyter}\n"
    loaded = load_project(project(tmp_path, text))
    settings, _ = page_settings(loaded, frontmatter, page="p.md")
    config = page_config(
        settings, default_runtime="pyodide", auto_run=True, trusted=False, kernel_name=None
    )
    assert config["binder"]["repo"] == repo
    assert config["binder"]["provider"] == "github"
    assert "binder" in config["runtimes"]


def test_binder_without_a_repo_or_github_builds_mysts_base_image(tmp_path: Path) -> None:
    loaded = load_project(project(tmp_path, "project:\n  jupyter: binder\n"))
    settings, _ = page_settings(loaded, {}, page="p.md")
    assert settings.binder is not None
    assert settings.binder.repo == "executablebooks/thebe-binder-base"


def test_a_page_may_name_its_own_github_repository(tmp_path: Path) -> None:
    text = "project:\n  github: o/r\n  jupyter: binder\n"
    loaded = load_project(project(tmp_path, text))
    settings, _ = page_settings(loaded, {"github": "p/q"}, page="p.md")
    assert settings.binder is not None and settings.binder.repo == "https://github.com/p/q"


def test_mysts_local_key_is_accepted_and_means_the_contexts_own_kernels() -> None:
    """``local`` was myst-theme's development server setting (overriding binder and server
    under ``myst start``); ``livecells serve``'s own kernels play that part."""
    jupyter = parse_jupyter({"local": {"url": "http://localhost:8888", "token": "t"}}, where=WHERE)
    assert (jupyter.enabled, jupyter.runtime) == (True, None)
    assert runtime_of({"local": True, "lite": True}, "livecells") == "pyodide"
