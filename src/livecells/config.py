"""Project configuration: ``livecells.yml``, or an existing MyST ``myst.yml`` read unchanged.

``project.jupyter`` (or its MyST alias ``project.thebe``) takes every form MyST documents, with
MyST's meaning (mystmd's ``myst-frontmatter`` validators and myst-theme's
``thebeFrontmatterToOptions``): ``true``, ``'binder'`` and ``{binder: true}`` are Binder on
mybinder.org building ``project.github`` (else ``executablebooks/thebe-binder-base``) at
``HEAD``; ``'lite'`` is Pyodide; ``{server: {url, token}}`` that server; in an object, binder
wins over lite, which wins over server (thebe-react's order); ``{}`` and ``{binder: false}``
alone are off. The object's keys are MyST's: ``lite``, ``binder``, ``server``, ``kernelName``,
``sessionName``, ``disableSessionSaving``, ``mathjaxUrl``, ``mathjaxConfig``, ``local``.
livecells' own keys live beside it under ``project.livecells``. Without any project file, or
in a ``livecells.yml`` that does not say, execution is on with the context's default runtime
(the serving kernels under ``livecells serve``, Pyodide in a build); a ``myst.yml`` without
``jupyter`` keeps it off, as MyST does. A page's frontmatter ``jupyter:`` replaces the
project's for that page, its ``livecells:`` overrides keys one by one. The rest of a
``myst.yml`` is MyST's business and is ignored; a wrong key or type under ``jupyter`` or
``livecells`` is a :class:`~livecells.errors.ConfigError` that names the file, the key and what
is allowed.
"""

from __future__ import annotations

import glob
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from livecells import yamldoc
from livecells.errors import ConfigError

__all__ = [
    "Binder",
    "Jupyter",
    "Project",
    "Server",
    "TocEntry",
    "execute_settings",
    "load_project",
    "page_settings",
    "parse_jupyter",
]

PROJECT_FILES = ("livecells.yml", "myst.yml")
PAGE_RUNTIMES = ("livecells", "server", "binder", "pyodide")
"""The runtimes a page can offer its readers (the browser client's ``RuntimeName``)."""
SESSION_MAX_AGE = 86400
"""Seconds a saved session is re-attached (MyST's value)."""
DEFAULT_BINDER_URL = "https://mybinder.org/"
DEFAULT_BINDER_REPO = "executablebooks/thebe-binder-base"
"""What Binder builds when neither ``binder.repo`` nor ``project.github`` names a repository
(MyST's choice)."""


GIT_PROVIDERS = ("git", "github", "gitlab", "gist")
"""Binder's repository providers whose ``repo`` may default and whose ``ref`` is ``HEAD``
by default (MyST's ``validateBinderHubOptions``)."""
GITHUB_REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


@dataclass(frozen=True)
class Binder:
    repo: str | None = None
    ref: str | None = "HEAD"
    url: str = DEFAULT_BINDER_URL
    provider: str = "github"


@dataclass(frozen=True)
class Server:
    url: str
    token: str | None = None


@dataclass(frozen=True)
class Jupyter:
    """``project.jupyter``, normalised. ``runtime`` None means "the context's default"."""

    enabled: bool = False
    runtime: str | None = None
    lite: bool = False
    """``lite`` is configured (with or without another runtime winning): Pyodide is offered."""
    kernel_name: str | None = None
    server: Server | None = None
    binder: Binder | None = None
    session_saving: bool = True
    mathjax_url: str | None = None
    mathjax_config: str | None = None


@dataclass(frozen=True)
class TocEntry:
    title: str | None = None
    file: Path | None = None
    url: str | None = None
    children: tuple[TocEntry, ...] = ()


@dataclass(frozen=True)
class Project:
    root: Path
    source: Path | None
    title: str
    toc: tuple[TocEntry, ...] | None
    jupyter: Jupyter
    options: Mapping[str, Any]
    """``project.livecells``, validated: ``autoRun``, ``trusted``, ``packages``, ``runtime``."""
    github: str | None = None
    """``project.github``: the repository Binder builds when ``binder`` names none."""

    @property
    def auto_run(self) -> bool:
        return bool(self.options.get("autoRun", True))

    @property
    def trusted(self) -> bool:
        return bool(self.options.get("trusted", False))


