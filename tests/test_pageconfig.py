"""The page config is one contract on two sides: Python writes it (``livecells.pageconfig``),
the client reads it (``frontend/src/config.ts``). Same names, same defaults."""

from __future__ import annotations

import json
import re
from pathlib import Path

from livecells.config import PYODIDE_TIMEOUT_MS, parse_jupyter
from livecells.pageconfig import PageConfig, PyodideSettings, page_config, pyodide_settings

CONFIG_TS = (Path(__file__).resolve().parent.parent / "frontend" / "src" / "config.ts").read_text()


def interface_keys(name: str) -> set[str]:
    body = re.search(rf"export interface {name} \{{(.*?)\n\}}", CONFIG_TS, re.S)
    assert body is not None, name
    return set(re.findall(r"^  (\w+)\??:", body.group(1), re.M))


def client_defaults() -> dict[str, object]:
    body = re.search(r"const DEFAULTS: PageConfig = (\{.*?\n\});", CONFIG_TS, re.S)
    assert body is not None
    text = re.sub(r"(\w+):", r'"\1":', body.group(1))
    text = re.sub(r",(\s*[}\]])", r"\1", text)
    defaults: dict[str, object] = json.loads(text)
    return defaults


def test_both_sides_name_the_same_keys() -> None:
    assert set(PageConfig().to_json()) == interface_keys("PageConfig")
    pyodide = PageConfig(pyodide=PyodideSettings()).to_json()["pyodide"]
    assert set(pyodide) == interface_keys("PyodideSettings")


def test_both_sides_have_the_same_defaults() -> None:
    assert PageConfig().to_json() == client_defaults()


def test_the_json_is_what_the_client_reads() -> None:
    jupyter = parse_jupyter(
        {"server": {"url": "http://h:8888/", "token": "t"}, "kernelName": "ir"}, where="x"
    )
    config = page_config(
        jupyter, default_runtime="pyodide", auto_run=False, trusted=False, kernel_name=None
    )
    data = config.to_json()
    assert data["runtime"] == "server"
    assert data["runtimes"] == ["server"]
    assert data["configured"] is None
    assert data["kernelName"] == "ir"
    assert data["server"] == {"url": "http://h:8888/", "token": "t"}
    assert data["autoRun"] is False
    settings = PyodideSettings(index_urls=("local",), lock_file_url="_livecells/wheels/x.json")
    pyodide = PageConfig(pyodide=settings).to_json()["pyodide"]
    assert pyodide["indexURLs"] == ["local"]
    assert pyodide["lockFileURL"] == "_livecells/wheels/x.json"
    assert pyodide["figureFormats"] == ["svg"]


def test_pyodide_has_120_s_per_index_url_unless_the_page_says_otherwise() -> None:
    assert pyodide_settings({}, []).timeout_ms == 120_000
    assert pyodide_settings({"pyodide": {"timeoutMs": 0}}, []).timeout_ms == 0
    assert PageConfig(pyodide=PyodideSettings()).to_json()["pyodide"]["timeoutMs"] == 120_000
    # The client's default, for a config written without it, is the same.
    client = re.search(r"export const PYODIDE_TIMEOUT_MS = (\d+);", CONFIG_TS)
    assert client is not None and int(client.group(1)) == PYODIDE_TIMEOUT_MS
