"""Shared builders for the roll-up, roll-up API, roll-up-after-ingest, export and PDF tests.

Villages V1..V4 are imported under commune 23722 (Thị trấn Phú Hòa, Huyện Chư Păh 627) through the
real unit import. Two ways to fill them: `publish_test_form` + `seed` write the sums of a small test
form directly (as ingest would keep them); `rollup_submission` builds wire-format items of the default
form (household_digital 2025.1) for posting through the real ingest path. The `surveyed` fixture that
posts `visit`s lives in tests/conftest.py.
"""
import uuid

from pony.orm import db_session

from sync.units import import_units

from .ingest import FORM as DEFAULT_FORM, VERSION as DEFAULT_VERSION

FORM = "rollup_test"
V1, V2, V3, V4 = "23722-01", "23722-02", "23722-03", "23722-04"
TEST_INDICATORS = [
    {"id": "smartphone_adults", "label": {"vi": "Người trưởng thành có điện thoại thông minh",
                                          "en": "Adults with a smartphone"},
     "numerator": "${adults_smartphone}", "denominator": "${adults}", "unit": "adults",
     "targets": {"2025": {"op": ">=", "value": 80}, "2030": {"op": ">=", "value": 95}}},
    {"id": "fibre_coverage", "label": {"vi": "Hộ được phủ cáp quang", "en": "Households covered by fibre"},
     "numerator": "if(${fibre_available} = 'yes', 1, 0)", "denominator": "1", "unit": "households",
     "targets": {"2025": {"op": ">=", "value": 80}, "2030": {"op": ">=", "value": 100}}},
    {"id": "bank_account_15plus", "label": {"vi": "Người từ 15 tuổi có tài khoản", "en": "People 15+ with an account"},
     "numerator": "${members_15plus_bank}", "denominator": "${members_15plus}", "unit": "people_15plus",
     "targets": {"2025": {"op": ">=", "value": 80}, "2030": {"op": ">", "value": 95}}},
    {"id": "ehr_members", "label": {"vi": "Người có hồ sơ sức khỏe điện tử", "en": "People with an EHR"},
     "numerator": "${members_ehr}", "denominator": "${members}", "unit": "people",
     "targets": {"2025": {"op": ">=", "value": 90}}},
]


def publish_test_form(store, form_id=FORM, indicators=TEST_INDICATORS):
    """Store a published version of a small form directly (roll-ups read only its indicators)."""
    with db_session:
        form = store.Form(form_id=form_id, title={"vi": "Thử", "en": "Test"})
        store.FormVersion(form=form, version="1", content_hash=f"hash-{form_id}", seq=1,
                          definition={"id": form_id, "version": "1", "indicators": indicators})


def import_villages(store, *rows, commune="23722"):
    """Villages (code, expected households or None) under a commune, through the real unit import."""
    lines = [f"{code},Thôn {code[-2:]},village,{commune},{'' if expected is None else expected}"
             for code, expected in rows]
    import_units(store, "code,name,level,parent_code,expected_households\n" + "\n".join(lines) + "\n")


def seed(store, village, sums, households, refusals=0, round_name="2025", form_id=FORM):
    """Write one village's HouseholdCount and RollupSum rows: sums = {indicator: (num, den, households)}."""
    with db_session:
        unit = store.Unit.get(code=village)
        store.HouseholdCount(village=unit, form_id=form_id, round=round_name,
                             households=households, refusals=refusals)
        for indicator, (numerator, denominator, counted) in sums.items():
            store.RollupSum(village=unit, form_id=form_id, round=round_name, indicator=indicator,
                            numerator=numerator, denominator=denominator, households=counted)


def figure(result, indicator):
    """One indicator's figures in a roll-up result."""
    return next(i for i in result["indicators"] if i["id"] == indicator)


# households posted through the real ingest path (default form)
IN_2025, IN_2024 = "2025-03-01T09:00:00+07:00", "2024-11-20T15:30:00+07:00"


def rollup_household(adults, smartphone, fibre="yes", members=None):
    """Answers of a consenting household with `smartphone` of its `adults` owning a smartphone."""
    members = members or min(50, adults + 2)
    return {"consent": "yes", "household_number": "1", "head_name": "Rơ Mah Hyao", "members": members,
            "members_15plus": adults + 1 if adults < members else adults, "adults": adults,
            "working_age": adults, "fibre_available": fibre, "fibre_subscribed": "no" if fibre == "yes" else None,
            "adults_smartphone": smartphone, "members_15plus_bank": 0, "adults_digital_signature": 0,
            "working_age_digital_skills": 0, "members_online": 0, "members_online_protected": 0,
            "adults_online_public_services": 0, "adults_telehealth": 0, "members_ehr": 0}


def rollup_submission(village, key, answers, collected_at=IN_2025, supersedes=None, instance_id=None):
    """One item of the wire format."""
    item = {"instance_id": instance_id or str(uuid.uuid4()), "form_id": DEFAULT_FORM,
            "form_version": DEFAULT_VERSION, "village_code": village, "household_key": key,
            "collected_at": collected_at, "answers": {k: v for k, v in answers.items() if v is not None}}
    if supersedes:
        item["supersedes"] = supersedes
    return item


def visit(village, key, head, collected_at="2025-03-01T09:00:00+07:00", **changes):
    """A consenting household with a Vietnamese head of household and personal details."""
    answers = dict(rollup_household(6, 4), head_name=head, phone="0912345678", location="13.98 108.02 700 4")
    answers.update(changes)
    return rollup_submission(village, key, answers, collected_at=collected_at)
