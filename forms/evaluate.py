"""Compile expression ASTs into Python closures, once, with XPath 1.0 / ODK value semantics.

Values seen by expressions are str, float (int accepted) or bool. An unanswered field is ""
(never 0). Conversions follow XPath: number("") is NaN, so arithmetic on an empty value
gives NaN and every ordering comparison with it is false; `=` compares as booleans if
either side is boolean, else as numbers if either side is a number, else as strings;
`!=` is the negation of `=` (so `${x} != 5` is true when x is empty, as in XPath).
Date strings (YYYY-MM-DD) convert to numbers as days since 1970-01-01, as in ODK.
A select_multiple answer is seen as its space-separated string. Nothing here uses eval.

Budgets: regex() runs on RE2 (linear time, no catastrophic backtracking) with full-match
semantics as in ODK (`$` is the end of the text, never "before a final newline"); patterns
RE2 cannot run (backreferences, lookarounds) are refused when the form is checked. A string
an expression builds (concat) is capped at MAX_STRING_LENGTH characters: beyond it the
evaluation fails (an `evaluation_error` on that question) instead of filling the memory.
"""
from __future__ import annotations

import math
import re
from datetime import date
from functools import lru_cache
from typing import Any

import re2

from .errors import EvaluationError, ExpressionError
from .expressions import parse, references, uses_current

NAN = float("nan")
_NUMBER_RE = re.compile(r"\s*-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*\Z")
_DATE_RE = re.compile(r"\s*([0-9]{4})-([0-9]{2})-([0-9]{2})\s*\Z")
_EPOCH = date(1970, 1, 1).toordinal()
MAX_STRING_LENGTH = 100_000  # characters of a string an expression builds (answers are at most 10,000)
MAX_PATTERN_LENGTH = 1000
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.max_mem = 8 << 20  # a compiled pattern's memory (RE2 refuses larger programs)
_RE2_OPTIONS.log_errors = False
_RE2_OPTIONS.never_capture = True  # regex() only asks whether the whole text matches
_RE2_PROGRAM = getattr(getattr(re2, "_re2", None), "RE2", None)  # the binding itself: ~10x less overhead
_ANCHOR_BOTH = getattr(getattr(re2, "_Anchor", None), "ANCHOR_BOTH", None)


def to_number(value: Any) -> Any:
    """XPath number(): floats for numbers, NaN for empty or non-numeric strings."""
    kind = type(value)
    if kind is float:
        return value
    if kind is int:
        return _int_to_float(value)
    if kind is str:
        return _str_to_number(value) if len(value) <= 400 else NAN
    if kind is bool:
        return 1.0 if value else 0.0
    return NAN


def _int_to_float(value):
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


@lru_cache(maxsize=4096)
def _str_to_number(text):
    """Convert a string the way XPath/ODK does (numbers, then ISO dates as day counts)."""
    if _NUMBER_RE.match(text):
        return float(text)
    match = _DATE_RE.match(text)
    if match:
        try:
            return float(date(*map(int, match.groups())).toordinal() - _EPOCH)
        except ValueError:
            return NAN
    return NAN


def to_string(value: Any) -> Any:
    """XPath string(): integral floats print without '.0', booleans as true/false."""
    kind = type(value)
    if kind is str:
        return value
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return str(value)
    if kind is float:
        if value != value:
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return str(int(value)) if value.is_integer() else repr(value)
    return ""


def to_bool(value: Any) -> Any:
    """XPath boolean(): non-empty strings and non-zero, non-NaN numbers are true."""
    kind = type(value)
    if kind is bool:
        return value
    if kind is str:
        return value != ""
    if kind is float or kind is int:
        return value == value and value != 0
    return False


def equals(left: Any, right: Any) -> bool:
    """XPath `=` between two values."""
    lk, rk = type(left), type(right)
    if lk is bool or rk is bool:
        return to_bool(left) == to_bool(right)
    if lk is str and rk is str:
        return left == right
    if lk in (float, int) or rk in (float, int):
        return to_number(left) == to_number(right)
    return to_string(left) == to_string(right)


def _div(a, b):
    if b == 0:
        return NAN if a == 0 or a != a else math.copysign(math.inf, a) * math.copysign(1, b)
    return a / b


def _mod(a, b):
    if b == 0 or math.isinf(a) or a != a or b != b:
        return NAN
    return math.fmod(a, b)


def _mul(a, b):
    return a * b if not ((a == 0 and math.isinf(b)) or (b == 0 and math.isinf(a))) else NAN


ARITHMETIC = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": _mul, "div": _div, "mod": _mod}
RELATIONAL = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b,
              ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}


