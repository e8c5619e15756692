"""Form definitions written as YAML, read within budgets.

YAML aliases (`*a`) share a node, so 558 bytes of nested aliases (a "billion laughs") stand for
a document of billions of nodes that every later step (NFC, checks, JSON) would expand. `load`
composes the node graph first (cheap: aliases are not expanded), counts the nodes the document
stands for with aliases expanded, and refuses it beyond MAX_NODES, or when an alias refers to
its own ancestor, or when the text nests deeper than the parser's stack, before constructing
anything.
"""
from __future__ import annotations

from typing import Any

import yaml

MAX_NODES = 50_000      # the default household form has about 1,500
MAX_TEXT_LENGTH = 2_000_000


class YamlBudgetError(ValueError):
    """The text is well-formed YAML but stands for a document beyond the budget."""


def expanded_size(root: Any, limit: int = MAX_NODES) -> Any:
    """Nodes of the composed graph with aliases expanded; raises YamlBudgetError past `limit`."""
    sizes, open_nodes = {}, set()
    stack = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            open_nodes.discard(key)
            total = 1 + sum(sizes[id(child)] for child in _children(node))
            if total > limit:
                raise YamlBudgetError(f"the document has more than {limit} values once its aliases are expanded")
            sizes[key] = total
            continue
        if key in sizes:
            continue
        if key in open_nodes:
            raise YamlBudgetError("an alias refers to a value that contains it")
        open_nodes.add(key)
        stack.append((node, True))
        for child in _children(node):
            if id(child) in open_nodes:
                raise YamlBudgetError("an alias refers to a value that contains it")
            if id(child) not in sizes:
                stack.append((child, False))
    return sizes.get(id(root), 0)


def _children(node):
    if isinstance(node, yaml.MappingNode):
        return [item for pair in node.value for item in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def compose(text: str) -> Any:
    """The composed node graph of `text`, or raise yaml.YAMLError / YamlBudgetError."""
    if len(text) > MAX_TEXT_LENGTH:
        raise YamlBudgetError(f"the text is longer than {MAX_TEXT_LENGTH} characters")
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except RecursionError:
        raise YamlBudgetError("the text is nested too deeply") from None


def load(text: str) -> Any:
    """The document `text` stands for (SafeLoader), within MAX_NODES; YAMLError or YamlBudgetError."""
    root = compose(text or "")
    if root is None:
        return None
    expanded_size(root)
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_document(root)
    except RecursionError:
        raise YamlBudgetError("the text is nested too deeply") from None
    finally:
        loader.dispose()
