"""OpenRosa 1.0 for ODK Collect: form list, XForm download and submissions (XML, not JSON).

Two base URLs reach the same views, so Collect needs either no password or HTTP Basic:

    {server}/odk/key/{device token}/formList | /forms/{id}/{version}/form.xml | /submission
    {server}/odk/formList ...                       (HTTP Basic; HTTPS only in production)

Device tokens come from `langso device qr USER` or POST /api/v1/odk/devices/{user}/qr (both
through sync/devices.py);
they are revocable and act with the account's role and scope. Submissions are turned into
the JSON batch item (sync/openrosa.py) and go through the one ingest (sync/ingest.py).
Every response carries X-OpenRosa-Version: 1.0; bodies are OpenRosaResponse XML.
"""
import base64
import binascii

from flask import Blueprint, Response, current_app, g, request
from pony.orm import commit
from werkzeug.exceptions import HTTPException

from forms.i18n import languages
from forms.xform import render_xform, xform_hash
from sync import openrosa
from sync.devices import ODK_PATH
from sync.errors import LangsoError
from sync.form_versions import latest_version
from sync.ingest import ingest_batch

from .. import auth
from ..audit import record
from ..db import get_db
from ..errors import ERRORS, ApiError

bp = Blueprint("openrosa", __name__, url_prefix=ODK_PATH)
PREFIX = ODK_PATH
ROLES = ("collector", "district_staff", "admin")
XML = "text/xml; charset=utf-8"
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
LANGS = languages()  # every language of the catalogue


def init_app(app):
    """Register the OpenRosa blueprint and the OpenRosa version header on its responses."""
    app.config.setdefault("OPENROSA_MAX_BYTES", DEFAULT_MAX_BYTES)
    app.register_blueprint(bp)
    app.after_request(_version_header)


def _version_header(response):
    if request.path == PREFIX or request.path.startswith(PREFIX + "/"):
        response.headers["X-OpenRosa-Version"] = "1.0"
    return response


def device_route(rule, **options):
    """Register a view under both the token base (/odk/key/<token>) and the Basic base (/odk)."""
    def decorate(view):
        bp.add_url_rule(rule, view.__name__, view, defaults={"token": None}, **options)
        bp.add_url_rule(f"/key/<token>{rule}", f"{view.__name__}_key", view, **options)
        return view
    return decorate


def xml_response(body, status=200, headers=None):
    return Response(body, status=status, headers=headers or {}, content_type=XML)


def message_response(message, status, headers=None):
    """An OpenRosaResponse with one message, as Collect shows it to the collector."""
    nature = "submit_success" if status < 300 else "error"
    return xml_response(openrosa.response_xml(message, nature), status, headers)


def request_lang():
    """Collect sends Accept-Language from the phone; Vietnamese unless English is preferred."""
    return request.accept_languages.best_match(LANGS) or "vi"


@bp.errorhandler(ApiError)
def _api_error(error):
    return message_response(error.render(request_lang()), error.status, error.headers)


@bp.errorhandler(LangsoError)
def _domain_error(error):
    return message_response(error.message, ERRORS.get(error.code, (0, 400))[1])


@bp.errorhandler(HTTPException)
def _http_error(error):
    return message_response(error.description or error.name, error.code or 400)


def _challenge(message):
    return ApiError("unauthorized", message, headers={"WWW-Authenticate": 'Basic realm="langso", charset="UTF-8"'})


def device_user(token):
    """The caller: a live device token in the path, or HTTP Basic credentials; 401/403/429 otherwise.

    Only device tokens (from QR codes) work in the path, and only here; HTTP Basic passwords
    are throttled per client address like every other sign-in (before any hash is computed).
    """
    db = get_db()
    if token is not None:
        user = auth.user_for_token(db, token, kinds=("device",))
        if user is None:
            raise ApiError("forbidden", "this device link is unknown, expired or was revoked; scan a new QR code")
        return _allowed(user)
    header = request.headers.get("Authorization", "")
    if header[:6].lower() != "basic ":
        raise _challenge("sign in with your langso username and password")
    username, password = _basic_credentials(header[6:])
    try:
        user = auth.authenticate(db, username, password)
    except ApiError as error:
        if error.code != "bad_credentials":
            raise  # 429: wait before trying again
        record(db, "login_failed", username, {"via": "openrosa"}, actor=username)
        commit()  # the failure is audited even though the request fails
        raise _challenge(error.message) from None
    return _allowed(user)


