"""Indicators: per-household numerator/denominator pairs, their roll-up and their targets.

Per household, an indicator gives (numerator, denominator). Decisions:
- a refusal gives no values at all (see CompiledForm.indicator_values);
- an empty, non-numeric, zero or negative denominator gives nothing for that indicator
  (the household adds nothing to that base, e.g. a household without adults);
- an empty numerator with a valid denominator counts as 0;
- the numerator is capped to the denominator's range only by the form's constraints.
A percentage for an area is sum(numerators) / sum(denominators) over its households,
never an average of percentages (see the domain README).
"""
from __future__ import annotations

import math
from typing import Any

from .conditions import EXACT, number
from .evaluate import compile_expression
from .messages import pick

INFINITY = math.inf


class CompiledIndicator:
    """An indicator definition with compiled numerator and denominator closures."""
    __slots__ = ("id", "label", "unit", "targets", "numerator", "denominator", "fields")

    def __init__(self, item):
        self.id, self.label, self.unit = item["id"], item["label"], item["unit"]
        self.targets = dict(item.get("targets") or {})
        numerator = compile_expression(item["numerator"]).tree
        denominator = compile_expression(item["denominator"]).tree
        self.numerator, self.denominator = number(numerator), number(denominator)
        self.fields = (numerator.value, denominator.value) if numerator.kind == denominator.kind == "ref" else None

    @property
    def pair(self) -> tuple:
        """(id, numerator closure, denominator closure, (numerator field, denominator field) or None)."""
        return self.id, self.numerator, self.denominator, self.fields

    def values(self, env: dict[str, Any]) -> Any:
        """(numerator, denominator) for one household's expression view, or None."""
        return household_values((self.pair,), env).get(self.id)

    def title(self, lang: str = "vi") -> Any:
        """The label in `lang` (fallback vi)."""
        return pick(self.label, lang)


def household_values(pairs: Any, env: dict[str, Any]) -> Any:
    """{id: (numerator, denominator)} of CompiledIndicator.pair tuples for one household.

    `${count} / ${base}` with whole-number answers (the usual indicator) is read directly: the
    closures would give the same pair through floats and back.
    """
    values = {}
    for ident, numerator, denominator, fields in pairs:
        if fields is not None:
            num, den = env.get(fields[0]), env.get(fields[1])
            if type(num) is int and type(den) is int and 0 < den <= EXACT and -EXACT <= num <= EXACT:
                values[ident] = (num, den)
                continue
        try:
            den, num = denominator(env), numerator(env)
        except Exception:  # noqa: BLE001 - a failing expression just gives no value
            continue
        if not den > 0 or den == INFINITY:  # also NaN
            continue
        if num != num or num == INFINITY or num == -INFINITY:
            num = 0.0
        values[ident] = (int(num) if num.is_integer() else num,  # JSON-friendly: integral floats become int
                         int(den) if den.is_integer() else den)
    return values


def roll_up(households: int) -> Any:
    """Sum per-household {id: (num, den)} dicts into {id: (sum num, sum den, households)}."""
    totals = {}
    for values in households:
        for ident, (numerator, denominator) in values.items():
            num, den, count = totals.get(ident, (0, 0, 0))
            totals[ident] = (num + numerator, den + denominator, count + 1)
    return totals


def percentage(numerator: Any, denominator: Any) -> Any:
    """100 * numerator / denominator, or None when the base is empty."""
    return 100.0 * numerator / denominator if denominator else None


def meets_target(percent: Any, target: str) -> Any:
    """Whether a percentage meets a target {"op": ">=" or ">", "value": v}; None if unknown."""
    if percent is None or not target:
        return None
    return percent >= target["value"] if target["op"] == ">=" else percent > target["value"]
