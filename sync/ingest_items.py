"""The batch wire format: decoding the envelope, checking each item's fields, content hashes.

    {"submissions": [{"instance_id", "form_id", "form_version", "village_code", "household_key",
                      "collected_at" (ISO 8601 with offset), "answers": {...}, "supersedes"?}]}

Only a body that is not JSON, not this envelope, or has an item without a usable
`instance_id` fails the whole request (the device could not match an answer to it); every
other problem is a per-item rejection with a field path and an error code. That includes
values no database column can hold: NaN and infinite numbers (which some JSON encoders
write though JSON has none) and NUL or unpaired surrogate characters. Such an item is
kept in quarantine with those values replaced (numbers by their name as a string,
characters by U+FFFD), its content hash still taken from what the device sent.
"""
from __future__ import annotations

import hashlib
import json
import math
import unicodedata
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from forms.i18n import N_, translate

from .errors import LangsoError
from .ingest_sql import json_module_bytes

MAX_ID_LENGTH = 128
MAX_KEY_LENGTH = 100
MAX_NESTING = 32  # levels of arrays/objects in one item (answers are at most a list in an object)
FUTURE_TOLERANCE = timedelta(days=1)  # a collected_at later than this ahead of the server is flagged
TEXT_FIELDS = (("form_id", MAX_ID_LENGTH), ("form_version", MAX_ID_LENGTH), ("village_code", MAX_ID_LENGTH),
               ("household_key", MAX_KEY_LENGTH))

MESSAGES = {  # code -> msgid (English); translations in forms/translations
    "required": N_("This field is required"),
    "not_a_string": N_("Must be a string"),
    "too_long": N_("Too long"),
    "not_an_object": N_("Must be a JSON object"),
    "invalid_datetime": N_("Must be an ISO 8601 time with offset, e.g. 2025-03-01T09:30:00+07:00"),
    "unknown_form": N_("No such form"),
    "unknown_form_version": N_("The form has no such published version"),
    "form_archived": N_("The form is closed to new submissions"),
    "unknown_village": N_("No village with this code"),
    "not_a_village": N_("This unit is not a village"),
    "village_out_of_scope": N_("The village is outside your scope"),
    "collected_at_in_future": N_("collected_at is in the future (device clock wrong?)"),
    "invalid_number": N_("Not a valid number (NaN or infinite)"),
    "invalid_character": N_("Contains an invalid character (NUL or half a UTF-16 pair)"),
    "too_deep": N_("The data is nested too deeply (at most %(levels)s levels)"),
}


def message(code: str, lang: str) -> Any:
    """A message in `lang` ("vi" or "en"), falling back to Vietnamese."""
    return translate(MESSAGES[code], lang, levels=MAX_NESTING) if code in MESSAGES else code


def item_error(field: Any, code: str, lang: str) -> dict[str, Any]:
    """One per-item error in the wire shape."""
    return {"field": field, "code": code, "message": message(code, lang)}


class BatchError(LangsoError):
    """The request as a whole cannot be processed (mapped to 400 or 413 by the server)."""
    code = "bad_request"


class MalformedJson(BatchError):
    code = "malformed_json"


class BatchTooLarge(BatchError):
    code = "too_large"


class Item:
    """One submission of a batch, from its wire form to its stored row."""
    __slots__ = ("index", "instance_id", "raw", "content_hash", "form_id", "form_version", "village_code",
                 "household_key", "collected_at", "collected_on", "supersedes", "errors", "flags",
                 "status", "village_id", "round", "answers", "indicators", "refusal", "seq", "row_id",
                 "stored_id", "copy_of", "is_current", "encoded")

    def __init__(self, index, raw, lang="vi"):
        self.index, self.instance_id = index, raw["instance_id"]
        self.errors, self.flags = [], []
        try:
            data = canonical_json(raw)
            deep = data.count(b"[") + data.count(b"{") > MAX_NESTING and nesting(raw) > MAX_NESTING  # rarely
        except RecursionError:
            data, deep = None, True
        if deep:  # kept (rejected) as a copy cut at MAX_NESTING levels, which every page and export can show
            self.errors.append(item_error(_deepest_field(raw), "too_deep", lang))
            raw = flattened(raw, MAX_NESTING)
            data = canonical_json(raw)
        self.content_hash = hashlib.sha256(data).hexdigest()
        if b"\\u0000" in data or b"NaN" in data or b"Infinity" in data or b"\xed" in data:  # rarely true
            raw = self._storable(raw, lang)
        self.raw = raw
        self.form_id = self.form_version = self.village_code = self.household_key = ""
        self.collected_at = self.collected_on = self.supersedes = None
        self.status, self.village_id, self.round = None, None, None
        self.answers, self.indicators, self.refusal = None, None, False
        self.seq = self.row_id = self.copy_of = None
        self.stored_id, self.is_current, self.encoded = self.instance_id, False, ()

    def _storable(self, raw, lang):
        """`raw` with the values no column can hold replaced, each one reported on its path."""
        problems = []
        storable = replace_unstorable(raw, "", problems)
        for path, code in problems:
            self.errors.append(item_error(path, code, lang))
        return storable if problems else raw

    def key(self) -> tuple:
        """The household this item is about, within its form and round."""
        return (self.village_id, self.form_id, self.round, self.household_key)

    def result(self) -> Any:
        """The wire answer for this item."""
        status = "accepted" if self.status == "superseded" else self.status  # stored, replaced by an edit
        answer = {"instance_id": self.instance_id, "status": status,
                  "errors": self.errors if self.status == "rejected" else []}
        if self.flags:
            answer["flags"] = self.flags
        return answer


