"""The simulation harness: simulated devices and campaigns against a real langso server.

- `loadtest`: gunicorn started and killed on demand, fresh databases, a TCP proxy that cuts
  connections, simulated devices and the exactly-once check (`langso bench load|ingest`,
  tests/test_load.py, tests/test_crash.py and the device tests);
- `demo`: the simulated survey campaign of `langso demo`.

It sits under `server/` because it starts `server:create_app()`; nothing in `sync/` imports it.
"""
