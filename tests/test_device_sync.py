"""A device syncing with a real server over real HTTP (this test's app served by `http_server`),
through a flaky network."""
import json
import os
import signal
import subprocess
import sys
import uuid

import pytest
from click.testing import CliRunner

import forms
from server.cli import main
from sync.device.app import Device
from sync.device.client import NotLoggedIn
from tests.conftest import PASSWORD
from tests.support.devices import (
    IN_SCOPE,
    device_household,
    fast_backoff,
    flaky_proxy,
    logged_in_device,
    on_server,
    server_ids,
)

OUTSIDE = "2357201"  # Pleiku, outside collector_phuhoa's commune


@pytest.fixture
def proxy(server):
    """A flaky network in front of the server (it passes everything until told otherwise)."""
    flaky = flaky_proxy(server)
    yield flaky
    flaky.close()


@pytest.fixture
def device(tmp_path, server):
    dev = logged_in_device(tmp_path / "device", server)
    yield dev
    dev.close()


def collect(dev, count, start=0, village=IN_SCOPE[0]):
    """Queue `count` valid visits to distinct households."""
    return dev.collect([{"answers": device_household(f"H{n}", members=n % 40 + 5), "village_code": village,
                         "household_key": f"H{n}"} for n in range(start, start + count)])


def test_a_push_delivers_every_visit_once_and_records_the_results(device, survey):
    items = collect(device, 25)
    report = device.push(batch_size=10)
    assert report.counts["accepted"] == 25 and report.batches == 3 and report.remaining == 0
    assert device.outbox.counts()["sent_accepted"] == 25
    assert on_server(survey) == {"accepted": 25}
    assert server_ids(survey) == sorted(i.instance_id for i in items)


def test_replaying_a_whole_batch_ten_times_changes_nothing_on_the_server(device, survey):
    items = collect(device, 12)
    device.push()
    ids = [i.instance_id for i in items]
    for _ in range(10):
        device.outbox.requeue(ids)
        report = device.push()
        assert report.counts["duplicate"] == 12
    assert on_server(survey) == {"accepted": 12}
    assert device.outbox.counts()["sent_duplicate"] == 12


def test_a_rejected_visit_is_kept_with_its_reasons_and_does_not_block_the_others(device, survey):
    collect(device, 3)
    outside = device.outbox.add("household_digital", "2025.1", OUTSIDE, "P1", device_household("P1"))
    collect(device, 3, start=3)
    report = device.push()
    assert report.counts["accepted"] == 6 and report.counts["rejected"] == 1
    rejected = device.outbox.get_submission(outside.instance_id)
    assert rejected.state == "rejected" and rejected.errors and rejected.errors[0]["field"]
    again = device.push()
    assert again.batches == 0 and device.outbox.get_submission(outside.instance_id).attempts == 1
    shown = CliRunner().invoke(main, ["device", "--device-dir", device.directory, "status", "--format", "json"])
    state = json.loads(shown.output)
    assert state["counts"]["rejected"] == 1 and state["counts"]["sent"] == 6
    assert state["rejected"][0]["instance_id"] == outside.instance_id
    assert state["rejected"][0]["errors"] == rejected.errors
    table = CliRunner().invoke(main, ["device", "--device-dir", device.directory, "status"])
    assert rejected.errors[0]["message"] in table.output


def test_an_item_the_server_cannot_identify_is_set_aside_and_the_rest_of_the_batch_goes_through(device, survey):
    collect(device, 2)
    odd = device.outbox.add("household_digital", "2025.1", IN_SCOPE[0], "X1", device_household("X1"),
                            instance_id="x" * 300)  # e.g. written by a broken older client
    collect(device, 2, start=2)
    report = device.push()
    assert report.counts["accepted"] == 4 and report.counts["rejected"] == 1
    kept = device.outbox.get_submission(odd.instance_id)
    assert kept.state == "rejected" and kept.errors[0]["code"] == "invalid_instance_id"
    assert on_server(survey) == {"accepted": 4}


def test_a_corrected_rejected_visit_is_accepted_under_its_own_id(device, survey):
    [bad] = device.collect([{"answers": device_household("H1"), "village_code": IN_SCOPE[0], "household_key": "H1"}])
    with device.outbox.transaction() as db:  # as if collected with an older engine that let it through
        db.execute("UPDATE submission SET answers = ? WHERE instance_id = ?",
                   (json.dumps(device_household("H1", adults=9)), bad.instance_id))
    assert device.push().counts["rejected"] == 1
    assert device.outbox.get_submission(bad.instance_id).errors[0]["field"].endswith("adults")
    device.fix(bad.instance_id, device_household("H1", adults=2))
    assert device.push().counts["accepted"] == 1
    assert server_ids(survey) == [bad.instance_id]


