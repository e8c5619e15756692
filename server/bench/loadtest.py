"""Simulated devices against a real server through a network that cuts connections.

Used by `langso bench load` (full size) and by tests/test_load.py and tests/test_crash.py
(reduced size). Loopback only, bounded in requests and in time:

- `prepare(url, devices)` initialises a fresh database (tables, Gia Lai, two villages per
  device's commune, one collector per device, the default form) and returns the devices;
- `Server` runs gunicorn on a fixed port in its own process group, so it can be killed
  with SIGKILL (master and workers) and restarted on the same port and database;
- `CuttingProxy` forwards TCP connections and cuts a share of them at random: before the
  request reaches the server, halfway through the request, or after the server answered
  (the device tests also script it, `script`, and use its other MODES);
- `run_devices` pushes every device's batches (retrying until each item is acknowledged)
  and pulls the incremental manifest after each batch, from one thread per device;
- `verify` checks that every instance is on the server exactly once and the roll-up sums
  agree with a recomputation (`sync.tally.check`).
"""
import contextlib
import math
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

from sync.device.client import Backoff, ClientError, SyncClient

ACKNOWLEDGED = ("accepted", "duplicate", "rejected")
CUTS = ("cut_before", "cut_mid_request", "cut_after_server")
# CUTS, half the answer, a 503 from the proxy, and "hold": keep the answer back until close() (sets `held`)
MODES = ("pass",) + CUTS + ("cut_mid_response", "unavailable", "hold")
UNAVAILABLE = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
VIETNAM = timezone(timedelta(hours=7))


@dataclass
class Device:
    """One simulated phone: its collector's token and the villages of its commune."""
    username: str
    token: str
    villages: list


@dataclass
class Outcome:
    """What the devices saw: acknowledged instance ids, batch latencies and failures."""
    acknowledged: set = field(default_factory=set)
    latencies: list = field(default_factory=list)
    failures: list = field(default_factory=list)
    requests: int = 0
    retries: int = 0
    seconds: float = 0.0
    lock: object = field(default_factory=threading.Lock, repr=False)


# the database ------------------------------------------------------------------------

class FreshDatabase:
    """A fresh database: a SQLite file in `folder`, or a new schema in the PostgreSQL database of `base_url`."""

    def __init__(self, base_url, folder, name):
        self.base_url, self.schema = base_url, None
        if base_url is None:
            self.url = f"sqlite:///{folder}/{name}.db"
        else:
            import psycopg2
            self.schema = f"{name}_{uuid.uuid4().hex[:12]}"
            with psycopg2.connect(base_url) as connection, connection.cursor() as cursor:
                cursor.execute(f"CREATE SCHEMA {self.schema}")
            separator = "&" if "?" in base_url else "?"
            self.url = f"{base_url}{separator}options={quote(f'-c search_path={self.schema}')}"

    def drop(self):
        """Drop the PostgreSQL schema (a SQLite file goes with its folder)."""
        if self.schema:
            import psycopg2
            with psycopg2.connect(self.base_url) as connection, connection.cursor() as cursor:
                cursor.execute(f"DROP SCHEMA {self.schema} CASCADE")


def prepare(url, devices):
    """Initialise a fresh database for `devices` collectors (one commune each); returns the Devices."""
    from pony.orm import db_session, select

    from sync import migrations
    from sync.accounts import create_user, hash_password, issue_token
    from sync.form_versions import publish_default_form
    from sync.store import open_store
    from sync.units import import_units, load_gia_lai
    store = open_store(url)
    try:
        migrations.upgrade(store)
        load_gia_lai(store)
        with db_session:
            communes = select(u.code for u in store.Unit if u.level == "commune").order_by(lambda c: c)[:]
        chosen = [communes[i % len(communes)] for i in range(devices)]
        rows = sorted({f"{c}-L{n},Làng {c} {n},village,{c}\n" for c in chosen for n in (1, 2)})
        import_units(store, "code,name,level,parent_code\n" + "".join(rows))
        publish_default_form(store)
        shared_hash = hash_password("load-test-password")
        found = []
        with db_session:
            for i, commune in enumerate(chosen):
                user = create_user(store, f"load_device_{i:03d}", "collector", [commune], None,
                                   password_hash=shared_hash)
                found.append(Device(user.username, issue_token(store, user), [f"{commune}-L1", f"{commune}-L2"]))
        return found
    finally:
        store.disconnect()


