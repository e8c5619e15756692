"""The JSON API under /api/v1, described by one OpenAPI 3 document at /api/openapi.json."""
import importlib
import pkgutil

from flask_smorest import Api

from . import docs
from .schemas import ApiErrorSchema


class LangsoApi(Api):
    """flask-smorest's Api with our one error shape instead of its own (in handlers and in the spec)."""

    ERROR_SCHEMA = ApiErrorSchema

    def _register_error_handlers(self):
        """Errors are handled app-wide by server.errors; nothing to add here."""


def init_app(app):
    """Register every API blueprint and the local interactive documentation page."""
    api = LangsoApi(app, spec_kwargs={"components": {"securitySchemes": {
        "bearer": {"type": "http", "scheme": "bearer"}}}, "security": [{"bearer": []}]})
    for module in api_modules():
        api.register_blueprint(module.blp)
    app.register_blueprint(docs.bp)
    app.extensions["langso_api"] = api


def api_modules():
    """Every module of this package that defines a flask-smorest blueprint `blp`, by name."""
    found = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(module, "blp"):
            found.append(module)
    return found