def test_the_same_id_with_other_answers_is_a_conflict_and_both_are_kept(device, survey):
    [item] = collect(device, 1)
    device.push()
    with device.outbox.transaction() as db:
        db.execute("UPDATE submission SET answers = ?, state = 'queued' WHERE instance_id = ?",
                   (json.dumps(device_household("H0", members=7)), item.instance_id))
    assert device.push().counts["conflict"] == 1
    assert device.outbox.counts()["sent_conflict"] == 1
    assert sum(on_server(survey).values()) == 2


def test_two_devices_visiting_the_same_household_both_arrive(tmp_path, server, survey):
    first, second = (logged_in_device(tmp_path / name, server) for name in ("a", "b"))
    for dev in (first, second):
        dev.collect([{"answers": device_household("H7"), "village_code": IN_SCOPE[0], "household_key": "H7"}])
        assert dev.push().counts["accepted"] == 1
    counts = on_server(survey)
    assert sum(counts.values()) == 2 and counts.get("accepted", 0) >= 1


@pytest.fixture
def small_batch_server(app, survey, server):
    """A real server that takes at most 6 submissions per request."""
    app.config["BATCH_MAX_SUBMISSIONS"] = 6
    return server


def test_a_too_large_batch_is_halved_until_the_server_takes_it(tmp_path, small_batch_server, survey):
    dev = logged_in_device(tmp_path / "device", small_batch_server)
    collect(dev, 20)
    report = dev.push(batch_size=20)
    dev.close()
    assert report.counts["accepted"] == 20 and report.remaining == 0
    assert on_server(survey) == {"accepted": 20}


def test_a_revoked_token_stops_the_push_with_a_clear_message_and_loses_nothing(device, survey):
    collect(device, 5)
    client = device.client()
    client.request("DELETE", "/api/v1/auth/token")
    with pytest.raises(NotLoggedIn):
        device.push()
    assert device.outbox.counts()["queued"] == 5
    result = CliRunner().invoke(main, ["device", "--device-dir", device.directory, "push"])
    assert result.exit_code == 1 and "langso device login" in result.output
    assert device.outbox.get("token") not in result.output