def verify(url, instance_ids):
    """{on_server, lost, duplicated, tally_mismatches} for the instances the devices sent."""
    from pony.orm import db_session

    from sync import submission_table, tally
    from sync.store import open_store
    store = open_store(url, create_tables=False)
    try:
        with db_session:
            counts = submission_table.copies_per_id(store, instance_ids)
        mismatches = tally.check(store)
    finally:
        store.disconnect()
    return {"on_server": sum(1 for i in instance_ids if counts.get(i, 0) >= 1),
            "lost": sum(1 for i in instance_ids if counts.get(i, 0) == 0),
            "duplicated": sum(count - 1 for count in counts.values() if count > 1),
            "tally_mismatches": len(mismatches)}


# households ----------------------------------------------------------------------------

def household_plan(devices, per_device, seed=2025):
    """{username: [wire submissions]}: `per_device` distinct households per device, reproducibly."""
    from .demo import household_answers
    rng = random.Random(seed)
    start = datetime(2025, 3, 1, 8, 0, tzinfo=VIETNAM)
    plan = {}
    for device in devices:
        plan[device.username] = [
            {"instance_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "form_id": "household_digital",
             "form_version": "2025.1", "village_code": device.villages[n % len(device.villages)],
             "household_key": f"{device.username}-{n:05d}-{rng.getrandbits(32):08x}",
             "collected_at": (start + timedelta(minutes=n)).isoformat(),
             "answers": {"consent": "no"} if rng.random() < 0.03 else household_answers(rng, rng.random())}
            for n in range(per_device)]
    return plan


# the server ----------------------------------------------------------------------------

