"""The livecells kernel inside Pyodide: IPython's execution semantics for one namespace.

The worker (``core.ts``) calls :meth:`Kernel.execute` for each ``execute_request`` and turns
every ``emit(msg_type, content_json)`` into a Jupyter iopub message parented to that request,
so the clients see what an ipykernel would send: ``execute_input``, ``stream`` (a line at a
time, while the cell runs), ``display_data`` / ``update_display_data`` / ``clear_output``,
``execute_result`` for a last expression not ended by ``;``, and ``error`` with an
IPython-style traceback that hides the runtime's own frames. Top-level ``await`` works.
``input()`` asks through ``request_input``, a synchronous JS function (Atomics), when the
page is cross-origin isolated; otherwise it says why it cannot. Comms (Jupyter widgets) are
``livecells_comms``'s: :meth:`Kernel.comm` hands it the page's comm messages.
"""

from __future__ import annotations

import ast
import base64
import builtins
import inspect
import io
import json
import linecache
import os
import pprint
import re
import sys
import tokenize
import traceback
import types
import uuid
from collections.abc import Awaitable, Callable, Collection, Sequence
from typing import Any, cast

os.environ.setdefault("MPLBACKEND", "agg")

RED, GREEN, CYAN, BOLD, RESET = "\x1b[31m", "\x1b[32m", "\x1b[36m", "\x1b[1m", "\x1b[0m"
REPRS = (
    ("text/html", "_repr_html_"),
    ("text/markdown", "_repr_markdown_"),
    ("image/svg+xml", "_repr_svg_"),
    ("image/png", "_repr_png_"),
    ("image/jpeg", "_repr_jpeg_"),
    ("text/latex", "_repr_latex_"),
    ("application/json", "_repr_json_"),
    ("application/javascript", "_repr_javascript_"),
)
HIDDEN_FRAMES = re.compile(r"(/_pyodide/|/pyodide/|livecells_kernel\.py$)")
MAGIC = re.compile(r"^(\s*)([%!])(.*)$")
DOTTED_BEFORE = re.compile(r"[A-Za-z_][\w.]*$")


def _current() -> Kernel:
    if _kernel is None:
        raise RuntimeError("display() needs the running kernel")
    return _kernel


class StdinNotImplementedError(RuntimeError):
    """input() in a frontend that cannot answer it (IPython's name, IPython's message)."""


class Stream(io.TextIOBase):
    """stdout/stderr: sent a line at a time while the cell runs, the rest when it ends."""

    def __init__(self, kernel: Kernel, name: str) -> None:
        self._kernel = kernel
        self.name = name
        self._pending: list[str] = []
        # While not None, writes are kept here instead of sent (see Kernel._pip).
        self.held: list[str] | None = None

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        if text and self.held is not None:
            self.held.append(text)
        elif text:
            self._pending.append(text)
            if "\n" in text:
                self.flush()
        return len(text)

    def flush(self) -> None:
        if self._pending:
            text, self._pending = "".join(self._pending), []
            self._kernel.emit("stream", {"name": self.name, "text": text}, flush=False)


def pretty(obj: object) -> str:
    if isinstance(obj, (dict, list, tuple, set, frozenset)):
        return pprint.pformat(obj, sort_dicts=False)
    return repr(obj)


