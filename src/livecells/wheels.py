"""Offline packages for the Pyodide runtime: pure-Python wheels, and a lock file for them.

``livecells build`` (and the Node.js runtime) fetch the wheels a site needs from PyPI with
``pip download`` (``py3-none-any`` only, for Pyodide's Python version), together with micropip
and its dependency ``packaging``, and describe them in a ``pyodide-lock.json`` of their own.
Pyodide then loads them from the site's own files: ``loadPackage``, ``micropip.install`` and
import autoloading all find them there, with the sha256 the lock file records. A package that
has no pure-Python wheel (it has compiled code) is reported at build time, naming it.

Resolving is bounded in time (``livecells.wheelsTimeout``, default
:data:`DEFAULT_TIMEOUT` seconds): a ``requirements.txt`` written for Binder or a server can
send pip backtracking through every version of a package for many minutes (one real docs site:
347 s, then a failure). Past the bound pip is stopped and the problem names the requirement,
the file that asked for it and what to do.

Jupyter widgets: a Pyodide page whose code imports ipywidgets gets ipywidgets' wheel (see
:data:`WIDGETS`), which Pyodide loads when a cell imports it.
"""

from __future__ import annotations

import email.parser
import hashlib
import json
import os
import re
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from livecells.assets import STATIC_DIR
from livecells.errors import ConfigError

__all__ = [
    "Wheels",
    "cache_directory",
    "client_requirement",
    "fetch_wheels",
    "read_requirements",
    "widget_requirements",
    "write_lock",
]

PYODIDE_DIR = STATIC_DIR / "pyodide"
LOCK_NAME = "pyodide-lock.json"
COMPLETE = ".complete"
"""Marks a cached folder whose every requirement was resolved (a timed-out one is redone)."""
DEFAULT_TIMEOUT = 120.0
"""Seconds resolving a site's wheels may take (``livecells.wheelsTimeout``)."""
WIDGETS = "ipywidgets>=8,<9"
"""What a page that imports ipywidgets gets (widget protocol 2, the page's html-manager's)."""
ANYWIDGET = "anywidget>=0.9"
"""What a page that imports anywidget gets as well (with :data:`WIDGETS`)."""
WITHOUT_DEPENDENCIES = {
    "ipywidgets": ("comm>=0.1.3", "traitlets>=4.3.1"),
    "anywidget": ("psygnal>=0.8.1", "typing-extensions>=4.2.0"),
}
"""Packages fetched without the dependencies they declare, and what they need instead.
ipywidgets declares IPython (with jedi, pygments, prompt_toolkit...: 7.8 MB of wheels for
ipywidgets 8.1.9) and two packages of notebook-frontend files (2.4 MB); in Pyodide it imports
only comm and traitlets (the three wheels: 234 KB), and of IPython the little the kernel's own
``IPython`` module gives (kernel.py). anywidget declares ipywidgets (fetched as above),
psygnal and typing-extensions, and a file watcher only for development."""
_IMPORTS_WIDGETS = re.compile(r"^\s*(?:import|from)\s+ipywidgets\b", re.MULTILINE)
_IMPORTS_ANYWIDGET = re.compile(r"^\s*(?:import|from)\s+anywidget\b", re.MULTILINE)


def pyodide_info() -> dict[str, str]:
    """The bundled Pyodide's version, Python version and micropip/packaging versions."""
    path = PYODIDE_DIR / "livecells-pyodide.json"
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        raise ConfigError(
            f"the Pyodide runtime is not built ({path} is missing): reinstall livecells with "
            "Node.js available, or run `npm ci && npm run build` in frontend/"
        ) from None


def _environment(python: str) -> dict[str, str]:
    major_minor = ".".join(python.split(".")[:2])
    return {
        "python_version": major_minor,
        "python_full_version": python,
        "sys_platform": "emscripten",
        "platform_system": "Emscripten",
        "platform_machine": "wasm32",
        "os_name": "posix",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "extra": "",
    }


