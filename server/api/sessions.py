"""Token login and logout for API clients and devices; `GET /me` for the caller."""
from datetime import datetime

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from pony.orm import commit

from forms.i18n import N_, translate
from sync.accounts import AccountError, issue_token, set_password
from sync.units import unit_dict

from .. import auth
from ..audit import record
from ..db import get_db
from ..errors import ERRORS, ApiError, message_of, reader_language
from .schemas import ApiErrorSchema, UserSchema

blp = Blueprint("sessions", __name__, url_prefix="/api/v1", description="Sign in and out; who am I")


NO_NUL = validate.Regexp(r"^[^\x00]*$", error="must not contain NUL (0x00) characters")


class LoginSchema(Schema):
    username = fields.String(required=True, validate=[validate.Length(min=1, max=150), NO_NUL])
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=1024))
    label = fields.String(load_default="", validate=validate.Length(max=200))


class PasswordChangeSchema(Schema):
    current_password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=1024))
    new_password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=1024))


class TokenSchema(Schema):
    token = fields.String(metadata={"description": "Send as 'Authorization: Bearer TOKEN'"})
    user = fields.Nested(UserSchema)


def user_dict(user):
    """A user as the API shows them (never their hash)."""
    return {"username": user.username, "display_name": user.display_name, "role": user.role,
            "active": user.active, "scope": [unit_dict(u) for u in sorted(user.scope, key=lambda u: u.code)]}


@blp.route("/auth/token")
class Token(MethodView):
    @blp.arguments(LoginSchema)
    @blp.response(201, TokenSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(429, schema=ApiErrorSchema)
    @blp.doc(security=[])
    def post(self, credentials):
        """Exchange a username and password for a bearer token.

        Failed passwords are throttled per client address (429 with Retry-After, before any
        password is checked); an unknown name and a wrong password answer alike (401).
        """
        db = get_db()
        try:
            user = auth.authenticate(db, credentials["username"], credentials["password"])
        except ApiError as error:
            if error.code == "bad_credentials":
                record(db, "login_failed", credentials["username"], actor=credentials["username"])
                commit()  # the failure is audited even though the request fails
            raise
        token = issue_token(db, user, label=credentials["label"])
        record(db, "token_created", user.username, actor=user.username)
        return {"token": token, "user": user_dict(user)}

    @blp.response(204)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @auth.login_required
    def delete(self):
        """Revoke the token this request was made with (log out)."""
        if g.token is None:
            raise ApiError("bad_request", "log out of a web session at /logout; this revokes bearer tokens")
        g.token.revoked_at = datetime.utcnow()
        record(get_db(), "token_revoked", g.user.username)


@blp.route("/me/password")
class MyPassword(MethodView):
    @blp.arguments(PasswordChangeSchema)
    @blp.response(204)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(422, schema=ApiErrorSchema)
    @blp.alt_response(429, schema=ApiErrorSchema)
    @auth.login_required
    def post(self, change):
        """Change your own password: every API token, device token and web session of the account
        is revoked, this one included (sign in again with the new password)."""
        db = get_db()
        try:
            user = auth.authenticate(db, g.user.username, change["current_password"])
        except ApiError as error:
            if error.code != "bad_credentials":
                raise
            message = N_("the current password is wrong")
            raise ApiError("invalid", message, [{"field": "current_password", "code": "invalid",
                                                 "message": translate(message, reader_language())}]) from None
        try:
            revoked = set_password(db, user, change["new_password"])
        except AccountError as error:
            message = message_of(error)
            raise ApiError("invalid", ERRORS["invalid"].message,
                           [{"field": "new_password", "code": "invalid", "message": message}]) from None
        record(db, "password_changed", user.username, {"revoked": revoked, "via": "api"})


@blp.route("/me")
class Me(MethodView):
    @blp.response(200, UserSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @auth.login_required
    def get(self):
        """The calling user, their role and their geographic scope."""
        return user_dict(g.user)
