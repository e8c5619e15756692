"""Typed closures for the hot expressions: conditions (relevant, constraint) and indicator numbers.

`evaluate.build` compiles any node into a closure returning an XPath value that callers then
convert with to_bool or to_number. Validation runs relevant and constraint conditions many
times per household, so here a node is compiled straight to the type its caller wants:
`condition` gives closures returning bool, `number` closures returning float. Relational,
logical, arithmetic and if() nodes skip the generic conversions (`. >= 0 and . <= ${members}`
runs in four small calls instead of fifteen); anything else falls back to build() plus the
conversion. The results always equal to_bool/to_number of build()'s closure
(tests/forms/test_conditions.py checks this on random expressions and answers).
"""
from __future__ import annotations

import operator
from typing import Any

from .evaluate import ARITHMETIC, build, to_bool, to_number

COMPARE = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
BOOLEAN_CALLS = frozenset({"not", "selected", "regex", "true", "false"})  # build() already returns bool
EXACT = 2 ** 53  # ints within this range compare with floats exactly as their float conversion does


def condition(node: Any, current: Any | None = None) -> Any:
    """A closure env -> bool equal to to_bool(build(node)(env))."""
    if node.kind == "op":
        op = node.value
        if op == "and" or op == "or":
            fused = _fused(node, current)
            if fused is not None:
                return fused
            left, right = (condition(arg, current) for arg in node.args)
            if op == "and":
                return lambda env: left(env) and right(env)
            return lambda env: left(env) or right(env)
        if op in COMPARE:
            return _comparison(node, current)
        if op in ("=", "!="):
            return build(node, current)  # equals() and its negation return bool
    if node.kind == "call" and node.value in BOOLEAN_CALLS:
        return build(node, current)
    generic = build(node, current)
    return lambda env: to_bool(generic(env))


def number(node: Any, current: Any | None = None) -> Any:
    """A closure env -> float equal to to_number(build(node)(env))."""
    kind = node.kind
    if kind == "num":
        value = to_number(node.value)
        return lambda env: value
    if kind in ("ref", "cur"):
        return _number_of(_name(node, current))
    if kind == "neg":
        inner = number(node.args[0], current)
        return lambda env: -inner(env)
    if kind == "op" and node.value in ARITHMETIC:
        return _arithmetic(node, current)
    if kind == "call" and node.value == "if" and len(node.args) == 3:
        test, yes, no = condition(node.args[0], current), number(node.args[1], current), number(node.args[2], current)
        return lambda env: yes(env) if test(env) else no(env)
    generic = build(node, current)
    return lambda env: to_number(generic(env))


def _name(node, current):
    return node.value if node.kind == "ref" else (current or ".")


def _number_of(name):
    """A field read as a number: floats as they are, ints converted, anything else by to_number."""
    def field_number(env):
        value = env.get(name, "")
        kind = type(value)
        if kind is float:
            return value
        if kind is int and -EXACT <= value <= EXACT:
            return float(value)
        return to_number(value)
    return field_number


def _arithmetic(node, current):
    left, right = (number(arg, current) for arg in node.args)
    op = node.value
    if op == "+":
        return lambda env: left(env) + right(env)
    if op == "-":
        return lambda env: left(env) - right(env)
    apply = ARITHMETIC[op]
    return lambda env: apply(left(env), right(env))


def _comparison(node, current):
    """`<`, `<=`, `>`, `>=` on numbers; a field or literal on either side is read in the same closure."""
    compare = COMPARE[node.value]
    left_node, right_node = node.args
    left, right = _operand(left_node, current), _operand(right_node, current)
    if left is FIELD and right is LITERAL:
        return _field_against(_name(left_node, current), compare, to_number(right_node.value))
    if left is FIELD and right is FIELD:
        return _field_against_field(_name(left_node, current), compare, _name(right_node, current))
    left, right = number(left_node, current), number(right_node, current)
    return lambda env: compare(left(env), right(env))


FIELD, LITERAL = "field", "literal"


def _field_comparison(node, current):
    """(field, compare, literal number, other field) of `${f} OP literal` or `${f} OP ${g}`, else None."""
    if node.kind != "op" or node.value not in COMPARE:
        return None
    left_node, right_node = node.args
    if _operand(left_node, current) is not FIELD:
        return None
    right = _operand(right_node, current)
    if right is LITERAL:
        return _name(left_node, current), COMPARE[node.value], to_number(right_node.value), None
    if right is FIELD:
        return _name(left_node, current), COMPARE[node.value], None, _name(right_node, current)
    return None


def _fused(node, current):
    """`A and B` / `A or B` of two field comparisons (`. >= 0 and . <= ${members}`) as one closure."""
    first, second = (_field_comparison(arg, current) for arg in node.args)
    if first is None or second is None:
        return None
    name, compare, limit, other = first
    name2, compare2, limit2, other2 = second
    wanted = node.value == "and"  # `and` reads on while a comparison holds, `or` while one fails

    def fused_test(env):
        value = env.get(name, "")
        kind = type(value)
        if not (kind is float or (kind is int and -EXACT <= value <= EXACT)):
            value = to_number(value)
        if other is None:
            bound = limit
        else:  # _as_number, inlined: this runs for most constraints of every household
            bound = env.get(other, "")
            kind = type(bound)
            if not (kind is float or (kind is int and -EXACT <= bound <= EXACT)):
                bound = to_number(bound)
        if compare(value, bound) is not wanted:
            return not wanted
        if name2 != name:
            value = _as_number(env.get(name2, ""))
        bound = limit2 if other2 is None else _as_number(env.get(other2, ""))
        return compare2(value, bound)
    return fused_test


def _as_number(value):
    """A field's value as _field_against reads it: floats and exact ints as they are, else to_number."""
    kind = type(value)
    if kind is float or (kind is int and -EXACT <= value <= EXACT):
        return value
    return to_number(value)


def _operand(node, current):
    """FIELD for `${name}` or `.`, LITERAL for a number, else None."""
    return FIELD if node.kind in ("ref", "cur") else LITERAL if node.kind == "num" else None


def _field_against(name, compare, limit):
    """`${field} OP literal` in one closure (the commonest constraint shape)."""
    def field_test(env):
        value = env.get(name, "")
        kind = type(value)
        if kind is float or (kind is int and -EXACT <= value <= EXACT):
            return compare(value, limit)
        return compare(to_number(value), limit)
    return field_test


def _field_against_field(name, compare, other):
    """`${field} OP ${other}` in one closure."""
    def fields_test(env):
        value, limit = env.get(name, ""), env.get(other, "")
        kind = type(value)
        if not (kind is float or (kind is int and -EXACT <= value <= EXACT)):
            value = to_number(value)
        kind = type(limit)
        if not (kind is float or (kind is int and -EXACT <= limit <= EXACT)):
            limit = to_number(limit)
        return compare(value, limit)
    return fields_test
