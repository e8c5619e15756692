"""The device outbox: a real SQLite file that keeps every visit through crashes and restarts."""
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import textwrap
import uuid

import pytest

from sync.device.outbox import FILE_NAME, Outbox, Submission, now_iso

ANSWERS = {"consent": "yes", "members": 4, "head_name": "Rơ Mah Hiếu"}


def visit(outbox, key="H001", village="2372201", **answers):
    """Queue one household visit."""
    return outbox.add("household_digital", "2025.1", village, key, dict(ANSWERS, **answers))


@pytest.fixture
def outbox(tmp_path):
    with Outbox.open(tmp_path / "device") as box:
        yield box


def test_a_queued_visit_is_still_there_after_reopening_the_file(tmp_path):
    with Outbox.open(tmp_path) as box:
        queued = visit(box)
    with Outbox.open(tmp_path) as box:
        [found] = box.submissions()
    assert found.instance_id == queued.instance_id
    assert found.state == "queued" and found.answers == queued.answers


def test_instance_ids_are_uuid4_made_when_the_visit_is_collected(outbox):
    first, second = visit(outbox, "H1"), visit(outbox, "H2")
    assert uuid.UUID(first.instance_id).version == 4
    assert first.instance_id != second.instance_id


def test_collected_at_is_iso_8601_with_an_offset(outbox):
    stamp = visit(outbox).collected_at
    assert stamp[-6] in "+-" and stamp[-3] == ":"


def test_text_is_stored_in_nfc(outbox):
    decomposed = "Ro\u0302\u0300 Mah"  # "Rồ Mah" typed with combining accents
    item = outbox.add("household_digital", "2025.1", "2372201", "Nha\u0300 1", {"head_name": decomposed})
    again = outbox.get_submission(item.instance_id)
    assert again.answers["head_name"] == "R\u1ed3 Mah" and again.household_key == "Nh\u00e0 1"


def test_the_wire_format_uses_exactly_the_protocol_names(outbox):
    item = outbox.add("household_digital", "2025.1", "2372201", "H1", ANSWERS, supersedes="abc")
    assert set(item.wire()) == {"instance_id", "form_id", "form_version", "village_code", "household_key",
                                "collected_at", "answers", "supersedes"}
    assert "supersedes" not in visit(outbox, "H2").wire()


def test_the_device_file_and_its_journal_are_readable_by_the_owner_only(tmp_path):
    with Outbox.open(tmp_path / "device") as box:
        box.set(token="secret-token-value")
        for suffix in ("", "-wal", "-shm"):
            path = tmp_path / "device" / (FILE_NAME + suffix)
            if path.exists():
                assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "device").stat().st_mode) == 0o700


def test_the_token_never_shows_in_settings_or_reprs(outbox):
    outbox.set(server_url="https://langso.example", token="secret-token-value")
    assert outbox.get("token") == "secret-token-value"
    assert "secret-token-value" not in repr(outbox.settings()) + repr(outbox)
    assert outbox.settings()["token"] == "***"


def test_a_setting_set_to_none_is_removed(outbox):
    outbox.set(cursor="42")
    outbox.set(cursor=None)
    assert outbox.get("cursor") is None


def test_batches_come_oldest_first_and_can_skip_past_a_position(outbox):
    items = [visit(outbox, f"H{i}") for i in range(5)]
    first = outbox.next_batch(2)
    assert [s.instance_id for s in first] == [s.instance_id for s in items[:2]]
    rest = outbox.next_batch(10, after_seq=first[-1].seq)
    assert [s.instance_id for s in rest] == [s.instance_id for s in items[2:]]


def test_server_results_move_visits_to_sent_or_rejected_with_reasons(outbox):
    ok, same, clash, bad = (visit(outbox, f"H{i}") for i in range(4))
    reasons = [{"field": "answers.members", "code": "constraint", "message": "quá nhiều"}]
    counts = outbox.record_results([
        {"instance_id": ok.instance_id, "status": "accepted"},
        {"instance_id": same.instance_id, "status": "duplicate"},
        {"instance_id": clash.instance_id, "status": "conflict"},
        {"instance_id": bad.instance_id, "status": "rejected", "errors": reasons}])
    assert counts == {"accepted": 1, "duplicate": 1, "conflict": 1, "rejected": 1}
    assert outbox.counts() == {"queued": 0, "sent": 3, "rejected": 1, "sent_accepted": 1, "sent_duplicate": 1,
                               "sent_conflict": 1, "total": 4}
    assert outbox.get_submission(bad.instance_id).errors == reasons
    assert outbox.next_batch(10) == []


def test_an_unknown_result_status_leaves_the_visit_queued(outbox):
    item = visit(outbox)
    outbox.record_results([{"instance_id": item.instance_id, "status": "pending"}])
    assert outbox.get_submission(item.instance_id).state == "queued"


