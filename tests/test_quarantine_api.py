"""The quarantine API: list, accept as corrected, discard; by role and scope, audited, one error shape."""
import pytest
import requests
from pony.orm import db_session

from sync import tally

from .support.ingest import PLEIKU_VILLAGE, household, ingest as send, statuses, submission, sums

BASE = "/api/v1/submissions"


@pytest.fixture
def quarantine(villages):
    """Three quarantined records: a bad answer, a village outside the collector's scope, a conflict copy."""
    bad = submission(household_key="hh-bad", answers=household(adults_smartphone=5))
    outside = submission(village=PLEIKU_VILLAGE, household_key="hh-out")
    first = submission(household_key="hh-c")
    send(villages, [bad, outside, first])
    send(villages, [dict(first, answers=household(adults_smartphone=2))])
    with db_session:
        copy = villages.Submission.get(copy_of=first["instance_id"]).instance_id
    return {"bad": bad["instance_id"], "outside": outside["instance_id"], "copy": copy,
            "first": first["instance_id"]}


def listed(client, headers, **query):
    answer = client.get(f"{BASE}/quarantine", query_string=query, headers=headers)
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def test_staff_list_the_quarantine_of_their_scope_and_admins_all_of_it(client, token_for, quarantine):
    admin = listed(client, token_for("admin"))
    assert admin["total"] == 3 and {i["instance_id"] for i in admin["items"]} == {
        quarantine["bad"], quarantine["outside"], quarantine["copy"]}
    chupah = listed(client, token_for("staff_chupah"))
    assert {i["instance_id"] for i in chupah["items"]} == {quarantine["bad"], quarantine["copy"]}
    bad = next(i for i in chupah["items"] if i["instance_id"] == quarantine["bad"])
    assert bad["errors"][0]["field"] == "answers.adults_smartphone" and bad["answers"]["adults_smartphone"] == 5
    assert [i["instance_id"] for i in listed(client, token_for("staff_pleiku"))["items"]] == [quarantine["outside"]]


def test_the_quarantine_list_is_paged_and_filtered_by_unit(client, token_for, quarantine):
    headers = token_for("admin")
    first, second = (listed(client, headers, page=n, page_size=2) for n in (1, 2))
    assert len(first["items"]) == 2 and len(second["items"]) == 1 and first["total"] == 3
    assert {i["instance_id"] for i in first["items"] + second["items"]} == {
        quarantine["bad"], quarantine["outside"], quarantine["copy"]}
    assert listed(client, headers, unit=PLEIKU_VILLAGE)["total"] == 1


def test_the_quarantine_list_refuses_collectors_units_out_of_scope_and_bad_paging(client, token_for, quarantine):
    assert client.get(f"{BASE}/quarantine", headers=token_for("collector_phuhoa")).status_code == 403
    outside = client.get(f"{BASE}/quarantine?unit={PLEIKU_VILLAGE}", headers=token_for("staff_chupah"))
    assert outside.status_code == 403 and outside.get_json()["code"] == "forbidden"
    assert client.get(f"{BASE}/quarantine?unit=nope", headers=token_for("admin")).status_code == 404
    bad = client.get(f"{BASE}/quarantine?page=0", headers=token_for("admin"))
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "page"
    assert client.get(f"{BASE}/quarantine").status_code == 401


def test_staff_accept_corrected_answers_and_the_decision_is_audited(client, token_for, villages, quarantine):
    answer = client.post(f"{BASE}/{quarantine['bad']}/accept", headers=token_for("staff_chupah"),
                         json={"answers": household(adults_smartphone=2)})
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["status"] == "accepted" and answer.get_json()["previous_status"] == "rejected"
    with db_session:
        entry = villages.AuditEntry.get(action="quarantine_accepted", target=quarantine["bad"])
        assert entry.actor == "staff_chupah" and entry.details["previous_errors"][0]["code"]
    assert tally.check(villages) == []


