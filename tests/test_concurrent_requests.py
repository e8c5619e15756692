"""Two requests at the same moment: never a 5xx, a lost race is a 4xx, and the data stays whole.

Races over the network: a real gunicorn with four workers serves one database for the whole
module (SQLite, or PostgreSQL when LANGSO_TEST_DATABASE_URL is set); the calls of a round
leave their threads together through a barrier, every race runs for several rounds, and each
round builds its own rows (tokens, forms, quarantined records, accounts) so rounds never meet.

Races that lose an update are also built deterministically in this process: one request is
held right after it read what it will write (a module function it calls next is wrapped),
the other request runs to its end and commits, then the first goes on. Each reproduced a 500
(Pony's optimistic check or a unique key failing at the end-of-request commit) or a lost update
before its fix; a lost race now answers 409 (errors.handle_concurrent_change) or does not happen.
"""
import io
import logging
import os
import re
import threading
import uuid
from collections import Counter
from datetime import datetime

import pytest
import requests
import yaml
from pony.orm import db_session

import forms
import server.api.forms as api_forms  # the modules whose functions the deterministic races hold
import server.api.odk_devices as api_devices
import server.api.sessions as api_sessions
import server.web.admin_pages as admin_pages
import server.web.form_pages as form_pages
from server import auth, create_app
from server.bench.loadtest import FreshDatabase, Server
from sync import migrations, tally
from sync.accounts import create_user, hash_password, issue_token, token_digest
from sync.form_versions import publish_default_form
from sync.ingest import ingest_batch
from sync.store import open_store
from sync.units import import_units, load_gia_lai

from .conftest import CHU_PAH, CHU_PAH_COMMUNE, PASSWORD, postgres_base_url
from .support.ingest import OTHER_VILLAGE, VILLAGE, VILLAGES_CSV, household, submission

