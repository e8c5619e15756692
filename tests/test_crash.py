"""SIGKILL the whole server (gunicorn master and workers) in the middle of batch ingests.

Per trial, three devices push households in batches of five, concurrently; once a random
number of their requests is under way the server is killed at once, restarted on the same
port and database, and the devices resume (their retries span the outage). Afterwards every
household sent so far is on the server exactly once and the roll-up sums agree with a
recomputation: no lost, partial or doubled submission. Ten trials on SQLite, or on
PostgreSQL when LANGSO_TEST_DATABASE_URL is set. Sizes are small so the test stays quick;
`langso bench load` runs the full-size load test (without kills).
"""
import random
import threading
import time

from server.bench.loadtest import Outcome, Server, household_plan, prepare, run_devices, verify

TRIALS = 10
DEVICES, PER_DEVICE, BATCH = 3, 30, 5


def push_in_background(base_url, devices, plan):
    """Start the devices in a thread; returns (thread, shared outcome)."""
    outcome = Outcome()
    thread = threading.Thread(target=run_devices, daemon=True,
                              args=(base_url, devices, plan, BATCH, 120, 80, outcome))
    thread.start()
    return thread, outcome


def kill_mid_ingest(server, outcome, rng, thread):
    """SIGKILL the server once a random number of requests were sent; True if devices were still pushing."""
    threshold = rng.randint(1, DEVICES * PER_DEVICE // BATCH // 2)
    while outcome.requests < threshold and thread.is_alive():
        time.sleep(0.001)
    time.sleep(rng.uniform(0, 0.02))
    pushing = thread.is_alive()
    server.kill()
    server.start()
    return pushing


def test_a_server_killed_mid_ingest_and_restarted_loses_and_doubles_no_household(database_url, tmp_path):
    devices = prepare(database_url, DEVICES)
    server = Server(database_url, str(tmp_path), workers=2).start()
    rng, sent, interrupted, retries = random.Random(1331), set(), 0, 0
    try:
        for trial in range(TRIALS):
            plan = household_plan(devices, PER_DEVICE, seed=100 + trial)
            thread, outcome = push_in_background(server.base, devices, plan)
            interrupted += kill_mid_ingest(server, outcome, rng, thread)
            thread.join(180)
            retries += outcome.retries + outcome.requests - DEVICES * (2 * PER_DEVICE // BATCH + 1)
            ids = {item["instance_id"] for items in plan.values() for item in items}
            sent |= ids
            assert not thread.is_alive()
            assert outcome.failures == []
            assert outcome.acknowledged == ids
            assert verify(database_url, sent) == {"on_server": len(sent), "lost": 0, "duplicated": 0,
                                                  "tally_mismatches": 0}
    finally:
        server.stop()
    assert interrupted >= TRIALS // 2  # most kills landed while devices were pushing
    assert retries >= interrupted  # and the devices had to resend what the kills interrupted
