"""The interactive API page (Swagger UI), served from the swagger-ui-bundle package, no CDN."""
from flask import Blueprint, Response, send_from_directory, url_for
from swagger_ui_bundle import swagger_ui_path

bp = Blueprint("api_docs", __name__, url_prefix="/api/docs")

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>langso API</title>
<link rel="stylesheet" href="{css}"></head>
<body><div id="swagger-ui"></div>
<script src="{bundle}"></script><script src="{init}"></script></body></html>"""


@bp.get("/")
def page():
    """The Swagger UI page for /api/openapi.json."""
    return PAGE.format(css=url_for(".asset", name="swagger-ui.css"),
                       bundle=url_for(".asset", name="swagger-ui-bundle.js"),
                       init=url_for(".initializer"))


@bp.get("/init.js")
def initializer():
    """Points Swagger UI at our spec (a file, so pages need no inline script)."""
    url = url_for("api-docs.openapi_json")
    script = f'window.onload = function () {{ window.ui = SwaggerUIBundle({{url: "{url}", dom_id: "#swagger-ui"}}); }};'
    return Response(script, mimetype="application/javascript")


@bp.get("/static/<path:name>")
def asset(name):
    """Swagger UI's own files."""
    return send_from_directory(swagger_ui_path, name)