@dataclass(frozen=True)
class Wheels:
    """A folder of wheels and the lock file that describes them."""

    directory: Path
    lock_file: Path
    problems: tuple[str, ...] = ()
    """One line per requirement without a pure-Python wheel; the others were fetched."""


def client_requirement(requirement: str) -> str:
    """How the Pyodide kernel asks micropip for a requirement: a local wheel by its name (the
    lock file has it), anything else as written."""
    return requirement_name(requirement) if requirement.endswith(".whl") else requirement


def requirement_name(requirement: str) -> str:
    """The canonical name of a requirement string or of a local wheel's path."""
    if requirement.endswith(".whl"):
        return str(canonicalize_name(Path(requirement).name.split("-")[0]))
    return str(canonicalize_name(Requirement(requirement).name))


def widget_requirements(sources: Iterable[str]) -> list[str]:
    """:data:`WIDGETS` when one of the code ``sources`` imports ipywidgets; it and
    :data:`ANYWIDGET` when one imports anywidget; else none."""
    code = list(sources)
    if any(_IMPORTS_ANYWIDGET.search(source) for source in code):
        return [WIDGETS, ANYWIDGET]
    return [WIDGETS] if any(_IMPORTS_WIDGETS.search(source) for source in code) else []


def _with_dependencies(requirements: Sequence[str]) -> list[str]:
    """``requirements`` and what :data:`WITHOUT_DEPENDENCIES` adds for them."""
    found = list(requirements)
    for requirement in requirements:
        name = requirement_name(requirement)
        found += [r for r in WITHOUT_DEPENDENCIES.get(name, ()) if r not in found]
    return found


def read_requirements(path: Path) -> list[str]:
    """The requirement lines of a ``requirements.txt`` (comments, blank lines and pip options
    left out); a line that is not a requirement is a ConfigError naming file and line."""
    found = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith(("#", "-")):
            continue
        if line.endswith(".whl"):  # a wheel file, relative to the requirements file
            found.append(str((path.parent / line).resolve()))
            continue
        try:
            Requirement(line)
        except InvalidRequirement as exc:
            raise ConfigError(f"{path}:{number}: not a requirement: {line!r} ({exc})") from None
        found.append(line)
    return found


def default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
    return Path(base) / "livecells" / "wheels"


def cache_directory(requirements: Sequence[str]) -> Path:
    """The cache folder of one set of requirements (for this Pyodide)."""
    info = pyodide_info()
    wanted = [f"micropip=={info['micropip']}", f"packaging=={info['packaging']}", *requirements]
    key = hashlib.sha256(json.dumps([info["version"], *sorted(wanted)]).encode()).hexdigest()
    return default_cache() / key[:16]


