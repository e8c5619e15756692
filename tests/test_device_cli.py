"""`langso device ...` offline: collecting visits with the real form engine, status, corrections."""
import json

import pytest
from click.testing import CliRunner

import forms
from server.cli import main
from sync.device.app import Device, InvalidVisit
from sync.device.outbox import Outbox
from tests.support.devices import device_household

VILLAGES = [{"code": "2372201", "name": "Làng Ia Kha"}, {"code": "2372202", "name": "Tổ dân phố 2"}]


@pytest.fixture
def device_dir(tmp_path):
    """A device that has pulled the default form and two villages (written as a pull would)."""
    path = tmp_path / "device"
    doc = forms.household_digital()
    with Outbox.open(path) as box:
        box.save_form(doc["id"], doc["version"], forms.content_hash(doc), None, doc)
        box.save_villages(VILLAGES)
        box.save_households([("2372201", "H900")])
    return path


def run(device_dir, *args, input=None):
    """Invoke `langso device --device-dir DIR ...`."""
    return CliRunner().invoke(main, ["device", "--device-dir", str(device_dir), *args], input=input)


def write(tmp_path, value, name="visits.json"):
    path = tmp_path / name
    path.write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")
    return str(path)


def test_collect_from_a_json_list_queues_every_household(device_dir, tmp_path):
    visits = [{"village_code": "2372201", "household_key": f"H{n}", "answers": device_household(f"H{n}")}
              for n in range(3)]
    result = run(device_dir, "collect", "--from-json", write(tmp_path, visits))
    assert result.exit_code == 0, result.output
    assert "3 visit(s) queued" in result.output
    with Outbox.open(device_dir) as box:
        assert [s.household_key for s in box.submissions("queued")] == ["H0", "H1", "H2"]


def test_collect_from_plain_answers_takes_the_household_key_from_its_number(device_dir, tmp_path):
    result = run(device_dir, "collect", "--village", "2372202", "--from-json", write(tmp_path, device_household("17")))
    assert result.exit_code == 0, result.output
    with Outbox.open(device_dir) as box:
        [item] = box.submissions()
    assert (item.village_code, item.household_key, item.form_version) == ("2372202", "17", "2025.1")


def test_a_json_file_with_one_bad_household_saves_nothing_and_lists_every_problem(device_dir, tmp_path):
    visits = [{"village_code": "2372201", "household_key": "H1", "answers": device_household()},
              {"village_code": "9999999", "household_key": "H2", "answers": device_household(adults=9)}]
    result = run(device_dir, "collect", "--lang", "en", "--from-json", write(tmp_path, visits))
    assert result.exit_code == 1
    assert "[1].village_code" in result.output and "[1].answers.adults" in result.output
    assert "nothing was saved" in result.output
    with Outbox.open(device_dir) as box:
        assert box.counts()["total"] == 0


