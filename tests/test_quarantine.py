"""Quarantine decisions as a library: corrected records are accepted through the ingest rules, others discarded."""
import pytest
from pony.orm import db_session

from sync import ingest, tally
from sync.errors import Conflict, Invalid, NotFound
from sync.ingest_quarantine import Forbidden

from .support.ingest import (
    OTHER_VILLAGE,
    PLEIKU_VILLAGE,
    VILLAGE,
    counts,
    household,
    ingest as send,
    rows,
    statuses,
    submission,
    sums,
)


def accept(store, instance_id, answers, username="staff_chupah", **kwargs):
    with db_session:
        return ingest.accept_corrected(store, store.User.get(username=username), instance_id, answers,
                                       lang="en", **kwargs)


def discard(store, instance_id, reason="", username="staff_chupah"):
    with db_session:
        return ingest.discard(store, store.User.get(username=username), instance_id, reason=reason)


def stored(store, instance_id):
    """(status, is_current, seq, flags text) of one stored record."""
    with db_session:
        found = store.Submission.get(instance_id=instance_id)
        return found.status, found.is_current, found.seq, found.flags or []


@pytest.fixture
def rejected(villages):
    """A household rejected for more smartphone adults than adults."""
    item = submission(answers=household(adults_smartphone=5))
    assert statuses(send(villages, [item])) == ["rejected"]
    return item


def test_staff_accept_a_corrected_household_and_it_counts_in_its_village(villages, rejected):
    seq_before = stored(villages, rejected["instance_id"])[2]
    result = accept(villages, rejected["instance_id"], household(adults_smartphone=2))
    assert result["status"] == "accepted" and result["is_current"] and result["previous_status"] == "rejected"
    status, current, seq, flags = stored(villages, rejected["instance_id"])
    assert (status, current) == ("accepted", True) and seq > seq_before and "quarantine_accepted" in flags
    assert sums(villages) == {VILLAGE: (2, 2, 1)} and counts(villages) == {VILLAGE: (1, 0)}
    assert tally.check(villages) == []


def test_an_invalid_correction_is_refused_with_field_paths_and_nothing_changes(villages, rejected):
    before = rows(villages, "SELECT instance_id, status, is_current, seq, answers FROM submission")
    with pytest.raises(Invalid) as refused:
        accept(villages, rejected["instance_id"], household(adults_smartphone=9))
    assert [e["field"] for e in refused.value.errors] == ["answers.adults_smartphone"]
    with pytest.raises(Invalid):
        accept(villages, rejected["instance_id"], ["not", "an", "object"])
    assert rows(villages, "SELECT instance_id, status, is_current, seq, answers FROM submission") == before
    assert sums(villages) == {} and tally.check(villages) == []


def test_collectors_and_staff_of_another_district_cannot_decide(villages, rejected):
    with pytest.raises(Forbidden):
        accept(villages, rejected["instance_id"], household(), username="collector_phuhoa")
    with pytest.raises(NotFound):
        accept(villages, rejected["instance_id"], household(), username="staff_pleiku")
    with pytest.raises(NotFound):
        discard(villages, rejected["instance_id"], username="staff_pleiku")
    assert stored(villages, rejected["instance_id"])[0] == "rejected"


def test_only_quarantined_records_are_decided(villages):
    item = submission()
    send(villages, [item])
    with pytest.raises(Conflict):
        accept(villages, item["instance_id"], household())
    with pytest.raises(Conflict):
        discard(villages, item["instance_id"])
    with pytest.raises(NotFound):
        discard(villages, "no-such-id")


def test_the_device_resending_its_original_after_an_accept_gets_a_duplicate(villages, rejected):
    accept(villages, rejected["instance_id"], household())
    assert statuses(send(villages, [rejected])) == ["duplicate"]
    assert len(rows(villages)) == 1 and tally.check(villages) == []


def test_an_edit_that_arrived_first_supersedes_the_record_when_it_is_accepted(villages, rejected):
    edit = submission(supersedes=rejected["instance_id"], collected_at="2025-03-02T09:00:00+07:00",
                      answers=household(adults_smartphone=1))
    send(villages, [edit])
    result = accept(villages, rejected["instance_id"], household(adults_smartphone=2))
    assert result["status"] == "superseded" and not result["is_current"]
    assert sums(villages) == {VILLAGE: (1, 2, 1)} and tally.check(villages) == []


def conflicting(store, first_at, copy_at):
    """An accepted household and a conflicting copy (other content, other visit time) under its id."""
    item = submission(collected_at=first_at)
    send(store, [item])
    other = dict(item, collected_at=copy_at, answers=household(adults_smartphone=2))
    assert statuses(send(store, [other])) == ["conflict"]
    with db_session:
        copy = store.Submission.get(copy_of=item["instance_id"])
        return item, copy.instance_id


def test_an_accepted_later_conflict_copy_becomes_the_current_visit_and_the_original_stays_accepted(villages):
    item, copy_id = conflicting(villages, "2025-03-01T09:30:00+07:00", "2025-03-05T09:30:00+07:00")
    result = accept(villages, copy_id, household(adults_smartphone=2))
    assert result["status"] == "accepted" and result["is_current"]
    assert stored(villages, item["instance_id"])[:2] == ("accepted", False)
    assert sums(villages) == {VILLAGE: (2, 2, 1)} and tally.check(villages) == []
    assert statuses(send(villages, [item])) == ["duplicate"]


