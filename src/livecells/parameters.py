"""Notebook parameters, as papermill gives them: values typed from the command line, read
from YAML, and injected into a notebook as a cell of assignments.

Everything here follows papermill 2.x so that its users switch without changing a notebook:
``-p`` values are typed by :func:`resolve_type` (papermill's ``cli._resolve_type``), YAML is
read without turning dates into objects, the injected cell goes after the cell tagged
``parameters`` (replacing an earlier ``injected-parameters`` cell, or at the top when there is
neither, with papermill's warning), and its text is what papermill's translator for the
kernel's language writes, character for character.
"""

from __future__ import annotations

import json
import math
import shlex
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from livecells.errors import ConfigError

if TYPE_CHECKING:
    from nbformat import NotebookNode

__all__ = [
    "INJECTED_TAG",
    "PARAMETERS_TAG",
    "collect_parameters",
    "inject_parameters",
    "parameters_source",
    "record_run",
    "resolve_type",
]

PARAMETERS_TAG = "parameters"
INJECTED_TAG = "injected-parameters"
COMMENT = "Parameters"
NO_PARAMETERS_CELL = "Input notebook does not contain a cell with tag 'parameters'"
"""papermill's warning, word for word, for a notebook without a ``parameters`` cell."""


def resolve_type(value: str) -> Any:
    """A ``-p NAME VALUE`` value as papermill types it: ``True``/``False``/``None``, an int,
    a float, else the string itself."""
    if value == "True":
        return True
    if value == "False":
        return False
    if value == "None":
        return None
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


