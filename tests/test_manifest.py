"""The incremental pull: full manifest, changes since a cursor with tombstones, ETag and 304."""
import requests

from .support.ingest import OTHER_VILLAGE, VILLAGE, submission

MANIFEST = "/api/v1/sync/manifest"
BATCH = "/api/v1/submissions/batch"


def pull(base, headers, since=None, etag=None):
    extra = {"If-None-Match": etag} if etag else {}
    return requests.get(base + MANIFEST, params={"since": since} if since else {},
                        headers=dict(headers, **extra), timeout=30)


def push(base, headers, items):
    return requests.post(base + BATCH, json={"submissions": items}, headers=headers, timeout=30)


def test_a_full_manifest_lists_forms_villages_in_scope_and_known_households(villages, http_server, token_for):
    headers = token_for("collector_phuhoa")
    push(http_server, headers, [submission(household_key="hh-7")])
    body = pull(http_server, headers).json()
    assert body["full"] is True
    [form] = body["forms"]
    assert (form["form_id"], form["version"], form["latest"]) == ("household_digital", "2025.1", True)
    assert form["url"].endswith("/api/v1/forms/household_digital/versions/2025.1") and form["content_hash"]
    assert [v["code"] for v in body["villages"]] == ["2372201", "2372202", "2372203"]
    assert body["villages"][0]["parent_code"] == "23722"
    assert [(h["village_code"], h["household_key"]) for h in body["households"]] == [(VILLAGE, "hh-7")]


def test_since_a_cursor_only_changes_come_back_and_removals_are_tombstones(villages, http_server, token_for):
    headers = token_for("collector_phuhoa")
    original = submission(household_key="hh-1")
    push(http_server, headers, [original, submission(household_key="hh-2")])
    cursor = pull(http_server, headers).json()["cursor"]
    moved = submission(household_key="hh-9", village=OTHER_VILLAGE, supersedes=original["instance_id"])
    push(http_server, headers, [moved])
    body = pull(http_server, headers, since=cursor).json()
    assert body["full"] is False and "forms" not in body
    assert [(h["village_code"], h["household_key"]) for h in body["households"]] == [(OTHER_VILLAGE, "hh-9")]
    assert body["tombstones"] == [{"type": "household", "village_code": VILLAGE, "household_key": "hh-1"}]
    assert int(body["cursor"].split(".")[0]) > int(cursor.split(".")[0])


def test_an_unchanged_manifest_answers_304_to_its_etag(villages, http_server, token_for):
    headers = token_for("collector_phuhoa")
    first = pull(http_server, headers)
    etag = first.headers["ETag"]
    assert pull(http_server, headers, etag=etag).status_code == 304
    push(http_server, headers, [submission()])
    assert pull(http_server, headers, etag=etag).status_code == 200


def test_villages_outside_the_scope_are_not_listed(villages, http_server, token_for):
    body = pull(http_server, token_for("staff_pleiku")).json()
    codes = [v["code"] for v in body["villages"]]
    assert "2357201" in codes and VILLAGE not in codes


def test_a_bad_cursor_is_a_400_naming_since(villages, http_server, token_for):
    answer = pull(http_server, token_for("collector_phuhoa"), since="yesterday")
    assert answer.status_code in (400, 422) and answer.json()["errors"][0]["field"] == "since"


def test_the_manifest_needs_a_token(villages, http_server):
    assert requests.get(http_server + MANIFEST, timeout=10).status_code == 401
