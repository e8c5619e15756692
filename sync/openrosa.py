"""OpenRosa submissions from ODK Collect: safe XML parsing and the mapping to an ingest item.

A Collect submission is the filled-in primary instance of the XForm rendered by
forms/xform.py. It becomes exactly the dict a JSON device sends to the batch ingest
(sync/ingest.py), so validation, deduplication, quarantine and roll-ups are shared:

    instance_id   <- meta/instanceID          supersedes   <- meta/deprecatedID (an edit)
    form_id       <- the root's id attribute  form_version <- its version (or orx:version)
    village_code  <- langso/village_code      household_key <- langso/household_key
    collected_at  <- langso/start (else langso/end), ISO 8601 with offset as Collect writes it
    answers       <- every other leaf element, by name (names are unique within a form)

The XML is parsed with defusedxml: a DTD, entity declarations or external references are
refused before anything is expanded, and sizes are checked before parsing.
"""
from __future__ import annotations

import base64
import hashlib
import json
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Iterator
from typing import Any

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from pony.orm import db_session

from forms.i18n import N_, translate
from forms.xform import VISIT

from . import access
from .errors import LangsoError
from .store import Entity, Store

MAX_XML_BYTES = 1024 * 1024  # one household's answers are a few kilobytes
MAX_ELEMENTS = 5000
ORX_VERSION = "{http://openrosa.org/xforms}version"
RESPONSE_NS = "http://openrosa.org/http/response"
FORM_LIST_NS = "http://openrosa.org/xforms/xformsList"
PROJECT_NAME = "Làng số"

MESSAGES = {  # code -> msgid (English) of the one catalogue (forms/translations)
    "accepted": N_("The household record was received."),
    "duplicate": N_("This record was received before; nothing changed."),
    "conflict": N_("The server holds a different record with the same instanceID; "
                   "this copy is kept for an administrator to review."),
    "rejected": N_("The record is not valid and is kept for review: %(errors)s"),
    "incomplete": N_("Part received; waiting for the remaining attachments."),
}


class OpenRosaError(LangsoError):
    """A submission that cannot be read at all (mapped to 400 by the server)."""
    code = "bad_request"


class SubmissionTooLarge(OpenRosaError):
    """A submission (or its XML part) over the size limit (mapped to 413)."""
    code = "too_large"


def local(tag: Any) -> Any:
    """The local name of an element tag, without its namespace."""
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def parse_submission(data: Any, max_bytes: int = MAX_XML_BYTES) -> Any:
    """The root element of a submission's XML bytes; refuses oversize, DTDs, entities and bad XML."""
    if len(data) > max_bytes:
        raise SubmissionTooLarge(N_("the submission XML is larger than %(n)s bytes"), n=max_bytes)
    try:
        root = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as error:
        raise OpenRosaError(N_("the submission XML declares a DTD or entities, which are refused (%(error)s)"),
                            error=error) from None
    except ET.ParseError as error:
        raise OpenRosaError(N_("the submission is not well-formed XML: %(error)s"), error=error) from None
    if sum(1 for _ in root.iter()) > MAX_ELEMENTS:
        raise OpenRosaError(N_("the submission has more than %(n)s elements"), n=MAX_ELEMENTS)
    return root


def child(element: Any, name: str) -> Any:
    """The first direct child with this local name, or None."""
    for node in element:
        if local(node.tag) == name:
            return node
    return None


def text_of(element: Any, name: str) -> Any:
    """The stripped text of a direct child, or '' when absent or empty."""
    node = child(element, name) if element is not None else None
    return (node.text or "").strip() if node is not None else ""


def leaves(element: Any) -> Iterator[Any]:
    """(name, text) for every leaf element below `element`, in document order."""
    for node in element.iter():
        if node is not element and len(node) == 0:
            yield local(node.tag), node.text or ""


def answers_of(root: Any) -> Any:
    """The answers of a submission: every leaf outside meta and the langso group, by its name."""
    answers = {}
    for node in root:
        name = local(node.tag)
        if name in ("meta", VISIT):
            continue
        pairs = [(name, node.text or "")] if len(node) == 0 else leaves(node)
        for leaf, value in pairs:
            if leaf in answers:
                raise OpenRosaError(N_("the element <%(name)s> appears twice; question names must be unique"),
                                    name=leaf)
            if value.strip():
                answers[leaf] = value
    return answers


