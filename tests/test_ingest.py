"""Ingest as a library: each household arrives once, bad ones wait in quarantine, currents are settled."""
from datetime import UTC, datetime, timedelta

from sync import tally

from .support.ingest import (
    OTHER_VILLAGE,
    PLEIKU_VILLAGE,
    VILLAGE,
    counts,
    household,
    ingest,
    rows,
    statuses,
    submission,
    sums,
)


def test_a_valid_household_is_accepted_and_counted_in_its_village(villages):
    results = ingest(villages, [submission()])
    assert statuses(results) == ["accepted"] and results[0]["errors"] == []
    assert sums(villages) == {VILLAGE: (1, 2, 1)}
    assert counts(villages) == {VILLAGE: (1, 0)}
    assert tally.check(villages) == []


def test_the_same_submission_sent_again_is_a_duplicate_and_changes_nothing(villages):
    item = submission()
    ingest(villages, [item])
    before = rows(villages)
    assert statuses(ingest(villages, [item, item])) == ["duplicate", "duplicate"]
    assert rows(villages) == before and sums(villages) == {VILLAGE: (1, 2, 1)}


def test_a_duplicate_inside_one_batch_is_stored_once(villages):
    item = submission()
    assert statuses(ingest(villages, [item, dict(item)])) == ["accepted", "duplicate"]
    assert len(rows(villages)) == 1


def test_other_content_under_a_known_id_is_a_conflict_kept_once_and_flagged(villages):
    item = submission()
    ingest(villages, [item])
    other = dict(item, answers=household(adults_smartphone=2))
    results = ingest(villages, [other])
    assert statuses(results) == ["conflict"] and "conflict" in results[0]["flags"]
    assert statuses(ingest(villages, [other])) == ["conflict"]
    kept = rows(villages, "SELECT instance_id, status, copy_of FROM submission ORDER BY seq")
    assert kept[0] == (item["instance_id"], "accepted", None)
    assert kept[1][1:] == ("conflict", item["instance_id"]) and len(kept) == 2
    assert sums(villages) == {VILLAGE: (1, 2, 1)}


def test_an_invalid_household_is_rejected_with_field_paths_and_kept_in_quarantine(villages):
    item = submission(answers=household(adults_smartphone=5))
    results = ingest(villages, [item])
    assert statuses(results) == ["rejected"]
    assert [e["field"] for e in results[0]["errors"]] == ["answers.adults_smartphone"]
    assert rows(villages) == [(item["instance_id"], "rejected", False)]
    assert sums(villages) == {} and counts(villages) == {}


def test_the_same_rejected_item_resent_is_rejected_again_without_a_second_copy(villages):
    item = submission(answers=household(adults_smartphone=5))
    first = ingest(villages, [item])
    again = ingest(villages, [item])
    assert again == first and len(rows(villages)) == 1


def test_a_corrected_resend_of_a_rejected_item_is_accepted_and_the_reject_kept_aside(villages):
    item = submission(answers=household(adults_smartphone=5))
    ingest(villages, [item])
    fixed = dict(item, answers=household())
    assert statuses(ingest(villages, [fixed])) == ["accepted"]
    kept = rows(villages, "SELECT instance_id, status, copy_of FROM submission ORDER BY seq")
    assert (item["instance_id"], "accepted", None) in kept
    assert [k[1:] for k in kept if k[0] != item["instance_id"]] == [("rejected", item["instance_id"])]


def test_unknown_form_version_village_and_scope_are_each_rejected_with_their_own_code(villages):
    items = [submission(form_id="no_such_form"), submission(form_version="1999.1"),
             submission(village="9999999"), submission(village=PLEIKU_VILLAGE), submission(village="23722")]
    results = ingest(villages, items)
    codes = [[e["code"] for e in r["errors"]] for r in results]
    assert statuses(results) == ["rejected"] * 5
    assert codes == [["unknown_form"], ["unknown_form_version"], ["unknown_village"], ["village_out_of_scope"],
                     ["not_a_village"]]
    assert len(rows(villages)) == 5


def test_an_archived_form_rejects_new_submissions(villages):
    from sync.form_versions import archive
    archive(villages, "household_digital")
    results = ingest(villages, [submission()])
    assert results[0]["errors"][0]["code"] == "form_archived"


