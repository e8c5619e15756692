"""Per-household indicator values: the direct read of `${count} / ${base}` gives what the closures give."""
import math

import pytest
from hypothesis import given, settings, strategies as st

from forms.indicators import CompiledIndicator, household_values

BIG = 2 ** 53
FIELD_PAIR = {"id": "smartphone_adults", "label": {"vi": "Người lớn có điện thoại thông minh"}, "unit": "%",
              "numerator": "${adults_smartphone}", "denominator": "${adults}"}
VALUES = st.one_of(st.integers(), st.integers(-BIG - 3, -BIG + 3), st.integers(BIG - 3, BIG + 3),
                   st.sampled_from([0, 1, -1, 0.0, 2.0, 2.5, math.nan, math.inf, -math.inf, True, False, "", "3", "x",
                                    None, 10 ** 400]), st.floats())
ENVS = st.fixed_dictionaries({}, optional={"adults_smartphone": VALUES, "adults": VALUES})


def through_closures(indicator, env):
    """The value household_values gives without the direct read (the indicator's closures only)."""
    return household_values(((indicator.id, indicator.numerator, indicator.denominator, None),), env).get(indicator.id)


def same(left, right):
    """Equal pairs, with types compared too (2 and 2.0 differ in the stored JSON)."""
    return left == right and (left is None or all(type(a) is type(b) for a, b in zip(left, right)))


@settings(max_examples=600, deadline=None)
@given(ENVS)
def test_a_field_over_field_indicator_reads_the_same_pair_as_its_closures(env):
    indicator = CompiledIndicator(FIELD_PAIR)
    assert indicator.fields == ("adults_smartphone", "adults")
    assert same(indicator.values(env), through_closures(indicator, env)), env


@pytest.mark.parametrize("env, expected", [
    ({"adults_smartphone": 2, "adults": 3}, (2, 3)),
    ({"adults_smartphone": 0, "adults": 3}, (0, 3)),
    ({"adults": 3}, (0, 3)),  # an empty numerator with a valid base counts as 0
    ({"adults_smartphone": 2, "adults": 0}, None),  # no adults: nothing for this base
    ({"adults_smartphone": 2, "adults": -1}, None),
    ({"adults_smartphone": 2.0, "adults": 4.0}, (2, 4)),
    ({"adults_smartphone": BIG + 1, "adults": BIG + 1}, (BIG, BIG)),  # beyond 2**53: read as floats, like the closures
    ({"adults_smartphone": True, "adults": 2}, (1, 2)),
])
def test_field_over_field_examples(env, expected):
    indicator = CompiledIndicator(FIELD_PAIR)
    assert indicator.values(env) == expected and same(indicator.values(env), through_closures(indicator, env))


def test_an_indicator_with_an_expression_has_no_direct_read_and_still_counts():
    indicator = CompiledIndicator(dict(FIELD_PAIR, numerator="if(${fibre_available} = 'yes', 1, 0)", denominator="1"))
    assert indicator.fields is None
    assert indicator.values({"fibre_available": "yes"}) == (1, 1)
    assert indicator.values({"fibre_available": "no"}) == (0, 1)