ROUNDS = int(os.environ.get("LANGSO_RACE_ROUNDS", 12))  # rounds of a race (raise it to hunt for rare losses)
ARGON_ROUNDS = max(1, ROUNDS // 3)  # races that hash or verify passwords (argon2 is slow) run fewer
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
ERROR_KEYS = {"status", "errno", "code", "message", "errors"}
PASSWORD_HASH = hash_password(PASSWORD)  # accounts made per round share one hash (argon2 is slow)
STAFF = ("staff_chupah", "staff_chupah_b")


# the served database, shared by the module -------------------------------------------------------

class Racetrack:
    """The database gunicorn serves (open as a Pony store here too), the server's address and log."""

    def __init__(self, url, folder):
        self.url, self.folder = url, folder
        self.store = open_store(url)
        self.base, self.server, self.headers = None, None, {}

    def start(self, workers=4):
        self.server = Server(self.url, str(self.folder), workers,
                             env={"LANGSO_SECRET_KEY": "race-secret", "LANGSO_RATELIMIT_ENABLED": "false"}).start()
        self.base = self.server.base

    def stop(self):
        if self.server is not None:
            self.server.stop()
        self.store.disconnect()
        self.store.provider.disconnect()

    # rows the races need ---------------------------------------------------------------------------

    def token(self, username, kind="api", used=False):
        """A new token's secret; `used`: as if it had just been used (so using it again writes nothing)."""
        with db_session:
            secret = issue_token(self.store, self.store.User.get(username=username), kind=kind, label="race")
            if used:
                self.store.ApiToken.get(digest=token_digest(secret)).last_used_at = datetime.utcnow()
        return secret

    def bearer(self, username, used=True):
        return {"Authorization": f"Bearer {self.token(username, used=used)}"}

    def signed(self, username):
        """One bearer header per account for the module, used once already (later uses write nothing)."""
        if username not in self.headers:
            self.headers[username] = self.bearer(username, used=False)
            assert requests.get(self.base + "/api/v1/me", headers=self.headers[username], timeout=30).ok
        return self.headers[username]

    def account(self, scope=(CHU_PAH_COMMUNE,)):
        """A new collector (password PASSWORD); returns (username, id)."""
        name = f"collector_{uuid.uuid4().hex[:8]}"
        with db_session:
            user = create_user(self.store, name, "collector", list(scope), None, password_hash=PASSWORD_HASH)
            user.flush()
            return name, user.id

    def quarantined(self):
        """A new record rejected for a bad answer (more adults with a smartphone than adults), in Phú Hòa."""
        item = submission(household_key=f"hh-{uuid.uuid4().hex[:8]}", answers=household(adults_smartphone=5))
        with db_session:
            [result] = ingest_batch(self.store, self.store.User.get(username="collector_phuhoa"), [item])
        assert result["status"] == "rejected", result
        return item

    def new_form(self):
        """A new form (draft only), created over the API."""
        form_id = f"race_{uuid.uuid4().hex[:8]}"
        created = requests.post(self.base + "/api/v1/forms", headers=self.signed("admin"),
                                json=form_document(form_id), timeout=30)
        assert created.status_code == 201, created.text
        return form_id

    def count(self, sql, **params):
        with db_session:
            return self.store.select(sql, globals={}, locals=params)[0]

    def sums_agree(self):
        """The maintained roll-up sums equal a recomputation from the stored submissions."""
        with db_session:
            assert tally.check(self.store) == []

    def audits(self, action, target):
        return self.count("SELECT COUNT(*) FROM audit_entry WHERE action = $action AND target = $target",
                          action=action, target=target)


@pytest.fixture(scope="module")
def track(tmp_path_factory):
    """Gia Lai, the default form, four villages, two admins, two Chư Păh staff and the Phú Hòa collector, served."""
    folder = tmp_path_factory.mktemp("races")
    database = FreshDatabase(postgres_base_url(), folder, "races")
    racetrack = Racetrack(database.url, folder)
    try:
        store = racetrack.store
        migrations.upgrade(store)
        load_gia_lai(store)
        publish_default_form(store)
        import_units(store, VILLAGES_CSV)
        with db_session:
            for name, role, scope in (("admin", "admin", []), ("admin_b", "admin", []),
                                      ("staff_chupah", "district_staff", [CHU_PAH]),
                                      ("staff_chupah_b", "district_staff", [CHU_PAH]),
                                      ("collector_phuhoa", "collector", [CHU_PAH_COMMUNE])):
                create_user(store, name, role, scope, None, password_hash=PASSWORD_HASH)
        racetrack.start()
        yield racetrack
    finally:
        racetrack.stop()
        database.drop()


def form_document(form_id, version="1", note="race"):
    """A valid form definition (the default form's questions under another id)."""
    return dict(forms.household_digital(), id=form_id, version=version,
                title={"vi": f"Phiếu {form_id}", "en": form_id}, description={"vi": note, "en": note})


# racing over the network -------------------------------------------------------------------------

def at_once(*calls):
    """Run every call in its own thread, all released together by a barrier; their answers, in order."""
    gate, answers = threading.Barrier(len(calls)), [None] * len(calls)

    def run(index):
        try:
            gate.wait(timeout=30)  # a timeout breaks the barrier: BrokenBarrierError in every thread
            answers[index] = calls[index]()
        except Exception as error:  # noqa: BLE001 - reported by Rounds
            answers[index] = error
    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert not any(thread.is_alive() for thread in threads), f"a call of the round outlived 90 s: {answers}"
    assert not any(isinstance(answer, threading.BrokenBarrierError) for answer in answers), \
        "the calls were not released together"
    return answers


class Rounds:
    """The answers of every round of one race: statuses counted; server errors kept with the server log."""

    def __init__(self, track):
        self.track, self.seen, self.broken = track, Counter(), []

    def add(self, answers):
        """Count a round's statuses (in call order); errors must be in the one JSON shape."""
        statuses = []
        for answer in answers:
            if not isinstance(answer, requests.Response):
                self.broken.append(repr(answer))
                statuses.append(None)
                continue
            statuses.append(answer.status_code)
            if answer.status_code >= 500:
                self.broken.append(answer.text[-300:])
            elif answer.status_code >= 400 and answer.headers.get("Content-Type", "").startswith("application/json"):
                body = answer.json()
                assert set(body) >= ERROR_KEYS and body["status"] == answer.status_code, body
        self.seen[tuple(sorted(statuses, key=str))] += 1
        assert not self.broken, f"{self.seen}: {self.broken[0]}\n--- server log ---\n{self.track.server.log_tail(30)}"
        return statuses

    def only(self, *allowed):
        """Every round answered with one of the `allowed` sorted status tuples."""
        assert set(self.seen) <= set(allowed), self.seen


def api(track, method, path, headers=None, **kwargs):
    return lambda: requests.request(method, track.base + path, headers=headers, timeout=60, **kwargs)


class Browser:
    """A web session (cookie and CSRF token) of an account on the live server."""

    def __init__(self, track, username):
        self.track, self.session = track, requests.Session()
        token = CSRF.search(self.session.get(track.base + "/login", timeout=30).text).group(1)
        signed = self.session.post(track.base + "/login", allow_redirects=False, timeout=30, data={
            "username": username, "password": PASSWORD, "csrf_token": token})
        assert signed.status_code == 302, signed.text[:300]
        self.csrf = CSRF.search(self.session.get(track.base + "/submissions", timeout=30).text).group(1)

    def post(self, path, data=None, **kwargs):
        return lambda: self.session.post(self.track.base + path, data={**(data or {}), "csrf_token": self.csrf},
                                         allow_redirects=False, timeout=60, **kwargs)


@pytest.fixture(scope="module")
def admins(track):
    """Web sessions of the two admins on the live server."""
    return Browser(track, "admin"), Browser(track, "admin_b")


# the JSON API: races that must hold ------------------------------------------------------------------

def test_two_logins_of_one_account_at_the_same_moment_both_get_a_token(track):
    rounds = Rounds(track)
    login = api(track, "POST", "/api/v1/auth/token", json={"username": "staff_chupah", "password": PASSWORD})
    for _ in range(ARGON_ROUNDS):
        rounds.add(at_once(login, login))
    rounds.only((201, 201))


def test_two_admins_saving_one_draft_at_the_same_moment_both_save_and_one_draft_is_kept(track):
    rounds = Rounds(track)
    for _ in range(ROUNDS):
        form_id = track.new_form()
        notes = {"admin": "bản của admin", "admin_b": "bản của admin_b"}
        rounds.add(at_once(*[api(track, "PUT", f"/api/v1/forms/{form_id}/draft", track.signed(who),
                                 json=form_document(form_id, note=note)) for who, note in notes.items()]))
        with db_session:
            assert track.store.Form.get(form_id=form_id).draft["description"]["vi"] in notes.values()
        assert track.audits("draft_saved", form_id) == 2
    rounds.only((200, 200))


def test_two_admins_archiving_one_form_at_the_same_moment_both_succeed(track):
    rounds = Rounds(track)
    for _ in range(ROUNDS):
        form_id = track.new_form()
        rounds.add(at_once(*[api(track, "POST", f"/api/v1/forms/{form_id}/archive", track.signed(who))
                             for who in ("admin", "admin_b")]))
        with db_session:
            assert track.store.Form.get(form_id=form_id).archived
    rounds.only((200, 200))


def test_a_form_archived_while_it_is_published_answers_both_without_a_server_error(track):
    rounds = Rounds(track)
    for _ in range(ROUNDS):
        form_id = track.new_form()
        rounds.add(at_once(api(track, "POST", f"/api/v1/forms/{form_id}/publish", track.signed("admin"), json={}),
                           api(track, "POST", f"/api/v1/forms/{form_id}/archive", track.signed("admin_b"))))
        assert track.count("SELECT COUNT(*) FROM form_version v JOIN survey_form f ON f.id = v.form "
                           "WHERE f.form_id = $form_id", form_id=form_id) <= 1
    rounds.only((200, 201), (200, 409))


DECISIONS = {"accept": {"answers": household(adults_smartphone=1)}, "discard": {"reason": "nhập trùng"}}


@pytest.mark.parametrize("first,second", [("accept", "accept"), ("discard", "discard"), ("accept", "discard")])
def test_two_staff_deciding_one_quarantined_record_at_the_same_moment_decide_it_once(track, first, second):
    rounds = Rounds(track)
    for _ in range(ROUNDS):
        instance_id = track.quarantined()["instance_id"]
        statuses = rounds.add(at_once(*[
            api(track, "POST", f"/api/v1/submissions/{instance_id}/{action}", track.signed(who), json=DECISIONS[action])
            for action, who in zip((first, second), STAFF)]))
        winner = (first, second)[statuses.index(200)] + "ed"
        assert track.audits(f"quarantine_{winner}", instance_id) == 1
        assert track.audits("quarantine_accepted", instance_id) + track.audits("quarantine_discarded",
                                                                                instance_id) == 1
        assert track.count("SELECT COUNT(*) FROM submission WHERE instance_id = $i AND status = $s",
                           i=instance_id, s=winner) == 1
    rounds.only((200, 409))
    track.sums_agree()


UPLOADED_TWICE = {  # the second copy's answers: (its status beside "accepted", rows stored under the id)
    "with-other-content": ({"adults_smartphone": 2}, "conflict", 2),
    "with-the-same-content": ({}, "duplicate", 1),
}


@pytest.mark.parametrize("second", list(UPLOADED_TWICE))
def test_two_uploads_of_one_instance_at_the_same_moment_store_it_once_and_flag_other_content(track, second):
    changes, status, rows = UPLOADED_TWICE[second]
    rounds = Rounds(track)
    for _ in range(ROUNDS):
        item = submission(household_key=f"hh-{uuid.uuid4().hex[:8]}")
        other = dict(item, answers=household(**changes)) if changes else item
        answers = at_once(*[api(track, "POST", "/api/v1/submissions/batch", track.signed("collector_phuhoa"),
                                json={"submissions": [sent]}) for sent in (item, other)])
        rounds.add(answers)
        assert sorted(a.json()["results"][0]["status"] for a in answers) == sorted(["accepted", status])
        assert track.count("SELECT COUNT(*) FROM submission WHERE instance_id = $i OR copy_of = $i",
                           i=item["instance_id"]) == rows
    rounds.only((200, 200))
    track.sums_agree()


def test_a_record_accepted_while_its_device_resends_it_corrected_leaves_one_current_visit(track):
    rounds = Rounds(track)
    for _ in range(ROUNDS):
        item = track.quarantined()
        corrected = dict(item, answers=household(adults_smartphone=1))
        rounds.add(at_once(
            api(track, "POST", f"/api/v1/submissions/{item['instance_id']}/accept", track.signed("staff_chupah"),
                json={"answers": household(adults_smartphone=2)}),
            api(track, "POST", "/api/v1/submissions/batch", track.signed("collector_phuhoa"),
                json={"submissions": [corrected]})))
        assert track.count("SELECT COUNT(*) FROM submission WHERE household_key = $k AND is_current",
                           k=item["household_key"]) == 1
    rounds.only((200, 200), (200, 409))
    track.sums_agree()


def test_two_staff_issuing_qr_codes_for_one_collector_at_the_same_moment_both_get_a_device_token(track):
    rounds = Rounds(track)
    for _ in range(ROUNDS):
        collector, user_id = track.account()
        rounds.add(at_once(*[api(track, "POST", f"/api/v1/odk/devices/{collector}/qr",
                                 dict(track.signed(who), Accept="application/json"))
                             for who in ("staff_chupah", "admin")]))
        assert track.count("SELECT COUNT(*) FROM api_token WHERE \"user\" = $u AND kind = 'device'", u=user_id) == 2
    rounds.only((200, 200))


# the admin pages: races that must hold --------------------------------------------------------------

def test_two_admins_disabling_one_account_at_the_same_moment_both_succeed_and_revoke_every_token(track, admins):
    rounds = Rounds(track)
    for _ in range(ROUNDS):
        collector, user_id = track.account()
        track.token(collector)
        track.token(collector, kind="device")
        rounds.add(at_once(*[admin.post(f"/users/{user_id}/active", {"active": "0"}) for admin in admins]))
        assert track.count("SELECT COUNT(*) FROM api_token WHERE \"user\" = $u AND revoked_at IS NULL", u=user_id) == 0
        with db_session:
            assert not track.store.User[user_id].active
    rounds.only((302, 302))


def test_two_admins_resetting_one_password_at_the_same_moment_both_succeed(track, admins):
    rounds = Rounds(track)
    for _ in range(ARGON_ROUNDS):
        collector, user_id = track.account()
        rounds.add(at_once(*[admin.post(f"/users/{user_id}/password") for admin in admins]))
        assert track.audits("password_reset", collector) == 2
    rounds.only((200, 200))


def test_two_admins_publishing_one_form_on_its_page_at_the_same_moment_publish_it_once(track, admins):
    rounds = Rounds(track)
    for _ in range(ROUNDS):
        form_id = track.new_form()
        text = yaml.safe_dump(form_document(form_id), allow_unicode=True, sort_keys=False)
        rounds.add(at_once(*[admin.post(f"/forms/{form_id}/draft", {"text": text, "format": "yaml",
                                                                    "action": "publish"}) for admin in admins]))
        assert track.count("SELECT COUNT(*) FROM form_version v JOIN survey_form f ON f.id = v.form "
                           "WHERE f.form_id = $form_id", form_id=form_id) == 1
    rounds.only((302, 422))


def test_two_staff_discarding_one_record_on_its_page_at_the_same_moment_discard_it_once(track):
    staff = [Browser(track, who) for who in STAFF]
    rounds = Rounds(track)
    for _ in range(ROUNDS):
        instance_id = track.quarantined()["instance_id"]
        with db_session:
            row = track.store.Submission.get(instance_id=instance_id).id
        rounds.add(at_once(*[s.post(f"/submissions/{row}/decide", {"action": "discard"}) for s in staff]))
        assert track.audits("quarantine_discarded", instance_id) == 1
    # the loser sees the record's page again (422, when it read the record before the winner wrote it)
    # or, reading it after, is refused as the record is no longer in quarantine (403)
    rounds.only((302, 422), (302, 403))


# deterministic interleavings: one request held after its reads while another one commits ---------------

@pytest.fixture(scope="module")
def local_app(track):
    """The app in this process, on the served database (requests from threads through test clients)."""
    app = create_app({"DATABASE_URL": track.url, "SECRET_KEY": "race-secret", "RATELIMIT_ENABLED": False,
                      "INSTANCE_PATH": str(track.folder / "local")})
    errors = ErrorsLogged()
    app.logger.addHandler(errors)
    app.extensions["race_errors"] = errors.seen
    yield app
    app.logger.removeHandler(errors)
    app.extensions["langso_db"].disconnect()
    app.extensions["langso_db"].provider.disconnect()


class ErrorsLogged(logging.Handler):
    """Keeps the last line of every exception the app logs (its 500s), to show in a failure."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.seen = []

    def emit(self, record):
        if record.exc_info:
            self.seen.append(f"{record.exc_info[0].__name__}: {record.exc_info[1]}")


class LocalBrowser:
    """A web session of an account on the in-process app."""

    def __init__(self, app, username):
        self.client = app.test_client()
        token = CSRF.search(self.client.get("/login").get_data(as_text=True)).group(1)
        signed = self.client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
        assert signed.status_code == 302, signed.get_data(as_text=True)[:300]
        self.csrf = CSRF.search(self.client.get("/submissions").get_data(as_text=True)).group(1)

    def post(self, path, data=None):
        return lambda: self.client.post(path, data={**(data or {}), "csrf_token": self.csrf})


@pytest.fixture(scope="module")
def local_admins(local_app):
    return LocalBrowser(local_app, "admin"), LocalBrowser(local_app, "admin_b")


def local_api(app, method, path, headers=None, **kwargs):
    return lambda: app.test_client().open(path, method=method, headers=headers, **kwargs)


def while_held(monkeypatch, where, held, meanwhile, meanwhile_statuses, wait=20):
    """Run `held` until it calls `where` (module, function name), run `meanwhile` to its end, then let
    `held` go on: the interleaving that loses an update. Returns held's answer (or the exception that
    escaped Flask: a 500 in production). A race not built as meant (the held request never gets to `where`,
    the other one cannot finish while it is held, either one outlives `wait` seconds) raises RuntimeError."""
    module, name = where
    original, reached, release, local = getattr(module, name), threading.Event(), threading.Event(), threading.local()

    def hold(*args, **kwargs):
        if getattr(local, "hold", False):
            local.hold = False
            reached.set()
            if not release.wait(timeout=3 * wait):
                raise RuntimeError(f"the held request was never released from {name}")
        return original(*args, **kwargs)
    monkeypatch.setattr(module, name, hold)
    box = {}

    def run():
        local.hold = True
        try:
            box["answer"] = held()
        except Exception as error:  # noqa: BLE001 - judged by answered()
            box["answer"] = error
    thread = threading.Thread(target=run)
    thread.start()
    try:
        if not reached.wait(timeout=wait):
            raise RuntimeError(f"the held request never called {name}: {box.get('answer')!r}")
        other = finished(meanwhile, wait, f"the other request did not finish while the first was held in {name}")
        if other.status_code not in meanwhile_statuses:
            raise RuntimeError(f"the other request answered {other.status_code}: {other.get_data(as_text=True)[:300]}")
    finally:
        release.set()
        thread.join(timeout=3 * wait)
    if thread.is_alive():
        raise RuntimeError(f"the held request did not finish within {3 * wait} s of its release")
    return box["answer"]


def finished(call, wait, what):
    """`call()`'s result, run in a thread that must end within `wait` seconds (else RuntimeError naming `what`)."""
    box = {}

    def run():
        try:
            box["result"] = call()
        except Exception as error:  # noqa: BLE001 - raised again below
            box["error"] = error
    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=wait)
    if thread.is_alive():
        raise RuntimeError(f"{what} (still running after {wait} s)")
    if "error" in box:
        raise box["error"]
    return box["result"]


