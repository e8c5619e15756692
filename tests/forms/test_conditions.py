"""Typed closures of forms.conditions agree with build() plus to_bool/to_number, on random expressions and answers."""
import math

import pytest
from hypothesis import assume, given, settings, strategies as st

from forms.conditions import condition, number
from forms.errors import ExpressionError
from forms.evaluate import build, compile_expression, to_bool, to_number
from forms.expressions import parse

BIG = 2 ** 53

# --- expression text, built from the grammar --------------------------------------------------------

FIELDS = st.sampled_from(["${a}", "${b}", "${n}", "${s}", "."])
NUMBERS = st.one_of(
    st.sampled_from(["0", "1", "2", "3", "0.5", ".5", "2.5", "10", "100", "0.0", "3.", "9007199254740991",
                     "9007199254740992", "9007199254740993", "18014398509481985", "1" + "0" * 308,
                     "17976931348623157" + "0" * 292, "9" * 320]),
    st.integers(0, 10 ** 20).map(str),
    st.tuples(st.integers(0, 999), st.integers(0, 999)).map(lambda parts: f"{parts[0]}.{parts[1]}"),
)
STRINGS = st.sampled_from(["'yes'", "''", "'3'", "' 4 '", "'2025-01-01'", "'x'", "'abc'", '"x y"', "'-1.5'"])
LEAVES = st.one_of(FIELDS, NUMBERS, STRINGS, st.sampled_from(["true()", "false()"]))
OPERATORS = st.sampled_from(["or", "and", "=", "!=", "<", "<=", ">", ">=", "+", "-", "*", "div", "mod"])


UNARY_CALLS = ["not", "count-selected", "int", "string-length", "number", "string", "round"]
BAD_CALLS = ["if(${a}, 1)", "not()", "round(1, 2, 3)", "coalesce(${a})", "regex(${a}, '(')", "foo(1)"]
SHAPES = ["binary"] * 4 + ["binary in parentheses"] * 2 + ["negation", "parentheses", "if", "if", "call", "call",
          "round", "coalesce", "concat", "selected", "regex", "compile error"]


@st.composite
def expressions(draw, depth=3):
    """Expression text from the grammar, nested up to `depth` levels."""
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        return draw(LEAVES)
    shape, inner = draw(st.sampled_from(SHAPES)), expressions(depth - 1)
    if shape.startswith("binary"):
        text = f"{draw(inner)} {draw(OPERATORS)} {draw(inner)}"
        return f"({text})" if shape == "binary in parentheses" else text
    if shape == "negation":
        return f"-{draw(inner)}"
    if shape == "parentheses":
        return f"({draw(inner)})"
    if shape == "compile error":
        return draw(st.sampled_from(BAD_CALLS))
    if shape == "selected":
        items, values = st.sampled_from(["${s}", "${a}"]) | inner, st.sampled_from(["'x'", "'yes'"]) | inner
        return f"selected({draw(items)}, {draw(values)})"
    if shape == "regex":  # a pattern read from a field may be invalid: an EvaluationError at run time
        return draw(st.just("regex(${a}, '^[0-9]+$')") | inner.map(lambda text: f"regex({text}, '^[0-9]+$')")
                    | st.lists(inner, min_size=2, max_size=2).map(lambda args: f"regex({args[0]}, {args[1]})"))
    count = {"if": (3, 3), "call": (1, 1), "round": (1, 2), "coalesce": (2, 3), "concat": (0, 3)}[shape]
    name = draw(st.sampled_from(UNARY_CALLS)) if shape == "call" else shape
    return f"{name}({', '.join(draw(st.lists(inner, min_size=count[0], max_size=count[1])))})"


EXPRESSIONS = expressions()

# simple comparisons of fields and number literals, alone or chained with and/or (the fast paths)
OPERANDS = st.one_of(FIELDS, NUMBERS)
COMPARISON = st.tuples(OPERANDS, st.sampled_from(["<", "<=", ">", ">="]), OPERANDS).map(" ".join)
CHAINS = st.tuples(COMPARISON, st.lists(st.tuples(st.sampled_from(["and", "and", "or"]), COMPARISON), max_size=4)).map(
    lambda parts: " ".join([parts[0]] + [f"{joiner} {part}" for joiner, part in parts[1]]))

