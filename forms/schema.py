"""Marshmallow schemas for the form definition language (XLSForm concepts as JSON/YAML).

They check shapes only; cross-references (choice lists, ${fields}, cycles) are checked in
forms.definition so that every mistake is reported together.
"""
from __future__ import annotations

import re
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate

QUESTION_TYPES = ("text", "integer", "decimal", "select_one", "select_multiple", "date",
                  "geopoint", "note", "calculate", "group")
INPUT_TYPES = frozenset(QUESTION_TYPES) - {"note", "calculate", "group"}
UNITS = ("households", "adults", "people_15plus", "working_age", "people", "people_online")
NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,63}\Z"
_LANGUAGE_RE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{1,8})?\Z")
MAX_TEXT = 5000

name_field = fields.String(required=True, validate=validate.Regexp(
    NAME_PATTERN, error="must start with a letter or _ and contain only letters, digits and _ (max 64)"))


class Multilingual(fields.Field):
    """Text in several languages: {"vi": "...", "en": "..."}; a plain string means Vietnamese."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            value = {"vi": value}
        if not isinstance(value, dict) or not value:
            raise ValidationError("must be text or a mapping of language code to text")
        for code, text in value.items():
            if not isinstance(code, str) or not _LANGUAGE_RE.match(code):
                raise ValidationError(f"invalid language code {str(code)[:20]!r}")
            if not isinstance(text, str) or len(text) > MAX_TEXT:
                raise ValidationError(f"text for {code!r} must be a string of at most {MAX_TEXT} characters")
        if "vi" not in value:
            raise ValidationError("a Vietnamese ('vi') text is required")
        return dict(value)


def expression_field() -> Any:
    return fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))


class ChoiceSchema(Schema):
    """One choice of a list: a name without spaces and a label."""
    class Meta:
        unknown = RAISE

    name = fields.String(required=True, validate=validate.Regexp(
        r"^[^\s]{1,64}\Z", error="must be 1 to 64 characters without spaces"))
    label = Multilingual(required=True)


class QuestionSchema(Schema):
    """A question or a group (with `children`)."""
    class Meta:
        unknown = RAISE

    name = name_field
    type = fields.String(required=True, validate=validate.OneOf(QUESTION_TYPES))
    label = Multilingual(load_default=None, allow_none=True)
    hint = Multilingual(load_default=None, allow_none=True)
    choices = fields.String(load_default=None, allow_none=True)
    required = fields.Boolean(load_default=False)
    relevant = expression_field()
    constraint = expression_field()
    constraint_message = Multilingual(load_default=None, allow_none=True)
    calculation = expression_field()
    default = fields.Raw(load_default=None, allow_none=True)
    personal = fields.Boolean(load_default=False)
    children = fields.List(fields.Nested(lambda: QuestionSchema()), load_default=None, allow_none=True)


class TargetSchema(Schema):
    """A target for one year: {"op": ">=" or ">", "value": percent}."""
    class Meta:
        unknown = RAISE

    op = fields.String(required=True, validate=validate.OneOf((">=", ">")))
    value = fields.Float(required=True, allow_nan=False, validate=validate.Range(0, 100))


class IndicatorSchema(Schema):
    """An indicator: per-household numerator and denominator expressions, a unit and targets."""
    class Meta:
        unknown = RAISE

    id = name_field
    label = Multilingual(required=True)
    description = Multilingual(load_default=None, allow_none=True)
    numerator = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    denominator = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    unit = fields.String(required=True, validate=validate.OneOf(UNITS))
    targets = fields.Dict(keys=fields.String(validate=validate.Regexp(r"^[0-9]{4}\Z", error="must be a year")),
                          values=fields.Nested(TargetSchema), load_default=dict)


def _has_vi_en(languages):
    if "vi" not in languages or "en" not in languages:
        raise ValidationError("must include 'vi' and 'en'")


class FormSchema(Schema):
    """A whole form document."""
    class Meta:
        unknown = RAISE

    id = name_field
    version = fields.String(required=True, validate=validate.Regexp(
        r"^[0-9A-Za-z][0-9A-Za-z._-]{0,31}\Z", error="must be a short version string such as 2025.1"))
    title = Multilingual(required=True)
    description = Multilingual(load_default=None, allow_none=True)
    default_language = fields.String(load_default="vi", validate=validate.Equal("vi"))
    languages = fields.List(fields.String(validate=validate.Regexp(_LANGUAGE_RE.pattern)),
                            load_default=lambda: ["vi", "en"], validate=_has_vi_en)
    consent_field = fields.String(load_default=None, allow_none=True)
    questions = fields.List(fields.Nested(QuestionSchema), required=True, validate=validate.Length(min=1))
    choices = fields.Dict(keys=fields.String(validate=validate.Regexp(NAME_PATTERN)),
                          values=fields.List(fields.Nested(ChoiceSchema), validate=validate.Length(min=1)),
                          load_default=dict)
    indicators = fields.List(fields.Nested(IndicatorSchema), load_default=list)


def flatten_errors(messages: Any, path: str = "") -> Any:
    """Turn marshmallow's nested messages into [(path, message)] like 'questions[3].type'."""
    if isinstance(messages, dict):
        out = []
        for key, value in messages.items():
            if isinstance(key, int):
                sub = f"{path}[{key}]"
            elif key == "_schema":
                sub = path
            else:
                sub = f"{path}.{key}" if path else str(key)
            out += flatten_errors(value, sub)
        return out
    if isinstance(messages, (list, tuple)):
        return [item for message in messages for item in flatten_errors(message, path)]
    return [(path, str(messages))]