def answered(app, answer, *statuses):
    """The held request answered with one of `statuses` (an exception escaping Flask is a 500)."""
    assert not isinstance(answer, Exception), f"{type(answer).__name__}: {answer}"
    logged = app.extensions["race_errors"][-1:]
    assert answer.status_code in statuses, (answer.status_code, answer.get_data(as_text=True)[:300], logged)
    if answer.status_code >= 400 and answer.mimetype == "application/json":
        assert set(answer.get_json()) >= ERROR_KEYS


def test_two_logouts_with_one_token_at_the_same_moment_both_answer_without_a_server_error(track, local_app,
                                                                                         monkeypatch):
    headers = track.bearer("collector_phuhoa")
    logout = local_api(local_app, "DELETE", "/api/v1/auth/token", headers)
    held = while_held(monkeypatch, (api_sessions, "record"), logout, logout, (204,))
    answered(local_app, held, 204, 401)


def test_two_admins_revoking_one_accounts_devices_at_the_same_moment_both_succeed(track, local_app, monkeypatch):
    collector, user_id = track.account()
    track.token(collector, kind="device")
    revoke = [local_api(local_app, "DELETE", f"/api/v1/odk/devices/{collector}", track.bearer(who))
              for who in ("admin", "admin_b")]
    held = while_held(monkeypatch, (api_devices, "record"), *revoke, (204,))
    answered(local_app, held, 204)
    assert track.count("SELECT COUNT(*) FROM api_token WHERE \"user\" = $u AND revoked_at IS NULL", u=user_id) == 0


