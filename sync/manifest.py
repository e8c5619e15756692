"""The incremental pull: what a device needs to work offline, and only what changed since.

    {"cursor": "1234.9f2c0a1b3d4e", "since": null | "<cursor>", "full": true | false,
     "forms": [{"form_id", "version", "content_hash", "url", "title", "latest"}],      (full only)
     "villages": [{"code", "name", "parent_code"}],                                   (full only)
     "households": [{"village_code", "household_key", "instance_id", "form_id", "collected_at"}],
     "tombstones": [{"type": "household", "village_code", "household_key"} | {"type": "form", "form_id"}]}

The cursor is "<seq>.<digest>": `seq` is the highest submission sequence number in the
caller's villages (receipt order, which is also commit order, so it only grows) and
`digest` fingerprints the published forms and the villages in scope. With `since`, when the
digest is unchanged only households whose state changed after `seq` are listed (a household
with no accepted submission left becomes a tombstone); when forms or villages changed (a
version published, a form closed, a village renamed, the caller's scope changed) the answer
is full (`"full": true`): the device replaces what it holds.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

from pony.orm import db_session

from . import access, submission_table as table
from .errors import Invalid
from .ingest_sql import as_datetime
from .store import Entity, Store

CURSOR = re.compile(r"^(\d{1,19})\.([0-9a-f]{12})$")


def parse_cursor(text: str) -> tuple:
    """(seq, digest) from a cursor string, or Invalid naming the `since` field."""
    match = CURSOR.match(text or "")
    if not match or int(match.group(1)) > 2 ** 63 - 1:  # past any BIGINT sequence number
        raise Invalid("since is not a cursor this server gave out",
                      [{"field": "since", "code": "invalid_cursor", "message": "use the cursor of a manifest"}])
    return int(match.group(1)), match.group(2)


def _in_scope(prefixes, alias="u"):
    """SQL condition 'unit path inside one of the prefixes' and its parameters."""
    if "/" in prefixes:
        return "1 = 1", {}
    parts = [f"substr({alias}.path, 1, length($p{i})) = $p{i}" for i in range(len(prefixes))]
    return "(" + " OR ".join(parts) + ")" if parts else "1 = 0", {f"p{i}": p for i, p in enumerate(prefixes)}


def villages_in_scope(db: Store, prefixes: Any) -> list:
    """Leaf units (villages) inside the caller's scope, with their parent's code."""
    condition, params = _in_scope(prefixes)
    rows = db.select("SELECT u.code, u.name, p.code FROM unit u LEFT JOIN unit p ON p.id = u.parent "
                     f"WHERE {condition} AND NOT EXISTS (SELECT 1 FROM unit c WHERE c.parent = u.id) "
                     "ORDER BY u.code", globals={}, locals=params)
    return [{"code": code, "name": name, "parent_code": parent} for code, name, parent in rows]


def published_forms(db: Store, form_url: Any) -> Any:
    """Every published version of every open form, newest first per form."""
    rows = db.select("SELECT f.form_id, v.version, v.content_hash, f.title, v.seq FROM form_version v "
                     "JOIN survey_form f ON f.id = v.form WHERE f.archived = $no ORDER BY f.form_id, v.seq DESC",
                     globals={}, locals={"no": False})
    forms, seen = [], set()
    for form_id, version, digest, title, _ in rows:
        forms.append({"form_id": form_id, "version": version, "content_hash": digest,
                      "url": form_url(form_id, version), "title": _json(title), "latest": form_id not in seen})
        seen.add(form_id)
    return forms


def archived_forms(db: Store) -> list:
    """Tombstones for closed forms."""
    return [{"type": "form", "form_id": form_id}
            for form_id in db.select("SELECT form_id FROM survey_form WHERE archived = $yes", globals={},
                                     locals={"yes": True})]


def _json(value):
    return json.loads(value) if isinstance(value, str) else value


def _digest(forms, villages):
    """Fingerprint of what the device holds besides households (URLs left out: they follow the host)."""
    shown = [{k: v for k, v in form.items() if k != "url"} for form in forms]
    text = json.dumps([shown, villages], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def _latest_seq(db, prefixes):
    condition, params = _in_scope(prefixes)
    return table.latest_seq(db, condition, params)


def _household_entries(rows):
    """The latest accepted submission per (village, household key) from raw rows."""
    best = {}
    for village_code, household_key, instance_id, form_id, collected_at, seq in rows:
        moment = as_datetime(collected_at)
        key = (village_code, household_key)
        if key not in best or (moment, seq) > best[key][0]:
            best[key] = ((moment, seq), {"village_code": village_code, "household_key": household_key,
                                         "instance_id": instance_id, "form_id": form_id,
                                         "collected_at": moment.isoformat() + "Z" if moment else None})
    return {key: entry for key, (_, entry) in best.items()}


def all_households(db: Store, prefixes: Any) -> list:
    """Every household key with an accepted submission in the caller's villages."""
    condition, params = _in_scope(prefixes)
    rows = table.accepted_households(db, condition, params)
    return sorted(_household_entries(rows).values(), key=lambda e: (e["village_code"], e["household_key"]))


def changed_households(db: Store, prefixes: Any, since_seq: Any) -> Any:
    """(entries, tombstones) for households whose submissions changed after `since_seq`."""
    condition, params = _in_scope(prefixes)
    changed = table.changed_since(db, condition, params, since_seq)
    keys = {(village, household) for village, household, _ in changed}
    replaced = sorted({target for _, _, target in changed if target})
    keys |= table.household_keys_of(db, replaced)
    if not keys:
        return [], []
    rows = table.accepted_by_household_key(db, sorted({k[1] for k in keys}))
    present = {key: entry for key, entry in _household_entries(rows).items() if key in keys}
    gone = [{"type": "household", "village_code": v, "household_key": h} for v, h in sorted(keys - set(present))]
    return sorted(present.values(), key=lambda e: (e["village_code"], e["household_key"])), gone


@db_session
def build_manifest(db: Store, user: Entity, since: str | None = None,
                   form_url: Callable[[str, str], str] = lambda form_id, version:
                   f"/api/v1/forms/{form_id}/versions/{version}") -> dict[str, Any]:
    """The manifest for `user`, full or changes since a cursor; returns the response dict."""
    prefixes = access.scope_paths(user)
    since_seq, since_digest = parse_cursor(since) if since else (None, None)
    forms, villages = published_forms(db, form_url), villages_in_scope(db, prefixes)
    digest, seq = _digest(forms, villages), _latest_seq(db, prefixes)
    answer = {"cursor": f"{seq}.{digest}", "since": since}
    if since is None or since_digest != digest or since_seq > seq:
        answer.update(full=True, forms=forms, villages=villages, households=all_households(db, prefixes),
                      tombstones=archived_forms(db))
        return answer
    households, tombstones = changed_households(db, prefixes, since_seq)
    answer.update(full=False, households=households, tombstones=tombstones)
    return answer


@db_session
def current_cursor(db: Store, user: Entity) -> str:
    """The cursor a manifest would carry now (cheap enough for ETag checks)."""
    prefixes = access.scope_paths(user)
    forms = published_forms(db, lambda form_id, version: "")
    return f"{_latest_seq(db, prefixes)}.{_digest(forms, villages_in_scope(db, prefixes))}"
