"""Tokenizer, parser and evaluator of XLSForm expressions, including hostile input."""
import contextlib
import math
import re
from datetime import date

import pytest
from hypothesis import given, settings, strategies as st

from forms.errors import ExpressionError, FormError
from forms.evaluate import compile_expression, evaluate
from forms.expressions import MAX_DEPTH, MAX_LENGTH, Node, parse, references, tokenize

ENV = {"a": "x", "n": 3, "d": 2.5, "e": "", "m": ["a", "b"], "s": "07", "born": "2000-01-01"}


@pytest.mark.parametrize("text, expected", [
    ("1 + 2 * 3", 7), ("(1 + 2) * 3", 9), ("10 div 4", 2.5), ("7 mod 3", 1), ("-7 mod 3", -1),
    ("-2 - -3", 1), ("2 - 3 - 4", -5), ("12 div 2 div 3", 2), (".5 + 1", 1.5), ("${n} * ${d}", 7.5),
    ("1 < 2 and 2 < 1 or 1 = 1", True), ("1 = 1 and 2 = 3", False), ("not(1 = 2)", True),
    ("1 != 1", False), ("3 >= 3", True), ("3 > 3", False), ("2 <= 1", False),
])
def test_arithmetic_logic_and_precedence(text, expected):
    assert evaluate(text, ENV) == expected


@pytest.mark.parametrize("text, expected", [
    ("${e} = ''", True), ("${missing} = ''", True), ("${e} = 0", False), ("${e} > 0", False),
    ("${e} < 0", False), ("${e} >= 0", False), ("${e} != ''", False), ("${e} != 5", True),
    ("coalesce(${e}, 4)", 4), ("coalesce(${n}, 4)", 3), ("coalesce(${e}, ${missing})", ""),
    ("string-length(${e})", 0), ("count-selected(${e})", 0), ("${a} = 'x'", True), ("${a} = \"x\"", True),
    ("${n} = '3'", True), ("${s} = 7", True), ("${s} = '7'", False), ("if(${e} = '', 'none', 'some')", "none"),
])
def test_empty_values_follow_xpath(text, expected):
    assert evaluate(text, ENV) == expected


def test_arithmetic_on_empty_is_nan_not_zero():
    assert math.isnan(evaluate("${e} + 1", ENV))
    assert math.isnan(evaluate("${missing} * 2", ENV))
    assert evaluate("string(${e} + 1)", ENV) == "NaN"


@pytest.mark.parametrize("text, expected", [
    ("selected(${m}, 'b')", True), ("selected(${m}, 'c')", False), ("selected(${m}, 'a b')", False),
    ("count-selected(${m})", 2), ("concat('a', 1, '-', 2.5, ${e})", "a1-2.5"), ("concat()", ""),
    ("int(3.9)", 3), ("int(-3.9)", -3), ("round(2.5)", 3), ("round(-2.5)", -2), ("round(3.14159, 2)", 3.14),
    ("string-length('Gia Lai')", 7), ("string-length('Pleiku phố núi')", 14),
    ("regex('0912345678', '^0[0-9]{9}$')", True), ("regex('091234567', '^0[0-9]{9}$')", False),
    ("regex(${a}, 'x')", True), ("if(${n} > 2, 'big', 'small')", "big"), ("if(0, 1, 2)", 2),
    ("'2025-01-02' > '2024-12-31'", True), ("${born} < today()", True), ("number('12')", 12),
    ("true() and not(false())", True), ("1 div 0 > 10000", True), ("0 div 0 = 0 div 0", False),
])
def test_functions(text, expected):
    assert evaluate(text, ENV) == expected


def test_today_is_iso_date():
    assert evaluate("today()") == date.today().isoformat()


def test_and_or_short_circuit_and_strings_with_quotes():
    assert evaluate("1 = 2 and regex(${a}, ${dyn})", {"a": "x", "dyn": "("}) is False
    assert evaluate("\"it's\"") == "it's" and evaluate("'say \"hi\"'") == 'say "hi"'


def test_current_value_refers_to_the_question():
    compiled = compile_expression(". >= 0 and . <= ${adults}", current="smartphones")
    assert compiled.fn({"smartphones": 2, "adults": 3}) is True
    assert compiled.fn({"smartphones": 4, "adults": 3}) is False
    assert compiled.refs == {"adults"} and compiled.uses_current


