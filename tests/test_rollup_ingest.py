"""Roll-ups after the real ingest path: batches posted by a collector, edits, refusals, check and rebuild.

Every expectation is computed by hand from the households posted; `langso rollup check`
must agree with a from-scratch recomputation after any sequence of uploads.
"""
import json
import random
import uuid

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from pony.orm import db_session

from exports.rollups import rollup
from sync.form_versions import publish_default_form

from .conftest import CHU_PAH, CHU_PAH_COMMUNE
from .support.ingest import FORM
from .support.rollup import IN_2024, IN_2025, V1, V2, figure, import_villages, rollup_household, rollup_submission


@pytest.fixture
def field(store, client, token_for):
    """The default form published, two villages in Phú Hòa, and a collector's upload function."""
    publish_default_form(store)
    import_villages(store, (V1, 20), (V2, 100))
    headers = token_for("collector_phuhoa")

    def post(*items):
        response = client.post("/api/v1/submissions/batch", json={"submissions": list(items)}, headers=headers)
        assert response.status_code == 200, response.json
        return [r["status"] for r in response.json["results"]]
    return post


def test_the_domain_example_through_ingest_with_an_edit_and_a_refusal(field, store):
    original = rollup_submission(V2, "b1", rollup_household(30, 0, fibre="no"))
    statuses = field(rollup_submission(V1, "a1", rollup_household(10, 9)),
                     rollup_submission(V1, "a2", {"consent": "no"}),
                     original,
                     rollup_submission(V2, "b2", rollup_household(30, 15, fibre="no")),
                     rollup_submission(V2, "b3", rollup_household(30, 15, fibre="yes")))
    assert statuses == ["accepted"] * 5
    edit = rollup_submission(V2, "b1", rollup_household(30, 15, fibre="no"),
                             collected_at="2025-03-02T10:00:00+07:00", supersedes=original["instance_id"])
    assert field(edit, original) == ["accepted", "duplicate"]
    commune = rollup(store, CHU_PAH_COMMUNE, round="2025")
    smartphone = figure(commune, "smartphone_adults")
    assert (smartphone["numerator"], smartphone["denominator"], smartphone["households"]) == (54, 100, 4)
    assert smartphone["percent"] == pytest.approx(54.0)  # not (90 + 50) / 2 = 70
    assert (commune["households"], commune["refusals"], commune["expected_households"]) == (4, 1, 120)
    assert commune["coverage"] == pytest.approx(100 * 4 / 120)
    fibre = figure(commune, "fibre_coverage")
    assert (fibre["numerator"], fibre["denominator"], fibre["percent"]) == (2, 4, 50.0)
    assert fibre["wilson"] is not None and fibre["reliable"] is False  # 4 households < 5
    villages = {c["unit"]["code"]: c for c in commune["children"]}
    assert figure(villages[V1], "smartphone_adults")["percent"] == pytest.approx(90.0)
    assert figure(villages[V2], "smartphone_adults")["percent"] == pytest.approx(50.0)
    assert villages[V1]["refusals"] == 1 and villages[V1]["households"] == 1
    district = rollup(store, CHU_PAH)
    assert figure(district, "smartphone_adults")["numerator"] == 54


def test_rounds_follow_the_visit_date_and_combine_as_sums(field, store):
    field(rollup_submission(V1, "a1", rollup_household(10, 2), collected_at=IN_2024),
          rollup_submission(V1, "a1", rollup_household(10, 8), collected_at=IN_2025))
    by_round = {r: figure(rollup(store, V1, round=r), "smartphone_adults")["numerator"] for r in ("2024", "2025")}
    assert by_round == {"2024": 2, "2025": 8}
    combined = rollup(store, V1)
    assert combined["households"] == 2  # the same household counts once in each round
    assert figure(combined, "smartphone_adults")["percent"] == pytest.approx(50.0)


def test_rollup_check_passes_after_ingest_and_rebuild_repairs_tampered_sums(field, store, runner):
    original = rollup_submission(V1, "a1", rollup_household(10, 3))
    field(original, rollup_submission(V2, "b1", rollup_household(20, 10)),
          rollup_submission(V2, "b2", {"consent": "no"}))
    field(rollup_submission(V1, "a1", rollup_household(10, 7), supersedes=original["instance_id"]))
    before = rollup(store, CHU_PAH_COMMUNE)
    assert runner.invoke(["rollup", "check"]).exit_code == 0
    with db_session:
        village = store.Unit.get(code=V1)
        store.RollupSum.get(village=village, form_id=FORM, round="2025", indicator="smartphone_adults").numerator = 99
        store.HouseholdCount.get(village=village, form_id=FORM, round="2025").households = 5
    assert figure(rollup(store, CHU_PAH_COMMUNE), "smartphone_adults")["numerator"] == 109
    broken = runner.invoke(["rollup", "check"])
    assert broken.exit_code == 1
    assert "rollup_sum" in broken.output and "household_count" in broken.output
    assert "2 roll-up sum(s) differ" in broken.output
    assert runner.invoke(["rollup", "rebuild"]).exit_code == 0
    assert runner.invoke(["rollup", "check"]).exit_code == 0
    assert rollup(store, CHU_PAH_COMMUNE) == before
    assert figure(before, "smartphone_adults")["numerator"] == 17