def test_login_stores_the_token_in_the_device_file_and_never_prints_it(tmp_path, server):
    runner = CliRunner()
    result = runner.invoke(main, ["device", "--device-dir", str(tmp_path / "d"), "login", server,
                                  "--username", "collector_phuhoa"], input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    with Device(tmp_path / "d") as dev:
        token = dev.outbox.get("token")
        assert token and token not in result.output
        assert dev.outbox.get("server_url") == server
    status = runner.invoke(main, ["device", "--device-dir", str(tmp_path / "d"), "status", "--format", "json"])
    assert token not in status.output and json.loads(status.output)["logged_in"] is True


def test_a_wrong_password_is_refused_and_nothing_is_stored(tmp_path, server):
    result = CliRunner().invoke(main, ["device", "--device-dir", str(tmp_path / "d"), "login", server,
                                       "--username", "collector_phuhoa", "--password", "nope"])
    assert result.exit_code == 1 and "Error" in result.output
    with Device(tmp_path / "d") as dev:
        assert dev.outbox.get("token") is None


def test_dropped_connections_are_retried_and_each_visit_arrives_once(tmp_path, proxy, survey):
    dev = logged_in_device(tmp_path / "device", proxy.url)
    collect(dev, 40)
    proxy.script = ["cut_after_server", "cut_mid_response", "cut_before", "unavailable", "cut_after_server"]
    report = dev.push(batch_size=10)
    assert report.remaining == 0 and report.sent == 40
    assert on_server(survey) == {"accepted": 40}
    assert dev.outbox.counts()["sent"] == 40 and dev.outbox.counts()["sent_duplicate"] >= 1
    dev.close()


def test_a_network_that_stays_down_stops_the_push_and_the_next_push_resumes(tmp_path, proxy, survey):
    dev = logged_in_device(tmp_path / "device", proxy.url)
    collect(dev, 30)
    proxy.script = ["pass"] + ["cut_before"] * 12  # one batch goes through, then nothing for a while
    first = dev.push(batch_size=10)
    assert first.stopped and first.sent == 10 and first.remaining == 20
    assert dev.status()["failing"][0]["last_error"]
    second = dev.push(batch_size=10)
    assert second.sent == 20 and second.remaining == 0
    assert on_server(survey) == {"accepted": 30}
    dev.close()


PUSHER = """
import sys
from sync.device.app import Device
Device(sys.argv[1]).push(batch_size=int(sys.argv[2]))
"""


def test_a_device_killed_after_the_server_accepted_but_before_recording_it_resumes_without_doubles(
        tmp_path, proxy, survey):
    dev = logged_in_device(tmp_path / "device", proxy.url)
    items = collect(dev, 15)
    dev.close()
    proxy.script = ["hold"]  # the server answers the first batch; the device never hears it
    process = subprocess.Popen([sys.executable, "-c", PUSHER, str(tmp_path / "device"), "5"],
                               cwd=os.path.dirname(os.path.dirname(__file__)))
    assert proxy.held.wait(60)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert on_server(survey) == {"accepted": 5}
    with Device(tmp_path / "device", backoff=fast_backoff()) as resumed:
        assert resumed.outbox.counts()["queued"] == 15
        assert resumed.outbox.get_submission(items[0].instance_id).attempts == 1
        report = resumed.push(batch_size=5)
        assert report.counts == {"accepted": 10, "duplicate": 5, "conflict": 0, "rejected": 0}
        assert resumed.outbox.counts()["sent"] == 15
    assert on_server(survey) == {"accepted": 15}
    assert server_ids(survey) == sorted(i.instance_id for i in items)


def test_reconcile_marks_visits_the_server_already_holds_without_sending_them_again(device, survey):
    items = collect(device, 8)
    device.push()
    device.outbox.requeue([i.instance_id for i in items])  # a device restored from an old backup
    outcome = device.reconcile()
    assert outcome["known_to_server"] == 8 and outcome["requeued"] == 0
    assert device.outbox.counts()["queued"] == 0 and device.outbox.counts()["sent"] == 8
    assert device.push().batches == 0


def test_reconcile_requeues_visits_the_server_does_not_hold(device, survey):
    [item] = collect(device, 1)
    device.outbox.record_results([{"instance_id": item.instance_id, "status": "accepted"}])  # never really sent
    assert device.reconcile()["requeued"] == 1
    assert device.push().counts["accepted"] == 1
    assert server_ids(survey) == [item.instance_id]


def test_the_cli_push_shows_progress_and_a_summary(device, survey):
    collect(device, 30)
    result = CliRunner().invoke(main, ["device", "--device-dir", device.directory, "push", "--batch-size", "10"])
    assert result.exit_code == 0, result.output
    assert "30 accepted" in result.output and "0 still queued" in result.output
    assert on_server(survey) == {"accepted": 30}


def test_the_instance_ids_sent_are_the_ones_made_at_collect_time(device, survey):
    [item] = collect(device, 1)
    device.push()
    assert uuid.UUID(server_ids(survey)[0]).version == 4 and server_ids(survey) == [item.instance_id]


def test_pull_fetches_the_form_the_villages_in_scope_and_known_households(tmp_path, server, survey):
    with Device(tmp_path / "seen", backoff=fast_backoff()) as other:  # another collector visited H7
        other.login(server, "collector_phuhoa", PASSWORD)
        other.pull()
        other.collect([{"answers": device_household("H7"), "village_code": IN_SCOPE[0], "household_key": "H7"}])
        other.push()
    with Device(tmp_path / "device", backoff=fast_backoff()) as dev:
        dev.login(server, "collector_phuhoa", PASSWORD)
        report = dev.pull()
        assert report.forms_downloaded == ["household_digital 2025.1"]
        assert {v["code"] for v in dev.outbox.villages()} >= set(IN_SCOPE)
        assert OUTSIDE not in {v["code"] for v in dev.outbox.villages()}
        assert dev.outbox.household_keys(IN_SCOPE[0]) == ["H7"]
        version, definition = dev.outbox.form_definition("household_digital")
        assert version == "2025.1" and definition == forms.household_digital()
        assert dev.pull().unchanged


def test_an_incremental_pull_brings_only_new_household_keys(tmp_path, server, survey):
    dev = logged_in_device(tmp_path / "device", server)
    dev.pull()
    cursor = dev.outbox.get("cursor")
    with Device(tmp_path / "other", backoff=fast_backoff()) as other:
        other.login(server, "collector_phuhoa", PASSWORD)
        other.pull()
        other.collect([{"answers": device_household("K1"), "village_code": IN_SCOPE[1], "household_key": "K1"}])
        other.push()
    report = dev.pull()
    assert not report.unchanged and report.forms_downloaded == [] and report.households == 1
    assert dev.outbox.household_keys(IN_SCOPE[1]) == ["K1"] and dev.outbox.get("cursor") != cursor
    dev.close()


def test_the_cli_pull_reports_what_it_received(tmp_path, server, survey):
    runner = CliRunner()
    args = ["device", "--device-dir", str(tmp_path / "d")]
    runner.invoke(main, args + ["login", server, "--username", "collector_phuhoa", "--password", PASSWORD])
    first = runner.invoke(main, args + ["pull"])
    assert first.exit_code == 0, first.output
    assert "form downloaded: household_digital 2025.1" in first.output
    assert "Nothing changed" in runner.invoke(main, args + ["pull"]).output
