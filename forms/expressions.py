"""XLSForm expressions: a tokenizer and a Pratt parser producing a small AST.

Grammar (XPath subset used by XLSForm): `${name}`, `.`, numbers, '..' and ".." strings,
`or and = != < <= > >= + - * div mod`, unary minus, parentheses and function calls.
Nothing here evaluates anything; see forms.evaluate for the compiler to closures.
"""
from __future__ import annotations

import re
from typing import Any, NoReturn

from .errors import ExpressionError

MAX_LENGTH = 2000
MAX_DEPTH = 50
NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

_TOKEN_RE = re.compile(r"""
    (?P<ws>\s+)
  | (?P<ref>\$\{(?P<refname>[^}]{0,200})\})
  | (?P<num>[0-9]+(?:\.[0-9]*)?|\.[0-9]+)
  | (?P<str>'[^']*'|"[^"]*")
  | (?P<op><=|>=|!=|=|<|>|\+|-|\*|\(|\)|,|\.\.|\.)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:-[A-Za-z_][A-Za-z0-9_]*)*)
""", re.VERBOSE)

# binding powers of infix operators (higher binds tighter)
INFIX = {"or": 10, "and": 20, "=": 30, "!=": 30, "<": 40, "<=": 40, ">": 40, ">=": 40,
         "+": 50, "-": 50, "*": 60, "div": 60, "mod": 60}
UNARY_POWER = 70


class Token:
    """One lexical token: kind (num, str, ref, op, name, end), its value and position."""
    __slots__ = ("kind", "value", "pos")

    def __init__(self, kind, value, pos):
        self.kind, self.value, self.pos = kind, value, pos

    def __repr__(self):
        return f"Token({self.kind!r}, {self.value!r}, {self.pos})"


class Node:
    """An AST node: kind in num/str/ref/cur/neg/op/call, a value, child nodes and a position."""
    __slots__ = ("kind", "value", "args", "pos")

    def __init__(self, kind, value=None, args=(), pos=0):
        self.kind, self.value, self.args, self.pos = kind, value, tuple(args), pos

    def __repr__(self):
        return f"Node({self.kind!r}, {self.value!r}, {list(self.args)!r})"

    def __eq__(self, other):
        return isinstance(other, Node) and (self.kind, self.value, self.args) == (other.kind, other.value, other.args)

    __hash__ = None


def _check_text(text):
    """Reject non-strings and over-long expressions before any work is done."""
    if not isinstance(text, str):
        raise ExpressionError("an expression must be a string", 0, None)
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"expression longer than {MAX_LENGTH} characters", MAX_LENGTH, text[:100])


def tokenize(text: str) -> Any:
    """Split an expression into Tokens, ending with an 'end' token; raise ExpressionError on bad input."""
    _check_text(text)
    tokens, pos = [], 0
    while pos < len(text):
        match = _TOKEN_RE.match(text, pos)
        if match is None:
            raise ExpressionError(_bad_char_reason(text, pos), pos, text)
        kind = match.lastgroup if match.lastgroup != "refname" else "ref"
        if kind == "ref":
            tokens.append(Token("ref", _ref_name(match.group("refname"), pos, text), pos))
        elif kind == "num":
            tokens.append(Token("num", float(match.group()), pos))
        elif kind == "str":
            tokens.append(Token("str", match.group()[1:-1], pos))
        elif kind != "ws":
            tokens.append(Token(kind, match.group(), pos))
        pos = match.end()
    tokens.append(Token("end", None, len(text)))
    return tokens


def _bad_char_reason(text, pos):
    """Explain why no token starts at `pos`."""
    char = text[pos]
    if char in "'\"":
        return "unterminated string"
    if text.startswith("${", pos):
        return "unterminated field reference ${...}"
    return f"unexpected character {char!r}"