def test_an_accepted_earlier_conflict_copy_is_kept_but_the_later_original_stays_current(villages):
    item, copy_id = conflicting(villages, "2025-03-05T09:30:00+07:00", "2025-03-01T09:30:00+07:00")
    result = accept(villages, copy_id, household(adults_smartphone=2))
    assert result["status"] == "accepted" and not result["is_current"]
    assert stored(villages, item["instance_id"])[:2] == ("accepted", True)
    assert sums(villages) == {VILLAGE: (1, 2, 1)} and tally.check(villages) == []


def test_a_discarded_record_is_kept_with_its_reason_and_never_counted(villages, rejected):
    result = discard(villages, rejected["instance_id"], reason="  hộ trùng, đã thu lại  ")
    assert result["status"] == "discarded"
    assert result["errors"][-1]["code"] == "discarded" and result["errors"][-1]["message"] == "hộ trùng, đã thu lại"
    assert stored(villages, rejected["instance_id"])[0] == "discarded"
    again = send(villages, [rejected])
    assert statuses(again) == ["rejected"] and again[0]["errors"][-1]["code"] == "discarded"
    assert len(rows(villages)) == 1 and sums(villages) == {} and tally.check(villages) == []
    with pytest.raises(Conflict):
        accept(villages, rejected["instance_id"], household())


def test_a_corrected_resend_replaces_a_discarded_record(villages, rejected):
    discard(villages, rejected["instance_id"])
    assert statuses(send(villages, [dict(rejected, answers=household())])) == ["accepted"]
    kept = rows(villages, "SELECT instance_id, status, copy_of FROM submission ORDER BY seq")
    assert (rejected["instance_id"], "accepted", None) in kept
    assert any(status == "discarded" and copy_of == rejected["instance_id"] for _, status, copy_of in kept)
    assert tally.check(villages) == []


def test_a_discarded_conflict_copy_leaves_the_original_counted(villages):
    item, copy_id = conflicting(villages, "2025-03-01T09:30:00+07:00", "2025-03-05T09:30:00+07:00")
    discard(villages, copy_id, reason="wrong household")
    assert stored(villages, copy_id)[0] == "discarded"
    assert stored(villages, item["instance_id"])[:2] == ("accepted", True)
    assert sums(villages) == {VILLAGE: (1, 2, 1)} and tally.check(villages) == []


def test_a_record_outside_the_collectors_scope_is_accepted_by_an_admin_with_the_same_answers(villages):
    item = submission(village=PLEIKU_VILLAGE)
    assert send(villages, [item])[0]["errors"][0]["code"] == "village_out_of_scope"
    with pytest.raises(NotFound):
        accept(villages, item["instance_id"], item["answers"], username="staff_chupah")
    result = accept(villages, item["instance_id"], item["answers"], username="admin")
    assert result["status"] == "accepted"
    assert sums(villages) == {PLEIKU_VILLAGE: (1, 2, 1)} and tally.check(villages) == []


def test_district_staff_of_the_village_accept_a_record_its_collector_could_not_send(villages):
    item = submission(village=PLEIKU_VILLAGE)
    send(villages, [item])
    assert accept(villages, item["instance_id"], item["answers"], username="staff_pleiku")["status"] == "accepted"


def test_a_record_with_an_unknown_village_is_accepted_by_an_admin_once_given_a_known_one(villages):
    item = submission(village="9999999")
    send(villages, [item])
    with pytest.raises(NotFound):
        accept(villages, item["instance_id"], item["answers"], username="staff_chupah")
    with pytest.raises(Invalid) as refused:
        accept(villages, item["instance_id"], item["answers"], username="admin")
    assert refused.value.errors[0]["code"] == "unknown_village"
    result = accept(villages, item["instance_id"], item["answers"], username="admin", village_code=OTHER_VILLAGE)
    assert result["status"] == "accepted"
    with db_session:
        assert villages.Submission.get(instance_id=item["instance_id"]).village_code == OTHER_VILLAGE
    assert sums(villages) == {OTHER_VILLAGE: (1, 2, 1)} and tally.check(villages) == []


def test_staff_cannot_move_a_record_into_a_village_outside_their_scope(villages, rejected):
    with pytest.raises(Invalid) as refused:
        accept(villages, rejected["instance_id"], household(), village_code=PLEIKU_VILLAGE)
    assert refused.value.errors[0] == {"field": "village_code", "code": "village_out_of_scope",
                                       "message": "The village is outside your scope"}
    assert stored(villages, rejected["instance_id"])[0] == "rejected"


def test_an_accepted_refusal_counts_only_as_a_refusal(villages):
    item = submission(answers={"consent": "maybe"})
    assert statuses(send(villages, [item])) == ["rejected"]
    accept(villages, item["instance_id"], {"consent": "no"})
    assert counts(villages) == {VILLAGE: (0, 1)} and sums(villages) == {} and tally.check(villages) == []