def _xpath_round(number, digits=0.0):
    """XPath/ODK round(): halves go towards +infinity; NaN and infinities pass through."""
    if number != number or math.isinf(number) or digits != digits:
        return NAN if digits != digits else number
    places = int(max(-15, min(15, digits)))
    scale = 10.0 ** places
    scaled = number * scale
    if math.isinf(scaled):
        return number
    return math.floor(scaled + 0.5) / scale


def _int(number):
    if number != number or math.isinf(number):
        return number
    return float(math.trunc(number))


def compile_regex(pattern: Any) -> Any:
    """A function text -> bool: does RE2 match the whole text? Raises ValueError saying why a pattern cannot run."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise ValueError(f"regular expression longer than {MAX_PATTERN_LENGTH} characters")
    if _RE2_PROGRAM is None or _ANCHOR_BOTH is None:  # another google-re2 layout: its public (slower) API
        return _public_fullmatch(pattern)
    program = _RE2_PROGRAM(pattern.encode("utf-8", "surrogatepass"), _RE2_OPTIONS)
    if not program.ok():
        raise ValueError(_unsupported(program.error()))
    match = program.Match

    def fullmatch(text):
        data = text.encode("utf-8", "surrogatepass")
        return match(_ANCHOR_BOTH, data, 0, len(data))[0][0] != -1
    return fullmatch


def _public_fullmatch(pattern):
    try:
        compiled = re2.compile(pattern, _RE2_OPTIONS)
    except (re2.error, TypeError, ValueError) as error:
        raise ValueError(_unsupported(error.args[0] if error.args else type(error).__name__)) from None
    return lambda text: compiled.fullmatch(text) is not None


def _unsupported(reason):
    reason = reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)
    return f"invalid regular expression: {reason} (RE2 syntax: backreferences and lookarounds are not supported)"


@lru_cache(maxsize=256)
def _dynamic_regex(pattern):
    try:
        return compile_regex(pattern)
    except ValueError as error:
        raise EvaluationError(str(error)) from None


def _regex_fn(args, nodes):
    """regex(text, pattern): true when the whole text matches the pattern (RE2, as ODK's full match)."""
    text_fn, pattern_fn = args
    if nodes[1].kind == "str":
        try:
            pattern = compile_regex(nodes[1].value)
        except ValueError as error:
            raise ExpressionError(str(error), nodes[1].pos) from None
        return lambda env: pattern(to_string(text_fn(env)))
    return lambda env: _dynamic_regex(to_string(pattern_fn(env)))(to_string(text_fn(env)))


def _concat_fn(args, nodes):
    def concat(env):
        text = "".join(to_string(a(env)) for a in args)
        if len(text) > MAX_STRING_LENGTH:
            raise EvaluationError(f"concat() built a string longer than {MAX_STRING_LENGTH} characters")
        return text
    return concat


def _if_fn(args, nodes):
    cond, yes, no = args
    return lambda env: yes(env) if to_bool(cond(env)) else no(env)


def _coalesce_fn(args, nodes):
    def coalesce(env):
        for arg in args:
            value = arg(env)
            if to_string(value) != "":
                return value
        return ""
    return coalesce


def _round_fn(args, nodes):
    if len(args) == 1:
        return lambda env: _xpath_round(to_number(args[0](env)))
    return lambda env: _xpath_round(to_number(args[0](env)), to_number(args[1](env)))


def _one(fn):
    """Wrap a one-argument value function as a builder."""
    return lambda args, nodes: (lambda env, a=args[0]: fn(a(env)))


# name -> (min args, max args or None, builder(compiled args, arg nodes) -> closure)
FUNCTIONS = {
    "not": (1, 1, _one(lambda v: not to_bool(v))),
    "if": (3, 3, _if_fn),
    "selected": (2, 2, lambda args, nodes: (
        lambda env: to_string(args[1](env)).strip() in to_string(args[0](env)).split())),
    "count-selected": (1, 1, _one(lambda v: float(len(to_string(v).split())))),
    "coalesce": (2, None, _coalesce_fn),
    "concat": (0, None, _concat_fn),
    "int": (1, 1, _one(lambda v: _int(to_number(v)))),
    "round": (1, 2, _round_fn),
    "string-length": (1, 1, _one(lambda v: float(len(to_string(v))))),
    "regex": (2, 2, _regex_fn),
    "today": (0, 0, lambda args, nodes: (lambda env: date.today().isoformat())),
    "true": (0, 0, lambda args, nodes: (lambda env: True)),
    "false": (0, 0, lambda args, nodes: (lambda env: False)),
    "number": (1, 1, _one(to_number)),
    "string": (1, 1, _one(to_string)),
}


def build(node: Any, current: Any | None = None) -> Any:
    """Compile one AST node into a closure env -> value; `current` is the name `.` stands for."""
    kind = node.kind
    if kind == "num":
        value = node.value
        return lambda env: value
    if kind == "str":
        text = node.value
        return lambda env: text
    if kind in ("ref", "cur"):
        return _build_ref(node.value if kind == "ref" else (current or "."))
    if kind == "neg":
        inner = build(node.args[0], current)
        return lambda env: -to_number(inner(env))
    if kind == "op":
        return _build_op(node, current)
    return _build_call(node, current)


def _build_ref(name):
    """A field read: the env value, or "" when unanswered."""
    def ref(env):
        return env.get(name, "")
    return ref


def _build_op(node, current):
    """Compile a binary operator, short-circuiting and/or."""
    op = node.value
    left, right = (build(arg, current) for arg in node.args)
    if op == "and":
        return lambda env: to_bool(left(env)) and to_bool(right(env))
    if op == "or":
        return lambda env: to_bool(left(env)) or to_bool(right(env))
    if op == "=":
        return _build_equals(node, left, right, current)
    if op == "!=":
        return lambda env: not equals(left(env), right(env))
    if op in RELATIONAL:
        compare = RELATIONAL[op]
        return lambda env: compare(to_number(left(env)), to_number(right(env)))
    arithmetic = ARITHMETIC[op]
    return lambda env: arithmetic(to_number(left(env)), to_number(right(env)))


def _build_equals(node, left, right, current):
    """`=`, with a fast path for the common `${field} = 'literal'`."""
    ref_node, lit_node = node.args
    if ref_node.kind in ("ref", "cur") and lit_node.kind == "str":
        name, literal = (ref_node.value if ref_node.kind == "ref" else (current or ".")), lit_node.value

        def equals_literal(env):
            value = env.get(name, "")
            return value == literal if type(value) is str else equals(value, literal)
        return equals_literal
    return lambda env: equals(left(env), right(env))


def _build_call(node, current):
    """Compile a function call after checking its name and arity."""
    spec = FUNCTIONS.get(node.value)
    if spec is None:
        raise ExpressionError(f"unknown function {node.value}()", node.pos)
    low, high, builder = spec
    count = len(node.args)
    if count < low or (high is not None and count > high):
        wanted = str(low) if low == high else f"{low} or more" if high is None else f"{low} to {high}"
        raise ExpressionError(f"{node.value}() takes {wanted} argument(s), got {count}", node.pos)
    return builder([build(arg, current) for arg in node.args], node.args)


class Expression:
    """A parsed and compiled expression: `.refs`, `.uses_current` and `.evaluate(env)`."""
    __slots__ = ("text", "tree", "fn", "refs", "uses_current")

    def __init__(self, text, current=None):
        self.text = text
        self.tree = parse(text)
        try:
            self.fn = build(self.tree, current)
        except ExpressionError as error:
            raise ExpressionError(error.reason, error.position, text) from None
        self.refs = frozenset(references(self.tree))
        self.uses_current = uses_current(self.tree)

    def evaluate(self, env: dict[str, Any]) -> Any:
        """Evaluate against a dict of answers (lists are seen as space-separated strings)."""
        view = {key: (" ".join(map(to_string, value)) if isinstance(value, (list, tuple)) else value)
                for key, value in (env or {}).items()} if isinstance(env, dict) else {}
        return safe_call(self.fn, view)

    def truthy(self, env: dict[str, Any]) -> Any:
        """Evaluate and convert to boolean, as relevant and constraint do."""
        return to_bool(self.evaluate(env))


def safe_call(fn: Any, env: dict[str, Any]) -> Any:
    """Run a compiled closure; anything but a FormError becomes an EvaluationError."""
    try:
        return fn(env)
    except EvaluationError:
        raise
    except (ArithmeticError, ValueError, TypeError, RecursionError, MemoryError) as error:
        raise EvaluationError(f"evaluation failed: {type(error).__name__}") from None


@lru_cache(maxsize=2048)
def compile_expression(text: str, current: Any | None = None) -> Expression:
    """Parse and compile an expression once (cached by text and current field)."""
    return Expression(text, current)


def evaluate(text: str, env: dict[str, Any] | None = None, current: Any | None = None) -> Any:
    """Parse, compile and evaluate an expression string against `env` (convenience)."""
    return compile_expression(text, current).evaluate(env or {})

