"""QR provisioning of ODK Collect: the settings payload, the PNG endpoint and `langso device qr`."""
import base64
import re
from datetime import datetime, timedelta

from sync.devices import qr_png
from sync.openrosa import collect_settings, read_settings_payload, settings_payload

from .support.openrosa import collect_headers


def provision(client, headers, username="collector_phuhoa"):
    return client.post(f"/api/v1/odk/devices/{username}/qr", headers={**headers, "Accept": "application/json"})


def path_of(server_url):
    return re.sub(r"^https?://[^/]+", "", server_url)


def test_the_payload_is_zlib_compressed_base64_json_as_collect_reads_it():
    settings = collect_settings("https://langso.example.vn/odk/key/abc")
    payload = settings_payload(settings)
    assert re.fullmatch(r"[A-Za-z0-9+/=]+", payload)
    decoded = read_settings_payload(payload)
    assert decoded == settings
    assert decoded["general"]["server_url"] == "https://langso.example.vn/odk/key/abc"
    assert decoded["general"]["form_update_mode"] == "match_exactly"
    assert decoded["project"]["name"] == "Làng số" and decoded["admin"]["change_server"] is False


def test_district_staff_get_a_working_qr_code_for_a_collector_of_their_district(odk):
    client = odk.test_client()
    from .conftest import PASSWORD
    login = client.post("/api/v1/auth/token", json={"username": "staff_chupah", "password": PASSWORD}).json
    staff = {"Authorization": f"Bearer {login['token']}"}
    png = client.post("/api/v1/odk/devices/collector_phuhoa/qr", headers=staff)
    assert png.status_code == 200 and png.mimetype == "image/png" and png.data.startswith(b"\x89PNG\r\n\x1a\n")
    provisioned = provision(client, staff).json
    assert base64.b64decode(provisioned["png"]) == qr_png(provisioned["payload"])
    server_url = read_settings_payload(provisioned["payload"])["general"]["server_url"]
    assert server_url == provisioned["server_url"] and "/odk/key/" in server_url
    assert client.get(f"{path_of(server_url)}/formList", headers=collect_headers()).status_code == 200
    tokens = client.get("/api/v1/odk/devices/collector_phuhoa", headers=staff).json
    assert len(tokens) == 2 and all(t["revoked_at"] is None for t in tokens)
    assert all(datetime.fromisoformat(t["created_at"]).utcoffset() == timedelta(0) for t in tokens)  # RFC 3339
    assert client.delete("/api/v1/odk/devices/collector_phuhoa", headers=staff).status_code == 204
    assert client.get(f"{path_of(server_url)}/formList", headers=collect_headers()).status_code == 403


def test_accounts_outside_the_callers_scope_or_role_are_not_provisioned(odk, token_for):
    client = odk.test_client()
    assert provision(client, token_for("staff_pleiku")).status_code == 404
    assert provision(client, token_for("staff_chupah"), "admin").status_code == 404
    assert provision(client, token_for("collector_phuhoa")).status_code == 403
    assert provision(client, {}).status_code == 401
    assert provision(client, token_for("admin"), "staff_pleiku").status_code == 200


def test_the_cli_prints_the_qr_code_and_url_and_can_revoke(odk, runner, tmp_path):
    client = odk.test_client()
    shown = runner.invoke(["device", "qr", "collector_phuhoa", "--url", "https://langso.example.vn",
                           "--png", str(tmp_path / "qr.png")])
    assert shown.exit_code == 0, shown.output
    assert "▀" in shown.output or "█" in shown.output
    server_url = re.search(r"https://langso\.example\.vn/odk/key/\S+", shown.output).group(0)
    assert (tmp_path / "qr.png").read_bytes().startswith(b"\x89PNG")
    assert client.get(f"{path_of(server_url)}/formList", headers=collect_headers()).status_code == 200
    revoked = runner.invoke(["device", "qr", "collector_phuhoa", "--revoke"])
    assert "revoked 1 device token" in revoked.output
    assert client.get(f"{path_of(server_url)}/formList", headers=collect_headers()).status_code == 403


def test_the_cli_needs_the_public_address_and_an_active_account(runner):
    assert "--url" in runner.invoke(["device", "qr", "collector_phuhoa"]).output
    assert "no active account" in runner.invoke(["device", "qr", "nobody", "--url", "https://x"]).output
