"""Hostile submissions: XML bombs, external entities and oversize bodies are refused cheaply.

Memory is measured with tracemalloc around the request: a refused 50 MB body or an entity
bomb must not make the server allocate more than a few megabytes.
"""
import io
import tracemalloc
import xml.etree.ElementTree as ET

import pytest

from sync import openrosa

from .support.openrosa import BOUNDARY, collect_headers, multipart

FIFTY_MB = 50 * 1024 * 1024
BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE data [
 <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"> <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
 <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;"> <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
 <!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;"> <!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">
 <!ENTITY h "&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;"> <!ENTITY i "&h;&h;&h;&h;&h;&h;&h;&h;&h;&h;">
]>
<data id="household_digital" version="2025.1"><langso><household_key>&i;</household_key></langso>
<meta><instanceID>uuid:bomb</instanceID></meta></data>"""
EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE data [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<data id="household_digital" version="2025.1"><x>&secret;</x><meta><instanceID>uuid:x</instanceID></meta></data>"""


class Zeros(io.RawIOBase):
    """A seekable body of `size` bytes made on the fly (never held in memory): a prefix, then '0's."""

    def __init__(self, size, prefix=b""):
        self.prefix, self.size, self.pos = prefix, size, 0
        self.read_bytes = 0

    def readable(self):
        return True

    def seekable(self):
        return True

    def tell(self):
        return self.pos

    def seek(self, offset, whence=0):
        self.pos = offset if whence == 0 else self.size + offset if whence == 2 else self.pos + offset
        return self.pos

    def readinto(self, buffer):
        count = max(0, min(len(buffer), self.size - self.pos))
        chunk = self.prefix[self.pos:self.pos + count]
        buffer[:count] = chunk + b"0" * (count - len(chunk))
        self.pos += count
        self.read_bytes += count
        return count


def peak_megabytes(call):
    """(result, peak traced allocation in MB) of a call."""
    tracemalloc.start()
    try:
        result = call()
        return result, tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def test_an_entity_bomb_is_refused_before_expansion():
    with pytest.raises(openrosa.OpenRosaError, match="DTD or entities"):
        openrosa.parse_submission(BOMB)


def test_an_external_entity_is_refused():
    with pytest.raises(openrosa.OpenRosaError, match="DTD or entities"):
        openrosa.parse_submission(EXTERNAL)


def test_an_oversize_or_overly_wide_xml_is_refused():
    with pytest.raises(openrosa.SubmissionTooLarge):
        openrosa.parse_submission(b"<data>" + b" " * openrosa.MAX_XML_BYTES + b"</data>")
    wide = b"<data>" + b"<a/>" * (openrosa.MAX_ELEMENTS + 1) + b"</data>"
    with pytest.raises(openrosa.OpenRosaError, match="more than"):
        openrosa.parse_submission(wide)


def test_malformed_xml_and_a_missing_instance_id_are_clear_errors():
    with pytest.raises(openrosa.OpenRosaError, match="not well-formed"):
        openrosa.parse_submission(b"<data><unclosed></data>")
    root = openrosa.parse_submission(b"<data id='household_digital' version='2025.1'><meta/></data>")
    with pytest.raises(openrosa.OpenRosaError, match="instanceID"):
        openrosa.submission_item(root, b"")


def test_a_posted_xml_bomb_gets_400_without_memory_growth(odk, device_key):
    client, token = odk.test_client(), device_key()
    body, content_type = multipart(BOMB)
    response, peak = peak_megabytes(lambda: client.post(
        f"/odk/key/{token}/submission", data=body, headers=collect_headers(**{"Content-Type": content_type})))
    assert response.status_code == 400 and response.headers["X-OpenRosa-Version"] == "1.0"
    assert b"DTD or entities" in response.data
    assert peak < 5, f"{peak:.1f} MB allocated"


def test_a_50_mb_body_with_its_length_declared_is_refused_with_413_unread(odk, device_key):
    client, token = odk.test_client(), device_key()
    stream = Zeros(FIFTY_MB)
    response, peak = peak_megabytes(lambda: client.post(
        f"/odk/key/{token}/submission", input_stream=stream, content_length=FIFTY_MB,
        headers=collect_headers(**{"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"})))
    assert response.status_code == 413 and response.headers["X-OpenRosa-Version"] == "1.0"
    assert ET.fromstring(response.data).tag == "{http://openrosa.org/http/response}OpenRosaResponse"
    assert stream.read_bytes == 0  # not a byte was read
    assert peak < 5, f"{peak:.1f} MB allocated"


def test_a_50_mb_chunked_body_stops_at_the_limit_with_413(odk, device_key):
    client, token = odk.test_client(), device_key()
    prefix = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"xml_submission_file\"; "
              f"filename=\"x.xml\"\r\nContent-Type: text/xml\r\n\r\n<data>").encode()
    stream = Zeros(FIFTY_MB, prefix)
    response, peak = peak_megabytes(lambda: client.post(
        f"/odk/key/{token}/submission", input_stream=stream,
        environ_overrides={"wsgi.input_terminated": True, "CONTENT_LENGTH": ""},
        headers=collect_headers(**{"Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
                                   "Transfer-Encoding": "chunked"})))
    assert response.status_code == 413
    assert 0 < stream.read_bytes < 12 * 1024 * 1024, stream.read_bytes  # stopped near the 10 MB limit
    assert peak < 5, f"{peak:.1f} MB allocated"