def _basic_credentials(encoded):
    try:
        raw = base64.b64decode(encoded.strip(), validate=True)
    except binascii.Error:
        raise _challenge("malformed Basic credentials") from None
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError:
        decoded = raw.decode("latin-1")  # clients that ignore charset="UTF-8"
    username, separator, password = decoded.partition(":")
    if not separator:
        raise _challenge("malformed Basic credentials")
    return username, password


def _allowed(user):
    if user.role not in ROLES:
        raise ApiError("forbidden", "your role may not use ODK Collect")
    g.user = user
    return user


def _base_url(token):
    """The absolute base Collect was configured with (PUBLIC_URL when behind a proxy)."""
    public = current_app.config.get("PUBLIC_URL")
    root = public.rstrip("/") if public else request.url_root.rstrip("/")
    return f"{root}{PREFIX}" + (f"/key/{token}" if token else "")


def _published(db):
    """The latest published version of every open form, by form id."""
    found = []
    for form in db.Form.select(lambda f: not f.archived).order_by(lambda f: f.form_id):
        version = latest_version(db, form.form_id)
        if version is not None:
            found.append(version)
    return found


def _xform_for(version, user):
    """The XForm of a version for this user (the village select lists the user's villages)."""
    return render_xform(version.definition, openrosa.villages_for(get_db(), user))


@device_route("/formList", methods=["GET", "HEAD"])
def form_list(token):
    """The xforms list: id, name, version, md5 hash and download URL of every open form."""
    user = device_user(token)
    wanted = request.args.get("formID")
    base, entries = _base_url(token), []
    for version in _published(get_db()):
        form_id = version.form.form_id
        if wanted and wanted != form_id:
            continue
        title = (version.definition.get("title") or {})
        entries.append({"formID": form_id, "name": title.get("vi") or form_id, "version": version.version,
                        "hash": xform_hash(_xform_for(version, user)),
                        "descriptionText": (version.definition.get("description") or {}).get("vi"),
                        "downloadUrl": f"{base}/forms/{form_id}/{version.version}/form.xml"})
    return xml_response(openrosa.form_list_xml(entries))


@device_route("/forms/<form_id>/<version>/form.xml", methods=["GET", "HEAD"])
def form_download(token, form_id, version):
    """One published version as an XForm."""
    user = device_user(token)
    db = get_db()
    form = db.Form.get(form_id=form_id)
    found = db.FormVersion.get(form=form, version=version) if form else None
    if found is None:
        raise ApiError("not_found", f"no published form {form_id!r} version {version!r}")
    return xml_response(_xform_for(found, user))


@device_route("/submission", methods=["HEAD", "POST"])
def submission(token):
    """HEAD: 204 with the accepted size. POST: one multipart submission into the shared ingest."""
    device_user(token)
    limit = int(current_app.config["OPENROSA_MAX_BYTES"])
    accept = {"X-OpenRosa-Accept-Content-Length": str(limit)}
    if request.method == "HEAD":
        return Response(status=204, headers=accept)
    if request.content_length is not None and request.content_length > limit:
        raise ApiError("too_large", f"the submission is larger than {limit} bytes", headers=accept)
    request.max_content_length = limit  # a chunked body stops at the limit too
    xml_bytes = _xml_part(request.files.get("xml_submission_file"))
    item = openrosa.submission_item(openrosa.parse_submission(xml_bytes), xml_bytes)
    lang = request_lang()
    result = ingest_batch(get_db(), g.user, [item], lang=lang)[0]
    status, message = openrosa.outcome(result, lang)
    if status == 201 and request.form.get("*isIncomplete*", "").lower() in ("yes", "true"):
        message = openrosa.message_text("incomplete", lang)
    return message_response(message, status, {"Location": request.base_url})


def _xml_part(part):
    """The bytes of the xml_submission_file part, refused past the XML size limit."""
    if part is None:
        raise ApiError("bad_request", "the multipart body has no xml_submission_file part")
    data = part.stream.read(openrosa.MAX_XML_BYTES + 1)
    if len(data) > openrosa.MAX_XML_BYTES:
        raise ApiError("too_large", f"the submission XML is larger than {openrosa.MAX_XML_BYTES} bytes")
    return data
