"""A simulated survey campaign across Gia Lai, submitted through the real ingest path.

Villages for every commune, one collector per commune and one staff account per district,
then households whose rates vary between urban and remote districts, with a few refusals,
rejected records (a count larger than its base), conflicting resends and edits. Instance ids
are derived from the seed, so running it again changes nothing.
"""
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from pony.orm import db_session, select

from sync.accounts import create_user, hash_password
from sync.ingest import ingest_batch
from sync.units import import_units

DEMO_PASSWORD = "langso-demo-2025"
FORM_ID, FORM_VERSION = "household_digital", "2025.1"
URBAN = {"622": 1.0, "623": 0.8, "624": 0.7}  # Pleiku, An Khê, Ayun Pa: digital-readiness factor
REMOTE_FACTOR = {"630": 0.35, "635": 0.4, "637": 0.45, "625": 0.5}  # Kông Chro, Ia Pa, Krông Pa, KBang
VILLAGE_NAMES = ("Thôn {n}", "Làng Plei {n}", "Tổ dân phố {n}", "Buôn {n}", "Làng Kon {n}")
VIETNAM = timezone(timedelta(hours=7))


@dataclass
class DemoReport:
    villages: int
    households: int
    results: dict
    accounts: list


def readiness(district_code, rng):
    """How far along a district is (0..1): urban districts high, remote ones low."""
    base = URBAN.get(district_code) or REMOTE_FACTOR.get(district_code) or 0.6
    return max(0.1, min(1.0, base + rng.uniform(-0.08, 0.08)))


def village_rows(db, rng, households, per_commune=(3, 7)):
    """CSV rows for villages under every commune, expected households sized for 55-95 % coverage."""
    communes = select(u for u in db.Unit if u.level == "commune").order_by(lambda u: u.code)[:]
    per_village = households / (len(communes) * sum(per_commune) / 2)
    lines = ["code,name,level,parent_code,expected_households,kind"]
    for commune in communes:
        for n in range(1, rng.randint(*per_commune) + 1):
            name = rng.choice(VILLAGE_NAMES).format(n=n)
            kind = "tổ dân phố" if name.startswith("Tổ") else "thôn"
            expected = max(1, round(per_village / rng.uniform(0.55, 0.95)))
            lines.append(f"{commune.code}-{n:02d},{name},village,{commune.code},{expected},{kind}")
    return "\n".join(lines) + "\n"


def household_answers(rng, level):
    """Plausible answers for one consenting household at a district's readiness level."""
    members = rng.randint(1, 8)
    members_15plus = rng.randint(max(1, members - 4), members)
    adults = rng.randint(max(1, members_15plus - 2), members_15plus)
    working_age = rng.randint(max(0, adults - 2), members_15plus)
    online = sum(rng.random() < level * 0.9 for _ in range(members))
    share = lambda base, n: sum(rng.random() < min(1.0, base * level) for _ in range(n))  # noqa: E731
    fibre = rng.random() < 0.35 + 0.6 * level
    answers = {"consent": "yes", "household_number": str(rng.randint(1, 400)),
               "head_name": rng.choice(("Nguyễn Văn An", "Rơ Châm H'Lan", "Siu Đức", "Trần Thị Hoa",
                                        "Ksor Y Bhiu", "Lê Thị Thu", "Rah Lan Mai")),
               "members": members, "members_15plus": members_15plus, "adults": adults,
               "working_age": working_age, "fibre_available": "yes" if fibre else "no",
               "adults_smartphone": share(0.95, adults), "members_15plus_bank": share(0.9, members_15plus),
               "adults_digital_signature": share(0.55, adults),
               "working_age_digital_skills": share(0.8, working_age), "members_online": online,
               "members_online_protected": sum(rng.random() < 0.8 for _ in range(online)),
               "adults_online_public_services": share(0.6, adults), "adults_telehealth": share(0.35, adults),
               "members_ehr": share(0.95, members)}
    if fibre:
        answers["fibre_subscribed"] = "yes" if rng.random() < 0.7 else "no"
    return answers