def test_parser_builds_an_ast_and_lists_references():
    tree = parse("${a} + 2 * ${b}")
    assert tree.kind == "op" and tree.value == "+"
    assert tree.args[1] == Node("op", "*", (Node("num", 2.0), Node("ref", "b")))
    assert references(parse("if(${x} = 'yes', count-selected(${y}), ${z})")) == {"x", "y", "z"}
    assert [t.kind for t in tokenize("${a} div 2")] == ["ref", "name", "num", "end"]


@pytest.mark.parametrize("text, position, fragment", [
    ("1 +", 3, "ended"), ("${a} = 'x", 7, "unterminated string"), ("foo(1)", 0, "unknown function"),
    ("if(1, 2)", 0, "takes 3"), ("${a b}", 0, "invalid field name"), ("1 2", 2, "unexpected"),
    ("(1 + 2", 6, "expected ')'"), ("${a} = = 1", 7, "unexpected"), ("..", 0, "not supported"),
    ("", 0, "empty"), ("1 # 2", 2, "unexpected character"), ("abc", 0, "unexpected name"),
    ("regex(${a}, '(')", 12, "invalid regular expression"), ("${a", 0, "unterminated field reference"),
    ("concat(1,)", 9, "unexpected"), ("and 1", 0, "unexpected name"),
])
def test_syntax_errors_carry_a_position(text, position, fragment):
    with pytest.raises(ExpressionError) as caught:
        compile_expression(text)
    assert caught.value.position == position
    assert fragment in caught.value.reason
    assert caught.value.code == "expression_error"


def test_python_injection_is_just_an_unknown_function():
    for text in ("__import__('os')", "__import__('os').system('true')", "eval('1')", "exec('x=1')",
                 "().__class__", "${a}.__class__", "lambda: 1"):
        with pytest.raises(ExpressionError):
            evaluate(text, {"a": 1})


def test_ten_thousand_nested_parentheses_are_rejected():
    with pytest.raises(ExpressionError) as caught:
        evaluate("(" * 10000 + "1" + ")" * 10000)
    assert "longer than" in caught.value.reason


def test_nesting_deeper_than_the_limit_is_rejected_within_the_length_limit():
    deep = "(" * (MAX_DEPTH + 5) + "1" + ")" * (MAX_DEPTH + 5)
    assert len(deep) < MAX_LENGTH
    with pytest.raises(ExpressionError, match="nested deeper"):
        evaluate(deep)
    with pytest.raises(ExpressionError, match="nested deeper"):
        evaluate("-" * (MAX_DEPTH + 5) + "1")
    assert evaluate("(" * 20 + "1" + ")" * 20) == 1


def test_a_one_megabyte_string_is_rejected():
    with pytest.raises(ExpressionError, match="longer than"):
        evaluate("'" + "x" * 1_000_000 + "'")
    with pytest.raises(ExpressionError):
        evaluate(b"1 + 1")  # not a string


def test_dynamic_invalid_regex_raises_our_error():
    with pytest.raises(FormError):
        evaluate("regex('a', ${p})", {"p": "("})


def test_compiled_expressions_are_cached():
    assert compile_expression("${a} + 1") is compile_expression("${a} + 1")


PIECES = st.sampled_from(["${a}", "${n}", "${e}", ".", "1", "2.5", "'x'", '"y"', "(", ")", ",", "+", "-",
                          "*", " div ", " mod ", "=", "!=", "<", "<=", ">", ">=", " and ", " or ",
                          "not(", "if(", "selected(", "count-selected(", "coalesce(", "concat(", "int(",
                          "round(", "string-length(", "regex(", "today()", "${", "}", "'", "__import__(",
                          "..", "#", "0 div 0", "1e308"])


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=60))
def test_random_text_only_raises_form_errors(text):
    with contextlib.suppress(FormError):
        evaluate(text, ENV, current="n")


@settings(max_examples=600, deadline=None)
@given(st.lists(PIECES, max_size=25).map("".join),
       st.dictionaries(st.sampled_from(["a", "n", "e"]),
                       st.one_of(st.text(max_size=5), st.integers(), st.floats(), st.booleans())))
def test_random_token_soup_only_raises_form_errors(text, env):
    try:
        result = evaluate(text, env, current="n")
    except FormError:
        return
    assert isinstance(result, (str, float, int, bool))


def test_no_nan_or_overflow_escapes():
    assert evaluate("999999999999999999999 * 999999999999999999999 * 1.0 > 1", {}) is True
    assert evaluate(("9" * 400 + " * ") * 4 + "9", {}) == math.inf
    assert re.match(r"\d{4}-\d{2}-\d{2}", evaluate("concat(today(), '')"))
