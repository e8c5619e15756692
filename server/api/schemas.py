"""Marshmallow schemas shared by several API blueprints (one schema validates, serialises, documents)."""
from datetime import UTC

from marshmallow import INCLUDE, Schema, fields


class UtcDateTime(fields.DateTime):
    """A time the database keeps as naive UTC, sent as RFC 3339 with its offset (+00:00), as documented."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return super()._serialize(value, attr, obj, **kwargs)


class ErrorItemSchema(Schema):
    """One problem: a field path, a code, a message; some carry where it is too (line, sheet, row, cell)."""
    class Meta:
        unknown = INCLUDE

    field = fields.String(allow_none=True)
    code = fields.String()
    message = fields.String()


class ApiErrorSchema(Schema):
    """The one error shape every endpoint answers with."""
    status = fields.Integer()
    errno = fields.Integer()
    code = fields.String()
    message = fields.String()
    errors = fields.List(fields.Nested(ErrorItemSchema))


class UnitSchema(Schema):
    code = fields.String()
    name = fields.String()
    level = fields.String()
    kind = fields.String(allow_none=True)
    parent_code = fields.String(allow_none=True)
    expected_households = fields.Integer(allow_none=True)


class UnitWithChildrenSchema(UnitSchema):
    children = fields.List(fields.Nested(UnitSchema))
    ancestors = fields.List(fields.Nested(UnitSchema))


class UserSchema(Schema):
    username = fields.String()
    display_name = fields.String()
    role = fields.String()
    active = fields.Boolean()
    scope = fields.List(fields.Nested(UnitSchema))