def free_port():
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """gunicorn in its own process group on a fixed port, which can be killed and restarted."""

    def __init__(self, url, folder, workers=4, port=None, env=None):
        self.url, self.folder, self.workers, self.env = url, folder, workers, dict(env or {})
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process = None

    def start(self, wait=90):
        """Start gunicorn and wait until /health answers."""
        import requests
        env = dict(os.environ, LANGSO_DATABASE_URL=self.url, LANGSO_SECRET_KEY="load-secret",
                   LANGSO_INSTANCE_PATH=os.path.join(self.folder, "instance"))
        env.update(self.env)
        with open(os.path.join(self.folder, "gunicorn.log"), "ab") as log:  # gunicorn keeps its own copy
            self.process = subprocess.Popen(
                [os.path.join(os.path.dirname(sys.executable), "gunicorn"), "--workers", str(self.workers),
                 "--bind", f"127.0.0.1:{self.port}", "--graceful-timeout", "2",
                 "--config", "python:server.gunicorn_conf", "server:create_app()"],
                env=env, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
        deadline = time.monotonic() + wait
        while True:
            try:
                if requests.get(self.base + "/api/v1/health", timeout=5).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                raise RuntimeError("gunicorn did not start; see " + os.path.join(self.folder, "gunicorn.log"))
            time.sleep(0.1)

    def log_tail(self, lines=8):
        """The last lines of gunicorn's log (the traceback of a failure, usually)."""
        with open(os.path.join(self.folder, "gunicorn.log"), encoding="utf-8", errors="replace") as log:
            return "".join(log.readlines()[-lines:])

    def kill(self):
        """SIGKILL the master and every worker at once (the whole process group)."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self.process = None

    def stop(self):
        """Stop gunicorn gracefully (SIGTERM), killing it if it lingers."""
        if self.process is None:
            return
        self.process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=20)
        self.kill()


# the network ---------------------------------------------------------------------------

class CuttingProxy:
    """Forward 127.0.0.1:port to the server, misbehaving (a mode from `modes`) on `cut_rate` of connections."""

    def __init__(self, upstream_port, cut_rate=0.1, seed=1, modes=CUTS):
        self.upstream_port, self.cut_rate, self.modes = upstream_port, cut_rate, modes
        self.random, self.lock = random.Random(seed), threading.Lock()
        self.script = []  # modes forced for the next connections, in order
        self.counts = dict.fromkeys(MODES, 0)
        self.held, self.release = threading.Event(), threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0), backlog=256)
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self):
        """Stop accepting connections (and let go of a held answer)."""
        self.closed = True
        self.release.set()
        self.listener.close()

    def _choose(self):
        """The mode for the next connection: scripted, else random by cut_rate."""
        with self.lock:
            if self.script:
                mode = self.script.pop(0)
            else:
                mode = self.random.choice(self.modes) if self.random.random() < self.cut_rate else "pass"
            self.counts[mode] += 1
            return mode

    def _accept(self):
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client):
        """Relay one connection, or misbehave as its mode says."""
        mode = self._choose()
        try:
            if mode == "cut_before":
                return
            if mode == "unavailable":
                client.recv(65536)
                client.sendall(UNAVAILABLE)
                return
            with socket.create_connection(("127.0.0.1", self.upstream_port), timeout=120) as upstream:
                if mode == "cut_mid_request":
                    data = client.recv(65536)
                    upstream.sendall(data[: max(1, len(data) // 2)])
                    return
                threading.Thread(target=_pump, args=(client, upstream), daemon=True).start()
                self._answer(client, upstream, mode)
        except OSError:
            pass
        finally:
            _close(client)

    def _answer(self, client, upstream, mode):
        """Relay the server's answer, or part of it, or none of it."""
        while data := upstream.recv(65536):
            if mode == "cut_after_server":
                return  # the server acted and answered; the device never hears it
            if mode == "cut_mid_response":
                client.sendall(data[: max(1, len(data) // 2)])
                return
            if mode == "hold":
                self.held.set()
                self.release.wait(60)
                return
            client.sendall(data)


def _pump(source, target):
    """Copy bytes from source to target until either side closes."""
    try:
        while data := source.recv(65536):
            target.sendall(data)
        target.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def _close(sock):
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


# the devices ---------------------------------------------------------------------------

def run_devices(base_url, devices, plan, batch_size=50, seconds_limit=120, max_attempts=60, outcome=None):
    """Each device (one thread) pulls the manifest, then pushes its batches until acknowledged.

    Pass an `outcome` to watch progress from another thread (the crash test kills the server
    once some requests were sent)."""
    outcome = outcome if outcome is not None else Outcome()
    deadline = time.monotonic() + seconds_limit
    threads = [threading.Thread(target=_device_loop, daemon=True,
                                args=(base_url, d, plan[d.username], batch_size, deadline, max_attempts, outcome))
               for d in devices]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()) + 30)
    outcome.seconds = time.perf_counter() - start
    return outcome


def _device_loop(base_url, device, items, batch_size, deadline, max_attempts, outcome):
    """One device's session: manifest, then batch after batch, each followed by an incremental pull."""
    client = SyncClient(base_url, device.token, timeout=(5, 60), backoff=Backoff(attempts=3, base=0.05, cap=0.5),
                        on_retry=lambda *_: _count_retry(outcome))
    try:
        cursor = _pull(client, None, deadline, max_attempts, outcome)
        for start in range(0, len(items), batch_size):
            if not _push(client, device, items[start:start + batch_size], deadline, max_attempts, outcome):
                return
            cursor = _pull(client, cursor, deadline, max_attempts, outcome)
    finally:
        client.close()


def _push(client, device, batch, deadline, max_attempts, outcome):
    """Send one batch until every item is acknowledged; False when out of attempts or time."""
    started = time.perf_counter()
    pending = {item["instance_id"]: item for item in batch}
    for attempt in range(max_attempts):
        if time.monotonic() > deadline:
            break
        try:
            with outcome.lock:
                outcome.requests += 1
            results = client.push_batch(list(pending.values()))
        except ClientError as error:
            if error.status is not None and error.status < 500:
                _fail(outcome, f"{device.username}: {error.status} {error.message}")
                return False
            time.sleep(min(1.0, 0.05 * 2 ** min(attempt, 5)) * random.random())
            continue
        for result in results:
            if result.get("status") in ACKNOWLEDGED:
                pending.pop(result.get("instance_id"), None)
            else:
                _fail(outcome, f"{device.username}: {result.get('instance_id')} {result.get('status')}")
                return False
        with outcome.lock:
            outcome.acknowledged.update(i["instance_id"] for i in batch if i["instance_id"] not in pending)
        if not pending:
            with outcome.lock:
                outcome.latencies.append(time.perf_counter() - started)
            return True
    _fail(outcome, f"{device.username}: {len(pending)} submissions never acknowledged")
    return False


def _pull(client, cursor, deadline, max_attempts, outcome):
    """The manifest since `cursor`, retried; returns the new cursor (the old one when it kept failing)."""
    for attempt in range(max_attempts):
        if time.monotonic() > deadline:
            return cursor
        try:
            with outcome.lock:
                outcome.requests += 1
            body, _ = client.manifest(since=cursor)
            return body["cursor"] if body else cursor
        except ClientError as error:
            if error.status is not None and error.status < 500:
                _fail(outcome, f"manifest: {error.status} {error.message}")
                return cursor
            time.sleep(min(1.0, 0.05 * 2 ** min(attempt, 5)) * random.random())
    return cursor


def _count_retry(outcome):
    with outcome.lock:
        outcome.retries += 1


def _fail(outcome, message):
    with outcome.lock:
        outcome.failures.append(message)


def percentile(values, share):
    """The nearest-rank percentile (share in 0..1) of a list of numbers; 0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


# one whole run -------------------------------------------------------------------------

def run_load(url, folder, devices=50, per_device=200, batch_size=50, workers=4, cut_rate=0.1,
             seconds_limit=120, seed=2025, reference=True):
    """Prepare, serve, run the devices through the cutting proxy, verify; returns the figures."""
    prepared = prepare(url, devices)
    plan = household_plan(prepared, per_device, seed)
    server = Server(url, folder, workers).start()
    proxy = CuttingProxy(server.port, cut_rate, seed)
    try:
        outcome = run_devices(proxy.url, prepared, plan, batch_size, seconds_limit)
        reference_rate = _reference_rate(server.base, prepared, per_device, batch_size, seed) if reference else 0.0
    finally:
        proxy.close()
        server.stop()
    sent = {item["instance_id"] for items in plan.values() for item in items}
    checked = verify(url, sent)
    latencies_ms = [s * 1000 for s in outcome.latencies]
    per_s = len(outcome.acknowledged) / outcome.seconds if outcome.seconds else 0.0
    figures = {"devices": devices, "submitted": len(sent), "acknowledged": len(outcome.acknowledged),
               "on_server": checked["on_server"], "lost": checked["lost"], "duplicated": checked["duplicated"],
               "tally_mismatches": checked["tally_mismatches"], "failures": len(outcome.failures),
               "requests": outcome.requests, "retries": outcome.retries, "connections": sum(proxy.counts.values()),
               "connections_cut": sum(n for mode, n in proxy.counts.items() if mode != "pass"),
               "seconds": round(outcome.seconds, 3), "submissions_per_s": round(per_s, 1),
               "p50_ms": round(percentile(latencies_ms, 0.50), 1), "p95_ms": round(percentile(latencies_ms, 0.95), 1),
               "p99_ms": round(percentile(latencies_ms, 0.99), 1)}
    if reference:
        figures["reference_submissions_per_s"] = round(reference_rate, 1)
        figures["ratio"] = round(per_s / reference_rate, 4) if reference_rate else 0.0
    figures["failure_examples"] = outcome.failures[:5]
    return figures


def _reference_rate(base_url, devices, per_device, batch_size, seed):
    """Submissions per second of one client posting the same kind of batches directly, one at a time."""
    chosen = devices[: max(1, len(devices) // 5)]
    plan = household_plan(chosen, per_device, seed + 1)
    clients = {d.username: SyncClient(base_url, d.token) for d in chosen}
    count, start = 0, time.perf_counter()
    for device in chosen:
        items = plan[device.username]
        for i in range(0, len(items), batch_size):
            results = clients[device.username].push_batch(items[i:i + batch_size])
            count += sum(1 for r in results if r["status"] in ACKNOWLEDGED)
    seconds = time.perf_counter() - start
    for client in clients.values():
        client.close()
    return count / seconds if seconds else 0.0


def passed(figures):
    """True when every submission is on the server exactly once and the sums agree."""
    return (figures["lost"] == 0 and figures["duplicated"] == 0 and figures["tally_mismatches"] == 0
            and figures["on_server"] == figures["submitted"] == figures["acknowledged"])
