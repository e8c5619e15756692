"""A small real survey for page tests: villages under Thị trấn Phú Hòa (Chư Păh) and Phường Hoa Lư
(Pleiku), households submitted through the real ingest path, one of them rejected."""
from pony.orm import db_session

from sync.form_versions import publish_default_form
from sync.ingest import ingest_batch
from sync.units import import_units

VILLAGES = """code,name,level,parent_code,expected_households,kind
2372201,Làng Kép,village,23722,12,làng
2372202,Thôn Phú Lợi,village,23722,8,thôn
2357201,Tổ dân phố 1,village,23572,20,tổ dân phố
"""


def household(number, village, *, adults=2, smartphone=1, fibre="yes", bank=1, consent="yes"):
    """One household visit in the wire format, valid for the default form."""
    answers = {"consent": consent}
    if consent == "yes":
        answers.update({
            "household_number": str(number), "head_name": f"Hộ {number}", "members": 4, "members_15plus": 3,
            "adults": adults, "working_age": 2, "fibre_available": fibre, "adults_smartphone": smartphone,
            "members_15plus_bank": bank, "adults_digital_signature": 0, "working_age_digital_skills": 1,
            "members_online": 2, "members_online_protected": 1, "adults_online_public_services": 1,
            "adults_telehealth": 0, "members_ehr": 2})
        if fibre == "yes":
            answers["fibre_subscribed"] = "yes"
    return {"instance_id": f"uuid:{village}-{number}", "form_id": "household_digital", "form_version": "2025.1",
            "village_code": village, "household_key": f"{village}-{number}",
            "collected_at": "2025-03-01T09:30:00+07:00", "answers": answers}


def load_survey(store):
    """Publish the default form, add villages and ingest households; returns the ingest results."""
    publish_default_form(store)
    import_units(store, VILLAGES)
    items = [household(n, "2372201", smartphone=n % 3, fibre="yes" if n % 2 else "no") for n in range(1, 9)]
    items += [household(n, "2372202", smartphone=2, bank=n % 2) for n in range(1, 4)]
    items += [household(9, "2372201", consent="no")]
    bad = household(10, "2372201")
    bad["answers"]["adults_smartphone"] = 7  # more than the adults: breaks a constraint
    items.append(bad)
    with db_session:
        collector = store.User.get(username="collector_phuhoa")
        results = ingest_batch(store, collector, items)
    pleiku = [household(n, "2357201", smartphone=1) for n in range(1, 4)]
    with db_session:
        store_user = store.User.get(username="admin")
        results += ingest_batch(store, store_user, pleiku)
    return results
