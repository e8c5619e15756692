"""Devices talking to a real HTTP server (this test's app, `http_server`): cut connections, replays, gzip,
bad requests."""
import gzip
import json

import pytest
import requests

from server.bench.loadtest import CuttingProxy
from sync import tally

from .support.ingest import OTHER_VILLAGE, PLEIKU_VILLAGE, VILLAGE, household, rows, submission, sums

BATCH = "/api/v1/submissions/batch"


@pytest.fixture
def device(villages, http_server, token_for):
    """A collector's device: posts batches to the live server with its bearer token."""
    headers = dict(token_for("collector_phuhoa"), **{"Accept-Language": "en"})

    def post(items=None, body=None, base=http_server, extra=None, timeout=30):
        data = body if body is not None else json.dumps({"submissions": items}).encode()
        return requests.post(base + BATCH, data=data, timeout=timeout,
                             headers={**headers, "Content-Type": "application/json", **(extra or {})})
    post.base, post.headers = http_server, headers
    return post


def test_a_pushed_batch_is_answered_item_by_item(device):
    answer = device([submission(), submission(village=PLEIKU_VILLAGE)])
    assert answer.status_code == 200
    assert [r["status"] for r in answer.json()["results"]] == ["accepted", "rejected"]
    assert answer.json()["results"][1]["errors"][0]["code"] == "village_out_of_scope"


def test_a_connection_cut_mid_response_then_a_retry_leaves_exactly_one_copy(device, villages):
    port = int(device.base.rsplit(":", 1)[1])
    proxy = CuttingProxy(port, cut_rate=0.0)
    proxy.script.append("cut_after_server")  # the server stores and answers; the device never hears it
    items = [submission(household_key=f"hh-{i}") for i in range(20)]
    try:
        with pytest.raises(requests.ConnectionError):
            device(items, base=proxy.url)
        retry = device(items, base=proxy.url)
    finally:
        proxy.close()
    assert proxy.counts["cut_after_server"] == 1 and proxy.counts["pass"] == 1
    assert {r["status"] for r in retry.json()["results"]} == {"duplicate"}
    assert len(rows(villages)) == 20
    assert sums(villages)[VILLAGE] == (20, 40, 20)


def test_replaying_a_whole_batch_ten_times_changes_nothing(device, villages):
    items = [submission(household_key=f"hh-{i}", village=(VILLAGE, OTHER_VILLAGE)[i % 2]) for i in range(30)]
    items.append(submission(answers=household(adults_smartphone=9)))
    device(items)
    before = (rows(villages, "SELECT instance_id, status, is_current, seq FROM submission ORDER BY seq"),
              sums(villages))
    for _ in range(10):
        statuses = {r["status"] for r in device(items).json()["results"]}
        assert statuses == {"duplicate", "rejected"}
    after = (rows(villages, "SELECT instance_id, status, is_current, seq FROM submission ORDER BY seq"),
             sums(villages))
    assert after == before and tally.check(villages) == []


def test_conflicts_and_quarantine_over_http(device, villages):
    item = submission()
    device([item])
    results = device([dict(item, answers=household(members_ehr=1)),
                      submission(answers=household(members="many"))]).json()["results"]
    assert [r["status"] for r in results] == ["conflict", "rejected"]
    assert results[1]["errors"][0]["field"] == "answers.members"
    assert sorted(r[1] for r in rows(villages)) == ["accepted", "conflict", "rejected"]


def test_gzip_bodies_are_accepted(device):
    body = gzip.compress(json.dumps({"submissions": [submission()]}).encode())
    answer = device(body=body, extra={"Content-Encoding": "gzip"})
    assert answer.status_code == 200 and answer.json()["results"][0]["status"] == "accepted"


def test_a_gzip_bomb_is_refused_with_413(device):
    body = gzip.compress(b'{"submissions": [' + b" " * (20 * 1024 * 1024) + b"]}")
    answer = device(body=body, extra={"Content-Encoding": "gzip"})
    assert answer.status_code == 413 and answer.json()["code"] == "too_large"