def submission_item(root: Any, xml_bytes: Any) -> Any:
    """The ingest item (the JSON batch's submission dict) of a parsed submission."""
    instance_id = text_of(child(root, "meta"), "instanceID")
    if not instance_id:
        raise OpenRosaError(N_("the submission has no meta/instanceID"))
    if len(instance_id) > 128:
        raise OpenRosaError(N_("meta/instanceID is longer than 128 characters"))
    visit = child(root, VISIT)
    item = {
        "instance_id": instance_id,
        "form_id": root.get("id") or "",
        "form_version": root.get("version") or root.get(ORX_VERSION) or "",
        "village_code": text_of(visit, "village_code"),
        "household_key": text_of(visit, "household_key"),
        "collected_at": text_of(visit, "start") or text_of(visit, "end") or None,
        "answers": answers_of(root),
        "xml_sha256": hashlib.sha256(xml_bytes).hexdigest(),
    }
    deprecated = text_of(child(root, "meta"), "deprecatedID")
    if deprecated:
        item["supersedes"] = deprecated
    return item


def outcome(result: Any, lang: str = "vi") -> tuple:
    """(HTTP status, message) for one ingest result: 201 accepted/duplicate, 409 conflict, 400 rejected."""
    status = result["status"]
    if status == "rejected":
        details = "; ".join(f"{e.get('field')}: {e.get('message')}" for e in result.get("errors", []))
        return 400, translate(MESSAGES[status], lang, errors=details)
    return (409 if status == "conflict" else 201), translate(MESSAGES[status], lang)


def message_text(code: str, lang: str = "vi") -> Any:
    """A fixed OpenRosa message in the reader's language."""
    return translate(MESSAGES[code], lang)


def response_xml(message: str, nature: str = "submit_success") -> Any:
    """An OpenRosaResponse body carrying one message for Collect to show."""
    root = ET.Element("OpenRosaResponse", xmlns=RESPONSE_NS)
    ET.SubElement(root, "message", nature=nature).text = message
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")


def form_list_xml(entries: Any) -> Any:
    """The OpenRosa xforms list: entries are dicts with formID, name, version, hash, downloadUrl
    and optionally descriptionText and manifestUrl."""
    root = ET.Element("xforms", xmlns=FORM_LIST_NS)
    for entry in entries:
        xform = ET.SubElement(root, "xform")
        for key in ("formID", "name", "version", "hash", "descriptionText", "downloadUrl", "manifestUrl"):
            if entry.get(key) is not None:
                ET.SubElement(xform, key).text = str(entry[key])
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


@db_session
def villages_for(db: Store, user: Entity) -> list:
    """(code, "Village (Commune)") for every village the user may write, for the XForm's village select."""
    prefixes = access.scope_paths(user)
    found = {}
    for prefix in prefixes:
        # B023 is a false alarm: Pony runs the query at once, in this iteration, with this `prefix`
        for unit in db.Unit.select(lambda u: u.path.startswith(prefix) and not u.children):  # noqa: B023
            if access.may(user, access.WRITE, unit):
                found[unit.code] = unit
    ordered = sorted(found.values(), key=lambda u: (u.parent.name if u.parent else "", u.name, u.code))
    return [(u.code, f"{u.name} ({u.parent.name})" if u.parent else u.name) for u in ordered]


def collect_settings(server_url: str, username: str | None = None, password: str | None = None,
                     project: Any = PROJECT_NAME) -> dict[str, Any]:
    """The ODK Collect project settings a QR code carries (general, admin and project sections)."""
    general = {"server_url": server_url, "form_update_mode": "match_exactly",
               "periodic_form_updates_check": "every_one_hour", "autosend": "wifi_and_cellular",
               "app_language": "vi", "delete_send": False}
    if username:
        general.update(username=username, password=password or "")
    return {"general": general, "admin": {"change_server": False, "change_form_metadata": False},
            "project": {"name": project, "icon": "L", "color": "#1b7f3b"}}


def settings_payload(settings: Any) -> str:
    """The QR text Collect reads: zlib-compressed JSON, base64-encoded."""
    text = json.dumps(settings, ensure_ascii=False, separators=(",", ":"))
    return base64.b64encode(zlib.compress(text.encode("utf-8"))).decode("ascii")


def read_settings_payload(payload: dict[str, Any]) -> Any:
    """The settings dict inside a QR payload (what Collect does when it scans one)."""
    return json.loads(zlib.decompress(base64.b64decode(payload)).decode("utf-8"))
