"""A collector's device as a library: log in, pull forms and villages, collect, push, reconcile.

`Device(device_dir)` wraps the outbox (sync/device/outbox.py) and the HTTP client (sync/device/client.py);
`langso device ...` is a thin layer over it. Nothing here imports Flask or the web app: this
runs on the phone or laptop in the field.
"""
from __future__ import annotations

import os
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from ..wire import RESULTS
from .client import ClientError, NotLoggedIn, SyncClient, TooLarge, Unreachable
from .interview import check_answers, content_hash
from .outbox import QUEUED, REJECTED, SENT, SENT_RESULTS, Outbox, Submission, nfc, now_iso

DEFAULT_DIR = "~/.langso-device"
DEFAULT_BATCH = 200


def device_dir(path: Any | None = None) -> Any:
    """The device data folder: `path`, else $LANGSO_DEVICE_DIR, else ~/.langso-device."""
    return os.path.expanduser(path or os.environ.get("LANGSO_DEVICE_DIR") or DEFAULT_DIR)


@dataclass
class PullReport:
    """What a pull changed."""
    unchanged: bool = False
    forms_downloaded: list = field(default_factory=list)
    forms_removed: list = field(default_factory=list)
    villages: int = 0
    villages_removed: int = 0
    households: int = 0
    households_removed: int = 0
    cursor: str | None = None


@dataclass
class PushReport:
    """What a push did: per-status counts, what is left, and why it stopped early (if it did)."""
    counts: dict = field(default_factory=lambda: dict.fromkeys(RESULTS, 0))
    batches: int = 0
    remaining: int = 0
    stopped: str | None = None

    @property
    def sent(self) -> Any:
        """Submissions the server now holds (accepted, duplicate or conflict)."""
        return sum(self.counts.get(s, 0) for s in SENT_RESULTS)