def simulated_visits(villages, households, rng, seed):
    """Submission dicts for `households` visits spread over the villages (some bad on purpose)."""
    start = datetime(2025, 3, 1, 8, 0, tzinfo=VIETNAM)
    for index in range(households):
        village_code, district_code = villages[index % len(villages)]
        answers = ({"consent": "no"} if rng.random() < 0.03
                   else household_answers(rng, readiness(district_code, rng)))
        if rng.random() < 0.01 and answers.get("adults"):
            answers["adults_smartphone"] = answers["adults"] + 2  # a mistake the form rejects
        yield {"instance_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"langso-demo/{seed}/{index}")),
               "form_id": FORM_ID, "form_version": FORM_VERSION, "village_code": village_code,
               "household_key": f"HH-{index // len(villages) + 1:04d}",
               "collected_at": (start + timedelta(minutes=7 * index)).isoformat(), "answers": answers}


def run_demo(db, households=10000, seed=2025, progress=None):
    """Load the demo campaign once; returns a DemoReport (results empty when it was loaded before)."""
    rng = random.Random(seed)
    with db_session:
        import_units(db, village_rows(db, rng, households))
        accounts = demo_accounts(db)
        villages = [(v.code, v.parent.parent.code) for v in
                    select(u for u in db.Unit if u.level == "village").order_by(lambda u: u.code)]
    visits = list(simulated_visits(villages, households, rng, seed))
    with db_session:
        if db.Submission.exists(instance_id=visits[0]["instance_id"]):
            return DemoReport(len(villages), households, {}, accounts)
    results = {}
    for batch in by_commune(visits + resends(visits, rng)):
        _count(results, _ingest_as_collector(db, batch))
        if progress:
            progress(len(batch))
    return DemoReport(len(villages), households, results, accounts)


def resends(visits, rng):
    """Conflicting resends (same id, other content) and edits (a new id that supersedes)."""
    extra = []
    for visit in rng.sample(visits, max(1, len(visits) // 100)):
        if visit["answers"].get("consent") != "yes":
            continue
        changed = dict(visit, answers=dict(visit["answers"], household_number="sửa-" + visit["answers"]
                                           ["household_number"]))
        if rng.random() < 0.4:
            extra.append(changed)  # the same instance id with other content: a conflict
        else:
            collected = datetime.fromisoformat(visit["collected_at"]) + timedelta(days=3)
            extra.append(dict(changed, instance_id=str(uuid.uuid5(uuid.NAMESPACE_URL, visit["instance_id"])),
                              supersedes=visit["instance_id"], collected_at=collected.isoformat()))
    return extra


def by_commune(visits):
    """Batches of visits grouped by commune, in order, each as one collector would send it."""
    batches = {}
    for visit in visits:
        batches.setdefault(visit["village_code"].split("-")[0], []).append(visit)
    return [batch[i:i + 500] for _, batch in sorted(batches.items()) for i in range(0, len(batch), 500)]


def _ingest_as_collector(db, batch):
    with db_session:
        collector = db.User.get(username=f"ctv_{batch[0]['village_code'].split('-')[0]}")
        return ingest_batch(db, collector, batch)


def _count(results, batch_results):
    for result in batch_results:
        results[result["status"]] = results.get(result["status"], 0) + 1


def demo_accounts(db):
    """One staff account per district and one collector per commune, all with the demo password."""
    shared_hash = hash_password(DEMO_PASSWORD)
    created = []
    for unit in select(u for u in db.Unit if u.level in ("district", "commune")).order_by(lambda u: u.code):
        role, prefix = ("district_staff", "canbo") if unit.level == "district" else ("collector", "ctv")
        username = f"{prefix}_{unit.code}"
        if not db.User.exists(username=username):
            create_user(db, username, role, [unit.code], None, f"{unit.name}", password_hash=shared_hash)
        created.append((username, role, unit.name))
    return created
