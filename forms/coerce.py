"""Coerce raw JSON answers to clean values per question type; never raises.

Each coercer takes any JSON value and returns (value, None) or (None, error_code).
Text is NFC-normalised and stripped; integers become int, decimals float; selects are
checked against their choice names (select_multiple as a list, duplicates removed);
dates become ISO YYYY-MM-DD; geopoints become the ODK string "lat lon alt accuracy".
"""
from __future__ import annotations

import math
import re
import unicodedata
from datetime import date
from typing import Any

MAX_TEXT_LENGTH = 10000
MAX_INTEGER = 2 ** 53
_INT_RE = re.compile(r"\s*[+-]?[0-9]{1,16}\s*\Z")
_DEC_RE = re.compile(r"\s*[+-]?(?:[0-9]{1,20}(?:\.[0-9]{0,20})?|\.[0-9]{1,20})\s*\Z")
_DEC = r"[+-]?(?:[0-9]{1,20}(?:\.[0-9]{0,20})?|\.[0-9]{1,20})"  # as _DEC_RE, for one part
_GEO_TEXT_RE = re.compile(rf"\s*({_DEC})\s+({_DEC})(?:\s+({_DEC}))?(?:\s+({_DEC}))?\s*\Z")
_GEO_KEYS = (("lat", "latitude"), ("lon", "lng", "longitude"), ("alt", "altitude"), ("acc", "accuracy"))


def is_empty(raw: Any) -> bool:
    """Unanswered: None, an empty or blank string, or an empty list."""
    return raw is None or (type(raw) is str and not raw.strip()) or (type(raw) is list and not raw)


def coerce_text(raw: Any, choices: Any | None = None) -> tuple:
    """Strings (and plain numbers) to NFC text of bounded length."""
    if type(raw) is int or type(raw) is float and math.isfinite(raw):
        raw = str(raw)
    if type(raw) is not str:
        return None, "invalid_text"
    if len(raw) > MAX_TEXT_LENGTH:
        return None, "too_long"
    return unicodedata.normalize("NFC", raw.strip()), None


def coerce_integer(raw: Any, choices: Any | None = None) -> tuple:
    """Whole numbers from int, integral float or a digit string, within +-2**53."""
    kind = type(raw)
    if kind is int:
        value = raw
    elif (kind is float and math.isfinite(raw) and raw.is_integer()) or (kind is str and _INT_RE.match(raw)):
        value = int(raw)
    else:
        return None, "invalid_integer"
    if -MAX_INTEGER <= value <= MAX_INTEGER:
        return value, None
    return None, "out_of_range"


def coerce_decimal(raw: Any, choices: Any | None = None) -> tuple:
    """Finite numbers from int, float or a decimal string."""
    kind = type(raw)
    if kind is int:
        value = float(raw) if -MAX_INTEGER <= raw <= MAX_INTEGER else math.inf
    elif kind is float:
        value = raw
    elif kind is str and _DEC_RE.match(raw):
        value = float(raw)
    else:
        return None, "invalid_decimal"
    if not math.isfinite(value) or abs(value) > 1e15:
        return None, "out_of_range"
    return value, None


def coerce_select_one(raw: Any, choices: Any) -> tuple:
    """One choice name from the question's list."""
    if type(raw) is int:
        raw = str(raw)
    if type(raw) is str:
        raw = raw.strip()
        if raw in choices:
            return raw, None
    return None, "invalid_choice"


def coerce_select_multiple(raw: Any, choices: Any) -> tuple:
    """A list (or space-separated string) of distinct choice names from the list."""
    if type(raw) is str:
        raw = raw.split()
    if type(raw) is not list or len(raw) > len(choices):
        return None, "invalid_choice" if type(raw) is list else "invalid_choices"
    seen = []
    for item in raw:
        if type(item) is int:
            item = str(item)
        if type(item) is not str or item not in choices:
            return None, "invalid_choice"
        if item not in seen:
            seen.append(item)
    return seen, None


def coerce_date(raw: Any, choices: Any | None = None) -> tuple:
    """An ISO date (a datetime's date part is accepted) as YYYY-MM-DD."""
    if type(raw) is not str or not 10 <= len(raw) <= 40 or (len(raw) > 10 and raw[10] not in "T "):
        return None, "invalid_date"
    try:
        return date.fromisoformat(raw[:10]).isoformat(), None
    except ValueError:
        return None, "invalid_date"


def coerce_geopoint(raw: Any, choices: Any | None = None) -> Any:
    """"lat lon [alt [acc]]", [lat, lon, ...] or {"lat", "lon", ...} to "lat lon alt acc"."""
    if type(raw) is str and len(raw) <= 200:
        match = _GEO_TEXT_RE.match(raw)  # the ODK text form, in one step
        if match:
            return _geopoint([float(part) if part else 0.0 for part in match.groups()])
    parts = _geo_parts(raw)
    if parts is None or not 2 <= len(parts) <= 4:
        return None, "invalid_geopoint"
    numbers = []
    for part in parts:
        number, error = coerce_decimal(part)
        if error:
            return None, "invalid_geopoint"
        numbers.append(number)
    return _geopoint(numbers + [0.0] * (4 - len(numbers)))


def _geopoint(numbers):
    """Check lat, lon, alt, acc and write the ODK text form."""
    lat, lon, alt, acc = numbers
    if not (-90 <= lat <= 90 and -180 <= lon <= 180 and 0 <= acc <= 1e15 and abs(alt) <= 1e15):
        return None, "invalid_geopoint"
    return " ".join(_short(n) for n in numbers), None


def _geo_parts(raw):
    """The coordinate parts of any accepted geopoint shape, or None."""
    if type(raw) is str:
        return raw.split() if len(raw) <= 200 else None
    if type(raw) is list:
        return raw
    if type(raw) is not dict:
        return None
    found = [[raw[key] for key in names if key in raw] for names in _GEO_KEYS]
    if sum(map(len, found)) != len(raw) or any(len(values) > 1 for values in found):
        return None
    if not found[0] or not found[1]:
        return None
    alt = found[2] or ([0] if found[3] else [])
    return found[0] + found[1] + alt + found[3]


def _short(number):
    """Print a float without a trailing .0."""
    return str(int(number)) if number.is_integer() else repr(number)


COERCERS = {"text": coerce_text, "integer": coerce_integer, "decimal": coerce_decimal,
            "select_one": coerce_select_one, "select_multiple": coerce_select_multiple,
            "date": coerce_date, "geopoint": coerce_geopoint}
