"""Marshmallow schemas shared by several API blueprints (one schema validates, serialises, documents)."""
from marshmallow import Schema, fields


class ErrorItemSchema(Schema):
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