# -- reading --------------------------------------------------------------------------------


def load_project(root: Path) -> Project:
    """The project config of the folder ``root`` (defaults when it has none)."""
    for name in PROJECT_FILES:
        source = root / name
        if source.is_file():
            return _project(root, source, _load_yaml(source))
    # No project file: the folder is served or built to be live (livecells' purpose).
    return Project(root, None, _default_title(root), None, Jupyter(enabled=True), {})


def _load_yaml(source: Path) -> dict[str, Any]:
    try:
        data = yamldoc.load(source.read_text(encoding="utf-8"))
    except yamldoc.DocumentTooLarge as exc:
        raise ConfigError(f"{source.name}: refused: {exc.problem}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"{source.name}: not valid YAML{where}: {problem}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{source.name}: cannot read it: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source.name}: expected a mapping of keys to values at the top")
    return data


def _project(root: Path, source: Path, data: dict[str, Any]) -> Project:
    name = source.name
    project = data.get("project", {})
    if project is None:
        project = {}
    if not isinstance(project, dict):
        raise ConfigError(f"{name}: project: expected a mapping, got {_show(project)}")
    title = project.get("title")
    if title is not None and not isinstance(title, str):
        raise ConfigError(f"{name}: project.title: expected a string, got {_show(title)}")
    # Without project.jupyter, a myst.yml means what it means to MyST (off); a livecells.yml
    # exists to make pages live, so it means on.
    key = "jupyter"
    if "thebe" in project:
        if "jupyter" in project:
            raise ConfigError(
                f"{name}: project.thebe: the same as project.jupyter (MyST's alias): give one"
            )
        key = "thebe"
    if key not in project and name == "livecells.yml":
        jupyter = Jupyter(enabled=True)  # the context's default runtime
    else:
        jupyter = parse_jupyter(project.get(key), where=f"{name}: project.{key}")
    options = parse_options(project.get("livecells", {}), where=f"{name}: project.livecells")
    toc = None
    if project.get("toc") is not None:
        toc = _toc(root, project["toc"], f"{name}: project.toc")
    github = github_url(project.get("github"), where=f"{name}: project.github")
    return Project(
        root, source, title or _default_title(root), toc, jupyter, options, github=github
    )


def _default_title(root: Path) -> str:
    return root.resolve().name.replace("-", " ").replace("_", " ") or "livecells"


# -- project.jupyter ------------------------------------------------------------------------


JUPYTER_KEYS = {
    "lite": "a boolean",
    "binder": "true, false or a mapping of repo, ref, url, provider",
    "server": "a mapping of url, token",
    "kernelName": "a string",
    "sessionName": "a string",
    "disableSessionSaving": "a boolean",
    "mathjaxUrl": "a string",
    "mathjaxConfig": "a string",
    "local": "any value (MyST's development server setting; livecells serve's kernels play it)",
}
"""The keys of MyST's object form (``THEBE_KEYS`` in myst-frontmatter), each what it takes."""