@pytest.mark.parametrize("revocation", ["logout", "device-revocation"])
def test_a_token_used_while_it_is_revoked_answers_without_a_server_error(track, local_app, monkeypatch, revocation):
    """The use has read the token as live and is about to record its use when the revocation commits.

    Held any later, the use would hold the token's row (its use is written): the revocation would wait for it.
    """
    collector, _ = track.account()
    if revocation == "logout":
        headers = {"Authorization": f"Bearer {track.token(collector)}"}  # never used: this use writes last_used_at
        use = local_api(local_app, "GET", "/api/v1/me", headers)
        revoke = local_api(local_app, "DELETE", "/api/v1/auth/token", headers)
    else:
        device = track.token(collector, kind="device")
        use = local_api(local_app, "GET", f"/odk/key/{device}/formList")
        revoke = local_api(local_app, "DELETE", f"/api/v1/odk/devices/{collector}", track.bearer("admin"))
    held = while_held(monkeypatch, (auth, "touch_token"), use, revoke, (204,))
    answered(local_app, held, 200, 401, 403)
    secret = headers["Authorization"][len("Bearer "):] if revocation == "logout" else device
    with db_session:
        assert track.store.ApiToken.get(digest=token_digest(secret)).revoked_at is not None  # the revocation stands


@pytest.mark.parametrize("change", ["password-reset", "account-disabled"])
def test_a_login_while_an_admin_changes_the_account_answers_without_a_server_error(track, local_app, local_admins,
                                                                                   monkeypatch, change):
    collector, user_id = track.account()
    login = local_api(local_app, "POST", "/api/v1/auth/token", json={"username": collector, "password": PASSWORD})
    admin = (local_admins[0].post(f"/users/{user_id}/password") if change == "password-reset"
             else local_admins[0].post(f"/users/{user_id}/active", {"active": "0"}))
    held = while_held(monkeypatch, (api_sessions, "issue_token"), login, admin, (200, 302))
    answered(local_app, held, 201, 401)