def test_a_file_that_is_not_json_is_a_clear_error(device_dir, tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("{not json", encoding="utf-8")
    result = run(device_dir, "collect", "--from-json", str(path))
    assert result.exit_code == 1 and "is not valid JSON" in result.output


def test_a_refusal_keeps_only_the_consent_answer(device_dir, tmp_path):
    refusal = {"village_code": "2372201", "household_key": "H5", "answers": {"consent": "no", "members": 3}}
    assert run(device_dir, "collect", "--from-json", write(tmp_path, refusal)).exit_code == 0
    with Outbox.open(device_dir) as box:
        assert box.submissions()[0].answers == {"consent": "no"}


def interactive_input(*lines):
    return "\n".join(lines) + "\n"


def test_interactive_collect_asks_in_vietnamese_and_skips_what_is_not_relevant(device_dir):
    typed = interactive_input(
        "1",            # village: first in the list
        "H42",          # household key
        "1",            # consent: yes (by number)
        "42", "Ksor Nguyên", "", "",  # household number, head, no phone, no GPS
        "60",           # members: breaks the 1..50 constraint, asked again
        "5", "4", "3", "3",
        "no",           # fibre_available: no, so fibre_subscribed is not asked
        "2", "2", "1", "1", "3", "1", "1", "0", "4",
        "y")            # save
    result = run(device_dir, "collect", input=typed)
    assert result.exit_code == 0, result.output
    assert "Gia đình có đồng ý tham gia" in result.output
    assert "Số nhân khẩu phải từ 1 đến 50" in result.output
    assert "fibre_subscribed" not in result.output and "Đã lưu vào hàng đợi" in result.output
    with Outbox.open(device_dir) as box:
        [item] = box.submissions()
    assert item.village_code == "2372201" and item.household_key == "H42"
    assert item.answers["members"] == 5 and item.answers["head_name"] == "Ksor Nguyên"
    assert "fibre_subscribed" not in item.answers and "phone" not in item.answers


def test_interactive_collect_in_english_records_a_refusal_after_one_question(device_dir):
    result = run(device_dir, "collect", "--lang", "en", "--village", "2372202", "--household", "K1",
                 input=interactive_input("no", "y"))
    assert result.exit_code == 0, result.output
    assert "Does the household agree" in result.output and "recorded as a refusal" in result.output
    with Outbox.open(device_dir) as box:
        assert box.submissions()[0].answers == {"consent": "no"}


def test_interactive_collect_warns_about_a_household_already_known(device_dir):
    result = run(device_dir, "collect", "--lang", "en", "--village", "2372201", "--household", "H900",
                 input=interactive_input("n"))
    assert result.exit_code == 1 and "already known" in result.output
    with Outbox.open(device_dir) as box:
        assert box.counts()["total"] == 0


def test_collect_without_a_pulled_form_says_to_pull(tmp_path):
    result = run(tmp_path / "empty", "collect", "--village", "1", "--household", "2")
    assert result.exit_code == 1 and "run pull" in result.output


def test_status_shows_counts_and_why_a_visit_was_rejected(device_dir):
    with Device(device_dir) as dev:
        [good, bad] = dev.collect([
            {"answers": device_household("H1"), "village_code": "2372201", "household_key": "H1"},
            {"answers": device_household("H2"), "village_code": "2372201", "household_key": "H2"}])
        dev.outbox.record_results([{"instance_id": good.instance_id, "status": "accepted"},
                                   {"instance_id": bad.instance_id, "status": "rejected", "errors": [
                                       {"field": "village_code", "code": "out_of_scope",
                                        "message": "village 2372201 is outside your scope"}]}])
    table = run(device_dir, "status")
    assert "sent:     1 (1 accepted" in table.output and "rejected: 1" in table.output
    assert "village_code: village 2372201 is outside your scope" in table.output
    report = json.loads(run(device_dir, "status", "--format", "json").output)
    assert report["counts"]["rejected"] == 1
    assert report["rejected"][0]["errors"][0]["code"] == "out_of_scope"
    assert report["logged_in"] is False


def test_a_rejected_visit_is_fixed_with_checked_new_answers(device_dir, tmp_path):
    with Device(device_dir) as dev:
        [bad] = dev.collect([{"answers": device_household(), "village_code": "2372201", "household_key": "H1"}])
        dev.outbox.record_results([{"instance_id": bad.instance_id, "status": "rejected", "errors": []}])
    unchanged = run(device_dir, "fix", bad.instance_id, "--from-json", write(tmp_path, device_household()))
    assert unchanged.exit_code == 1 and "unchanged" in unchanged.output
    invalid = run(device_dir, "fix", bad.instance_id, "--from-json", write(tmp_path, device_household(adults=99)))
    assert invalid.exit_code == 1 and "answers.adults" in invalid.output
    fixed = run(device_dir, "fix", bad.instance_id, "--from-json", write(tmp_path, device_household(members=6)))
    assert fixed.exit_code == 0, fixed.output
    with Outbox.open(device_dir) as box:
        assert box.counts()["queued"] == 1 and box.get_submission(bad.instance_id).answers["members"] == 6


def test_push_before_login_says_how_to_log_in(device_dir):
    result = run(device_dir, "push")
    assert "Nothing to send" in result.output
    with Device(device_dir) as dev:
        dev.collect([{"answers": device_household(), "village_code": "2372201", "household_key": "H1"}])
    result = run(device_dir, "push")
    assert result.exit_code == 1 and "langso device login" in result.output


def test_the_device_dir_comes_from_the_environment(device_dir, monkeypatch):
    monkeypatch.setenv("LANGSO_DEVICE_DIR", str(device_dir))
    result = CliRunner().invoke(main, ["device", "status", "--format", "json"])
    assert json.loads(result.output)["counts"]["total"] == 0


def test_a_visit_with_errors_raises_them_with_field_paths(device_dir):
    with Device(device_dir) as dev, pytest.raises(InvalidVisit) as caught:
        dev.collect([{"answers": device_household(members_ehr=50), "village_code": "2372201", "household_key": ""}])
    assert {e["field"] for e in caught.value.errors} == {"[0].household_key", "[0].answers.members_ehr"}