def test_the_api_and_cli_show_ingested_figures_alike(field, client, token_for, runner):
    field(rollup_submission(V1, "a1", rollup_household(10, 9)), rollup_submission(V2, "b1", rollup_household(30, 15)))
    api = client.get(f"/api/v1/rollups/{CHU_PAH_COMMUNE}?round=2025", headers=token_for("staff_chupah")).json
    cli = runner.invoke(["rollup", "show", CHU_PAH_COMMUNE, "--round", "2025", "--format", "json"])
    assert json.loads(cli.output) == api
    assert figure(api, "smartphone_adults")["numerator"] == 24


# One household's story: versions in visit order, each either an edit of the one before or a new visit.
VISITS = st.lists(st.tuples(st.integers(0, 10), st.booleans()), min_size=1, max_size=4)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(stories=st.lists(VISITS, min_size=1, max_size=6), seed=st.integers(0, 10**6))
def test_any_sequence_of_uploads_leaves_sums_equal_to_a_recomputation(field, store, runner, stories, seed):
    """Accepts, edits (even before their original), duplicates and batches in any order: sums stay exact."""
    rng, run = random.Random(seed), uuid.uuid4().hex[:8]
    items, latest = [], {}
    for number, story in enumerate(stories):
        village, key, previous = (V1, V2)[number % 2], f"{run}-{number}", None
        for day, (smartphone, is_edit) in enumerate(story, start=1):
            item = rollup_submission(village, key, rollup_household(10, smartphone),
                                     collected_at=f"2025-04-{day:02d}T08:00:00+07:00",
                                     supersedes=previous["instance_id"] if previous and is_edit else None)
            items.append(item)
            previous = latest[key] = item
    uploads = items + rng.sample(items, k=rng.randint(0, len(items)))  # some sent twice
    rng.shuffle(uploads)
    before = rollup(store, CHU_PAH_COMMUNE, round="2025")
    while uploads:
        size = rng.randint(1, 5)
        field(*uploads[:size])
        uploads = uploads[size:]
    after = rollup(store, CHU_PAH_COMMUNE, round="2025")
    added = sum(item["answers"]["adults_smartphone"] for item in latest.values())
    assert figure(after, "smartphone_adults")["numerator"] - figure(before, "smartphone_adults")["numerator"] == added
    assert after["households"] - before["households"] == len(stories)
    assert runner.invoke(["rollup", "check"]).exit_code == 0


def test_an_original_arriving_after_its_edit_never_counts(field, store, runner):
    original = rollup_submission(V1, "a1", rollup_household(10, 1))
    edit = rollup_submission(V1, "a1", rollup_household(10, 6), collected_at="2025-03-02T10:00:00+07:00",
                             supersedes=original["instance_id"])
    assert field(edit) == ["accepted"]
    assert field(original) == ["accepted"]
    result = rollup(store, V1, round="2025")
    assert (result["households"], figure(result, "smartphone_adults")["numerator"]) == (1, 6)
    assert runner.invoke(["rollup", "check"]).exit_code == 0


def test_a_real_server_shows_an_accepted_household_in_the_next_roll_up(store, live_server, token_for):
    import requests
    publish_default_form(store)
    import_villages(store, (V1, 20), (V2, 100))
    collector, staff = token_for("collector_phuhoa"), token_for("staff_chupah")
    rollup_url = f"{live_server}/api/v1/rollups/{CHU_PAH}?round=2025"
    assert figure(requests.get(rollup_url, headers=staff, timeout=30).json(), "smartphone_adults")["percent"] is None
    batch = {"submissions": [rollup_submission(V1, "a1", rollup_household(10, 9)),
                             rollup_submission(V2, "b1", rollup_household(30, 15)),
                             rollup_submission(V2, "b2", rollup_household(30, 15)),
                             rollup_submission(V2, "b3", rollup_household(30, 15))]}
    posted = requests.post(f"{live_server}/api/v1/submissions/batch", json=batch, headers=collector, timeout=30)
    assert [r["status"] for r in posted.json()["results"]] == ["accepted"] * 4
    body = requests.get(rollup_url, headers=staff, timeout=30).json()
    assert figure(body, "smartphone_adults")["percent"] == pytest.approx(54.0)
    assert requests.get(f"{live_server}/api/v1/rollups/64", headers=staff, timeout=30).status_code == 403
