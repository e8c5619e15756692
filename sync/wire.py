"""The sync protocol's names, what the device (sync/device/) shares with the server.

A batch item has ITEM_FIELDS and may have OPTIONAL_ITEM_FIELDS; the server answers each item
with one of RESULTS. After a HELD result the server keeps the item (the device need not send
it again); a REJECTED one is kept in quarantine with its errors. Form definitions are matched
by `forms.content_hash`. tests/test_wire.py checks that the server's ingest keeps to these
names; the standard library only, since the device imports this module.
"""
API = "/api/v1"
ITEM_FIELDS = ("instance_id", "form_id", "form_version", "village_code", "household_key", "collected_at", "answers")
OPTIONAL_ITEM_FIELDS = ("supersedes",)
ACCEPTED, DUPLICATE, CONFLICT, REJECTED = "accepted", "duplicate", "conflict", "rejected"
HELD = (ACCEPTED, DUPLICATE, CONFLICT)
RESULTS = HELD + (REJECTED,)
