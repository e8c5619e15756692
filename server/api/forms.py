"""Survey forms: admins create, edit, validate, publish and archive; devices download versions."""
from flask import g, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from sync import form_versions
from sync.errors import Invalid
from sync.form_versions import check_definition

from .. import auth
from ..audit import record
from ..db import get_db
from .schemas import ApiErrorSchema, UtcDateTime

blp = Blueprint("forms", __name__, url_prefix="/api/v1/forms", description="Survey forms and their versions")


class FormDocumentSchema(Schema):
    """A form definition document (see forms/ for its language); validated by the form engine."""
    class Meta:
        unknown = "include"
    id = fields.String(required=True)
    version = fields.String(required=True)


class ValidationSchema(Schema):
    valid = fields.Boolean()
    errors = fields.List(fields.Dict())


class FormSummarySchema(Schema):
    form_id = fields.String()
    title = fields.Dict()
    archived = fields.Boolean()
    latest_version = fields.String(allow_none=True)
    has_draft = fields.Boolean()


class VersionSchema(Schema):
    form_id = fields.String()
    version = fields.String()
    content_hash = fields.String()
    published_at = UtcDateTime()
    published_by = fields.String()


class DraftSchema(Schema):
    draft = fields.Dict()
    errors = fields.List(fields.Dict())


class PublishSchema(Schema):
    confirm_breaking = fields.Boolean(load_default=False)


class IndicatorSchema(Schema):
    id = fields.String()
    label = fields.Dict()
    unit = fields.String()
    numerator = fields.String()
    denominator = fields.String()
    targets = fields.Dict()


def summary(form):
    latest = form_versions.latest_version(get_db(), form.form_id)
    return {"form_id": form.form_id, "title": form.title or {}, "archived": form.archived,
            "latest_version": latest.version if latest else None, "has_draft": bool(form.draft)}


def version_dict(version):
    return {"form_id": version.form.form_id, "version": version.version, "content_hash": version.content_hash,
            "published_at": version.published_at, "published_by": version.published_by}


def raw_document():
    """The request body as sent: the form engine, not marshmallow, judges a definition."""
    document = request.get_json(silent=True)
    if not isinstance(document, dict):
        raise Invalid("send the form definition as a JSON object",
                      [{"field": None, "code": "not_an_object", "message": "expected a JSON object"}])
    return document


@blp.route("")
class Forms(MethodView):
    @blp.response(200, FormSummarySchema(many=True))
    @auth.login_required
    def get(self):
        """Every form with its latest published version."""
        return [summary(f) for f in get_db().Form.select().order_by(lambda f: f.form_id)]

    @blp.arguments(FormDocumentSchema)
    @blp.response(201, FormSummarySchema)
    @blp.alt_response(422, schema=ApiErrorSchema)
    @auth.roles_required("admin")
    def post(self, _document):
        """Create a form from a valid definition; it becomes the form's draft."""
        form = form_versions.create_form(get_db(), raw_document())
        record(get_db(), "form_created", form.form_id)
        return summary(form)


@blp.route("/validate")
class Validate(MethodView):
    @blp.arguments(FormDocumentSchema)
    @blp.response(200, ValidationSchema)
    @auth.roles_required("admin")
    def post(self, _document):
        """Check a definition without saving it: every mistake at once, each with its path."""
        try:
            check_definition(raw_document())
        except Invalid as error:
            return {"valid": False, "errors": error.errors}
        return {"valid": True, "errors": []}


@blp.route("/<form_id>/draft")
class Draft(MethodView):
    @blp.response(200, DraftSchema)
    @auth.roles_required("admin")
    def get(self, form_id):
        """The form's current draft."""
        form = form_versions.get_form(get_db(), form_id)
        return {"draft": form.draft or {}, "errors": []}

    @blp.arguments(FormDocumentSchema)
    @blp.response(200, DraftSchema)
    @auth.roles_required("admin")
    def put(self, _document, form_id):
        """Replace the draft; it is saved even with mistakes, which are returned."""
        document = raw_document()
        errors = form_versions.save_draft(get_db(), form_id, document)
        record(get_db(), "draft_saved", form_id, {"errors": len(errors)})
        return {"draft": document, "errors": errors}


@blp.route("/<form_id>/publish")
class Publish(MethodView):
    @blp.arguments(PublishSchema)
    @blp.response(201, VersionSchema)
    @blp.alt_response(409, schema=ApiErrorSchema)
    @blp.alt_response(422, schema=ApiErrorSchema)
    @auth.roles_required("admin")
    def post(self, options, form_id):
        """Publish the draft as a new immutable version (breaking changes need confirm_breaking)."""
        db = get_db()
        version = form_versions.publish(db, form_id, g.user.username, options["confirm_breaking"],
                                        used_values=form_versions.used_choice_values(db, form_id))
        record(db, "form_published", f"{form_id}@{version.version}",
               {"content_hash": version.content_hash, "confirmed_breaking": options["confirm_breaking"]})
        return version_dict(version)


@blp.route("/<form_id>/archive")
class Archive(MethodView):
    @blp.response(200, FormSummarySchema)
    @auth.roles_required("admin")
    def post(self, form_id):
        """Close the form to new submissions; its data is kept and still reported."""
        form = form_versions.archive(get_db(), form_id)
        record(get_db(), "form_archived", form_id)
        return summary(form)


@blp.route("/<form_id>/versions")
class Versions(MethodView):
    @blp.response(200, VersionSchema(many=True))
    @auth.roles_required("admin")
    def get(self, form_id):
        """Published versions, oldest first."""
        form = form_versions.get_form(get_db(), form_id)
        return [version_dict(v) for v in form.versions.order_by(lambda v: v.seq)]


@blp.route("/<form_id>/versions/<version>")
class Version(MethodView):
    @blp.response(200, description="The form definition document, exactly as published")
    @auth.login_required
    def get(self, form_id, version):
        """A published version's definition, exactly as published (what devices download)."""
        found = form_versions.get_version(get_db(), form_id, version)
        return found.definition


@blp.route("/<form_id>/indicators")
class Indicators(MethodView):
    @blp.response(200, IndicatorSchema(many=True))
    @auth.login_required
    def get(self, form_id):
        """The indicators of the latest published version, with their 2025 and 2030 targets."""
        latest = form_versions.latest_version(get_db(), form_id)
        if latest is None:
            form_versions.get_form(get_db(), form_id)
            return []
        return latest.definition.get("indicators", [])