def test_two_admins_changing_one_accounts_scope_at_the_same_moment_apply_one_after_the_other(
        track, local_app, local_admins, monkeypatch):
    """The account is locked by the first change: the second waits for it, then replaces its scope."""
    collector, user_id = track.account()
    first, second = (admin.post(f"/users/{user_id}/role", {"role": "collector", "scope": village})
                     for admin, village in zip(local_admins, (VILLAGE, OTHER_VILLAGE)))
    original, reached, release, answers = admin_pages.record, threading.Event(), threading.Event(), {}

    def held_record(*args, **kwargs):
        if threading.current_thread().name == "first":
            reached.set()
            if not release.wait(timeout=60):
                raise RuntimeError("the first change was never released")
        return original(*args, **kwargs)
    monkeypatch.setattr(admin_pages, "record", held_record)
    threads = [threading.Thread(target=lambda name=name, send=send: answers.update({name: send()}), name=name)
               for name, send in (("first", first), ("second", second))]
    threads[0].start()
    try:
        assert reached.wait(timeout=20), "the first change never got to its audit record"
        threads[1].start()
        threads[1].join(timeout=2)
        blocked = threads[1].is_alive()  # waits for the first change's lock
    finally:
        release.set()
        for thread in threads:
            if thread.ident is not None:
                thread.join(timeout=40)
    assert blocked
    assert not any(thread.is_alive() for thread in threads), "a change did not finish within 40 s of the release"
    assert [answers[name].status_code for name in ("first", "second")] == [302, 302]
    with db_session:
        assert [u.code for u in track.store.User[user_id].scope] == [OTHER_VILLAGE]


