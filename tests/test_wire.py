"""sync/wire.py names what both ends of the protocol speak: the server's answers and the device's items keep to it."""
from sync import wire
from sync.device.outbox import SENT_RESULTS, Submission

from .support.ingest import household, ingest, statuses, submission


def test_the_server_answers_each_item_with_one_of_the_wire_results(villages):
    item = submission()
    first = ingest(villages, [item, submission(answers=household(members=-1))])
    again = ingest(villages, [item, dict(item, answers=household(members=5))])
    assert statuses(first) + statuses(again) == [wire.ACCEPTED, wire.REJECTED, wire.DUPLICATE, wire.CONFLICT]
    assert set(wire.RESULTS) == {wire.ACCEPTED, wire.REJECTED, wire.DUPLICATE, wire.CONFLICT}


def test_a_server_item_has_the_wire_fields():
    assert set(submission()) == set(wire.ITEM_FIELDS)


def test_the_device_sends_items_in_the_wire_format_and_counts_held_results_as_sent():
    visit = Submission("id-1", "household_digital", "2025.1", "2372201", "hh-1", "2025-03-01T09:30:00+07:00", {})
    assert tuple(visit.wire()) == wire.ITEM_FIELDS
    edit = Submission(**dict(vars(visit), supersedes="id-0"))
    assert set(edit.wire()) == set(wire.ITEM_FIELDS + wire.OPTIONAL_ITEM_FIELDS)
    assert SENT_RESULTS == wire.HELD and wire.REJECTED not in wire.HELD