def parse_jupyter(value: object, *, where: str) -> Jupyter:
    """Normalise one ``jupyter`` value (MyST's forms). ``where`` prefixes error messages, as
    ``"myst.yml: project.jupyter"``."""
    if value is None or value is False:
        return Jupyter(enabled=False)
    if value is True or value == "binder":
        return Jupyter(enabled=True, runtime="binder", binder=Binder())
    if value == "lite":
        return Jupyter(enabled=True, runtime="pyodide", lite=True)
    if not isinstance(value, dict):
        raise ConfigError(
            f"{where}: expected true, false, 'lite', 'binder' or a mapping of "
            f"{', '.join(JUPYTER_KEYS)}; got {_show(value)}"
        )
    _check_keys(value, JUPYTER_KEYS, where)
    lite = bool(_typed(value, "lite", bool, where))
    kernel_name = _typed(value, "kernelName", str, where)
    _typed(value, "sessionName", str, where)
    disable_saving = _typed(value, "disableSessionSaving", bool, where)
    mathjax_url = _typed(value, "mathjaxUrl", str, where)
    mathjax_config = _typed(value, "mathjaxConfig", str, where)
    binder = _binder(value.get("binder"), f"{where}.binder")
    server = _server(value["server"], f"{where}.server") if "server" in value else None
    # myst-theme's order: useBinder, else useJupyterLite, else the server.
    runtime = None
    if binder is not None:
        runtime = "binder"
    elif lite:
        runtime = "pyodide"
    elif server is not None:
        runtime = "server"
    settings = {k: v for k, v in value.items() if k not in ("binder", "local") or v}
    if not settings:  # MyST drops an empty object ({}, {binder: false}): no execution
        return Jupyter(enabled=False)
    return Jupyter(
        enabled=True,
        runtime=runtime,
        lite=lite,
        kernel_name=kernel_name,
        server=server,
        binder=binder,
        session_saving=not disable_saving,
        mathjax_url=mathjax_url,
        mathjax_config=mathjax_config,
    )


def _binder(value: object, where: str) -> Binder | None:
    """MyST's ``validateBinderHubOptions``: the defaults filled in, ``repo`` an ``owner/name``
    or a URL for git-like providers (it defaults later, to ``project.github``), any non-empty
    string for a custom provider (then required, and ``ref`` defaults to ``''``)."""
    if value is False or value is None:
        return None
    if value is True:
        return Binder()
    if not isinstance(value, dict):
        raise ConfigError(
            f"{where}: expected true, false or a mapping of repo, ref, url, provider; "
            f"got {_show(value)}"
        )
    keys = {"repo": "a string", "ref": "a string", "url": "a URL", "provider": "a string"}
    _check_keys(value, keys, where)
    repo = _typed(value, "repo", str, where) or None
    ref = _typed(value, "ref", str, where) or None
    url = _typed(value, "url", str, where) or DEFAULT_BINDER_URL
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"{where}.url: expected the BinderHub's http(s) URL, got {_show(url)}")
    provider = _typed(value, "provider", str, where) or "github"
    if provider.lower() in GIT_PROVIDERS:
        if repo is not None and not (
            GITHUB_REPO.match(repo) or repo.startswith(("http://", "https://"))
        ):
            raise ConfigError(
                f"{where}.repo: expected owner/name or the repository's URL, got {_show(repo)}"
            )
        return Binder(repo, ref or "HEAD", url, provider)
    if repo is None:
        raise ConfigError(
            f"{where}.repo: required with provider {provider!r}: what the BinderHub builds"
        )
    return Binder(repo, ref or "", url, provider)


def _server(value: object, where: str) -> Server:
    """MyST requires both ``url`` (an http(s) URL) and ``token``; livecells lets the token be
    empty, for a server started without one."""
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: expected a mapping of url, token; got {_show(value)}")
    _check_keys(value, {"url": "a string", "token": "a string"}, where)
    url = _typed(value, "url", str, where)
    if not url:
        raise ConfigError(f"{where}.url: required: the Jupyter Server's base URL")
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"{where}.url: expected an http(s) URL, got {_show(url)}")
    token = _typed(value, "token", str, where)
    if token is None:
        raise ConfigError(
            f"{where}.token: required (as MyST): the server's token, or '' for a server "
            "started without one"
        )
    return Server(url if url.endswith("/") else url + "/", token or None)