def content_hash(raw: Any) -> str:
    """SHA-256 of the item's canonical JSON: equal for the same content in any key order."""
    return hashlib.sha256(canonical_json(raw)).hexdigest()


def canonical_json(raw: Any) -> Any:
    """Sorted-key compact UTF-8 JSON; NaN and infinities written by name so they never equal null."""
    try:
        data = orjson.dumps(raw, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # integers past 64 bits, unpaired surrogates
        return json_module_bytes(raw, sort_keys=True)
    if b"null" in data and _has_non_finite(raw):
        return json_module_bytes(raw, sort_keys=True)
    return data


def nesting(value: Any, limit: int = MAX_NESTING) -> Any:
    """Levels of arrays and objects in a JSON value (a scalar is 0), counted up to `limit` + 1."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, level = stack.pop()
        kind = type(item)
        if kind is dict or kind is list:
            level += 1
            if level > deepest:
                deepest = level
                if deepest > limit:
                    break
            stack.extend((child, level) for child in (item.values() if kind is dict else item))
    return deepest


def _deepest_field(raw):
    """The top-level field of an item under which the nesting goes too deep ("answers" usually)."""
    for key, value in raw.items() if type(raw) is dict else ():
        if nesting(value, MAX_NESTING - 1) > MAX_NESTING - 1:
            return _storable_text(str(key))[:100]
    return None


def flattened(value: Any, limit: int, level: int = 0) -> Any:
    """A copy of a JSON value whose arrays/objects below `limit` levels are replaced by a marker string.

    A rejected item is kept (in quarantine) with this copy, so no page or export meets data too deep
    for its JSON tools.
    """
    kind = type(value)
    if kind is not dict and kind is not list:
        return value
    if level >= limit - 1:
        return "[too deep]"
    if kind is dict:
        return {key: flattened(item, limit, level + 1) for key, item in value.items()}
    return [flattened(item, limit, level + 1) for item in value]


def _has_non_finite(value):
    """Does a JSON value hold NaN or an infinite float anywhere?"""
    kind = type(value)
    if kind is float:
        return not math.isfinite(value)
    if kind is dict:
        return any(_has_non_finite(v) for v in value.values())
    if kind is list:
        return any(_has_non_finite(v) for v in value)
    return False


def replace_unstorable(value: Any, path: Any, problems: Any) -> Any:
    """A copy of a JSON value without NaN, infinities, NUL or unpaired surrogates; (path, code) in problems."""
    kind = type(value)
    if kind is float and not math.isfinite(value):
        problems.append((path, "invalid_number"))
        return json.dumps(value)  # "NaN", "Infinity", "-Infinity"
    if kind is str:
        fixed = _storable_text(value)
        if fixed is not value:
            problems.append((path, "invalid_character"))
        return fixed
    if kind is dict:
        copy = {}
        for key, item in value.items():
            name = _storable_text(str(key))
            if name is not key:  # a key with NUL or half a UTF-16 pair is reported on its path too
                problems.append((_join(path, key), "invalid_character"))
            copy[name] = replace_unstorable(item, _join(path, key), problems)
        return copy
    if kind is list:
        return [replace_unstorable(item, _join(path, index), problems) for index, item in enumerate(value)]
    return value


def _storable_text(text):
    """The text itself when storable, else a copy with NUL and unpaired surrogates as U+FFFD."""
    if "\x00" not in text and not any("\ud800" <= char <= "\udfff" for char in text):
        return text
    return "".join("\ufffd" if char == "\x00" or "\ud800" <= char <= "\udfff" else char for char in text)


def _join(path, key):
    key = _storable_text(str(key))[:100]
    return f"{path}.{key}" if path else key


def decode_envelope(body: Any, max_items: Any) -> Any:
    """Turn the request body into raw item dicts, or raise a request-level BatchError."""
    data = parse_json(body)
    if not isinstance(data, dict) or not isinstance(data.get("submissions"), list):
        raise BatchError('the body must be {"submissions": [...]}',
                         [{"field": "submissions", "code": "required", "message": "a list is required"}])
    items = data["submissions"]
    if len(items) > max_items:
        raise BatchTooLarge(f"at most {max_items} submissions per request; split the batch",
                            [{"field": "submissions", "code": "too_many", "message": f"{len(items)} > {max_items}"}])
    errors = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            errors.append({"field": f"submissions.{index}", "code": "not_an_object",
                           "message": "each submission must be a JSON object"})
            continue
        ident = item.get("instance_id")
        if not isinstance(ident, str) or not ident.strip() or len(ident) > MAX_ID_LENGTH or "\x00" in ident:
            errors.append({"field": f"submissions.{index}.instance_id", "code": "invalid_instance_id",
                           "message": f"instance_id must be a non-empty string of at most {MAX_ID_LENGTH} "
                                      "characters, without NUL"})
    if errors:
        raise BatchError(f"{len(errors)} submission(s) cannot be identified; nothing was stored", errors)
    return items


def parse_json(body: Any) -> Any:
    """The decoded body; NaN, Infinity and numbers too large for a float are left to per-item checks."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        first = error  # orjson refuses NaN, Infinity, 1e400 and unpaired surrogates; json.loads does not
    else:
        return data
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise MalformedJson(f"the body is not valid JSON: {first}") from None
    _refuse_lone_surrogates(body, data)
    return data


def _refuse_lone_surrogates(body, data):
    """JSON may escape half of a UTF-16 pair ("\\ud800"), which is no character: refuse the body."""
    marker = b"\\ud" if isinstance(body, bytes) else "\\ud"
    if marker not in body.lower():
        return
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise MalformedJson("the body contains an unpaired UTF-16 surrogate escape (\\ud800-\\udfff)") from None


def nfc(text: str) -> str:
    """Unicode NFC with surrounding blanks removed."""
    return unicodedata.normalize("NFC", text).strip()


def parse_collected_at(value: Any) -> tuple | None:
    """(naive UTC datetime, local date) from an ISO 8601 time with offset, or None."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    try:
        return moment.astimezone(UTC).replace(tzinfo=None), moment.date()
    except OverflowError:  # 0001-01-01T00:00+01:00 is before year 1 in UTC: no storable time
        return None


def check_fields(item: Any, lang: str, now: datetime) -> bool:
    """Fill the item's identifying fields, recording a field error for each bad one."""
    raw = item.raw
    for name, limit in TEXT_FIELDS:
        value = raw.get(name)
        if type(value) is str and len(value) <= limit and value.strip():
            setattr(item, name, value.strip() if value.isascii() else nfc(value))  # ASCII is already NFC
        else:
            item.errors.append(item_error(name, _text_problem(value), lang))
    _check_collected_at(item, lang, now)
    answers = raw.get("answers")
    if not isinstance(answers, dict):
        item.errors.append(item_error("answers", "required" if answers is None else "not_an_object", lang))
    supersedes = raw.get("supersedes")
    if supersedes is not None:
        if not isinstance(supersedes, str) or len(supersedes) > MAX_ID_LENGTH:
            item.errors.append(item_error("supersedes", "not_a_string", lang))
        elif supersedes.strip() and supersedes != item.instance_id:
            item.supersedes = supersedes
    return not item.errors


def _text_problem(value):
    """Why an identifying field is unusable: missing or blank, not a string, or too long."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return "required"
    return "not_a_string" if not isinstance(value, str) else "too_long"


def _check_collected_at(item, lang, now):
    """Parse collected_at; flag (not reject) one far in the future."""
    if item.raw.get("collected_at") is None:
        item.errors.append(item_error("collected_at", "required", lang))
        return
    parsed = parse_collected_at(item.raw["collected_at"])
    if parsed is None:
        item.errors.append(item_error("collected_at", "invalid_datetime", lang))
        return
    item.collected_at, item.collected_on = parsed
    if item.collected_at > now + FUTURE_TOLERANCE:
        item.flags.append("collected_at_in_future")
