"""Every public function of `forms` and `sync` says what it takes and what it gives back.

Public means a module-level function, or a method of a module-level class, whose name does not
start with `_`. Its parameters (but `self` and `cls`) and its return value carry annotations;
`Any` is fine where the honest answer is "a Pony entity" or "whatever JSON held" (sync/store.py
names the common ones: `Store`, `Entity`). Annotations cost nothing when the code runs (every
module starts with `from __future__ import annotations`), so this is only about the reader.
"""
import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGES = ("forms", "sync")


def modules():
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py") if "__pycache__" not in p.parts)


def _top_level(body):
    """Statements at module level, looking into `if`/`try` blocks (platform or import fallbacks)."""
    for node in body:
        if isinstance(node, ast.If | ast.Try):
            yield from _top_level(node.body + node.orelse + getattr(node, "finalbody", []))
            for handler in getattr(node, "handlers", []):
                yield from _top_level(handler.body)
        else:
            yield node


def public_functions(tree):
    """(qualified name, def node, is a method) for every public function of a module."""
    for node in _top_level(tree.body):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and not node.name.startswith("_"):
            yield node.name, node, False
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and not item.name.startswith("_"):
                    yield f"{node.name}.{item.name}", item, True


def _is_static(node):
    return any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in node.decorator_list)


def missing(node, is_method):
    """The parameters of `node` without an annotation, and "return" when its return has none."""
    args = node.args
    positional = args.posonlyargs + args.args
    if is_method and not _is_static(node) and positional and positional[0].arg in ("self", "cls"):
        positional = positional[1:]
    named = positional + args.kwonlyargs + [a for a in (args.vararg, args.kwarg) if a is not None]
    gaps = [a.arg for a in named if a.annotation is None]
    return gaps + (["return"] if node.returns is None else [])


def unannotated(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    where = path.relative_to(ROOT).as_posix()
    return [f"{where}:{node.lineno} {name}: {', '.join(gaps)}"
            for name, node, is_method in public_functions(tree) if (gaps := missing(node, is_method))]


@pytest.mark.parametrize("path", modules(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_public_function_is_annotated(path):
    gaps = unannotated(path)
    assert not gaps, "annotate these parameters / returns:\n" + "\n".join(gaps)


def test_the_check_notices_a_missing_annotation():
    source = '''
def typed(a: int, *rest: str, flag: bool = False, **extra: object) -> None: ...
def untyped_return(a: int): ...
def _private(a): ...
class Thing:
    def method(self, b) -> int: ...
    @staticmethod
    def static(self) -> None: ...
    def _hidden(self, c): ...
'''
    found = {name: missing(node, is_method) for name, node, is_method in public_functions(ast.parse(source))}
    assert found == {"typed": [], "untyped_return": ["return"], "Thing.method": ["b"], "Thing.static": ["self"]}
