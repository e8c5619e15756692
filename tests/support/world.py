"""The access matrix's world: accounts by role, the target units, and a prepared database with fresh targets.

Every target is in Chư Păh (village 2372201, commune 23722, district 627): in scope for collector_phuhoa
and staff_chupah, out of scope for collector_hoalu (Pleiku commune 23572) and staff_pleiku (district 622).
Used by the access-matrix, fuzzing, hostile-input and parser-property tests.
"""
import base64
import copy
import uuid

from pony.orm import db_session

from forms import household_digital
from sync.accounts import create_user, issue_token
from sync.form_versions import publish_default_form
from sync.units import import_units

from ..conftest import PASSWORD
from .ingest import VILLAGES_CSV, household, ingest, submission

ROLES = ("anonymous", "collector_in", "collector_out", "staff_in", "staff_out", "admin")
ACCOUNTS = {"collector_in": "collector_phuhoa", "collector_out": "collector_hoalu",
            "staff_in": "staff_chupah", "staff_out": "staff_pleiku", "admin": "admin"}
VILLAGE, COMMUNE, DISTRICT = "2372201", "23722", "627"
FORM = "household_digital"


class World:
    """The prepared database plus fresh targets for requests that change something."""

    def __init__(self, store, client):
        self.store, self.client = store, client
        publish_default_form(store)
        import_units(store, VILLAGES_CSV)
        with db_session:
            create_user(store, "collector_hoalu", "collector", ["23572"], PASSWORD)
        self.accepted = ingest(store, [submission(household_key="hh-ok")])[0]
        answer = self.client.get(f"/odk/forms/{FORM}/2025.1/form.xml", headers=self.headers("admin", basic=True))
        self.xform = answer.get_data(as_text=True)

    def headers(self, role, basic=False):
        """Bearer token (or HTTP Basic for OpenRosa) of the role's account; none when anonymous."""
        if role == "anonymous":
            return {}
        username = ACCOUNTS[role]
        if basic:
            raw = base64.b64encode(f"{username}:{PASSWORD}".encode()).decode()
            return {"Authorization": f"Basic {raw}"}
        return {"Authorization": f"Bearer {self.token(username)}"}

    def token(self, username, kind="api"):
        """A fresh token secret for a user."""
        with db_session:
            return issue_token(self.store, self.store.User.get(username=username), kind=kind)

    def quarantined(self):
        """A fresh rejected household in the Chư Păh village: (instance_id, submission row id)."""
        item = submission(household_key=f"hh-{uuid.uuid4().hex[:8]}", answers=household(adults_smartphone=5))
        ingest(self.store, [item])
        with db_session:
            return item["instance_id"], self.store.Submission.get(instance_id=item["instance_id"]).id

    def submission_id(self):
        """The row id of the accepted household in the Chư Păh village."""
        with db_session:
            return self.store.Submission.get(instance_id=self.accepted["instance_id"]).id

    def new_form(self):
        """A fresh form (a copy of the default one under a new id); its id."""
        form_id = f"f_{uuid.uuid4().hex[:8]}"
        from sync.form_versions import create_form
        with db_session:
            create_form(self.store, dict(copy.deepcopy(household_digital()), id=form_id))
        return form_id

    def new_user(self):
        """A fresh collector in Phú Hòa; its id."""
        with db_session:
            user = create_user(self.store, f"c_{uuid.uuid4().hex[:8]}", "collector", [COMMUNE], PASSWORD)
            self.store.flush()
            return user.id


def _device_key(self, role):
    """A device token for the role's account (a made-up one when anonymous)."""
    return "not-a-device-token" if role == "anonymous" else self.token(ACCOUNTS[role], kind="device")


World.device_key = _device_key
