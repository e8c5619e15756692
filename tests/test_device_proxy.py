"""The device's HTTP client: compact bodies, backoff, and retries through a flaky network.

The flaky network is server.bench.loadtest.CuttingProxy, a real TCP proxy between the device and the real
server that, per connection, passes it or misbehaves (cuts it, or answers 503 itself) as scripted.
"""
import gzip
import json
import socket

import pytest
import requests

from sync.device.client import Backoff, NotLoggedIn, SyncClient, Unreachable, encode_body
from tests.conftest import PASSWORD
from tests.support.devices import fast_backoff, flaky_proxy


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
        assert min(delays) >= 0 and max(delays) <= min(8, 2 ** attempt)
    assert len({round(backoff.delay(3), 6) for _ in range(20)}) > 1


def test_an_unreachable_server_is_retried_then_reported(closed_port):
    retries = []
    client = SyncClient(f"http://127.0.0.1:{closed_port}", backoff=fast_backoff(4),
                        on_retry=lambda attempt, reason, delay: retries.append(reason))
    with pytest.raises(Unreachable, match="cannot reach"):
        client.push_batch([])
    assert len(retries) == 3 and all(r == "ConnectionError" for r in retries)


def test_503_answers_are_retried_until_the_server_answers(http_server):
    proxy = flaky_proxy(http_server)
    proxy.script = ["unavailable", "cut_before", "unavailable"]
    retries = []
    client = SyncClient(proxy.url, backoff=fast_backoff(),
                        on_retry=lambda attempt, reason, delay: retries.append(reason))
    response = client.request("GET", "/api/v1/health")
    proxy.close()
    assert response.status_code == 200
    assert retries == ["HTTP 503", "ConnectionError", "HTTP 503"]
    assert proxy.counts["unavailable"] == 2 and proxy.counts["cut_before"] == 1 and proxy.counts["pass"] == 1


def test_a_bad_password_is_a_clear_error_and_no_token_is_kept(http_server):
    client = SyncClient(http_server, backoff=fast_backoff())
    with pytest.raises(NotLoggedIn) as caught:
        client.login("collector_phuhoa", "wrong password")
    assert caught.value.status == 401 and client.token is None
    assert "token" not in repr(client) or "without token" in repr(client)


def test_the_token_is_kept_out_of_the_clients_repr(http_server):
    client = SyncClient(http_server, backoff=fast_backoff())
    user = client.login("collector_phuhoa", PASSWORD)
    assert user["username"] == "collector_phuhoa"
    assert client.token and client.token not in repr(client)
    assert requests.get(f"{http_server}/api/v1/me",
                        headers={"Authorization": f"Bearer {client.token}"}).status_code == 200
