"""YAML documents as livecells reads them: ``livecells.yml``, ``myst.yml`` and page frontmatter.

PyYAML's safe loader shares the node an alias refers to, so composing and constructing a
"billion laughs" document is cheap; what is not is everything after it that walks the data as a
tree (the page's JSON config, the config checks): 335 bytes of nested aliases expanded to
602 MB in 11.6 s. So a document is refused at load when its tree, aliases expanded, has more
than :data:`MAX_NODES` nodes, or when an alias contains itself; both are measured on the
composed node graph, each node once, before anything is constructed.
"""

from __future__ import annotations

from typing import Any

import yaml

__all__ = ["MAX_NODES", "DocumentTooLarge", "load"]

MAX_NODES = 100_000
"""Scalars, sequences and mappings in a document, aliases expanded: a book's toc of a few
thousand pages is far below it."""


class DocumentTooLarge(yaml.YAMLError):
    """A document whose expanded tree is too large, recursive or too deeply nested."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


class _Loader(yaml.SafeLoader):
    def compose_document(self) -> yaml.Node | None:
        node: yaml.Node | None = super().compose_document()
        if node is not None:
            _check_size(node)
        return node


def load(text: str) -> Any:
    """``yaml.safe_load(text)``, refusing documents too large to expand (DocumentTooLarge)."""
    try:
        return yaml.load(text, Loader=_Loader)  # a SafeLoader subclass
    except RecursionError:
        raise DocumentTooLarge("the document is nested too deeply") from None


def _check_size(root: yaml.Node) -> None:
    sizes: dict[int, int] = {}
    open_: set[int] = set()
    # Iterative post-order walk: a node's size is 1 + its children's, each node computed once.
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            open_.discard(key)
            size = 1 + sum(sizes[id(child)] for child in _children(node))
            if size > MAX_NODES:
                raise DocumentTooLarge(
                    f"with its aliases expanded it has more than {MAX_NODES:,} values "
                    "(nested aliases that repeat each other); write the values out, or use "
                    "fewer aliases"
                )
            sizes[key] = size
            continue
        if key in sizes:
            continue
        if key in open_:
            raise DocumentTooLarge("an alias refers to a value that contains it (recursive)")
        open_.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in sizes)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [item for pair in node.value for item in pair]
    return []
