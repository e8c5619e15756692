"""Roll-ups: a unit's and its direct children's indicator percentages against the plan's targets."""
from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from exports.rollups import DEFAULT_FORM, LANGUAGES, rollup
from sync.units import get_unit

from .. import auth
from ..db import get_db
from .schemas import ApiErrorSchema, UnitSchema

blp = Blueprint("rollups", __name__, url_prefix="/api/v1/rollups",
                description="Indicator percentages rolled up from villages to the province")


class RollupQuerySchema(Schema):
    form = fields.String(load_default=DEFAULT_FORM, validate=validate.Length(min=1, max=100),
                         metadata={"description": "form id"})
    round = fields.String(load_default=None, validate=validate.Length(max=100),
                          metadata={"description": "survey round; omitted: all rounds combined"})
    lang = fields.String(load_default="vi", validate=validate.OneOf(LANGUAGES))


class LabelSchema(Schema):
    vi = fields.String()
    en = fields.String()


class TargetSchema(Schema):
    year = fields.String()
    op = fields.String(metadata={"description": '">=" (at least) or ">" (more than)'})
    value = fields.Float()
    status = fields.String(metadata={"description": "met, not_met or no_data"})
    gap = fields.Float(allow_none=True, metadata={"description": "percent minus target, in percentage points"})


class IndicatorFigureSchema(Schema):
    id = fields.String()
    label = fields.Nested(LabelSchema)
    counted_over = fields.String(allow_none=True, metadata={"description": "households, adults, ..."})
    numerator = fields.Float()
    denominator = fields.Float()
    households = fields.Integer(metadata={"description": "households counted for this indicator"})
    percent = fields.Float(allow_none=True, metadata={"description": "sum of numerators / sum of "
                                                      "denominators x 100; null: no data"})
    reliable = fields.Boolean(metadata={"description": "false below SMALL_NUMBER_THRESHOLD households"})
    wilson = fields.List(fields.Float(), allow_none=True,
                         metadata={"description": "95% Wilson interval in percent (household indicators)"})
    targets = fields.List(fields.Nested(TargetSchema))


class UnitRollupSchema(Schema):
    unit = fields.Nested(UnitSchema)
    form_id = fields.String()
    round = fields.String(allow_none=True, metadata={"description": "null: all rounds combined"})
    households = fields.Integer()
    refusals = fields.Integer()
    expected_households = fields.Integer(allow_none=True)
    coverage = fields.Float(allow_none=True, metadata={"description": "percent of expected households"})
    indicators = fields.List(fields.Nested(IndicatorFigureSchema))
    villages_without_submissions = fields.List(fields.String())


class RollupSchema(UnitRollupSchema):
    children = fields.List(fields.Nested(UnitRollupSchema))


@blp.route("/<unit_code>")
class Rollup(MethodView):
    @blp.arguments(RollupQuerySchema, location="query")
    @blp.response(200, RollupSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(422, schema=ApiErrorSchema)
    @auth.login_required
    def get(self, args, unit_code):
        """A unit and its direct children: every indicator's percentage, base and target status."""
        db = get_db()
        auth.require("read", get_unit(db, unit_code))
        return rollup(db, unit_code, form_id=args["form"], round=args["round"], lang=args["lang"],
                      small_threshold=current_app.config["SMALL_NUMBER_THRESHOLD"])
