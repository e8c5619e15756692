"""Builders and queries for the device tests: a household's answers as a collector enters them, the flaky
network between a device and the real server, a logged-in device, and what the server holds.

IN_SCOPE are the two villages of collector_phuhoa's commune among those the `survey` fixture imports;
the `survey` and `server` fixtures (that data on a real gunicorn) live in tests/conftest.py.
"""
from pony.orm import count, db_session, select

from server.bench.loadtest import CuttingProxy
from sync.device.app import Device
from sync.device.client import Backoff

from ..conftest import PASSWORD

IN_SCOPE = ("2372201", "2372202")
# what a phone's network does to a connection (the tests script or draw from these)
FLAKY = ("cut_before", "cut_after_server", "cut_mid_response", "unavailable")


def device_household(number="H001", **changes):
    """Complete, valid answers of one consenting household."""
    answers = {"consent": "yes", "household_number": number, "head_name": "Rơ Mah Hiếu", "members": 5,
               "members_15plus": 4, "adults": 3, "working_age": 3, "fibre_available": "yes",
               "fibre_subscribed": "no", "adults_smartphone": 2, "members_15plus_bank": 2,
               "adults_digital_signature": 1, "working_age_digital_skills": 1, "members_online": 3,
               "members_online_protected": 1, "adults_online_public_services": 1, "adults_telehealth": 0,
               "members_ehr": 4}
    answers.update(changes)
    return answers


def flaky_proxy(server_url, drop_rate=0.0, seed=1):
    """A CuttingProxy in front of the server at `server_url`; it passes everything unless scripted or `drop_rate`."""
    return CuttingProxy(int(server_url.rsplit(":", 1)[1]), cut_rate=drop_rate, seed=seed, modes=FLAKY)


def fast_backoff(attempts=8):
    """Backoff with tiny delays, so retries happen but tests stay quick."""
    return Backoff(attempts=attempts, base=0.005, cap=0.05)


def logged_in_device(path, url):
    """A device logged in as collector_phuhoa at `url` that has pulled the form and its villages."""
    dev = Device(path, backoff=fast_backoff(12))
    dev.login(url, "collector_phuhoa", PASSWORD)
    dev.pull()
    return dev


@db_session
def on_server(store):
    """{status: number of rows} of the submissions on the server (copies included)."""
    return dict(select((s.status, count(s)) for s in store.Submission)[:])


@db_session
def server_ids(store):
    return sorted(select(s.instance_id for s in store.Submission if s.copy_of is None)[:])
