"""HTTP client for the sync protocol, as a device uses it over a weak, costly connection.

Plain `requests` (no Flask, nothing of the web app): token login, the manifest (incremental,
with ETag), form definitions, gzip batch upload and receipts. Network errors, timeouts and
5xx answers are retried with exponential backoff and full jitter; 401 and other request-level
4xx answers are raised at once as ClientError subclasses carrying the server's one error shape.
"""
from __future__ import annotations

import gzip
import json
import random
import time
from dataclasses import dataclass
from typing import Any

import requests

from ..wire import API

RETRYABLE_STATUS = (429, 500, 502, 503, 504)
NETWORK_ERRORS = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
                  requests.exceptions.ContentDecodingError)


class ClientError(Exception):
    """A request the server (or the network) refused; `status`, `code`, `errors` as the server sent them."""

    def __init__(self, message, status=None, code=None, errors=None):
        super().__init__(message)
        self.message, self.status, self.code, self.errors = message, status, code, list(errors or [])


class NotLoggedIn(ClientError):
    """401: the token is missing, expired or revoked; the collector must log in again."""


class TooLarge(ClientError):
    """413: the batch is too large for the server; send smaller batches."""


class Unreachable(ClientError):
    """The server could not be reached (or kept failing) after every retry."""


@dataclass
class Backoff:
    """Exponential backoff with full jitter: attempt n waits uniform(0, min(cap, base * 2**n))."""
    attempts: int = 6
    base: float = 0.5
    cap: float = 30.0
    sleep: object = time.sleep

    def delay(self, attempt: int) -> Any:
        """Seconds to wait before retry number `attempt` (0 for the first retry)."""
        return random.uniform(0, min(self.cap, self.base * 2 ** attempt))


class SyncClient:
    """The server as a device sees it; `token` is kept out of reprs and messages."""

    def __init__(self, base_url, token=None, timeout=(10, 120), backoff=None, gzip_min_bytes=512,
                 on_retry=None):
        self.base_url = base_url.rstrip("/")
        self._token = token
        self.timeout = timeout
        self.backoff = backoff or Backoff()
        self.gzip_min_bytes = gzip_min_bytes
        self.on_retry = on_retry
        self.session = requests.Session()
        self.session.headers["User-Agent"] = "langso-device"

    def __repr__(self):
        return f"<SyncClient {self.base_url} {'with' if self._token else 'without'} token>"

    def close(self) -> None:
        """Close pooled connections."""
        self.session.close()

    # requests with retries --------------------------------------------------------

    def request(self, method: Any, path: Any, json_body: Any | None = None, headers: dict[str, Any] | None = None,
                params: dict[str, Any] | None = None, retry: bool = True) -> Any:
        """Send a request, retrying network errors and 5xx with backoff; returns the Response (< 400 or 304)."""
        url = path if path.startswith("http") else self.base_url + path
        headers = dict(headers or {})
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        data = None
        if json_body is not None:
            data, encoding = encode_body(json_body, self.gzip_min_bytes)
            headers["Content-Type"] = "application/json"
            if encoding:
                headers["Content-Encoding"] = encoding
        attempts = self.backoff.attempts if retry else 1
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                response = self.session.request(method, url, data=data, headers=headers, params=params,
                                                timeout=self.timeout)
            except NETWORK_ERRORS as error:
                if last:
                    raise Unreachable(f"cannot reach {self.base_url}: {type(error).__name__}") from None
                self._wait(attempt, f"{type(error).__name__}")
                continue
            if response.status_code in RETRYABLE_STATUS and not last:
                self._wait(attempt, f"HTTP {response.status_code}", response.headers.get("Retry-After"))
                continue
            return check(response)
        raise AssertionError("unreachable")

    def _wait(self, attempt, reason, retry_after=None):
        """Sleep before the next retry (honouring a numeric Retry-After) and report it."""
        delay = self.backoff.delay(attempt)
        if retry_after and retry_after.isdigit():
            delay = max(delay, min(float(retry_after), self.backoff.cap))
        if self.on_retry:
            self.on_retry(attempt + 1, reason, delay)
        self.backoff.sleep(delay)

    # the protocol -------------------------------------------------------------------

    def login(self, username: str, password: str, label: str = "langso device") -> Any:
        """Exchange credentials for a token (kept in this client); returns the user dict."""
        response = self.request("POST", f"{API}/auth/token",
                                {"username": username, "password": password, "label": label})
        body = response.json()
        self._token = body["token"]
        return body.get("user") or {}

    @property
    def token(self) -> Any:
        """The bearer token, for the caller to store (never print it)."""
        return self._token

    def manifest(self, since: Any | None = None, etag: str | None = None) -> tuple:
        """(body or None when 304, etag) of GET /sync/manifest, incremental with `since`."""
        headers = {"If-None-Match": etag} if etag else {}
        params = {"since": since} if since else None
        response = self.request("GET", f"{API}/sync/manifest", headers=headers, params=params)
        if response.status_code == 304:
            return None, etag
        return response.json(), response.headers.get("ETag")

    def form_definition(self, form_id: str, version: str, url: str | None = None) -> Any:
        """The form document of a published version (from the manifest's URL when given)."""
        response = self.request("GET", url or f"{API}/forms/{form_id}/versions/{version}")
        body = response.json()
        return body.get("definition", body) if isinstance(body, dict) else body

    def push_batch(self, submissions: Any) -> Any:
        """POST one batch (wire-format dicts); returns the server's list of per-item results."""
        response = self.request("POST", f"{API}/submissions/batch", {"submissions": submissions})
        results = response.json().get("results")
        if not isinstance(results, list):
            raise ClientError("the server's answer has no results list", response.status_code)
        return results

    def receipts(self, instance_ids: Any, chunk: int = 100) -> Any:
        """What the server holds for these ids: {instance_id: result dict} (absent ids are unknown)."""
        found = {}
        for start in range(0, len(instance_ids), chunk):
            ids = instance_ids[start:start + chunk]
            response = self.request("GET", f"{API}/submissions/status", params={"ids": ",".join(ids)})
            body = response.json()
            items = body.get("results", body.get("submissions", [])) if isinstance(body, dict) else body
            for item in items:
                found[item["instance_id"]] = item
        return found


def encode_body(value: Any, gzip_min_bytes: int = 512) -> tuple:
    """(bytes, content encoding or None): compact UTF-8 JSON, gzipped when that is worth it."""
    raw = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    if len(raw) < gzip_min_bytes:
        return raw, None
    return gzip.compress(raw, compresslevel=6, mtime=0), "gzip"


def check(response: Any) -> Any:
    """Return a successful response; raise the ClientError matching the server's error shape otherwise."""
    if response.status_code < 400:
        return response
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    message = body.get("message") or f"HTTP {response.status_code} {response.reason}"
    kind = {401: NotLoggedIn, 413: TooLarge}.get(response.status_code, ClientError)
    if response.status_code >= 500:
        kind = Unreachable
    raise kind(message, response.status_code, body.get("code"), body.get("errors"))