def test_attempts_are_counted_with_the_last_error(outbox):
    item = visit(outbox)
    outbox.mark_attempt([item.instance_id])
    outbox.mark_attempt([item.instance_id], "ConnectionError")
    again = outbox.get_submission(item.instance_id)
    assert again.attempts == 2 and again.last_error == "ConnectionError"


def test_a_rejected_visit_is_requeued_corrected_and_its_rejected_answers_are_kept(outbox):
    bad = visit(outbox, members=99)
    reasons = [{"field": "members", "code": "constraint", "message": "1..50"}]
    outbox.record_results([{"instance_id": bad.instance_id, "status": "rejected", "errors": reasons}])
    fixed = outbox.amend(bad.instance_id, dict(ANSWERS, members=5))
    assert fixed.instance_id == bad.instance_id and fixed.state == "queued" and fixed.errors == []
    assert fixed.answers["members"] == 5 and fixed.collected_at == bad.collected_at
    assert fixed.history[0]["answers"]["members"] == 99 and fixed.history[0]["errors"] == reasons
    assert outbox.counts()["rejected"] == 0 and outbox.counts()["queued"] == 1


def test_a_rejected_visit_is_not_requeued_unchanged(outbox):
    bad = visit(outbox)
    outbox.record_results([{"instance_id": bad.instance_id, "status": "rejected", "errors": []}])
    with pytest.raises(ValueError, match="unchanged"):
        outbox.amend(bad.instance_id, dict(ANSWERS))


def test_only_a_rejected_visit_can_be_amended(outbox):
    with pytest.raises(ValueError, match="not a rejected"):
        outbox.amend(visit(outbox).instance_id, {"members": 2})


def test_reconcile_can_put_sent_visits_back_in_the_queue(outbox):
    item = visit(outbox)
    outbox.record_results([{"instance_id": item.instance_id, "status": "accepted"}])
    outbox.requeue([item.instance_id])
    assert outbox.get_submission(item.instance_id).state == "queued"


def test_household_keys_known_come_from_the_server_and_from_own_visits(outbox):
    outbox.save_households([("2372201", "H9"), ("2372202", "K1")])
    visit(outbox, "H1")
    assert outbox.household_keys("2372201") == ["H1", "H9"]
    outbox.remove_households([("2372201", "H9")])
    assert outbox.household_keys("2372201") == ["H1"]


def test_villages_are_added_updated_and_removed(outbox):
    outbox.save_villages([{"code": "2372201", "name": "Làng A"}, {"code": "2372202", "name": "Làng B"}])
    outbox.save_villages([{"code": "2372201", "name": "Làng A mới"}])
    outbox.remove_villages(["2372202"])
    assert [(v["code"], v["name"]) for v in outbox.villages()] == [("2372201", "Làng A mới")]


def test_the_latest_downloaded_form_version_is_chosen_by_version_order(outbox):
    outbox.save_form("household_digital", "2025.9", "h9", definition={"version": "2025.9"})
    outbox.save_form("household_digital", "2025.10", "h10", definition={"version": "2025.10"})
    outbox.save_form("household_digital", "2026.1", "h11")  # listed but not downloaded
    assert outbox.form_definition("household_digital") == ("2025.10", {"version": "2025.10"})
    assert outbox.form_definition("household_digital", "2025.9")[0] == "2025.9"
    assert [f["downloaded"] for f in outbox.forms()] == [True, True, False]


def test_adding_many_visits_is_all_or_nothing(outbox):
    good = Submission(str(uuid.uuid4()), "household_digital", "2025.1", "2372201", "H1", now_iso(), ANSWERS)
    twin = Submission(good.instance_id, "household_digital", "2025.1", "2372201", "H2", now_iso(), ANSWERS)
    with pytest.raises(sqlite3.IntegrityError):  # the twin's instance_id is already queued
        outbox.add_many([good, twin])
    assert outbox.counts()["total"] == 0


WRITER = textwrap.dedent("""
    import sys
    from sync.device.outbox import Outbox
    box = Outbox.open(sys.argv[1])
    for number in range(100000):
        box.add("household_digital", "2025.1", "2372201", f"H{number}", {"members": number % 50 + 1})
        if number == 50:
            print("writing", flush=True)
""")


def test_a_device_killed_while_collecting_keeps_every_visit_it_finished(tmp_path):
    process = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path)], stdout=subprocess.PIPE,
                               cwd=os.path.dirname(os.path.dirname(__file__)))
    assert process.stdout.readline().strip() == b"writing"
    process.send_signal(signal.SIGKILL)
    process.wait()
    with Outbox.open(tmp_path) as box:
        items = box.submissions()
        integrity = box._connection.execute("PRAGMA integrity_check").fetchone()[0]
    assert integrity == "ok"
    assert len(items) > 50
    assert [s.household_key for s in items] == [f"H{n}" for n in range(len(items))]
    assert all(s.answers == {"members": n % 50 + 1} for n, s in enumerate(items))
