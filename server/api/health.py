"""Health check: is the app up and its database reachable."""
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from ..db import get_db

blp = Blueprint("health", __name__, url_prefix="/api/v1/health", description="Liveness and database check")


class HealthSchema(Schema):
    status = fields.String(metadata={"example": "ok"})
    database = fields.String(metadata={"example": "sqlite"})


@blp.route("")
class Health(MethodView):
    @blp.response(200, HealthSchema)
    @blp.doc(security=[])
    def get(self):
        """Answer 200 when the database answers a query."""
        db = get_db()
        db.select("SELECT 1")
        return {"status": "ok", "database": db.provider_name}