def collect_parameters(
    *,
    files: Iterable[str | Path] = (),
    yaml_texts: Iterable[str] = (),
    typed: Iterable[tuple[str, str]] = (),
    raw: Iterable[tuple[str, str]] = (),
) -> dict[str, Any]:
    """Merge parameters in papermill's order: ``-f`` files, then ``-y`` YAML, then ``-p``
    (typed), then ``-r`` (raw strings); a later one wins.

    Raises :class:`~livecells.errors.ConfigError` with one line for a file that cannot be read
    and for YAML that does not parse to a mapping.
    """
    merged: dict[str, Any] = {}
    for file in files:
        try:
            text = Path(file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or exc
            raise ConfigError(f"{file}: cannot read the parameters file: {reason}") from None
        merged.update(_load_yaml(text, where=str(file)))
    for text in yaml_texts:
        merged.update(_load_yaml(text, where="-y"))
    for name, value in typed:
        merged[name] = resolve_type(value)
    for name, value in raw:
        merged[name] = value
    return merged


def _load_yaml(text: str, *, where: str) -> dict[str, Any]:
    import yaml

    class NoDatesSafeLoader(yaml.SafeLoader):
        """papermill's loader: YAML dates stay strings (a notebook parameter is text)."""

    NoDatesSafeLoader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    try:
        data = yaml.load(text, Loader=NoDatesSafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "cannot parse it"
        raise ConfigError(f"{where}: parameters are not valid YAML{at}: {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{where}: parameters must be a YAML mapping of names to values, "
            f"not {type(data).__name__}"
        )
    return {str(key): value for key, value in data.items()}


# -- translators: papermill's translators.py, for the languages livecells supports ---------


class Translator:
    """Writes parameters as assignments in one language (papermill's ``Translator``)."""

    @classmethod
    def translate_escaped_str(cls, value: Any) -> str:
        if isinstance(value, str):
            value = value.encode("unicode_escape").decode("utf-8").replace('"', r"\"")
        return f'"{value}"'

    @classmethod
    def translate_str(cls, value: str) -> str:
        return cls.translate_escaped_str(value)

    @classmethod
    def translate_none(cls, value: None) -> str:
        return f"{value}"

    @classmethod
    def translate_int(cls, value: int) -> str:
        return f"{value}"

    @classmethod
    def translate_float(cls, value: float) -> str:
        return f"{value}"

    @classmethod
    def translate_bool(cls, value: bool) -> str:
        return "true" if value else "false"

    @classmethod
    def translate_dict(cls, value: dict[Any, Any]) -> str:
        raise ConfigError(f"{cls.language} parameters cannot be mappings")

    @classmethod
    def translate_list(cls, value: list[Any]) -> str:
        raise ConfigError(f"{cls.language} parameters cannot be lists")

    language: ClassVar[str] = ""

    @classmethod
    def translate(cls, value: Any) -> str:
        if value is None:
            return cls.translate_none(value)
        if isinstance(value, str):
            return cls.translate_str(value)
        if isinstance(value, bool):
            return cls.translate_bool(value)
        if isinstance(value, int):
            return cls.translate_int(value)
        if isinstance(value, float):
            return cls.translate_float(value)
        if isinstance(value, dict):
            return cls.translate_dict(value)
        if isinstance(value, list):
            return cls.translate_list(value)
        return cls.translate_escaped_str(value)

    @classmethod
    def comment(cls, text: str) -> str:
        return f"# {text}".strip()

    @classmethod
    def assign(cls, name: str, value: str) -> str:
        return f"{name} = {value}"

    @classmethod
    def codify(cls, parameters: Mapping[str, Any], comment: str = COMMENT) -> str:
        content = f"{cls.comment(comment)}\n"
        for name, value in parameters.items():
            content += f"{cls.assign(name, cls.translate(value))}\n"
        return content


class PythonTranslator(Translator):
    language = "Python"

    @classmethod
    def translate_float(cls, value: float) -> str:
        if math.isfinite(value):
            return f"{value}"
        if math.isnan(value):
            return "float('nan')"
        return "float('-inf')" if value < 0 else "float('inf')"

    @classmethod
    def translate_bool(cls, value: bool) -> str:
        return f"{value}"

    @classmethod
    def translate_dict(cls, value: dict[Any, Any]) -> str:
        items = ", ".join(f"{cls.translate_str(k)}: {cls.translate(v)}" for k, v in value.items())
        return f"{{{items}}}"

    @classmethod
    def translate_list(cls, value: list[Any]) -> str:
        return f"[{', '.join(cls.translate(v) for v in value)}]"

    @classmethod
    def codify(cls, parameters: Mapping[str, Any], comment: str = COMMENT) -> str:
        content = super().codify(parameters, comment)
        try:  # papermill formats the cell with Black when it is installed: so do we
            import black  # type: ignore[import-not-found, unused-ignore]
        except ImportError:
            return content
        try:
            mode = black.FileMode(string_normalization=False)
            formatted: str = black.format_str(content, mode=mode)
        except AttributeError:
            return content
        return formatted


class RTranslator(Translator):
    language = "R"

    @classmethod
    def translate_none(cls, value: None) -> str:
        return "NULL"

    @classmethod
    def translate_bool(cls, value: bool) -> str:
        return "TRUE" if value else "FALSE"

    @classmethod
    def translate_dict(cls, value: dict[Any, Any]) -> str:
        items = ", ".join(f"{cls.translate_str(k)} = {cls.translate(v)}" for k, v in value.items())
        return f"list({items})"

    @classmethod
    def translate_list(cls, value: list[Any]) -> str:
        return f"list({', '.join(cls.translate(v) for v in value)})"

    @classmethod
    def assign(cls, name: str, value: str) -> str:
        return f"{name.lstrip('_')} = {value}"  # R names cannot start with "_"


class BashTranslator(Translator):
    language = "bash"

    @classmethod
    def translate_none(cls, value: None) -> str:
        return ""

    @classmethod
    def translate_escaped_str(cls, value: Any) -> str:
        return shlex.quote(str(value))

    @classmethod
    def translate_list(cls, value: list[Any]) -> str:
        return f"({' '.join(cls.translate(v) for v in value)})"

    @classmethod
    def assign(cls, name: str, value: str) -> str:
        return f"{name}={value}"


class JuliaTranslator(Translator):
    language = "Julia"

    @classmethod
    def translate_none(cls, value: None) -> str:
        return "nothing"

    @classmethod
    def translate_dict(cls, value: dict[Any, Any]) -> str:
        items = ", ".join(f"{cls.translate_str(k)} => {cls.translate(v)}" for k, v in value.items())
        return f"Dict({items})"

    @classmethod
    def translate_list(cls, value: list[Any]) -> str:
        return f"[{', '.join(cls.translate(v) for v in value)}]"


TRANSLATORS: dict[str, type[Translator]] = {
    "python": PythonTranslator,
    "R": RTranslator,
    "julia": JuliaTranslator,
    "pysparkkernel": PythonTranslator,
    "sparkrkernel": RTranslator,
    "bash": BashTranslator,
}
"""Kernel names and languages, looked up as papermill does: the kernel's name first."""


def parameters_source(
    parameters: Mapping[str, Any], *, kernel_name: str | None, language: str | None
) -> str:
    """The injected cell's text for this kernel (papermill's ``translate_parameters``).

    Raises :class:`~livecells.errors.ConfigError` when no translator knows the kernel or its
    language.
    """
    translator = TRANSLATORS.get(kernel_name or "") or TRANSLATORS.get(language or "")
    if translator is None:
        known = ", ".join(sorted({t.language for t in TRANSLATORS.values()}))
        raise ConfigError(
            f"cannot inject parameters for kernel {kernel_name!r} (language {language!r}): "
            f"livecells writes parameters in {known}"
        )
    return translator.codify(parameters)


def inject_parameters(
    notebook: NotebookNode,
    parameters: Mapping[str, Any],
    *,
    kernel_name: str | None = None,
    language: str | None = None,
) -> str | None:
    """Insert ``parameters`` into ``notebook`` (in place) as papermill's
    ``parameterize_notebook`` does, and record them in ``metadata.papermill``.

    The kernel name and language default to the notebook's (``kernelspec.name``,
    ``language_info.name`` or ``kernelspec.language``). Returns papermill's warning when the
    notebook has no cell tagged ``parameters`` (the cell then goes first), else ``None``.
    """
    from nbformat.v4 import new_code_cell, upgrade

    metadata = notebook.metadata
    spec = metadata.get("kernelspec") or {}
    kernel_name = kernel_name or spec.get("name")
    language = language or (metadata.get("language_info") or {}).get("name") or spec.get("language")
    # JSON-safe as the notebook will be written (YAML may give tuples or other scalars)
    values = json.loads(json.dumps(dict(parameters), default=str))
    cell = new_code_cell(  # type: ignore[no-untyped-call]
        source=parameters_source(parameters, kernel_name=kernel_name, language=language)
    )
    cell.metadata["tags"] = [INJECTED_TAG]
    # As papermill: to nbformat 4.5 first, where every cell has an id.
    upgrade(notebook)  # type: ignore[no-untyped-call]
    injected = _first_tagged(notebook, INJECTED_TAG)
    declared = _first_tagged(notebook, PARAMETERS_TAG)
    warning = None
    if injected >= 0:
        notebook.cells[injected] = cell
    elif declared >= 0:
        notebook.cells.insert(declared + 1, cell)
    else:
        warning = NO_PARAMETERS_CELL
        notebook.cells.insert(0, cell)
    record = metadata.setdefault("papermill", {})
    record.setdefault("default_parameters", {})
    record["parameters"] = values
    record.setdefault("environment_variables", {})
    return warning


def _first_tagged(notebook: NotebookNode, tag: str) -> int:
    for index, cell in enumerate(notebook.cells):
        if tag in cell.get("metadata", {}).get("tags", []):
            return index
    return -1


def record_run(
    notebook: NotebookNode,
    *,
    input_path: str,
    output_path: str,
    started: datetime,
    ended: datetime,
    failed: bool,
) -> None:
    """Complete ``metadata.papermill`` with the run, as papermill's execution manager does."""
    record = notebook.metadata.setdefault("papermill", {})
    record.update(
        {
            "input_path": input_path,
            "output_path": output_path,
            "start_time": started.isoformat(),
            "end_time": ended.isoformat(),
            "duration": (ended - started).total_seconds(),
            "exception": True if failed else None,
        }
    )
