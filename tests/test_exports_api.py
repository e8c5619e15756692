"""Exports through the real path: households posted by a collector, downloaded as CSV/XLSX by role."""
import csv
import io
import json

import requests
from openpyxl import load_workbook
from pony.orm import db_session

from .conftest import CHU_PAH, CHU_PAH_COMMUNE, PASSWORD, PLEIKU

PERSONAL = ("head_name", "phone", "location")


def stored(store):
    """The current submissions as the database holds them, by instance id."""
    with db_session:
        return {s.instance_id: {"answers": dict(s.answers or {}), "village": s.village_code, "round": s.round,
                                "key": s.household_key, "collector": s.collector, "status": s.status,
                                "version": s.form_version, "collected_at": s.collected_at}
                for s in store.Submission.select(lambda s: s.is_current)}


def read_csv(response):
    """Rows of a CSV download as dicts (checking the BOM Excel needs)."""
    assert response.data.startswith("\ufeff".encode("utf-8"))
    return list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))


def read_xlsx(data):
    """Rows of an XLSX download as dicts."""
    rows = list(load_workbook(io.BytesIO(data), read_only=True).active.iter_rows(values_only=True))
    header = rows[0]
    return [dict(zip(header, list(row) + [None] * (len(header) - len(row)))) for row in rows[1:]]


def as_text(value):
    """How an answer is written in CSV."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def test_district_staff_get_a_csv_that_round_trips_every_stored_answer(surveyed, client, token_for, store):
    response = client.get(f"/api/v1/exports/{CHU_PAH}.csv?personal=1", headers=token_for("staff_chupah"))
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = {row["instance_id"]: row for row in read_csv(response)}
    truth = stored(store)
    assert set(rows) == set(truth) and len(rows) == 5
    for instance_id, row in rows.items():
        expected = truth[instance_id]
        assert (row["village_code"], row["household_key"], row["round"], row["collector"], row["status"],
                row["form_version"]) == (expected["village"], expected["key"], expected["round"],
                                         expected["collector"], expected["status"], expected["version"])
        assert row["village_name"].startswith("Thôn ")
        for name, value in expected["answers"].items():
            assert row[name] == as_text(value), name
        assert all(row[name] == "" for name in row if name not in expected["answers"] and name in ("phone",))
    heads = {row["head_name"] for row in rows.values()}
    assert {"Rơ Mah Hyao", "Ksor Thị Ngọc Hà", "Nguyễn Văn Đức", "Đinh Thị Ưng"} <= heads


def test_personal_fields_are_left_out_by_default(surveyed, client, token_for):
    rows = read_csv(client.get(f"/api/v1/exports/{CHU_PAH}.csv", headers=token_for("staff_chupah")))
    assert rows and not set(PERSONAL) & set(rows[0])
    assert "members" in rows[0] and "Rơ Mah Hyao" not in json.dumps(rows, ensure_ascii=False)


def test_a_round_selects_its_households_and_an_unknown_round_is_a_clear_error(surveyed, client, token_for):
    headers = token_for("admin")
    rows = read_csv(client.get(f"/api/v1/exports/{CHU_PAH_COMMUNE}.csv?round=2024", headers=headers))
    assert [row["household_key"] for row in rows] == ["b2"]
    response = client.get(f"/api/v1/exports/{CHU_PAH}.csv?round=1999x", headers=headers)
    assert response.status_code == 422 and response.json["errors"][0]["field"] == "round"


def test_xlsx_round_trips_every_stored_answer(surveyed, client, token_for, store):
    response = client.get(f"/api/v1/exports/{CHU_PAH}.xlsx?personal=1", headers=token_for("admin"))
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    rows = {row["instance_id"]: row for row in read_xlsx(response.data)}
    truth = stored(store)
    assert set(rows) == set(truth)
    for instance_id, row in rows.items():
        for name, value in truth[instance_id]["answers"].items():
            assert row[name] == (None if value == "" else value), name
        assert row["collected_at"] == truth[instance_id]["collected_at"]


def test_exports_are_limited_by_role_and_scope(surveyed, client, token_for):
    assert client.get(f"/api/v1/exports/{CHU_PAH}.csv").status_code == 401
    assert client.get(f"/api/v1/exports/{CHU_PAH_COMMUNE}.csv",
                      headers=token_for("collector_phuhoa")).status_code == 403
    assert client.get(f"/api/v1/exports/{CHU_PAH}.xlsx", headers=token_for("staff_pleiku")).status_code == 403
    assert client.get(f"/api/v1/exports/{PLEIKU}.csv", headers=token_for("staff_pleiku")).status_code == 200
    assert client.get("/api/v1/exports/99999.csv", headers=token_for("admin")).status_code == 404
    response = client.get(f"/api/v1/exports/{CHU_PAH}.csv?personal=maybe", headers=token_for("admin"))
    assert response.status_code == 422 and response.json["errors"][0]["field"] == "personal"


def test_every_export_is_audited_with_who_what_and_when(surveyed, client, token_for, store):
    client.get(f"/api/v1/exports/{CHU_PAH}.csv?personal=1&round=2025", headers=token_for("staff_chupah"))
    client.get(f"/api/v1/exports/{CHU_PAH}.xlsx", headers=token_for("staff_pleiku"))  # refused: not audited
    with db_session:
        entries = [(e.actor, e.action, e.target, e.details, e.at is not None)
                   for e in store.AuditEntry.select(lambda e: e.action == "export_downloaded")]
    assert entries == [("staff_chupah", "export_downloaded", CHU_PAH,
                        {"format": "csv", "round": "2025", "personal": True}, True)]


def test_the_export_command_streams_to_a_file(surveyed, runner, tmp_path, store):
    out = tmp_path / "chu_pah.xlsx"
    result = runner.invoke(["export", CHU_PAH, "--format", "xlsx", "--out", str(out), "--personal"])
    assert result.exit_code == 0, result.output
    assert len(read_xlsx(out.read_bytes())) == 5
    out_csv = tmp_path / "chu_pah.csv"
    runner.invoke(["export", CHU_PAH_COMMUNE, "--out", str(out_csv), "--round", "2025", "--labels"])
    text = out_csv.read_text(encoding="utf-8-sig")
    assert "Mã hộ" in text and "Rơ Mah Hyao" not in text and len(text.splitlines()) == 5
    with db_session:
        assert store.AuditEntry.select(lambda e: e.action == "export_written").count() == 2


def test_a_real_server_streams_a_csv_export(surveyed, live_server):
    token = requests.post(f"{live_server}/api/v1/auth/token",
                          json={"username": "staff_chupah", "password": PASSWORD}).json()["token"]
    with requests.get(f"{live_server}/api/v1/exports/{CHU_PAH}.csv", stream=True,
                      headers={"Authorization": f"Bearer {token}"}) as response:
        assert response.status_code == 200
        assert response.headers.get("Transfer-Encoding") == "chunked"
        body = b"".join(response.iter_content(1024)).decode("utf-8-sig")
    assert len(list(csv.DictReader(io.StringIO(body)))) == 5