@pytest.mark.parametrize("body, extra, status, code", [
    (b"{not json", {}, 400, "malformed_json"),
    (b'{"items": []}', {}, 400, "bad_request"),
    (b'{"submissions": [{"form_id": "x"}]}', {}, 400, "bad_request"),
    (b'{"submissions": []}', {"Content-Encoding": "br"}, 415, "unsupported_media_type"),
    (b'{"submissions": []}', {"Content-Type": "text/plain"}, 415, "unsupported_media_type"),
    (b'{"submissions": []}', {"Content-Type": "application/x-www-form-urlencoded"}, 415, "unsupported_media_type"),
    (b"not gzip at all", {"Content-Encoding": "gzip"}, 400, "bad_request"),
    (b'{"submissions": [{"instance_id": "a", "answers": {"head_name": "\\ud800"}}]}', {}, 400, "malformed_json"),
])
def test_request_level_problems_fail_the_request_in_the_one_error_shape(device, body, extra, status, code):
    answer = device(body=body, extra=extra)
    assert answer.status_code == status
    assert set(answer.json()) == {"status", "errno", "code", "message", "errors"}
    assert answer.json()["code"] == code


def test_a_body_without_a_content_type_is_read_as_json(device):
    answer = requests.post(device.base + BATCH, data=json.dumps({"submissions": [submission()]}).encode(),
                           headers=dict(device.headers, **{"Content-Type": ""}), timeout=30)
    assert answer.status_code == 200 and answer.json()["results"][0]["status"] == "accepted"


def test_a_missing_instance_id_names_its_field_path(device):
    answer = device(body=b'{"submissions": [{"form_id": "x"}]}')
    assert answer.json()["errors"][0]["field"] == "submissions.0.instance_id"


def test_too_many_submissions_or_bytes_are_refused_with_413(device):
    many = device(body=json.dumps({"submissions": [{"instance_id": str(i)} for i in range(1001)]}).encode())
    assert many.status_code == 413 and many.json()["code"] == "too_large"
    big = device(body=b" " * (8 * 1024 * 1024 + 10))
    assert big.status_code == 413


def test_no_or_a_bad_token_is_401(device):
    for headers in ({}, {"Authorization": "Bearer nope"}):
        answer = requests.post(device.base + BATCH, json={"submissions": []}, headers=headers, timeout=10)
        assert answer.status_code == 401 and answer.json()["code"] == "unauthorized"


def test_two_devices_visiting_one_household_count_the_latest_visit(device, villages, token_for):
    morning = submission(collected_at="2025-03-01T08:00:00+07:00", answers=household(adults_smartphone=0))
    evening = submission(collected_at="2025-03-01T18:00:00+07:00", answers=household(adults_smartphone=2))
    other_device = dict(token_for("collector_phuhoa"))
    device([evening])
    requests.post(device.base + BATCH, json={"submissions": [morning]}, headers=other_device, timeout=10)
    assert sums(villages) == {VILLAGE: (2, 2, 1)}
    assert tally.check(villages) == []


def test_a_future_collected_at_is_accepted_and_flagged(device):
    result = device([submission(collected_at="2099-01-01T00:00:00+07:00")]).json()["results"][0]
    assert result["status"] == "accepted" and result["flags"] == ["collected_at_in_future"]


def test_an_edit_over_http_moves_the_sums_exactly(device, villages):
    original = submission()
    device([original])
    device([submission(answers=household(adults_smartphone=2), supersedes=original["instance_id"])])
    assert sums(villages) == {VILLAGE: (2, 2, 1)}
    assert tally.check(villages) == []


def test_receipts_tell_a_device_what_the_server_holds(device, token_for):
    kept, bad = submission(), submission(village="9999999")
    device([kept, bad])
    answer = requests.get(device.base + "/api/v1/submissions/status",
                          params={"ids": f"{kept['instance_id']},{bad['instance_id']},never-sent"},
                          headers=device.headers, timeout=10).json()["results"]
    assert [r["status"] for r in answer] == ["accepted", "rejected", "unknown"]
    assert answer[0]["received_at"] and answer[1]["errors"][0]["code"] == "unknown_village"
    outsider = requests.get(device.base + "/api/v1/submissions/status", params={"ids": kept["instance_id"]},
                            headers=token_for("staff_pleiku"), timeout=10).json()["results"]
    assert outsider[0]["status"] == "unknown"


def test_messages_follow_the_lang_parameter(device):
    item = submission(village="9999999")
    vi = requests.post(device.base + BATCH + "?lang=vi", json={"submissions": [item]},
                       headers={"Authorization": device.headers["Authorization"]}, timeout=10)
    assert vi.json()["results"][0]["errors"][0]["message"] == "Không có thôn/làng với mã này"