class Device:
    """One device's state (the outbox in `directory`) and its conversations with the server."""

    def __init__(self, directory=None, backoff=None, on_retry=None, client_options=None):
        self.directory = device_dir(directory)
        self.outbox = Outbox.open(self.directory)
        self.backoff = backoff
        self.on_retry = on_retry
        self.client_options = dict(client_options or {})

    def __repr__(self):
        return f"<Device {self.directory}>"

    def close(self) -> None:
        """Close the outbox file."""
        self.outbox.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def client(self, require_token: bool = True) -> Any:
        """A SyncClient for the stored server URL and token; NotLoggedIn if there is none."""
        url, token = self.outbox.get("server_url"), self.outbox.get("token")
        if not url or (require_token and not token):
            raise NotLoggedIn("this device is not logged in; run `langso device login URL` first")
        return SyncClient(url, token, backoff=self.backoff, on_retry=self.on_retry, **self.client_options)

    # login ---------------------------------------------------------------------------

    def login(self, url: str, username: str, password: str) -> Any:
        """Get a token for `username` from the server at `url` and store both; returns the user."""
        client = SyncClient(url, backoff=self.backoff, on_retry=self.on_retry, **self.client_options)
        try:
            user = client.login(username, password)
        finally:
            client.close()
        if self.outbox.get("server_url") not in (None, client.base_url):
            self.outbox.set(cursor=None, etag=None)  # another server: its cursor means nothing here
        self.outbox.set(server_url=client.base_url, token=client.token, username=user.get("username", username))
        return user

    def logout(self) -> None:
        """Forget the token (queued submissions stay)."""
        self.outbox.set(token=None)

    # pull ----------------------------------------------------------------------------

    def pull(self, full: bool = False) -> Any:
        """Fetch what changed since the last pull: forms (downloading new versions), villages, households."""
        since, etag = (None, None) if full else (self.outbox.get("cursor"), self.outbox.get("etag"))
        client = self.client()
        try:
            body, new_etag = client.manifest(since=since, etag=etag)
            report = PullReport(unchanged=body is None, cursor=since)
            if body is not None:
                self._apply_manifest(client, body, report)
                self.outbox.set(cursor=body.get("cursor"), etag=new_etag)
                report.cursor = body.get("cursor")
        finally:
            client.close()
        return report

    def _apply_manifest(self, client, body, report):
        """Store a manifest: a full one replaces what the device holds, a partial one updates it."""
        full = body.get("full", True)
        if full:
            before = {v["code"] for v in self.outbox.villages()}
            self.outbox.clear_scope()
            offered = {(f["form_id"], str(f["version"])) for f in body.get("forms") or []}
            for known in self.outbox.forms():
                if (known["form_id"], known["version"]) not in offered:
                    self.outbox.forget_form(known["form_id"], known["version"])
                    report.forms_removed.append(f"{known['form_id']} {known['version']}")
            self._download_forms(client, body.get("forms") or [], report)
            villages = body.get("villages") or []
            self.outbox.save_villages(villages)
            report.villages = len(villages)
            report.villages_removed = len(before - {str(v["code"]) for v in villages})
        households = [(h["village_code"], h["household_key"]) for h in body.get("households") or []]
        self.outbox.save_households(households)
        report.households = len(households)
        self._apply_tombstones(body.get("tombstones") or [], report)

    def _download_forms(self, client, entries, report):
        """Download the definitions of form versions the device lacks, checking their content hash."""
        known = {(f["form_id"], f["version"]): f for f in self.outbox.forms()}
        for entry in entries:
            form_id, version = entry["form_id"], str(entry["version"])
            have = known.get((form_id, version))
            if have and have["downloaded"] and have["content_hash"] == entry.get("content_hash"):
                continue
            definition = client.form_definition(form_id, version, entry.get("url"))
            if entry.get("content_hash") and content_hash(definition) != entry["content_hash"]:
                raise ClientError(f"the downloaded form {form_id} {version} does not match its content hash; "
                                  "nothing was changed for it, pull again later")
            self.outbox.save_form(form_id, version, entry.get("content_hash"), entry.get("url"), definition)
            report.forms_downloaded.append(f"{form_id} {version}")

    def _apply_tombstones(self, tombstones, report):
        """Remove households and forms the server says are gone."""
        gone = [(t["village_code"], t["household_key"]) for t in tombstones if t.get("type") == "household"]
        self.outbox.remove_households(gone)
        report.households_removed = len(gone)
        for tombstone in tombstones:
            if tombstone.get("type") == "form":
                for known in self.outbox.forms():
                    if known["form_id"] == tombstone["form_id"]:
                        self.outbox.forget_form(known["form_id"], known["version"])
                        report.forms_removed.append(f"{known['form_id']} {known['version']}")

    # collect -------------------------------------------------------------------------

    def form(self, form_id: str | None = None, version: str | None = None) -> tuple:
        """(form_id, version, definition) of a downloaded form: the only one, or the one named."""
        if form_id is None:
            ids = sorted({f["form_id"] for f in self.outbox.forms() if f["downloaded"]})
            if len(ids) != 1:
                raise ValueError("name the form with --form (downloaded: " + (", ".join(ids) or "none; run pull") + ")")
            form_id = ids[0]
        found_version, definition = self.outbox.form_definition(form_id, version)
        if definition is None:
            raise ValueError(f"form {form_id} {version or ''} is not on this device; run `langso device pull`")
        return form_id, found_version, definition

    def prepare(self, answers: dict[str, Any], village_code: str, household_key: str, form_id: str | None = None,
                version: str | None = None, collected_at: Any | None = None, supersedes: Any | None = None,
                lang: str = "vi", known: Any | None = None) -> Any:
        """A Submission ready to queue, checked with the form engine; raises InvalidVisit listing errors.

        `known` caches the forms and villages looked up, when many visits are prepared at once.
        """
        known = {} if known is None else known
        if (form_id, version) not in known:
            known[(form_id, version)] = self.form(form_id, version)
        form_id, version, definition = known[(form_id, version)]
        if "villages" not in known:
            known["villages"] = {v["code"] for v in self.outbox.villages()}
        errors = _place_errors(village_code, household_key, known["villages"])
        clean, answer_errors = check_answers(definition, nfc(dict(answers)), lang)
        errors += [dict(e, field=f"answers.{e['field']}") for e in answer_errors]
        if errors:
            raise InvalidVisit(errors)
        return Submission(instance_id=str(uuid.uuid4()), form_id=form_id, form_version=version,
                          village_code=str(village_code), household_key=nfc(str(household_key).strip()),
                          collected_at=collected_at or now_iso(), answers=clean, supersedes=supersedes)

    def collect(self, visits: Any, lang: str = "vi") -> Any:
        """Check and queue several visits (dicts of prepare's arguments), all or nothing."""
        prepared, errors, known = [], [], {}
        for index, visit in enumerate(visits):
            try:
                prepared.append(self.prepare(lang=lang, known=known, **visit))
            except InvalidVisit as error:
                errors += [dict(e, field=f"[{index}].{e['field']}") for e in error.errors]
        if errors:
            raise InvalidVisit(errors)
        return self.outbox.add_many(prepared)

    def fix(self, instance_id: str, answers: dict[str, Any], lang: str = "vi") -> Any:
        """Requeue a rejected visit with corrected answers, checked first (same id: the server replaces it)."""
        original = self.outbox.get_submission(instance_id)
        if original is None:
            raise ValueError(f"no visit {instance_id} on this device")
        checked = self.prepare(answers, original.village_code, original.household_key, original.form_id,
                               original.form_version, original.collected_at, original.supersedes, lang)
        return self.outbox.amend(instance_id, checked.answers)

    # push ----------------------------------------------------------------------------

    def push(self, batch_size: int = DEFAULT_BATCH, progress: Any | None = None) -> Any:
        """Send queued submissions in batches, oldest first, recording each result as it comes back."""
        report, size, after = PushReport(), max(1, int(batch_size)), 0
        client = self.client()
        try:
            while True:
                batch = self.outbox.next_batch(size, after_seq=after)
                if not batch:
                    break
                sent, size = self._push_one(client, batch, size, report)
                if sent is None:
                    break
                if sent:
                    after = max(s.seq for s in batch[:sent])
                if progress:
                    progress(sent)
        finally:
            client.close()
        report.remaining = self.outbox.counts()[QUEUED]
        return report

    def _push_one(self, client, batch, size, report):
        """Send one batch; returns (items handled or None to stop, the batch size to use next)."""
        ids = [s.instance_id for s in batch]
        self.outbox.mark_attempt(ids)
        try:
            results = client.push_batch([s.wire() for s in batch])
        except TooLarge:
            if len(batch) > 1:
                return 0, max(1, len(batch) // 2)
            self.outbox.record_results([{"instance_id": ids[0], "status": "rejected", "errors": [
                {"field": "", "code": "too_large", "message": "this submission alone exceeds the server's limit"}]}])
            report.counts["rejected"] += 1
            return 1, size
        except NotLoggedIn:
            report.stopped = "the server no longer accepts this device's token; run `langso device login URL` again"
            raise
        except Unreachable as error:
            self._note_failure(ids, error.message)
            report.stopped = error.message
            return None, size
        except ClientError as error:
            blamed = _item_errors(error, ids) if error.status == 400 else {}
            if blamed:  # set the blamed items aside (kept, with the reasons) and send the rest again
                self.outbox.record_results([{"instance_id": i, "status": "rejected", "errors": e}
                                            for i, e in blamed.items()])
                report.counts["rejected"] += len(blamed)
                return 0, size
            self._note_failure(ids, error.message)
            report.stopped = f"the server refused the batch: {error.message}"
            return None, size
        for status, number in self.outbox.record_results(_known(results, ids)).items():
            report.counts[status] = report.counts.get(status, 0) + number
        report.batches += 1
        return len(batch), size

    def _note_failure(self, ids, message):
        """Remember why the last attempt at these submissions failed (shown by status)."""
        with self.outbox.transaction() as db:
            db.executemany("UPDATE submission SET last_error = ? WHERE instance_id = ?", [(message, i) for i in ids])

    # status and reconcile --------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """Counts by state, rejected submissions with their reasons, and where the device syncs."""
        rejected = [{"instance_id": s.instance_id, "village_code": s.village_code,
                     "household_key": s.household_key, "collected_at": s.collected_at,
                     "errors": s.errors}
                    for s in self.outbox.submissions(REJECTED)]
        failing = [{"instance_id": s.instance_id, "attempts": s.attempts, "last_error": s.last_error}
                   for s in self.outbox.submissions(QUEUED) if s.last_error][:20]
        return {"server_url": self.outbox.get("server_url"), "username": self.outbox.get("username"),
                "logged_in": bool(self.outbox.get("token")), "cursor": self.outbox.get("cursor"),
                "counts": self.outbox.counts(), "rejected": rejected, "failing": failing}

    def reconcile(self) -> dict[str, Any]:
        """Ask the server what it holds for every id on this device and align the outbox with it."""
        client = self.client()
        try:
            held = client.receipts(self.outbox.instance_ids())
        finally:
            client.close()
        found = [dict(r, status="accepted") if r.get("status") == "superseded" else r for r in held.values()]
        found = [r for r in found if r.get("status") in RESULTS]
        self.outbox.record_results(found)
        held_ids = {r["instance_id"] for r in found}
        lost = [i for i in self.outbox.instance_ids(SENT) if i not in held_ids]
        self.outbox.requeue(lost)
        return {"known_to_server": len(found), "requeued": len(lost), "counts": self.outbox.counts()}


class InvalidVisit(ValueError):
    """A visit that breaks the form's rules; `errors` lists {"field", "code", "message"}."""

    def __init__(self, errors):
        super().__init__(f"{len(errors)} problem(s) in the answers")
        self.errors = errors


def _known(results, ids):
    """The results that answer one of the ids sent (anything else is ignored)."""
    wanted = set(ids)
    return [r for r in results if isinstance(r, dict) and r.get("instance_id") in wanted]


def _place_errors(village_code, household_key, villages):
    """Errors in where a visit took place: a village among the device's, a household key."""
    errors = []
    if not village_code:
        errors.append({"field": "village_code", "code": "required", "message": "choose a village"})
    elif villages and str(village_code) not in villages:
        errors.append({"field": "village_code", "code": "not_in_scope",
                       "message": f"village {village_code} is not among this device's villages"})
    if not str(household_key or "").strip():
        errors.append({"field": "household_key", "code": "required", "message": "give the household key"})
    return errors


def _item_errors(error, ids):
    """{instance_id: errors} for the items a 400 answer blames by position ("submissions.3...")."""
    blamed = {}
    for item in error.errors:
        match = re.match(r"submissions[.\[](\d+)", str(item.get("field", "")))
        if match and int(match.group(1)) < len(ids):
            blamed.setdefault(ids[int(match.group(1))], []).append(item)
    return blamed
