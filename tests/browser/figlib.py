"""A tiny pure-Python figure library shaped as ``matplotlib.pyplot`` (what the Pyodide kernel's
``_show_figures`` calls: ``get_fignums``, ``figure(n)``, ``Figure.savefig(file, format=)``,
``close("all")``), so a test can ship it as the ``matplotlib`` wheel of a site and check the
figure outputs byte for byte: SVG text, and a real PNG (zlib, from the standard library)."""

from __future__ import annotations

import struct
import zlib
from typing import Any, BinaryIO

WIDTH, HEIGHT = 4, 3
_figures: dict[int, Figure] = {}


class Figure:
    def __init__(self, number: int) -> None:
        self.number = number
        self.points: list[tuple[int, int]] = []

    def __repr__(self) -> str:
        return f"<Figure {self.number} with {len(self.points)} points>"

    def savefig(self, file: BinaryIO, format: str = "png", **options: Any) -> None:
        if format == "svg":
            file.write(svg(self.points).encode())
        elif format == "png":
            file.write(png(self.points))
        else:
            raise ValueError(f"figlib draws svg and png, not {format!r}")


def svg(points: list[tuple[int, int]]) -> str:
    drawn = " ".join(f"{x},{y}" for x, y in points)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}">'
        f'<polyline id="figlib" points="{drawn}" fill="none" stroke="black"/></svg>'
    )


def png(points: list[tuple[int, int]]) -> bytes:
    """A WIDTH x HEIGHT greyscale PNG: white, with a black pixel at each point (stored, not
    compressed, so every zlib writes the same bytes)."""
    pixels = [[255] * WIDTH for _ in range(HEIGHT)]
    for x, y in points:
        pixels[min(HEIGHT - 1, y)][min(WIDTH - 1, x)] = 0
    raw = b"".join(b"\0" + bytes(row) for row in pixels)

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", WIDTH, HEIGHT, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 0))
        + chunk(b"IEND", b"")
    )


def figure(num: int | None = None) -> Figure:
    number = num if num is not None else max(_figures, default=0) + 1
    return _figures.setdefault(number, Figure(number))


def plot(xs: list[int], ys: list[int]) -> None:
    current = _figures[max(_figures)] if _figures else figure()
    current.points += list(zip(xs, ys, strict=True))


def get_fignums() -> list[int]:
    return sorted(_figures)


def close(which: str = "all") -> None:
    _figures.clear()
