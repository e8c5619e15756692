"""Administrative units: one unit with its children, within the caller's scope."""
from flask.views import MethodView
from flask_smorest import Blueprint

from sync.units import ancestors, get_unit, unit_dict

from .. import auth
from ..db import get_db
from .schemas import ApiErrorSchema, UnitWithChildrenSchema

blp = Blueprint("units", __name__, url_prefix="/api/v1/units", description="The administrative tree")


@blp.route("/<code>")
class Unit(MethodView):
    @blp.response(200, UnitWithChildrenSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @auth.login_required
    def get(self, code):
        """A unit, its ancestors and its direct children (403 outside your scope)."""
        unit = get_unit(get_db(), code)
        auth.require("read", unit)
        body = unit_dict(unit)
        body["children"] = [unit_dict(c) for c in sorted(unit.children, key=lambda c: c.code)]
        body["ancestors"] = [unit_dict(a) for a in ancestors(unit)]
        return body
