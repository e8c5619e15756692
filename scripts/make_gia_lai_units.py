"""Build sync/data/gia_lai_2022.csv: Gia Lai's pre-2025 administrative hierarchy.

The source is the PyPI package `vietnamadminunits`: its `admin_units_legacy`
table (the 63-province, district-based structure, compiled from the GSO
catalogue danhmuchanhchinh.gso.gov.vn) read through the package's own
`vietnamadminunits.database.get_data()` API. Nothing is typed in by hand:
every code and name comes from that table.

Output (UTF-8, no BOM, names NFC-normalised), one row per unit:

    code,name,level,parent_code,expected_households,kind

first the province, then the districts in code order, then the communes in
code order. `level` is province / district / commune; `kind` is the Vietnamese
kind in lower case (tỉnh, thành phố, thị xã, huyện, xã, phường, thị trấn);
`expected_households` is left empty.

Usage:
    .venv/bin/python scripts/make_gia_lai_units.py [--out PATH]
"""
import argparse
import csv
import sys
import unicodedata
from collections import Counter
from pathlib import Path

from vietnamadminunits.database import get_data

PROVINCE_CODE = "64"
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "sync" / "data" / "gia_lai_2022.csv"
COLUMNS = ["code", "name", "level", "parent_code", "expected_households", "kind"]
FIELDS = ["province", "provinceCode", "district", "districtCode", "districtType",
          "ward", "wardCode", "wardType"]

# What the 2022 hierarchy must look like; the script refuses to write anything else.
EXPECTED_DISTRICT_CODES = [str(c) for c in range(622, 640) if c != 636]
EXPECTED_COMMUNE_KINDS = {"xã": 180, "phường": 24, "thị trấn": 14}


def nfc(text):
    """Unicode NFC with surrounding blanks removed."""
    return unicodedata.normalize("NFC", text or "").strip()


def kind_of(name, unit_type=None):
    """The lower-case Vietnamese kind: the package's type column, else the name's prefix."""
    if unit_type:
        kind = nfc(unit_type).lower()
    else:
        kind = next((k for k in ("tỉnh", "thành phố") if name.lower().startswith(k + " ")), "")
    if not name.lower().startswith(kind + " "):
        raise ValueError(f"name {name!r} does not start with its kind {kind!r}")
    return kind


def load_rows(province_code=PROVINCE_CODE):
    """Province, district and commune rows for one province of the legacy table."""
    records = [r for r in get_data(FIELDS, table="admin_units_legacy")
               if r["provinceCode"] == province_code]
    if not records:
        raise SystemExit(f"province {province_code} not found in admin_units_legacy")
    provinces = {(r["provinceCode"], nfc(r["province"])) for r in records}
    if len(provinces) != 1:
        raise SystemExit(f"province {province_code} has several names: {sorted(provinces)}")
    (_, province_name), = provinces
    province = {"code": province_code, "name": province_name, "level": "province",
                "parent_code": "", "expected_households": "", "kind": kind_of(province_name)}

    districts, communes = {}, {}
    for r in records:
        district = {"code": r["districtCode"], "name": nfc(r["district"]), "level": "district",
                    "parent_code": province_code, "expected_households": "",
                    "kind": kind_of(nfc(r["district"]), r["districtType"])}
        commune = {"code": r["wardCode"], "name": nfc(r["ward"]), "level": "commune",
                   "parent_code": r["districtCode"], "expected_households": "",
                   "kind": kind_of(nfc(r["ward"]), r["wardType"])}
        for table, row in ((districts, district), (communes, commune)):
            if table.setdefault(row["code"], row) != row:
                raise SystemExit(f"code {row['code']} has conflicting rows: {table[row['code']]} / {row}")

    def by_code(row):
        return int(row["code"])

    return [province] + sorted(districts.values(), key=by_code) + sorted(communes.values(), key=by_code)


def check(rows):
    """Print the counts and fail unless they are the 2022 ones (17 districts, 218 communes)."""
    districts = [r for r in rows if r["level"] == "district"]
    communes = [r for r in rows if r["level"] == "commune"]
    kinds = Counter(r["kind"] for r in communes)
    district_codes = [r["code"] for r in districts]
    print(f"province: {rows[0]['code']} {rows[0]['name']}")
    print(f"districts: {len(districts)} ({', '.join(district_codes)})")
    print(f"district kinds: {dict(Counter(r['kind'] for r in districts))}")
    print(f"communes: {len(communes)} {dict(kinds)}")
    problems = []
    if district_codes != EXPECTED_DISTRICT_CODES:
        problems.append(f"district codes differ from 622..639 without 636: {district_codes}")
    if dict(kinds) != EXPECTED_COMMUNE_KINDS or len(communes) != 218:
        problems.append(f"commune counts differ from {EXPECTED_COMMUNE_KINDS}: {dict(kinds)}")
    if any(len(r["code"]) != 5 or not r["code"].isdigit() for r in communes):
        problems.append("some commune codes are not 5 digits")
    if any(r["parent_code"] not in district_codes for r in communes):
        problems.append("some communes have a parent that is not a Gia Lai district")
    for problem in problems:
        print(f"ERROR: {problem}", file=sys.stderr)
    return not problems


def write_csv(rows, out):
    """Write the rows as UTF-8 CSV (no BOM, \\n line endings)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help=f"CSV to write (default: {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    rows = load_rows()
    if not check(rows):
        return 1
    write_csv(rows, args.out)
    print(f"wrote {len(rows)} rows to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