def fetch_wheels(
    requirements: Sequence[str],
    directory: Path | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    sources: Mapping[str, str] | None = None,
) -> Wheels:
    """Download pure-Python wheels for ``requirements`` (and their dependencies), micropip and
    packaging into ``directory`` (default: :func:`cache_directory`, reused once complete) and
    write its lock file. A requirement without a pure-Python wheel is left out and named in
    ``problems``; micropip and packaging are needed. Past ``timeout`` seconds in all, pip is
    stopped and the requirement it was on is named in ``problems`` with ``sources[requirement]``
    (the file that asked for it); the lock file lists what was fetched by then."""
    info = pyodide_info()
    wanted = [
        f"micropip=={info['micropip']}",
        f"packaging=={info['packaging']}",
        *_with_dependencies(requirements),
    ]
    if directory is None:
        directory = cache_directory(requirements)
        if (directory / COMPLETE).is_file() and (directory / LOCK_NAME).is_file():
            return Wheels(directory, directory / LOCK_NAME)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / COMPLETE).unlink(missing_ok=True)
    python = ".".join(info["python"].split(".")[:2])
    problems = []
    timed_out = False
    deadline = time.monotonic() + timeout
    # One requirement at a time, so that a failure names its requirement; pip's cache makes
    # the dependencies they share cheap.
    for requirement in wanted:
        command = [
            sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
            "--only-binary=:all:", "--platform", "any", "--abi", "none",
            "--implementation", "py", "--python-version", python,
            "--dest", str(directory), requirement,
        ]  # fmt: skip
        if requirement_name(requirement) in WITHOUT_DEPENDENCIES:
            command.insert(-1, "--no-deps")
        left = deadline - time.monotonic()
        try:
            if left <= 0:
                raise subprocess.TimeoutExpired(command, timeout)
            done = subprocess.run(
                command, capture_output=True, text=True, check=False, timeout=left
            )
        except subprocess.TimeoutExpired:
            timed_out = True
            source = (sources or {}).get(requirement, "livecells.packages")
            problems.append(
                f"{source}: resolving {requirement!r} for Pyodide took more than {timeout:g} s "
                "(pip may be backtracking through its versions) and was stopped: pin exact "
                "versions (name==1.2.3) there, give livecells.wheelsTimeout more seconds, or "
                "leave Pyodide out of the page's runtimes (livecells.runtimes)"
            )
            break
        if done.returncode != 0:
            reason = [line for line in done.stderr.splitlines() if line.startswith("ERROR")]
            if requirement in wanted[:2]:
                raise ConfigError(
                    f"{requirement} (for Pyodide) could not be fetched: "
                    f"{'; '.join(reason) or done.stderr[-300:]}"
                )
            problems.append(
                f"{requirement}: no pure-Python wheel for Pyodide (Python {python}) on the "
                f"package index ({'; '.join(reason) or 'pip download failed'}); packages with "
                "compiled code need Pyodide's own build: list Pyodide's full distribution as a "
                "further pyodide.indexURL, where the page will look for it"
            )
    lock = write_lock(directory, info)
    if not timed_out:
        (directory / COMPLETE).touch()
    return Wheels(directory, lock, tuple(problems))


def write_lock(directory: Path, info: Mapping[str, object]) -> Path:
    """A Pyodide lock file for every wheel in ``directory``: name, version, file, sha256, the
    modules it provides and its dependencies (markers evaluated for Pyodide)."""
    environment = _environment(str(info["python"]))
    entries: dict[str, dict[str, object]] = {}
    requires: dict[str, list[Requirement]] = {}
    for wheel in sorted(directory.glob("*.whl")):
        name, version, imports, requirements = _inspect(wheel)
        key = str(canonicalize_name(name))
        entries[key] = {
            "name": key,
            "version": version,
            "file_name": wheel.name,
            "install_dir": "site",
            "sha256": hashlib.sha256(wheel.read_bytes()).hexdigest(),
            "package_type": "package",
            "imports": imports,
            "depends": [],
            "unvendored_tests": False,
        }
        requires[key] = requirements
    for key, requirements in requires.items():
        depends = []
        for requirement in requirements:
            if requirement.marker is not None and not requirement.marker.evaluate(environment):
                continue
            dependency = str(canonicalize_name(requirement.name))
            if dependency in entries and dependency not in depends:
                depends.append(dependency)
        entries[key]["depends"] = depends
    lock = directory / LOCK_NAME
    lock.write_text(json.dumps({"info": info["info"], "packages": entries}, indent=1), "utf-8")
    return lock


def _inspect(wheel: Path) -> tuple[str, str, list[str], list[Requirement]]:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        meta = next(n for n in names if n.endswith(".dist-info/METADATA"))
        metadata = email.parser.Parser().parsestr(archive.read(meta).decode("utf-8"))
        top_level = next((n for n in names if n.endswith(".dist-info/top_level.txt")), None)
        if top_level is not None:
            imports = archive.read(top_level).decode("utf-8").split()
        else:
            imports = sorted(
                {
                    n.split("/")[0].removesuffix(".py")
                    for n in names
                    if not n.split("/")[0].endswith((".dist-info", ".data"))
                    and (n.endswith(".py") or "/" in n)
                }
            )
    requirements = []
    for line in metadata.get_all("Requires-Dist") or []:
        try:
            requirements.append(Requirement(line))
        except InvalidRequirement:
            continue
    imports = [name for name in imports if name.isidentifier()]
    return str(metadata["Name"]), str(metadata["Version"]), imports, requirements