def github_url(value: object, *, where: str) -> str | None:
    """``github`` as MyST keeps it: ``owner/name`` becomes ``https://github.com/owner/name``."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigError(f"{where}: expected owner/name or a GitHub URL, got {_show(value)}")
    return f"https://github.com/{value}" if GITHUB_REPO.match(value) else value


# -- project.livecells ----------------------------------------------------------------------


OPTION_KEYS = {
    "autoRun": "a boolean",
    "trusted": "a boolean",
    "allowReaderServer": "a boolean: the reader may name a Jupyter Server or BinderHub of "
    "their own (the page's CSP then allows connections anywhere)",
    "allowWidgetESM": "a boolean: run the JavaScript modules anywidget widgets carry (the "
    "page's CSP then allows blob: scripts)",
    "packages": "a list of strings",
    "runtime": f"one of {', '.join(PAGE_RUNTIMES)}",
    "runtimes": f"a list of the runtimes a reader may switch to ({', '.join(PAGE_RUNTIMES)})",
    "pyodide": "a mapping of "
    + ", ".join(["indexURL", "timeoutMs", "autoloadImports", "figureFormats", "preload"]),
    "execute": "true, false, or a mapping of allow_errors, timeout, cache",
    "files": "a mapping of include, exclude, maxBytes (project config only)",
    "wheelsTimeout": "a positive number of seconds: how long resolving Pyodide wheels may take",
}
EXECUTE_KEYS = {
    "allow_errors": "a boolean: a cell that raises does not fail the build (default false)",
    "timeout": "a positive number of seconds per cell",
    "cache": "a folder for the execution cache (jupyter-cache's format), relative to the project",
}
"""``livecells.execute``: how ``livecells build --execute`` runs the pages first."""
FILES_KEYS = {
    "include": "a list of globs relative to each page's folder (default: ['**'], all of it)",
    "exclude": "a list of globs relative to each page's folder",
    "maxBytes": "a number of bytes each page folder offers at most (default 20000000)",
}
"""``livecells.files``: what a Pyodide page may read beside it (:mod:`livecells.pagefiles`)."""
PYODIDE_TIMEOUT_MS = 120_000
"""How long Pyodide may take to load from one indexURL before the next is tried (``timeoutMs``;
the client's ``PYODIDE_TIMEOUT_MS``): a slow phone link fetches the ~10 MB within it."""
PYODIDE_KEYS = {
    "indexURL": "a URL or a list of URLs, tried in order (a CDN may follow the local copy)",
    "src": "the same as indexURL (thebe's and jupyter-kit's name)",
    "timeoutMs": "a number of milliseconds per indexURL (default 120000; 0: no limit)",
    "autoloadImports": "a boolean",
    "figureFormats": "a list of 'svg' and 'png'",
    "preload": "a boolean: load Python when the page opens (no cell runs before a click)",
    "snapshot": "a boolean: start from the interpreter snapshot livecells ships (faster)",
}


def parse_options(value: object, *, where: str) -> dict[str, Any]:
    """Validate a ``livecells:`` mapping (project or page)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: expected a mapping of {', '.join(OPTION_KEYS)}")
    _check_keys(value, OPTION_KEYS, where)
    _typed(value, "autoRun", bool, where)
    _typed(value, "trusted", bool, where)
    _typed(value, "allowReaderServer", bool, where)
    _typed(value, "allowWidgetESM", bool, where)
    packages = value.get("packages")
    if packages is not None and not (
        isinstance(packages, list) and all(isinstance(item, str) for item in packages)
    ):
        raise ConfigError(f"{where}.packages: expected a list of strings, got {_show(packages)}")
    if value.get("pyodide") is not None:
        _pyodide(value["pyodide"], f"{where}.pyodide")
    if value.get("execute") is not None:
        _execute(value["execute"], f"{where}.execute")
    if value.get("files") is not None:
        _files(value["files"], f"{where}.files")
    bound = value.get("wheelsTimeout")
    if bound is not None and (
        isinstance(bound, bool) or not isinstance(bound, int | float) or bound <= 0
    ):
        expected = OPTION_KEYS["wheelsTimeout"]
        raise ConfigError(f"{where}.wheelsTimeout: expected {expected}, got {_show(bound)}")
    runtimes = value.get("runtimes")
    if runtimes is not None and not (
        isinstance(runtimes, list) and all(item in PAGE_RUNTIMES for item in runtimes)
    ):
        expected = OPTION_KEYS["runtimes"]
        raise ConfigError(f"{where}.runtimes: expected {expected}, got {_show(runtimes)}")
    runtime = value.get("runtime")
    if runtime is not None and runtime not in PAGE_RUNTIMES:
        raise ConfigError(
            f"{where}.runtime: expected one of {', '.join(PAGE_RUNTIMES)}, got {_show(runtime)}"
        )
    return dict(value)


def _execute(value: object, where: str) -> None:
    if isinstance(value, bool):
        return
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: expected {OPTION_KEYS['execute']}, got {_show(value)}")
    _check_keys(value, EXECUTE_KEYS, where)
    _typed(value, "allow_errors", bool, where)
    _typed(value, "cache", str, where)
    timeout = value.get("timeout")
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0
    ):
        raise ConfigError(
            f"{where}.timeout: expected {EXECUTE_KEYS['timeout']}, got {_show(timeout)}"
        )


def _files(value: object, where: str) -> None:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: expected {OPTION_KEYS['files']}, got {_show(value)}")
    _check_keys(value, FILES_KEYS, where)
    for key in ("include", "exclude"):
        globs = value.get(key)
        if globs is None:
            continue
        if not (isinstance(globs, list) and all(isinstance(g, str) and g for g in globs)):
            raise ConfigError(f"{where}.{key}: expected {FILES_KEYS[key]}, got {_show(globs)}")
        for glob_ in globs:
            if glob_.startswith(("/", "~")) or ":" in glob_.split("/")[0]:
                raise ConfigError(
                    f"{where}.{key}: {glob_!r} leads out of the project folder: globs are "
                    "relative to each page's folder and may name only files inside the project"
                )
    size = value.get("maxBytes")
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 0):
        raise ConfigError(f"{where}.maxBytes: expected {FILES_KEYS['maxBytes']}, got {_show(size)}")


def execute_settings(options: Mapping[str, Any]) -> dict[str, Any] | None:
    """A page's validated ``livecells.execute`` as a mapping, or None when it is switched
    off (``false``); ``true`` and an absent key are ``{}``."""
    value = options.get("execute")
    if value is False:
        return None
    return dict(value) if isinstance(value, dict) else {}


def _pyodide(value: object, where: str) -> None:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: expected a mapping of {', '.join(PYODIDE_KEYS)}")
    _check_keys(value, PYODIDE_KEYS, where)
    if "src" in value and "indexURL" in value:
        raise ConfigError(f"{where}: give indexURL or src, not both (they are the same)")
    urls = value.get("indexURL", value.get("src"))
    if urls is not None and not (
        isinstance(urls, str)
        or (isinstance(urls, list) and urls and all(isinstance(u, str) for u in urls))
    ):
        raise ConfigError(f"{where}.indexURL: expected {PYODIDE_KEYS['indexURL']}")
    timeout = value.get("timeoutMs")
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout < 0
    ):
        raise ConfigError(f"{where}.timeoutMs: expected {PYODIDE_KEYS['timeoutMs']}")
    _typed(value, "autoloadImports", bool, where)
    _typed(value, "preload", bool, where)
    _typed(value, "snapshot", bool, where)
    formats = value.get("figureFormats")
    if formats is not None and not (
        isinstance(formats, list) and formats and all(f in ("svg", "png") for f in formats)
    ):
        raise ConfigError(f"{where}.figureFormats: expected {PYODIDE_KEYS['figureFormats']}")


# -- table of contents ----------------------------------------------------------------------


def _toc(root: Path, value: object, where: str) -> tuple[TocEntry, ...]:
    if not isinstance(value, list):
        raise ConfigError(f"{where}: expected a list of entries, got {_show(value)}")
    entries: list[TocEntry] = []
    for index, item in enumerate(value):
        here = f"{where}[{index}]"
        if not isinstance(item, dict):
            raise ConfigError(f"{here}: expected a mapping (file, title, url, glob, children)")
        allowed = {
            "file": "a path",
            "title": "a string",
            "url": "a URL",
            "glob": "a pattern",
            "pattern": "a pattern",
            "children": "a list",
            "hidden": "a boolean",
        }
        _check_keys(item, allowed, here)
        children = _toc(root, item["children"], f"{here}.children") if "children" in item else ()
        title = _typed(item, "title", str, here)
        pattern = item.get("glob") or item.get("pattern")
        if pattern is not None:
            for match in sorted(glob.glob(str(pattern), root_dir=root, recursive=True)):
                if Path(match).suffix.lower() in (".ipynb", ".md"):
                    entries.append(TocEntry(file=Path(match)))
            continue
        file = item.get("file")
        if file is not None:
            path = Path(str(file))
            if not (root / path).is_file():
                raise ConfigError(f"{here}.file: {file}: no such file in {root}")
            entries.append(TocEntry(title, path, None, children))
        elif "url" in item:
            entries.append(TocEntry(title, None, _typed(item, "url", str, here), children))
        elif title is not None:
            entries.append(TocEntry(title, None, None, children))
        else:
            raise ConfigError(f"{here}: needs file, url, glob, or title with children")
    return tuple(entries)


# -- per page -------------------------------------------------------------------------------


def page_settings(
    project: Project, frontmatter: Mapping[str, Any], *, page: str
) -> tuple[Jupyter, dict[str, Any]]:
    """The page's effective ``jupyter`` settings and livecells options (MyST: a frontmatter
    ``jupyter`` replaces the project's, except ``true``, which keeps the project's switched on,
    or means Binder when the project has none). A ``kernelspec`` inside the frontmatter's
    ``jupyter`` (jupytext's place for it) is the page's kernelspec, not a setting."""
    jupyter = project.jupyter
    if "jupyter" in frontmatter:
        value = frontmatter["jupyter"]
        if isinstance(value, dict) and ("kernelspec" in value or "jupytext" in value):
            value = {k: v for k, v in value.items() if k not in ("kernelspec", "jupytext")}
            value = value or None
        if value is None:
            pass
        elif value is True and project.jupyter.enabled:
            jupyter = replace(project.jupyter, enabled=True)
        else:
            jupyter = parse_jupyter(value, where=f"{page}: jupyter")
    options = dict(project.options)
    overrides = parse_options(frontmatter.get("livecells"), where=f"{page}: livecells")
    if "files" in overrides:
        raise ConfigError(
            f"{page}: livecells.files: set it in the project config (project.livecells.files): "
            "it applies to a whole folder of pages"
        )
    options.update(overrides)
    github = github_url(frontmatter.get("github"), where=f"{page}: github") or project.github
    chosen = options.get("runtime") or jupyter.runtime
    if jupyter.binder is not None or (jupyter.enabled and chosen == "binder"):
        jupyter = replace(jupyter, binder=binder_with_repo(jupyter.binder or Binder(), github))
    return jupyter, options


def binder_with_repo(binder: Binder, github: str | None) -> Binder:
    """``binder: true`` (or ``'binder'``) names no repository: MyST builds ``project.github``,
    else ``executablebooks/thebe-binder-base``, on GitHub."""
    if binder.repo:
        return binder
    return replace(binder, repo=github or DEFAULT_BINDER_REPO)


# -- helpers ------------------------------------------------------------------------------


def _check_keys(value: Mapping[str, Any], allowed: Mapping[str, str], where: str) -> None:
    for key in value:
        if key not in allowed:
            raise ConfigError(f"{where}: unknown key {key!r}; allowed: {', '.join(allowed)}")


def _typed(value: Mapping[str, Any], key: str, kind: type, where: str) -> Any:
    item = value.get(key)
    if item is None:
        return None
    if not isinstance(item, kind) or (kind is not bool and isinstance(item, bool)):
        expected = {bool: "a boolean", str: "a string"}.get(kind, kind.__name__)
        raise ConfigError(f"{where}.{key}: expected {expected}, got {_show(item)}")
    return item


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
