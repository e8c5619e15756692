"""The Gia Lai hierarchy loads as in 2022, and unit CSV imports are all-or-nothing."""
import json

from pony.orm import db_session

from sync.units import list_units

GIA_LAI_DISTRICTS = {str(code) for code in range(622, 640)} - {"636"}


def test_init_loads_17_districts_with_codes_622_to_639(runner):
    result = runner.invoke(["units", "list", "--level", "district", "--format", "json"])
    districts = json.loads(result.output)
    assert {d["code"] for d in districts} == GIA_LAI_DISTRICTS
    assert all(d["parent_code"] == "64" for d in districts)
    names = {d["code"]: d["name"] for d in districts}
    assert names["622"] == "Thành phố Pleiku"
    assert names["627"] == "Huyện Chư Păh"
    assert names["639"] == "Huyện Chư Pưh"


def test_init_loads_218_communes_180_xa_24_phuong_14_thi_tran(store):
    communes = list_units(store, level="commune")
    assert len(communes) == 218
    kinds = [c["kind"] for c in communes]
    assert (kinds.count("xã"), kinds.count("phường"), kinds.count("thị trấn")) == (180, 24, 14)
    assert all(c["parent_code"] in GIA_LAI_DISTRICTS for c in communes)


def test_province_is_gia_lai_code_64(runner):
    province = json.loads(runner.invoke(["units", "list", "--level", "province", "--format", "json"]).output)
    assert province == [{"code": "64", "name": "Tỉnh Gia Lai", "level": "province", "kind": "tỉnh",
                         "parent_code": None, "expected_households": None}]


def test_loading_gia_lai_twice_changes_nothing(runner, store):
    from sync.units import load_gia_lai
    report = load_gia_lai(store)
    assert (report.created, report.updated) == ([], [])


def village_csv(*lines):
    return "code,name,level,parent_code,expected_households\n" + "\n".join(lines) + "\n"


def test_villages_import_under_a_commune_and_update_idempotently(runner, tmp_path, store):
    path = tmp_path / "villages.csv"
    path.write_text(village_csv("23722-01,Làng Ia Mơ Nông,village,23722,120",
                                "23722-02,Thôn 2,village,23722,"), encoding="utf-8")
    first = runner.invoke(["units", "import", str(path)])
    assert first.exit_code == 0, first.output
    assert "2 created" in first.output
    again = runner.invoke(["units", "import", str(path)])
    assert "0 created, 0 updated" in again.output
    villages = list_units(store, under="23722", level="village")
    assert [(v["code"], v["expected_households"]) for v in villages] == [("23722-01", 120), ("23722-02", None)]
    path.write_text(village_csv("23722-02,Thôn 2,village,23722,85"), encoding="utf-8")
    assert "0 created, 1 updated" in runner.invoke(["units", "import", str(path)]).output
    assert list_units(store, under="23722")[1]["expected_households"] == 85


def test_a_bad_csv_changes_nothing_and_names_each_bad_line(runner, tmp_path, store):
    path = tmp_path / "bad.csv"
    path.write_text(village_csv("23722-01,Thôn 1,village,23722,",
                                "23722-02,Thôn 2,village,99999,",
                                "23722-01,Thôn 1 lặp,village,23722,",
                                "23722-03,,village,23722,",
                                "23722-04,Thôn 4,village,23722,nhiều"), encoding="utf-8")
    result = runner.invoke(["units", "import", str(path)])
    assert result.exit_code == 1
    text = result.output
    assert f"{path}:3: line 3: parent code 99999 is not a known unit" in text
    assert "line 4: code 23722-01 already on line 2" in text
    assert "line 5: name is empty" in text
    assert "line 6: expected_households must be a whole number" in text
    assert f"{path}:2:" not in text
    with db_session:
        assert not store.Unit.exists(level="village")


def test_nfd_names_are_stored_as_nfc(store):
    import unicodedata

    from sync.units import import_units
    decomposed = unicodedata.normalize("NFD", "Làng Đê Ktu")
    import_units(store, village_csv(f"23722-09,{decomposed},village,23722,"))
    assert list_units(store, under="23722")[0]["name"] == unicodedata.normalize("NFC", "Làng Đê Ktu")


def test_a_two_tier_hierarchy_loads_too(store):
    from sync.units import import_units
    import_units(store, "code,name,level,parent_code\n"
                        "52,Tỉnh Gia Lai (2025),tỉnh,\n"
                        "21583,Phường Quy Nhơn,xã/phường,52\n")
    units = list_units(store, under="52")
    assert units == [{"code": "21583", "name": "Phường Quy Nhơn", "level": "xã/phường", "kind": None,
                      "parent_code": "52", "expected_households": None}]