# --- answers -----------------------------------------------------------------------------------------

POOL = [0, 1, -1, 2, 3, 7, BIG - 1, BIG, BIG + 1, -BIG, -BIG - 1, 2 ** 63, -(2 ** 63), 10 ** 400, -(10 ** 400),
        0.0, -0.0, 0.5, 2.5, -2.5, 3.0, 1e300, -1e300, float(BIG), math.nan, math.inf, -math.inf, True, False,
        "", "yes", "3", " 4 ", "2025-03-01", "x y", "x", "abc", "-2", "(", "^[0-9]+$"]
VALUES = st.one_of(st.sampled_from(POOL), st.integers(), st.integers(BIG - 4, BIG + 4), st.integers(-BIG - 4, -BIG + 4),
                   st.floats())
ENVS = st.dictionaries(st.sampled_from(["a", "b", "n", "s", "."]), VALUES)
# checked against every example too: each pool value in every field next to unrelated ones, ints either side
# of 2**53 next to each other (where comparing an int exactly and comparing its float differ), and no answers
CORNER_ENVS = [{}] + [dict(zip("abns.", (POOL[(i + shift) % len(POOL)] for shift in (0, 7, 13, 19, 29))))
                      for i in range(len(POOL))] + [
    dict(zip("abns.", values)) for values in [(BIG + 1, BIG, float(BIG), BIG + 2, BIG - 1),
                                              (BIG, BIG + 1, BIG + 2, float(BIG), BIG + 3),
                                              (-BIG - 1, -BIG, -float(BIG), -BIG - 2, BIG + 1)]]
CURRENT = st.sampled_from([None, "a", "b", "n", "s", "missing"])


def tree_of(text):
    """The parsed text; texts the parser refuses are skipped."""
    try:
        return parse(text)
    except ExpressionError:
        assume(False)


def attempt(function, *args):
    """(True, result) or (False, the exception's type)."""
    try:
        return True, function(*args)
    except Exception as error:  # any exception: only its type is compared
        return False, type(error)


def same(left, right):
    """Equal, with NaN equal to NaN."""
    if isinstance(left, float) and isinstance(right, float) and left != left and right != right:
        return True
    return left == right


def agree(typed_of, convert, result_type, tree, current, envs):
    """typed_of(tree) gives convert(build(tree)) on every env, or fails with the same exception type."""
    typed_ok, typed = attempt(typed_of, tree, current)
    generic_ok, generic = attempt(build, tree, current)
    assert typed_ok == generic_ok and (typed_ok or typed is generic), (typed, generic)
    if not typed_ok:
        return
    for env in envs + CORNER_ENVS:
        got_ok, got = attempt(typed, env)
        want_ok, want = attempt(lambda env: convert(generic(env)), env)
        assert got_ok == want_ok, (env, got, want)
        if got_ok:
            assert type(got) is type(want) is result_type and same(got, want), (env, got, want)
        else:
            assert got is want, (env, got, want)


def check_condition(tree, current, envs):
    agree(condition, to_bool, bool, tree, current, envs)


def check_number(tree, current, envs):
    agree(number, to_number, float, tree, current, envs)


# --- properties --------------------------------------------------------------------------------------

@settings(max_examples=900, deadline=None)
@given(EXPRESSIONS, CURRENT, st.lists(ENVS, min_size=1, max_size=2))
def test_condition_and_number_equal_the_converted_build_on_random_expressions(text, current, envs):
    tree = tree_of(text)
    check_condition(tree, current, envs)
    check_number(tree, current, envs)


@settings(max_examples=400, deadline=None)
@given(CHAINS, CURRENT, st.lists(ENVS, min_size=1, max_size=2))
def test_chains_of_field_and_literal_comparisons_agree_with_build(text, current, envs):
    tree = tree_of(text)
    check_condition(tree, current, envs)
    check_number(tree, current, envs)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(OPERANDS, OPERATORS, OPERANDS).map(" ".join), min_size=1, max_size=5).map(
    lambda parts: " + ".join(f"({part})" for part in parts)), CURRENT, st.lists(ENVS, min_size=1, max_size=2))