def test_an_invalid_correction_answers_422_with_field_paths(client, token_for, villages, quarantine):
    answer = client.post(f"{BASE}/{quarantine['bad']}/accept", headers=token_for("staff_chupah"),
                         json={"answers": household(adults_smartphone=7)})
    body = answer.get_json()
    assert answer.status_code == 422 and body["code"] == "invalid" and body["errno"] == 101
    assert [e["field"] for e in body["errors"]] == ["answers.adults_smartphone"]
    not_object = client.post(f"{BASE}/{quarantine['bad']}/accept", headers=token_for("staff_chupah"),
                             json={"answers": [1]})
    assert not_object.status_code == 422 and not_object.get_json()["errors"][0]["field"] == "answers"
    with db_session:
        assert villages.Submission.get(instance_id=quarantine["bad"]).status == "rejected"
        assert not villages.AuditEntry.exists(action="quarantine_accepted")


def test_an_admin_accepts_a_record_outside_the_collectors_scope_without_a_body(client, token_for, villages,
                                                                               quarantine):
    answer = client.post(f"{BASE}/{quarantine['outside']}/accept", headers=token_for("admin"))
    assert answer.status_code == 200 and answer.get_json()["status"] == "accepted"
    assert sums(villages)[PLEIKU_VILLAGE] == (1, 2, 1) and tally.check(villages) == []


def test_decisions_check_role_and_scope(client, token_for, quarantine):
    collector = client.post(f"{BASE}/{quarantine['bad']}/accept", headers=token_for("collector_phuhoa"))
    assert collector.status_code == 403 and collector.get_json()["code"] == "forbidden"
    other = client.post(f"{BASE}/{quarantine['bad']}/discard", headers=token_for("staff_pleiku"),
                        json={"reason": "x"})
    assert other.status_code == 404 and other.get_json()["code"] == "not_found"
    accepted = client.post(f"{BASE}/{quarantine['first']}/discard", headers=token_for("admin"), json={})
    assert accepted.status_code == 409 and accepted.get_json()["errors"][0]["code"] == "not_quarantined"
    assert client.post(f"{BASE}/{quarantine['bad']}/accept").status_code == 401


def test_discarding_a_conflict_copy_keeps_it_with_the_reason_and_is_audited(client, token_for, villages,
                                                                            quarantine):
    answer = client.post(f"{BASE}/{quarantine['copy']}/discard", headers=token_for("staff_chupah"),
                         json={"reason": "thiết bị gửi nhầm"})
    assert answer.status_code == 200 and answer.get_json()["status"] == "discarded"
    assert answer.get_json()["errors"][-1] == {"field": None, "code": "discarded", "message": "thiết bị gửi nhầm"}
    with db_session:
        assert villages.AuditEntry.get(action="quarantine_discarded").details["reason"] == "thiết bị gửi nhầm"
    assert listed(client, token_for("admin"))["total"] == 2 and tally.check(villages) == []
    too_long = client.post(f"{BASE}/{quarantine['bad']}/discard", headers=token_for("admin"),
                           json={"reason": "x" * 501})
    assert too_long.status_code == 422 and too_long.get_json()["errors"][0]["field"] == "reason"


def test_an_admin_accepts_a_record_over_a_real_server_and_the_device_sees_it(villages, live_server, token_for):
    item = submission(village=PLEIKU_VILLAGE)
    device = token_for("collector_phuhoa")
    sent = requests.post(f"{live_server}{BASE}/batch", json={"submissions": [item]}, headers=device, timeout=30)
    assert statuses(sent.json()["results"]) == ["rejected"]
    decided = requests.post(f"{live_server}{BASE}/{item['instance_id']}/accept", headers=token_for("admin"),
                            json={"village_code": PLEIKU_VILLAGE}, timeout=30)
    assert decided.status_code == 200 and decided.json()["status"] == "accepted"
    again = requests.post(f"{live_server}{BASE}/batch", json={"submissions": [item]}, headers=device, timeout=30)
    assert statuses(again.json()["results"]) == ["duplicate"]
    assert tally.check(villages) == []
