"""A flaky network for device tests (a real TCP proxy), and the HTTP client's retries through it.

FlakyProxy sits between a device and the real server and, per connection, passes it, cuts it
before the request reaches the server, cuts it after the server has answered (so the server
acted but the device never heard), cuts the response halfway, or answers 503 itself.
"""
import gzip
import json
import random
import socket
import threading

import pytest
import requests

from sync.client import Backoff, NotLoggedIn, SyncClient, Unreachable, encode_body
from tests.conftest import PASSWORD

MODES = ("pass", "cut_before", "cut_after_server", "cut_mid_response", "unavailable")


class FlakyProxy:
    """Forward 127.0.0.1:port to the upstream port, misbehaving on a share of connections."""

    def __init__(self, upstream_port, drop_rate=0.0, seed=1, modes=MODES[1:]):
        self.upstream_port, self.drop_rate, self.modes = upstream_port, drop_rate, modes
        self.random, self.lock = random.Random(seed), threading.Lock()
        self.script = []  # modes forced for the next connections, in order
        self.counts = {mode: 0 for mode in MODES + ("hold",)}
        self.held = threading.Event()  # set when a "hold" connection has the server's answer
        self.release = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self):
        """Stop accepting connections."""
        self.closed = True
        self.release.set()
        self.listener.close()

    def _choose(self):
        """The mode for the next connection: scripted, else random by drop_rate."""
        with self.lock:
            if self.script:
                mode = self.script.pop(0)
            elif self.random.random() < self.drop_rate:
                mode = self.random.choice(self.modes)
            else:
                mode = "pass"
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
        """Handle one connection according to its mode."""
        mode = self._choose()
        try:
            if mode == "cut_before":
                return
            if mode == "unavailable":
                client.recv(65536)
                client.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                return
            with socket.create_connection(("127.0.0.1", self.upstream_port)) as upstream:
                threading.Thread(target=_pump, args=(client, upstream), daemon=True).start()
                self._answer(client, upstream, mode)
        except OSError:
            pass
        finally:
            _close(client)

    def _answer(self, client, upstream, mode):
        """Relay the server's answer, or part of it, or none of it."""
        sent = 0
        while True:
            data = upstream.recv(65536)
            if not data:
                return
            if mode == "cut_after_server":
                return
            if mode == "hold":
                self.held.set()
                self.release.wait(60)
                return
            if mode == "cut_mid_response":
                client.sendall(data[: max(1, len(data) // 2)])
                return
            client.sendall(data)
            sent += len(data)


def _pump(source, target):
    """Copy bytes from source to target until either side closes."""
    try:
        while data := source.recv(65536):
            target.sendall(data)
        target.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def _close(sock):
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


def fast_backoff(attempts=8):
    """Backoff with tiny delays, so retries happen but tests stay quick."""
    return Backoff(attempts=attempts, base=0.005, cap=0.05)


@pytest.fixture
def closed_port():
    """A port with nobody listening."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_bodies_are_compact_utf8_json_gzipped_when_large():
    small, encoding = encode_body({"a": "Làng"})
    assert encoding is None and json.loads(small) == {"a": "Làng"}
    big = {"submissions": [{"answers": {"head_name": "Rơ Mah Hiếu"}}] * 100}
    body, encoding = encode_body(big)
    assert encoding == "gzip" and json.loads(gzip.decompress(body)) == big
    assert len(body) < len(json.dumps(big)) / 10


def test_backoff_delays_grow_exponentially_with_jitter_up_to_a_cap():
    backoff = Backoff(base=1, cap=8)
    for attempt in range(6):
        delays = [backoff.delay(attempt) for _ in range(200)]
        assert 0 <= min(delays) and max(delays) <= min(8, 2 ** attempt)
    assert len({round(backoff.delay(3), 6) for _ in range(20)}) > 1


def test_an_unreachable_server_is_retried_then_reported(closed_port):
    retries = []
    client = SyncClient(f"http://127.0.0.1:{closed_port}", backoff=fast_backoff(4),
                        on_retry=lambda attempt, reason, delay: retries.append(reason))
    with pytest.raises(Unreachable, match="cannot reach"):
        client.push_batch([])
    assert len(retries) == 3 and all(r == "ConnectionError" for r in retries)


def test_503_answers_are_retried_until_the_server_answers(live_server):
    proxy = FlakyProxy(int(live_server.rsplit(":", 1)[1]))
    proxy.script = ["unavailable", "cut_before", "unavailable"]
    retries = []
    client = SyncClient(proxy.url, backoff=fast_backoff(),
                        on_retry=lambda attempt, reason, delay: retries.append(reason))
    response = client.request("GET", "/api/v1/health")
    assert response.status_code == 200
    assert retries == ["HTTP 503", "ConnectionError", "HTTP 503"]
    proxy.close()


def test_a_bad_password_is_a_clear_error_and_no_token_is_kept(live_server):
    client = SyncClient(live_server, backoff=fast_backoff())
    with pytest.raises(NotLoggedIn) as caught:
        client.login("collector_phuhoa", "wrong password")
    assert caught.value.status == 401 and client.token is None
    assert "token" not in repr(client) or "without token" in repr(client)


def test_the_token_is_kept_out_of_the_clients_repr(live_server):
    client = SyncClient(live_server, backoff=fast_backoff())
    user = client.login("collector_phuhoa", PASSWORD)
    assert user["username"] == "collector_phuhoa"
    assert client.token and client.token not in repr(client)
    assert requests.get(f"{live_server}/api/v1/me",
                        headers={"Authorization": f"Bearer {client.token}"}).status_code == 200