def _one_new_village(local_admins):
    code = f"{CHU_PAH_COMMUNE}-{uuid.uuid4().hex[:6]}"
    csv = f"code,name,level,parent_code\n{code},Làng mới,village,{CHU_PAH_COMMUNE}\n".encode()
    return [admin.post("/units", {"file": (io.BytesIO(csv), "units.csv")}) for admin in local_admins]


def _one_new_account(local_admins):
    values = {"username": f"new_{uuid.uuid4().hex[:8]}", "role": "collector", "scope": CHU_PAH_COMMUNE,
              "password": PASSWORD, "display_name": ""}
    return [admin.post("/users", values) for admin in local_admins]


def _one_new_form_on_its_page(local_admins):
    text = yaml.safe_dump(form_document(f"race_{uuid.uuid4().hex[:8]}"), allow_unicode=True, sort_keys=False)
    return [admin.post("/forms/new", {"text": text}) for admin in local_admins]


def _one_new_form_over_the_api(track, app):
    doc = form_document(f"race_{uuid.uuid4().hex[:8]}")
    return [local_api(app, "POST", "/api/v1/forms", track.bearer(who), json=doc) for who in ("admin", "admin_b")]


def _one_new_version_over_the_api(track, app):
    form_id = track.new_form()
    return [local_api(app, "POST", f"/api/v1/forms/{form_id}/publish", track.bearer(who), json={})
            for who in ("admin", "admin_b")]


