"""Builders for the OpenRosa tests: ODK Collect's headers, its multipart layout and its instance XML.

Submissions are made the way Collect makes them: the primary instance of the downloaded
XForm is filled in (values by question name, meta/instanceID set) and serialised without
the XForms default namespace, then posted as multipart/form-data with the XML in the
`xml_submission_file` part, attachments after it and `*isIncomplete*` on split uploads.
The `odk` and `device_key` fixtures live in tests/conftest.py.
"""
import uuid
import xml.etree.ElementTree as ET

XF = "{http://www.w3.org/2002/xforms}"
USER_AGENT = "Dalvik/2.1.0 (Linux; U; Android 13; SM-A145F Build/TP1A.220624.014) org.odk.collect.android/v2024.3.1"
BOUNDARY = "----OkHttpBoundary7f3c2e1d-9c1b-4a6e-8f0e-2b6d3c4a5e6f"
START = "2025-03-01T09:30:12.345+07:00"
END = "2025-03-01T09:41:07.012+07:00"


def collect_headers(**extra):
    """The headers ODK Collect sends with every OpenRosa request."""
    headers = {"User-Agent": USER_AGENT, "X-OpenRosa-Version": "1.0", "Accept-Encoding": "gzip",
               "Date": "Sat, 01 Mar 2025 02:41:09 GMT+00:00", "Accept-Language": "vi-VN"}
    headers.update(extra)
    return headers


def instance_template(xform_text):
    """The primary instance of an XForm, with the XForms namespace removed from its tags."""
    root = ET.fromstring(xform_text.encode("utf-8"))
    data = root.find(f"./{{http://www.w3.org/1999/xhtml}}head/{XF}model/{XF}instance")[0]
    for node in data.iter():
        node.tag = node.tag.replace(XF, "")
    return data


def fill_instance(xform_text, answers, village="2372201", household_key="hh-1", instance_id=None,
                  deprecated_id=None, start=START, end=END):
    """The instance XML bytes Collect would send for these answers."""
    data = instance_template(xform_text)
    values = {"village_code": village, "household_key": household_key, "start": start, "end": end,
              "instanceID": instance_id or f"uuid:{uuid.uuid4()}", "instanceName": f"{village} – {household_key}"}
    if deprecated_id:
        values["deprecatedID"] = deprecated_id
    for name, value in answers.items():
        values[name] = " ".join(value) if isinstance(value, list) else str(value)
    for node in data.iter():
        if len(node) == 0 and node.tag in values:
            node.text = values[node.tag]
    data.attrib.pop("{http://openrosa.org/xforms}version", None)  # Collect sends id and version
    data.set("xmlns:orx", "http://openrosa.org/xforms")
    data.set("xmlns:jr", "http://openrosa.org/javarosa")
    return b"<?xml version='1.0' ?>" + ET.tostring(data, encoding="utf-8", xml_declaration=False)


def instance_id_of(xml_bytes):
    return ET.fromstring(xml_bytes).find("./meta/instanceID").text


def multipart(xml_bytes, attachments=(), incomplete=False):
    """(body, content type) laid out as Collect's OkHttp client sends a submission."""
    parts = [(b'Content-Disposition: form-data; name="xml_submission_file"; filename="2025-03-01_09-30-12.xml"\r\n'
              b"Content-Type: text/xml\r\n", xml_bytes)]
    for name, content, mime in attachments:
        parts.append((f'Content-Disposition: form-data; name="{name}"; filename="{name}"\r\n'
                      f"Content-Type: {mime}\r\n".encode(), content))
    if incomplete:
        parts.append((b'Content-Disposition: form-data; name="*isIncomplete*"\r\n', b"yes"))
    body = b"".join(b"--" + BOUNDARY.encode() + b"\r\n" + head + f"Content-Length: {len(data)}\r\n\r\n".encode()
                    + data + b"\r\n" for head, data in parts)
    return body + b"--" + BOUNDARY.encode() + b"--\r\n", f"multipart/form-data; boundary={BOUNDARY}"