def _ref_name(name, pos, text):
    """Validate the name inside ${...}."""
    if not NAME_RE.match(name):
        raise ExpressionError(f"invalid field name in ${{{name[:40]}}}", pos, text)
    return name


class Parser:
    """Pratt parser over a token list; nesting deeper than MAX_DEPTH is rejected."""

    def __init__(self, text):
        self.text = text
        self.tokens = tokenize(text)
        self.index = 0
        self.depth = 0

    def error(self, reason: Any, token: Any | None = None) -> NoReturn:
        """Raise an ExpressionError at `token` (default: the current one)."""
        token = token or self.peek()
        raise ExpressionError(reason, token.pos, self.text)

    def peek(self) -> Any:
        return self.tokens[self.index]

    def advance(self) -> Any:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def expect(self, value: Any) -> Any:
        token = self.peek()
        if token.kind != "op" or token.value != value:
            self.error(f"expected {value!r}" + (" but the expression ended" if token.kind == "end" else ""))
        return self.advance()

    def parse(self) -> Any:
        """Parse the whole expression."""
        if self.peek().kind == "end":
            self.error("empty expression")
        node = self.expression(0)
        if self.peek().kind != "end":
            self.error(f"unexpected {self.peek().value!r}")
        return node

    def expression(self, min_power: Any) -> Any:
        """Parse operators binding tighter than `min_power`."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            self.error(f"expression nested deeper than {MAX_DEPTH} levels")
        left = self.prefix()
        while True:
            token = self.peek()
            power = INFIX.get(token.value) if token.kind in ("op", "name") else None
            if power is None or power <= min_power:
                break
            self.advance()
            left = Node("op", token.value, (left, self.expression(power)), token.pos)
        self.depth -= 1
        return left

    def prefix(self) -> Any:
        """Parse a primary expression or a unary minus."""
        token = self.advance()
        if token.kind == "num":
            return Node("num", token.value, (), token.pos)
        if token.kind == "str":
            return Node("str", token.value, (), token.pos)
        if token.kind == "ref":
            return Node("ref", token.value, (), token.pos)
        if token.kind == "op":
            return self.prefix_op(token)
        if token.kind == "name":
            return self.call(token)
        self.error("the expression ended too early", token)

    def prefix_op(self, token: Any) -> Any:
        """Parse `.`, `-x` or `( ... )`."""
        if token.value == ".":
            return Node("cur", None, (), token.pos)
        if token.value == "-":
            return Node("neg", None, (self.expression(UNARY_POWER),), token.pos)
        if token.value == "(":
            inner = self.expression(0)
            self.expect(")")
            return inner
        if token.value == "..":
            self.error("'..' (parent) paths are not supported; use ${name}", token)
        self.error(f"unexpected {token.value!r}", token)

    def call(self, token: Any) -> Node:
        """Parse `name(arg, ...)`; bare names are not allowed."""
        if self.peek().kind != "op" or self.peek().value != "(":
            self.error(f"unexpected name {token.value!r} (fields are written ${{name}})", token)
        self.advance()
        args = []
        if not (self.peek().kind == "op" and self.peek().value == ")"):
            args.append(self.expression(0))
            while self.peek().kind == "op" and self.peek().value == ",":
                self.advance()
                args.append(self.expression(0))
        self.expect(")")
        return Node("call", token.value, args, token.pos)


def parse(text: str) -> Any:
    """Parse an expression string into a Node tree, or raise ExpressionError."""
    return Parser(text).parse()


def references(node: Any) -> Any:
    """The set of field names a parsed expression reads through ${name}."""
    found, stack = set(), [node]
    while stack:
        current = stack.pop()
        if current.kind == "ref":
            found.add(current.value)
        stack.extend(current.args)
    return found


def uses_current(node: Any) -> bool:
    """Whether the expression reads `.` (the current question's value)."""
    stack = [node]
    while stack:
        current = stack.pop()
        if current.kind == "cur":
            return True
        stack.extend(current.args)
    return False