def test_sums_of_small_operations_agree_with_build(text, current, envs):
    tree = tree_of(text)
    check_number(tree, current, envs)
    check_condition(tree, current, envs)


# --- examples ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("env, expected", [
    ({"adults": 2, "members": 3}, True), ({"adults": 4, "members": 3}, False), ({"adults": 0, "members": 0}, True),
    ({"adults": -1, "members": 3}, False), ({"adults": 2.0, "members": 2.5}, True),
    ({"adults": 2.5, "members": 2}, False), ({"adults": "2", "members": "3"}, True),
    ({"adults": " 4 ", "members": 4}, True), ({"adults": "abc", "members": 3}, False),
    ({"adults": "", "members": 3}, False), ({"adults": 3, "members": ""}, False), ({"members": 3}, False),
    ({"adults": 3}, False), ({}, False), ({"adults": True, "members": 1}, True),
    ({"adults": math.nan, "members": 3}, False), ({"adults": 1, "members": math.inf}, True),
    ({"adults": -0.0, "members": 0}, True), ({"adults": BIG + 1, "members": BIG}, True),
    ({"adults": BIG + 2, "members": BIG}, False), ({"adults": 2, "members": 10 ** 400}, True),
])
def test_members_constraint_on_the_current_question_matches_build(env, expected):
    compiled = compile_expression(". >= 0 and . <= ${members}", "adults")
    assert condition(compiled.tree, "adults")(env) is to_bool(compiled.fn(env)) is expected


@pytest.mark.parametrize("text, env, expected", [
    ("${a} > 9007199254740992", {"a": BIG + 1}, False),
    ("${a} >= 9007199254740993", {"a": BIG + 1}, True),  # the literal itself reads as 2**53
    ("${a} < -9007199254740992", {"a": -BIG - 1}, False),
    ("9007199254740992 < ${a}", {"a": BIG + 1}, False),
    ("${a} > ${b}", {"a": BIG + 1, "b": BIG}, False),
    ("${a} != ${b} and ${a} > ${b}", {"a": BIG + 1, "b": BIG}, False),
    ("${a} > 9007199254740992 and 1 < 2", {"a": BIG + 1}, False),
    ("${a} > 9007199254740992 or ${a} < 0", {"a": BIG + 1}, False),
    ("${a} > 1" + "0" * 308, {"a": 10 ** 400}, True),
    ("${a} > 9007199254740991", {"a": BIG}, True),
])
def test_ints_beyond_two_to_the_53_compare_as_their_float_conversion(text, env, expected):
    compiled = compile_expression(text)
    assert condition(compiled.tree)(env) is to_bool(compiled.fn(env)) is expected


def test_an_int_beyond_two_to_the_53_reads_as_its_float_in_arithmetic():
    compiled = compile_expression("${a} - 9007199254740992")
    assert number(compiled.tree)({"a": BIG + 1}) == to_number(compiled.fn({"a": BIG + 1})) == 0.0


@pytest.mark.parametrize("env, expected", [
    ({"f": "yes"}, 1.0), ({"f": "no"}, 0.0), ({"f": ""}, 0.0), ({}, 0.0), ({"f": True}, 1.0), ({"f": 1}, 0.0),
])
def test_if_yes_one_zero_is_a_float_through_number(env, expected):
    compiled = compile_expression("if(${f} = 'yes', 1, 0)")
    got = number(compiled.tree)(env)
    assert type(got) is float and got == to_number(compiled.fn(env)) == expected


def test_compile_errors_are_the_same_for_typed_and_generic_closures():
    for text in ("if(1, 2) + 1", "not() and 1 < 2", "regex(${a}, '(') or 1", "foo(1) > 2"):
        tree = parse(text)
        for typed in (condition, number):
            with pytest.raises(ExpressionError):
                typed(tree)
        with pytest.raises(ExpressionError):
            build(tree)