# what two admins create at once: (the two requests, the function held, the winner's and the loser's statuses)
CREATED_TWICE = {
    "form-over-the-api": (lambda track, app, admins: _one_new_form_over_the_api(track, app),
                          (api_forms, "record"), (201,), (409,)),
    "version-over-the-api": (lambda track, app, admins: _one_new_version_over_the_api(track, app),
                             (api_forms, "record"), (201,), (409, 422)),
    "form-on-the-forms-page": (lambda track, app, admins: _one_new_form_on_its_page(admins),
                               (form_pages, "record"), (302,), (409, 422)),
    "account-on-the-users-page": (lambda track, app, admins: _one_new_account(admins),
                                  (admin_pages, "record"), (302,), (409, 422)),
    "village-on-the-units-page": (lambda track, app, admins: _one_new_village(admins),
                                  (admin_pages, "record"), (200,), (200, 409, 422)),
}


@pytest.mark.parametrize("thing", list(CREATED_TWICE))
def test_two_admins_creating_the_same_thing_at_the_same_moment_get_it_created_once_and_a_refusal(
        track, local_app, local_admins, monkeypatch, thing):
    make, where, created, refused = CREATED_TWICE[thing]
    held = while_held(monkeypatch, where, *make(track, local_app, local_admins), created)
    answered(local_app, held, *refused)


def test_two_admins_renaming_one_village_at_the_same_moment_keep_one_of_the_names(track, local_app, local_admins,
                                                                                  monkeypatch):
    code = f"{CHU_PAH_COMMUNE}-{uuid.uuid4().hex[:6]}"
    import_units(track.store, f"code,name,level,parent_code\n{code},Làng cũ,village,{CHU_PAH_COMMUNE}\n")
    first, second = (admin.post("/units", {"file": (io.BytesIO(
        f"code,name,level,parent_code\n{code},{name},village,{CHU_PAH_COMMUNE}\n".encode()), "units.csv")})
        for admin, name in zip(local_admins, ("Làng Một", "Làng Hai")))
    held = while_held(monkeypatch, (admin_pages, "record"), first, second, (200,))
    answered(local_app, held, 200, 409, 422)
    with db_session:
        assert track.store.Unit.get(code=code).name in ("Làng Một", "Làng Hai")
