"""The device side of sync: what runs on a collector's phone or laptop in the field.

- `app`: `Device`, the library behind `langso device` (log in, pull, collect, push, reconcile);
- `client`: the HTTP client of the sync protocol (retries with backoff, gzip batches);
- `outbox`: the device's one SQLite file (settings, forms, villages, the submission queue);
- `interview`: a downloaded form run with the server's own engine (`forms`), question by question.

It imports only `forms`, `sync.wire` (the protocol's names), the standard library and
third-party packages: never Pony, Flask, the web app, `exports` or the server side of `sync`
(tests/test_layering.py checks it).
"""