def test_bad_fields_are_rejected_per_item_and_do_not_fail_the_others(villages):
    items = [submission(collected_at="2025-03-01T09:30:00"), submission(household_key=""),
             submission(answers=[1]), submission()]
    results = ingest(villages, items)
    assert statuses(results) == ["rejected", "rejected", "rejected", "accepted"]
    assert [results[i]["errors"][0]["field"] for i in range(3)] == ["collected_at", "household_key", "answers"]


def test_messages_are_vietnamese_by_default(villages):
    results = ingest(villages, [submission(village="9999999")], lang="vi")
    assert results[0]["errors"][0]["message"] == "Không có thôn/làng với mã này"


def test_the_latest_visit_by_collected_at_is_current_whatever_the_arrival_order(villages):
    later = submission(collected_at="2025-03-05T08:00:00+07:00", answers=household(adults_smartphone=2))
    earlier = submission(collected_at="2025-03-01T08:00:00+07:00")
    ingest(villages, [later])
    ingest(villages, [earlier])
    assert sums(villages) == {VILLAGE: (2, 2, 1)}
    current = rows(villages, "SELECT instance_id FROM submission WHERE is_current = $(True)")
    assert current == [(later["instance_id"],)]
    assert tally.check(villages) == []


def test_equal_collected_at_goes_to_the_later_receipt(villages):
    first, second = submission(), submission(answers=household(adults_smartphone=0))
    ingest(villages, [first])
    ingest(villages, [second])
    assert sums(villages) == {VILLAGE: (0, 2, 1)}


def test_an_edit_moves_the_sums_exactly_and_keeps_the_original_for_audit(villages):
    original = submission()
    ingest(villages, [original])
    edit = submission(answers=household(adults_smartphone=2, adults=3, members_15plus=3),
                      supersedes=original["instance_id"])
    assert statuses(ingest(villages, [edit])) == ["accepted"]
    assert sums(villages) == {VILLAGE: (2, 3, 1)}
    assert rows(villages) == [(original["instance_id"], "superseded", False), (edit["instance_id"], "accepted", True)]
    assert tally.check(villages) == []


def test_an_edit_arriving_before_its_original_leaves_the_original_uncounted(villages):
    original = submission()
    edit = submission(answers=household(adults_smartphone=0), supersedes=original["instance_id"])
    ingest(villages, [edit])
    assert statuses(ingest(villages, [original])) == ["accepted"]
    assert sums(villages) == {VILLAGE: (0, 2, 1)}
    assert rows(villages)[1] == (original["instance_id"], "superseded", False)


def test_an_edit_that_moves_a_household_to_another_village_moves_its_sums(villages):
    original = submission()
    ingest(villages, [original])
    ingest(villages, [submission(village=OTHER_VILLAGE, supersedes=original["instance_id"])])
    assert sums(villages) == {OTHER_VILLAGE: (1, 2, 1)}
    assert counts(villages) == {OTHER_VILLAGE: (1, 0)}
    assert tally.check(villages) == []


def test_a_refusal_counts_as_a_refusal_and_never_as_zeros(villages):
    ingest(villages, [submission(household_key="hh-2", answers={"consent": "no"}), submission()])
    assert sums(villages) == {VILLAGE: (1, 2, 1)}
    assert counts(villages) == {VILLAGE: (1, 1)}


def test_a_visit_far_in_the_future_is_accepted_but_flagged(villages):
    future = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    results = ingest(villages, [submission(collected_at=future)])
    assert statuses(results) == ["accepted"] and results[0]["flags"] == ["collected_at_in_future"]
    assert rows(villages, "SELECT flags FROM submission")[0][0] is not None


def test_rounds_default_to_the_calendar_year_of_the_local_visit_date(villages):
    ingest(villages, [submission(collected_at="2025-12-31T23:30:00+07:00"),
                      submission(household_key="hh-2", collected_at="2026-01-01T00:30:00+07:00")])
    assert sorted(rows(villages, "SELECT round FROM submission")) == [("2025",), ("2026",)]


def test_an_admin_may_post_anywhere_and_district_staff_only_in_their_district(villages):
    assert statuses(ingest(villages, [submission(village=PLEIKU_VILLAGE)], username="admin")) == ["accepted"]
    results = ingest(villages, [submission(village=PLEIKU_VILLAGE, household_key="x")], username="staff_chupah")
    assert results[0]["errors"][0]["code"] == "village_out_of_scope"
