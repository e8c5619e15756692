"""Indicator figures: percentages as ratios of sums, targets, small numbers, Wilson intervals.

Pure functions over plain numbers and the form's indicator declarations; no database.
"""
import math
from dataclasses import dataclass, field

HOUSEHOLDS = "households"  # the indicator unit for which a Wilson interval is meaningful
Z_95 = 1.959963984540054
TARGET_OPS = (">=", ">")


@dataclass
class IndicatorSpec:
    """What the form declares about an indicator: labels, the unit counted, targets by year."""
    id: str
    label: dict
    counted_over: str | None = None
    targets: list = field(default_factory=list)  # [{"year", "op", "value"}] in year order


def indicator_specs(definition, lang="vi"):
    """The indicators a form definition declares, in form order."""
    items = (definition or {}).get("indicators") or []
    if isinstance(items, dict):
        items = [dict(spec, id=key) for key, spec in items.items()]
    return [IndicatorSpec(id=item["id"], label=labels(item.get("label"), item["id"], lang),
                          counted_over=counted_over(item), targets=targets(item.get("targets")))
            for item in items if isinstance(item, dict) and item.get("id")]


def labels(label, fallback, lang="vi"):
    """{"vi", "en"} (and `lang` when the form has it), falling back to Vietnamese, then to the id."""
    if not isinstance(label, dict):
        label = {"vi": label} if label else {}
    vi = label.get("vi") or next(iter(label.values()), None) or fallback
    out = {"vi": vi, "en": label.get("en") or vi}
    if lang not in out and label.get(lang):
        out[lang] = label[lang]
    return out


def counted_over(item):
    """The unit an indicator counts ("households", "adults", ...), whatever key the form uses."""
    for key in ("counted_over", "unit", "counted", "over"):
        value = item.get(key)
        if isinstance(value, dict):
            value = value.get("en") or value.get("vi")
        if value:
            return str(value)
    return None


def targets(declared):
    """Targets as [{"year", "op", "value"}] in year order, from {"2025": {...}} or a list."""
    if isinstance(declared, dict):
        declared = [dict(t if isinstance(t, dict) else {"value": t}, year=str(year))
                    for year, t in declared.items()]
    out = []
    for target in declared or []:
        op = target.get("op", ">=")
        out.append({"year": str(target.get("year")), "op": op if op in TARGET_OPS else ">=",
                    "value": target.get("value")})
    return sorted(out, key=lambda t: t["year"])


def percent(numerator, denominator):
    """100 * numerator / denominator, or None ("no data") when nothing was counted."""
    if not denominator:
        return None
    return 100.0 * numerator / denominator


def target_status(numerator, denominator, target):
    """A target with its status (met / not_met / no_data) and gap in percentage points.

    The comparison is exact (numerator * 100 against value * denominator), so 4/5 meets
    ">= 80" and 19/20 does not meet "> 95" whatever the floating-point rounding.
    """
    value = target["value"]
    share = percent(numerator, denominator)
    if share is None or value is None:
        return dict(target, status="no_data", gap=None)
    scaled, bar = 100.0 * numerator, float(value) * denominator
    met = scaled >= bar if target["op"] == ">=" else scaled > bar
    return dict(target, status="met" if met else "not_met", gap=share - float(value))


def wilson(numerator, denominator, z=Z_95):
    """The 95% Wilson score interval for a proportion, in percent, or None without data."""
    if not denominator or denominator <= 0:
        return None
    n, p = float(denominator), min(max(numerator / denominator, 0.0), 1.0)
    scale = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / scale
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / scale
    return [100.0 * max(0.0, centre - half), 100.0 * min(1.0, centre + half)]


def indicator_figure(spec, sums, small_threshold):
    """One indicator's figures for one unit from its [numerator, denominator, households] sums."""
    numerator, denominator, households = sums or (0.0, 0.0, 0)
    return {
        "id": spec.id, "label": spec.label, "counted_over": spec.counted_over,
        "numerator": float(numerator), "denominator": float(denominator), "households": int(households),
        "percent": percent(numerator, denominator),
        "reliable": households >= small_threshold,
        "wilson": wilson(numerator, denominator) if spec.counted_over == HOUSEHOLDS else None,
        "targets": [target_status(numerator, denominator, t) for t in spec.targets],
    }


def add_sums(total, sums):
    """Add one group's {indicator: [num, den, households]} into `total` (in place)."""
    for indicator, (numerator, denominator, households) in sums.items():
        into = total.setdefault(indicator, [0.0, 0.0, 0])
        into[0] += numerator
        into[1] += denominator
        into[2] += households
    return total
