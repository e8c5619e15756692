"""Token login and logout for API clients and devices; `GET /me` for the caller."""
from datetime import datetime

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from pony.orm import commit

from sync.accounts import issue_token
from sync.units import unit_dict

from .. import auth
from ..audit import record
from ..db import get_db
from ..errors import ApiError
from ..security import LOGIN_LIMIT, limiter
from .schemas import ApiErrorSchema, UserSchema

blp = Blueprint("sessions", __name__, url_prefix="/api/v1", description="Sign in and out; who am I")


NO_NUL = validate.Regexp(r"^[^\x00]*$", error="must not contain NUL (0x00) characters")


class LoginSchema(Schema):
    username = fields.String(required=True, validate=[validate.Length(min=1, max=150), NO_NUL])
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=1024))
    label = fields.String(load_default="", validate=validate.Length(max=200))


class TokenSchema(Schema):
    token = fields.String(metadata={"description": "Send as 'Authorization: Bearer TOKEN'"})
    user = fields.Nested(UserSchema)


def user_dict(user):
    """A user as the API shows them (never their hash)."""
    return {"username": user.username, "display_name": user.display_name, "role": user.role,
            "active": user.active, "scope": [unit_dict(u) for u in sorted(user.scope, key=lambda u: u.code)]}


@blp.route("/auth/token")
class Token(MethodView):
    @limiter.limit(LOGIN_LIMIT)
    @blp.arguments(LoginSchema)
    @blp.response(201, TokenSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.doc(security=[])
    def post(self, credentials):
        """Exchange a username and password for a bearer token."""
        db = get_db()
        try:
            user = auth.authenticate(db, credentials["username"], credentials["password"])
        except ApiError:
            record(db, "login_failed", credentials["username"], actor=credentials["username"])
            commit()  # failed attempts count even though the request fails
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


@blp.route("/me")
class Me(MethodView):
    @blp.response(200, UserSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @auth.login_required
    def get(self):
        """The calling user, their role and their geographic scope."""
        return user_dict(g.user)