def format_mimebundle(
    obj: object, include: Collection[str] | None = None, exclude: Collection[str] | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """IPython's display formatter, in short: ``_repr_mimebundle_``, then each ``_repr_*_``,
    then ``text/plain`` from the pretty repr."""
    data: dict[str, Any] = {}
    metadata: dict[str, Any] = {}
    if not isinstance(obj, type):
        method = getattr(obj, "_repr_mimebundle_", None)
        if callable(method):
            found = method(include=include, exclude=exclude)
            if isinstance(found, tuple):
                found, extra = found
                metadata.update(extra or {})
            data.update(found or {})
        for mime, name in REPRS:
            method = getattr(obj, name, None)
            if mime in data or not callable(method):
                continue
            value = method()
            if value is None:
                continue
            if isinstance(value, tuple):
                value, metadata[mime] = value
            if isinstance(value, bytes) and mime.startswith("image/"):
                value = base64.b64encode(value).decode("ascii")
            if mime == "application/json" and isinstance(value, str):
                value = json.loads(value)
            data[mime] = value
    if "text/plain" not in data:
        data["text/plain"] = pretty(obj)
    if include:
        data = {k: v for k, v in data.items() if k in include}
    if exclude:
        data = {k: v for k, v in data.items() if k not in exclude}
    return data, metadata


class DisplayHandle:
    def __init__(self, display_id: str | None = None) -> None:
        self.display_id = display_id or uuid.uuid4().hex

    def __repr__(self) -> str:
        return f"<DisplayHandle display_id={self.display_id}>"

    def display(self, obj: object, **kwargs: Any) -> None:
        display(obj, display_id=self.display_id, **kwargs)

    def update(self, obj: object, **kwargs: Any) -> None:
        display(obj, display_id=self.display_id, update=True, **kwargs)


_kernel: Kernel | None = None


def display(
    *objs: Any,
    include: Collection[str] | None = None,
    exclude: Collection[str] | None = None,
    metadata: dict[str, Any] | None = None,
    transient: dict[str, Any] | None = None,
    display_id: str | bool | None = None,
    raw: bool = False,
    clear: bool = False,
    update: bool = False,
    **kwargs: Any,
) -> DisplayHandle | None:
    """IPython's ``display``: each object as a rich output; ``display_id`` (or ``True``)
    returns a handle whose ``update`` replaces the output wherever it is shown."""
    if clear:
        clear_output(wait=True)
    if display_id is True:
        display_id = uuid.uuid4().hex
    transient = dict(transient or {})
    if display_id:
        transient["display_id"] = display_id
    for obj in objs:
        if raw:
            data, md = dict(obj), dict(metadata or {})
        else:
            data, md = format_mimebundle(obj, include, exclude)
            md.update(metadata or {})
        msg_type = "update_display_data" if update else "display_data"
        _current().emit(msg_type, {"data": data, "metadata": md, "transient": transient})
    if isinstance(display_id, str) and display_id and not update:
        return DisplayHandle(display_id)
    return None


def update_display(obj: object, *, display_id: str, **kwargs: Any) -> None:
    display(obj, display_id=display_id, update=True, **kwargs)


def clear_output(wait: bool = False) -> None:
    _current().emit("clear_output", {"wait": bool(wait)})


class DisplayObject:
    """``IPython.display``'s objects: data given inline, from ``filename`` or as a ``url``."""

    mime = "text/plain"

    def __init__(
        self,
        data: Any = None,
        url: str | None = None,
        filename: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        if data is not None and isinstance(data, str) and data.startswith(("http://", "https://")):
            url, data = data, None
        self.url, self.filename, self.metadata = url, filename, metadata
        if filename is not None and data is None:
            with open(filename, "rb") as file:
                data = file.read()
            if not self.mime.startswith("image/png") and not self.mime.startswith("image/jpeg"):
                data = data.decode("utf-8")
        self.data = data

    def __repr__(self) -> str:
        return f"<IPython.core.display.{type(self).__name__} object>"

    def _repr_mimebundle_(
        self, include: Collection[str] | None = None, exclude: Collection[str] | None = None
    ) -> Any:
        if self.data is None and self.url is not None:
            return {"text/html": self._linked()}
        value = self.data
        if isinstance(value, bytes):
            value = base64.b64encode(value).decode("ascii")
        bundle = {self.mime: value}
        return (bundle, {self.mime: self.metadata}) if self.metadata else bundle

    def _linked(self) -> str:
        return f'<a href="{self.url}">{self.url}</a>'


class HTML(DisplayObject):
    mime = "text/html"


class Markdown(DisplayObject):
    mime = "text/markdown"


class Latex(DisplayObject):
    mime = "text/latex"


class Math(DisplayObject):
    mime = "text/latex"

    def _repr_mimebundle_(
        self, include: Collection[str] | None = None, exclude: Collection[str] | None = None
    ) -> Any:
        return {"text/latex": f"$\\displaystyle {str(self.data).strip('$')}$"}


class SVG(DisplayObject):
    mime = "image/svg+xml"


class Javascript(DisplayObject):
    mime = "application/javascript"


class JSON(DisplayObject):
    mime = "application/json"

    def __init__(self, data: Any = None, **kwargs: Any) -> None:
        super().__init__(json.dumps(data) if not isinstance(data, str) else data, **kwargs)

    def _repr_mimebundle_(
        self, include: Collection[str] | None = None, exclude: Collection[str] | None = None
    ) -> Any:
        return {
            "application/json": json.loads(self.data),
            "text/plain": "<IPython.core.display.JSON object>",
        }


class Image(DisplayObject):
    def __init__(
        self,
        data: Any = None,
        url: str | None = None,
        filename: str | None = None,
        format: str | None = None,
        width: int | None = None,
        height: int | None = None,
        **kwargs: Any,
    ) -> None:
        name = filename or url or ""
        self.format = (
            format or ("jpeg" if name.lower().endswith((".jpg", ".jpeg")) else "png")
        ).lower()
        self.mime = "image/jpeg" if self.format in ("jpg", "jpeg") else "image/png"
        self.width, self.height = width, height
        super().__init__(data, url, filename, **kwargs)

    def _repr_mimebundle_(
        self, include: Collection[str] | None = None, exclude: Collection[str] | None = None
    ) -> Any:
        if self.data is None:
            return {"text/html": f'<img src="{self.url}">'}
        size = {k: v for k, v in (("width", self.width), ("height", self.height)) if v}
        bundle = {
            self.mime: base64.b64encode(self.data).decode("ascii"),
            "text/plain": "<IPython.core.display.Image object>",
        }
        return (bundle, {self.mime: size}) if size else bundle


class Pretty(DisplayObject):
    def _repr_mimebundle_(
        self, include: Collection[str] | None = None, exclude: Collection[str] | None = None
    ) -> Any:
        return {"text/plain": str(self.data)}


def _install_ipython_display() -> None:
    """A small ``IPython.display`` (and ``get_ipython``) when IPython itself is not installed,
    so notebooks written for Jupyter run unchanged."""
    try:
        import IPython  # noqa: F401

        return
    except ImportError:
        pass
    for value in (DisplayObject, HTML, Markdown, Latex, Math, SVG, Javascript, JSON, Image, Pretty):
        value.__module__ = "IPython.core.display"
    package = types.ModuleType("IPython")
    package.__path__ = []
    module = types.ModuleType("IPython.display")
    item: Any
    for item in (
        display,
        update_display,
        clear_output,
        DisplayHandle,
        DisplayObject,
        HTML,
        Markdown,
        Latex,
        Math,
        SVG,
        Javascript,
        JSON,
        Image,
        Pretty,
    ):
        setattr(module, item.__name__, item)
    package.display = module  # type: ignore[attr-defined]
    package.get_ipython = lambda: None  # type: ignore[attr-defined]
    # ipywidgets' Output widget imports it (its append_display_data formats with it).
    shell = types.ModuleType("IPython.core.interactiveshell")
    shell.InteractiveShell = InteractiveShell  # type: ignore[attr-defined]
    sys.modules["IPython"] = package
    sys.modules["IPython.display"] = module
    sys.modules["IPython.core"] = package
    sys.modules["IPython.core.display"] = module
    sys.modules["IPython.core.interactiveshell"] = shell


class InteractiveShell:
    """The part of IPython's shell that libraries reach for without a running IPython: its
    display formatter."""

    class display_formatter:
        format = staticmethod(format_mimebundle)

    @classmethod
    def instance(cls) -> InteractiveShell:
        return cls()


class Kernel:
    """One Python namespace and its execution counter."""

    def __init__(
        self,
        emit: Callable[..., object],
        request_input: Callable[[str, bool], str | None] | None = None,
        figure_formats: Sequence[str] = ("svg",),
        pip_install: Callable[[str], Awaitable[object]] | None = None,
        file_problem: Callable[[str], str | None] | None = None,
    ) -> None:
        global _kernel
        _kernel = self
        self._emit = emit
        self._file_problem = file_problem
        self._request_input = request_input
        self._pip_install = pip_install
        self.figure_formats = tuple(figure_formats) or ("svg",)
        self.parent_header: dict[str, Any] = {}
        self.execution_count = 0
        self.runs = 0
        self.allow_stdin = True
        self.stdout = Stream(self, "stdout")
        self.stderr = Stream(self, "stderr")
        sys.stdout, sys.stderr = self.stdout, self.stderr
        builtins.input = self.input
        builtins.display = display  # type: ignore[attr-defined]
        import getpass

        getpass.getpass = lambda prompt="Password: ", stream=None: self.input(prompt, password=True)
        _install_ipython_display()
        sys.unraisablehook = _keep_interrupts
        import time

        time.sleep = _sleep_then_raise_kept_interrupts(time.sleep)
        # Cells run in a real __main__ module, so classes they define pickle as in Jupyter.
        main = types.ModuleType("__main__")
        main.__dict__.update(__builtins__=builtins, In=[""], Out={}, __livecells_pip__=self._pip)
        sys.modules["__main__"] = main
        self.namespace = main.__dict__
        import livecells_comms  # type: ignore[import-not-found]  # beside this file

        self._comms = livecells_comms
        livecells_comms.install(self)

    def emit(self, msg_type: str, content: dict[str, Any], flush: bool = True) -> None:
        if flush:
            self.stdout.flush()
            self.stderr.flush()
        self._emit(msg_type, json.dumps(content, default=str))

    def emit_comm(
        self,
        msg_type: str,
        content: dict[str, Any],
        metadata: dict[str, Any],
        buffers: Sequence[bytes | memoryview],
    ) -> None:
        """A comm message to the page, its binary buffers beside the JSON."""
        self.stdout.flush()
        self.stderr.flush()
        data = [bytes(buffer) for buffer in buffers]
        self._emit(msg_type, json.dumps(content, default=str), json.dumps(metadata), data)

    def get_parent(self) -> dict[str, Any]:
        """The request being handled, as ipykernel's ``get_parent`` (the Output widget reads
        its msg_id to capture what follows)."""
        return {"header": dict(self.parent_header)}

    def comm(self, msg_type: str, message: str, buffers: Sequence[Any] = ()) -> None:
        """A comm_open / comm_msg / comm_close from the page (``message``: JSON with header,
        metadata and content; ``buffers``: Uint8Arrays); what its callbacks print or
        display is parented to it."""
        msg = json.loads(message)
        self.parent_header = msg.get("header") or {}
        msg["buffers"] = [memoryview(buffer.to_bytes()) for buffer in buffers]
        try:
            self._comms.dispatch(msg_type, msg)
        finally:
            self.stdout.flush()
            self.stderr.flush()

    def comm_info(self, target: str | None = None) -> str:
        """``comm_info_reply`` content (JSON): the open comms."""
        return json.dumps({"status": "ok", "comms": self._comms.info(target)})

    def input(self, prompt: object = "", password: bool = False) -> str:
        self.stdout.flush()
        self.stderr.flush()
        if not self.allow_stdin:
            raise StdinNotImplementedError(
                "raw_input was called, but this frontend does not support input requests."
            )
        if self._request_input is None:
            raise StdinNotImplementedError(
                "input() needs a cross-origin isolated page (served with the headers "
                "Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: "
                "require-corp or credentialless); `livecells serve` sends them, and "
                "`livecells build` writes them to _headers for hosts that read it"
            )
        answer = self._request_input(str(prompt), bool(password))
        if answer is None:
            raise KeyboardInterrupt("interrupted while waiting for input")
        return str(answer)

    async def _pip(self, line: str) -> None:
        words = line.split()
        if not words or words[0] != "install":
            raise ValueError("the Pyodide runtime supports `%pip install NAME...` only")
        names = [word for word in words[1:] if not word.startswith("-")]
        if self._pip_install is None:
            raise RuntimeError("%pip install is not available: micropip is not part of this site")
        # micropip prints its own traceback to stderr as it fails, and its error's message is
        # that traceback again: the cell shows one error, with the one line that is the news.
        self.stderr.flush()
        self.stderr.held = []
        try:
            await self._pip_install(json.dumps(names))
        except Exception as exc:
            self.stderr.held = None
            raise PipInstallError(
                f"could not install {', '.join(names)}: {_last_line(exc)}"
            ) from None
        finally:
            held, self.stderr.held = self.stderr.held, None
        if held:
            self.stderr.write("".join(held))
        print(f"Installed {', '.join(names)}")

    async def execute(
        self,
        code: str,
        silent: bool = False,
        store_history: bool = True,
        allow_stdin: bool = True,
        parent: str = "{}",
    ) -> str:
        """Run one cell (``parent``: its request's header, JSON); returns the
        ``execute_reply`` content as JSON text."""
        global _lost_interrupt
        self.parent_header = json.loads(parent)
        _lost_interrupt = False  # one kept from a cell that has ended is not this cell's
        if store_history and not silent:
            self.execution_count += 1
        count = self.execution_count
        self.runs += 1
        self.allow_stdin = allow_stdin
        filename = f"<cell-{count}-{self.runs}>"
        if not silent:
            self.emit("execute_input", {"code": code, "execution_count": count})
            if store_history:
                self.namespace["In"].append(code)
        try:
            await self._run_cell(code, filename, count, silent)
            self._show_figures()
            reply: dict[str, Any] = {
                "status": "ok",
                "execution_count": count,
                "user_expressions": {},
                "payload": [],
            }
        except BaseException as exc:
            error = self._error(exc, count)
            self.emit("error", error)
            reply = {"status": "error", "execution_count": count, **error}
        finally:
            self.stdout.flush()
            self.stderr.flush()
        return json.dumps(reply)

    def complete(self, code: str, cursor_pos: int) -> str:
        """``complete_reply`` content (JSON) from rlcompleter (jedi is not in Pyodide's core):
        names and attributes of the dotted name before the cursor."""
        import rlcompleter

        text = DOTTED_BEFORE.search(code[:cursor_pos])
        typed = text.group(0) if text else ""
        matches: list[str] = []
        if typed:
            completer = rlcompleter.Completer(self.namespace)
            while (match := completer.complete(typed, len(matches))) is not None:
                matches.append(match.rstrip("("))
        return json.dumps(
            {
                "status": "ok",
                "matches": list(dict.fromkeys(matches)),
                "cursor_start": cursor_pos - len(typed),
                "cursor_end": cursor_pos,
                "metadata": {},
            }
        )

    def inspect(self, code: str, cursor_pos: int, detail_level: int = 0) -> str:
        """``inspect_reply`` content (JSON): the signature and docstring of the dotted name
        at the cursor, looked up (never evaluated: no call, no item access)."""
        start = DOTTED_BEFORE.search(code[:cursor_pos])
        end = re.match(r"\w*", code[cursor_pos:])
        name = (start.group(0) if start else "") + (end.group(0) if end else "")
        found, obj = False, cast(Any, None)
        parts = name.split(".") if name else []
        if parts and parts[0] in self.namespace:
            found, obj = True, self.namespace[parts[0]]
        elif parts and hasattr(builtins, parts[0]):
            found, obj = True, getattr(builtins, parts[0])
        for part in parts[1:] if found else ():
            if not hasattr(obj, part):
                found = False
                break
            obj = getattr(obj, part)
        if not found:
            return json.dumps({"status": "ok", "found": False, "data": {}, "metadata": {}})
        try:
            signature = f"{name}{inspect.signature(obj)}"
        except (TypeError, ValueError):
            signature = f"{name}: {type(obj).__name__}"
        doc = inspect.getdoc(obj) or ""
        text = f"{signature}\n\n{doc}" if doc else signature
        return json.dumps(
            {"status": "ok", "found": True, "data": {"text/plain": text}, "metadata": {}}
        )

    async def _run_cell(self, code: str, filename: str, count: int, silent: bool) -> None:
        source = code
        try:
            tree = ast.parse(source, filename, "exec")
        except SyntaxError:
            source = _transform_magics(code)
            if source == code:
                raise
            tree = ast.parse(source, filename, "exec")
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        last: ast.Expression | None = None
        if tree.body and isinstance(tree.body[-1], ast.Expr) and not _ends_with_semicolon(source):
            last = ast.Expression(tree.body.pop().value)  # type: ignore[attr-defined]
        flags = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
        await self._eval(compile(tree, filename, "exec", flags=flags, dont_inherit=True))
        if last is None:
            return
        value = await self._eval(compile(last, filename, "eval", flags=flags, dont_inherit=True))
        if value is None or silent:
            return
        ns = self.namespace
        ns["___"], ns["__"], ns["_"] = ns.get("__"), ns.get("_"), value
        ns[f"_{count}"] = value
        ns["Out"][count] = value
        data, metadata = format_mimebundle(value)
        self.emit("execute_result", {"execution_count": count, "data": data, "metadata": metadata})

    async def _eval(self, code: types.CodeType) -> Any:
        result = eval(code, self.namespace)
        if code.co_flags & inspect.CO_COROUTINE:
            result = await result
        return result

    def _show_figures(self) -> None:
        pyplot = sys.modules.get("matplotlib.pyplot")
        if pyplot is None:
            return
        for number in pyplot.get_fignums():
            figure = pyplot.figure(number)
            data: dict[str, str] = {"text/plain": repr(figure)}
            for fmt in self.figure_formats:
                buffer = io.BytesIO()
                figure.savefig(buffer, format=fmt, bbox_inches="tight")
                raw = buffer.getvalue()
                if fmt == "svg":
                    data["image/svg+xml"] = raw.decode("utf-8")
                else:
                    data["image/png"] = base64.b64encode(raw).decode("ascii")
            display(data, raw=True)
        pyplot.close("all")

    def _error(self, exc: BaseException, count: int) -> dict[str, Any]:
        """IPython's error output: the frames of the cell (and of user modules), never the
        runtime's; a ModuleNotFoundError says how to get the package here."""
        tb = exc.__traceback__
        while tb is not None and not tb.tb_frame.f_code.co_filename.startswith("<cell-"):
            tb = tb.tb_next
        exception = traceback.TracebackException(type(exc), exc, tb, compact=True)
        ename = type(exc).__name__
        evalue = str(exc)
        if isinstance(exc, ModuleNotFoundError) and exc.name:
            evalue += ". " + _missing_module_advice(exc.name.split(".")[0])
        elif isinstance(exc, OSError) and exc.filename is not None and self._file_problem:
            # A page file the worker could not fetch, or refused (files.ts says why).
            problem = self._file_problem(os.path.abspath(os.fsdecode(exc.filename)))
            if problem:
                evalue += f": {problem}"
        lines = [
            f"{RED}{'-' * 75}{RESET}",
            f"{RED}{ename}{RESET}{' ' * max(1, 42 - len(ename))}Traceback (most recent call last)",
        ]
        for frame in exception.stack:
            if HIDDEN_FRAMES.search(frame.filename or ""):
                continue
            match = re.match(r"<cell-(\d+)-\d+>", frame.filename or "")
            where = (
                f"Cell {GREEN}In[{match.group(1)}]{RESET}"
                if match
                else f"File {GREEN}{frame.filename}{RESET}"
            )
            block = [f"{where}, line {frame.lineno}" + ("" if match else f", in {frame.name}")]
            if frame.line:
                block.append(f"{GREEN}----> {frame.lineno}{RESET} {frame.line}")
            lines.append("\n".join(block))
        if isinstance(exc, SyntaxError):
            lines = [
                "\n".join(
                    line.rstrip("\n").replace(f'File "{exc.filename}"', f"Cell In[{count}]")
                    for line in exception.format_exception_only()
                )
            ]
        else:
            lines.append(f"{RED}{ename}{RESET}: {evalue}")
        return {"ename": ename, "evalue": evalue, "traceback": lines}


_default_unraisablehook = sys.unraisablehook
_lost_interrupt = False


def _keep_interrupts(unraisable: Any) -> None:
    """An interrupt arrives as a KeyboardInterrupt at Pyodide's next look at its interrupt flag,
    which, right after ``time.sleep`` resumes (JSPI), falls inside a weakref callback: Python
    prints "Exception ignored in ..." and the cell runs on. Keep it instead, for
    :func:`_sleep` to raise in the cell's own frame, as ipykernel would."""
    global _lost_interrupt
    if unraisable.exc_type is not None and issubclass(unraisable.exc_type, KeyboardInterrupt):
        _lost_interrupt = True
        return
    _default_unraisablehook(unraisable)


def _sleep_then_raise_kept_interrupts(sleep: Callable[..., None]) -> Callable[..., None]:
    def _sleep(seconds: Any) -> None:
        global _lost_interrupt
        sleep(seconds)
        if _lost_interrupt:
            _lost_interrupt = False
            raise KeyboardInterrupt

    return _sleep


class PipInstallError(RuntimeError):
    """``%pip install`` failed (micropip or the package index said why)."""


def _last_line(exc: BaseException) -> str:
    """The last line of an error's message: for a JS error wrapping a Python one, its
    ``ValueError: ...`` rather than the traceback before it."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    last = lines[-1] if lines else type(exc).__name__
    return re.sub(r"^(Error|PythonError): ", "", last)


def _pyodide_build(name: str) -> str | None:
    """The package of Pyodide's distribution that has the module ``name`` and compiled code
    (matplotlib, numpy, ...), else None: from ``livecells-pyodide.json`` beside Pyodide, which
    the client's build writes from Pyodide's own lock file (the site ships an empty one)."""
    global _COMPILED
    if _COMPILED is None:
        _COMPILED = {}
        try:
            import pyodide_js

            url = f"{str(pyodide_js._api.config.indexURL).rstrip('/')}/livecells-pyodide.json"
            _COMPILED = dict(json.loads(_read_text(url)).get("compiled", {}))
        except Exception:
            pass
    return _COMPILED.get(name)


_COMPILED: dict[str, str] | None = None


def _read_text(url: str) -> str:
    """A small file beside Pyodide, synchronously: an XMLHttpRequest in a Web Worker, the
    file system under Node.js."""
    if url.startswith(("http:", "https:", "file:")) and "XMLHttpRequest" in dir(__import__("js")):
        from pyodide.http import open_url

        return str(open_url(url).read())
    import js

    return str(js.process.getBuiltinModule("fs").readFileSync(url, "utf8"))


def _missing_module_advice(name: str) -> str:
    """What to do about ``import name`` failing here: a package Pyodide builds (compiled code)
    comes from Pyodide's full distribution, not from ``packages``, which takes pure-Python
    wheels only."""
    try:
        import pyodide_js

        full = f"https://cdn.jsdelivr.net/pyodide/v{pyodide_js.version}/full/"
    except Exception:
        full = "https://cdn.jsdelivr.net/pyodide/<version>/full/"
    from_pyodide = (
        f"list Pyodide's full distribution ({full}) as a further project.livecells.pyodide."
        f"indexURL, where the page looks for it"
    )
    package = _pyodide_build(name)
    if package:
        return (
            f"Pyodide builds {package!r} (it has compiled code) but this site does not ship "
            f"that build: {from_pyodide}, then run `%pip install {package}`; or run the page "
            f"on a Jupyter kernel instead of Pyodide"
        )
    return (
        f"The Pyodide runtime has the standard library and the packages this site ships. "
        f"If {name!r} is pure Python, add it to project.livecells.packages (`livecells build` "
        f"fetches its wheel) or run `%pip install {name}` in a cell; a package with compiled "
        f"code needs Pyodide's own build: {from_pyodide}"
    )


def _ends_with_semicolon(source: str) -> bool:
    """IPython: a trailing ``;`` on the last line hides the result."""
    last = None
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type not in (
                tokenize.COMMENT,
                tokenize.NL,
                tokenize.NEWLINE,
                tokenize.ENDMARKER,
                tokenize.INDENT,
                tokenize.DEDENT,
            ):
                last = token
    except (tokenize.TokenError, SyntaxError):
        return False
    return last is not None and last.type == tokenize.OP and last.string == ";"


def _transform_magics(code: str) -> str:
    """Only when a cell does not parse as Python: line magics that make sense here
    (``%pip install``, ``%matplotlib``) become code, others a clear error. Lines inside
    strings are never touched, since a cell that parses is never transformed."""
    out = []
    for line in code.splitlines():
        match = MAGIC.match(line)
        if not match:
            out.append(line)
            continue
        indent, kind, rest = match.groups()
        if kind == "%" and rest.startswith("pip "):
            out.append(f"{indent}await __livecells_pip__({rest[4:].strip()!r})")
        elif kind == "%" and rest.split()[:1] == ["matplotlib"]:
            out.append(f"{indent}pass")
        else:
            name = (kind + rest).split()[0] if rest.strip() else kind
            out.append(
                f"{indent}raise NotImplementedError({name!r} + ' is an IPython magic or shell "
                f"command; the Pyodide runtime runs Python only (%pip install works)')"
            )
    return "\n".join(out)
