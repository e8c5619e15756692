"""PDF reports rendered from roll-ups built by hand: text read back with pypdf equals the figures."""
import io
import re
import unicodedata
from datetime import date

from pypdf import PdfReader

from exports import fonts, pdf_text as text
from exports.pdf import render_report
from exports.rollup_figures import IndicatorSpec, indicator_figure, targets as parse_targets

from .support.pdf import pages_text, squash

DAY = date(2025, 11, 20)
INDICATORS = [  # id, Vietnamese label, English label, counted over, targets
    ("fibre_coverage", "Hộ gia đình được phủ mạng Internet băng rộng cáp quang",
     "Households covered by fibre broadband", "households",
     {"2025": {"op": ">=", "value": 80}, "2030": {"op": ">=", "value": 100}}),
    ("smartphone_adults", "Dân số trưởng thành có điện thoại thông minh", "Adults with a smartphone", "adults",
     {"2025": {"op": ">=", "value": 80}, "2030": {"op": ">=", "value": 95}}),
    ("bank_account_15plus", "Dân số từ 15 tuổi trở lên có tài khoản giao dịch thanh toán tại ngân hàng "
     "hoặc tổ chức được phép khác", "People aged 15+ with a payment account", "people_15plus",
     {"2025": {"op": ">=", "value": 80}, "2030": {"op": ">", "value": 95}}),
    ("digital_signature_adults", "Dân số trưởng thành có chữ ký số hoặc chữ ký điện tử cá nhân",
     "Adults with a digital signature", "adults",
     {"2025": {"op": ">", "value": 50}, "2030": {"op": ">", "value": 70}}),
    ("digital_skills_working_age", "Người dân trong độ tuổi lao động được đào tạo kỹ năng số cơ bản",
     "Working-age people with basic digital skills", "working_age",
     {"2025": {"op": ">", "value": 70}, "2030": {"op": ">", "value": 80}}),
    ("online_protected", "Người dân kết nối mạng được bảo vệ ở mức cơ bản", "Connected people protected",
     "people_online", {"2025": {"op": ">", "value": 70}, "2030": {"op": ">", "value": 80}}),
    ("online_public_services_adults", "Dân số trưởng thành có sử dụng dịch vụ công trực tuyến",
     "Adults using online public services", "adults",
     {"2025": {"op": ">", "value": 50}, "2030": {"op": ">", "value": 70}}),
    ("telehealth_adults", "Dân số trưởng thành dùng dịch vụ tư vấn sức khỏe trực tuyến, khám chữa bệnh từ xa",
     "Adults using telehealth", "adults", {"2025": {"op": ">", "value": 30}, "2030": {"op": ">", "value": 50}}),
    ("ehr_members", "Người dân có hồ sơ sức khỏe điện tử", "People with an electronic health record", "people",
     {"2025": {"op": ">=", "value": 90}, "2030": {"op": ">", "value": 95}}),
]
SPECS = [IndicatorSpec(id=i, label={"vi": vi, "en": en}, counted_over=over, targets=parse_targets(t))
         for i, vi, en, over, t in INDICATORS]
COMMUNE_NAMES = ["Xã Hòa Phú", "Thị trấn Phú Hòa", "Xã Ia Mơ Nông", "Xã Đăk Tơ Ver", "Xã Nghĩa Hưng",
                 "Xã Ia Ka", "Xã Chư Đăng Ya", "Xã Hà Tây", "Xã Ia Khươl", "Xã Ia Phí"]


def unit_rollup(code, name, level, sums, households, children=None, expected=None, round_name="2025"):
    """A roll-up dict shaped as exports.rollups.rollup returns it; sums = {indicator: (num, den)}."""
    figures = [indicator_figure(spec, (*sums[spec.id], households) if spec.id in sums else None, 5)
               for spec in SPECS]
    out = {"unit": {"code": code, "name": name, "level": level, "kind": "", "parent_code": None,
                    "expected_households": expected},
           "form_id": "household_digital", "round": round_name, "households": households, "refusals": 2,
           "expected_households": expected, "coverage": 100.0 * households / expected if expected else None,
           "indicators": figures, "villages_without_submissions": []}
    if children is not None:
        out["children"] = children
    return out


def district(communes=12, name="Huyện Chư Păh", code="627"):
    """A district roll-up with `communes` communes of varied sizes (some small, some without data)."""
    children, totals, households = [], {}, 0
    for index in range(communes):
        size = [0, 3, 40, 120, 250][index % 5]
        sums = {}
        if size:
            for position, spec in enumerate(SPECS):
                denominator = size * (1 + position % 3)
                sums[spec.id] = ((index * 7 + position * 13) % (denominator + 1), denominator)
                total = totals.setdefault(spec.id, [0, 0])
                total[0] += sums[spec.id][0]
                total[1] += sums[spec.id][1]
        households += size
        commune_name = f"{COMMUNE_NAMES[index % len(COMMUNE_NAMES)]} {index + 1}"
        children.append(unit_rollup(f"{code}{index:03d}", commune_name, "commune", sums, size, expected=300))
    return unit_rollup(code, name, "district", {k: tuple(v) for k, v in totals.items()}, households,
                       children, expected=300 * communes)


def render(rollup, lang="vi", **extra):
    """PDF bytes of a report on `rollup`."""
    return render_report(dict({"rollup": rollup, "parent_name": "Tỉnh Gia Lai"}, **extra), lang, DAY)


def nfd(value):
    """Decomposed Unicode, as some keyboards and old systems send it."""
    return unicodedata.normalize("NFD", value)


def test_the_report_shows_vietnamese_names_percentages_counts_and_target_statuses_of_the_rollup():
    rollup = district(8)
    body = squash("".join(pages_text(render(rollup))))
    assert squash("ỦY BAN NHÂN DÂN") in body and squash("HUYỆN CHƯ PĂH") in body
    assert squash("BÁO CÁO KẾT QUẢ KHẢO SÁT CHUYỂN ĐỔI SỐ HỘ GIA ĐÌNH") in body
    for child in rollup["children"]:
        assert squash(child["unit"]["name"]) in body
    for figure in rollup["indicators"]:
        assert squash(figure["label"]["vi"]) in body
        assert squash(text.percent(figure["percent"]) + text.ratio(figure["numerator"], figure["denominator"])) in body
        for target in figure["targets"]:
            row = text.target(target["op"], target["value"]) + text.status(target["status"]) + text.gap(target["gap"])
            assert squash(row) in body


def test_summary_statuses_read_back_in_indicator_order():
    rollup = district(6)
    first_page = pages_text(render(rollup))[0]
    statuses = re.findall(r"Chưa có số liệu|Chưa đạt|Đạt", first_page)
    expected = [text.status(t["status"]) for f in rollup["indicators"] for t in f["targets"]]
    assert statuses == expected


def test_small_numbers_are_marked_and_units_without_data_show_a_dash():
    rollup = district(5)
    small = rollup["children"][1]  # 3 households
    assert small["indicators"][0]["reliable"] is False
    body = squash("".join(pages_text(render(rollup))))
    assert squash(text.percent(small["indicators"][0]["percent"]) + "*") in body
    assert squash(text.words("vi")["small"].format(n=5)) in body


def test_decomposed_input_renders_exactly_as_composed_input():
    composed = district(4)
    decomposed = district(4, name=nfd("Huyện Chư Păh"))
    for child in decomposed["children"]:
        child["unit"]["name"] = nfd(child["unit"]["name"])
    for figure in decomposed["indicators"]:
        figure["label"] = {k: nfd(v) for k, v in figure["label"].items()}
    report = render(decomposed, parent_name=nfd("Tỉnh Gia Lai"))
    assert report == render(composed)
    assert "Huyện Chư Păh" in pages_text(report)[0]


def test_no_replacement_glyphs_and_the_font_is_embedded():
    report = render(district(10))
    body = "".join(pages_text(report))
    assert "\ufffd" not in body and "■" not in body and "�" not in body
    assert fonts.missing_glyphs(body) == []
    used, embedded = set(), set()
    for page in PdfReader(io.BytesIO(report)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            used.add(str(font["/BaseFont"]))
            descriptor = font.get("/FontDescriptor")
            if descriptor is not None and "/FontFile2" in descriptor.get_object():
                embedded.add(str(font["/BaseFont"]))
    assert used == embedded and all("SourceSansPro" in name for name in used)


def test_the_font_covers_every_vietnamese_letter():
    assert fonts.missing_glyphs(fonts.VIETNAMESE + fonts.VIETNAMESE.upper() + "≥–…") == []


def test_page_count_grows_with_communes_and_the_table_header_repeats():
    counts = [len(PdfReader(io.BytesIO(render(district(n)))).pages) for n in (3, 30, 60)]
    assert counts[0] < counts[1] < counts[2]
    pages = [squash(page) for page in pages_text(render(district(60)))]
    header = squash("Tên đơn vị")
    assert sum(header in page for page in pages) >= 3
    assert all(squash(f"Trang {n}/{len(pages)}") in page for n, page in enumerate(pages, start=1))


def test_long_unit_names_wrap_inside_their_cell():
    rollup = district(3)
    long_name = "Xã Ia Mơ Nông có một cái tên thật dài để thử việc xuống dòng trong ô của bảng"
    rollup["children"][0]["unit"]["name"] = long_name
    page_text = "".join(pages_text(render(rollup)))
    assert squash(long_name) in squash(page_text)
    assert not any(long_name in line for line in page_text.splitlines())  # it was broken over lines


def test_the_same_data_gives_byte_identical_pdfs_and_another_day_does_not():
    rollup = district(12)
    first = render(rollup)
    assert render(rollup) == first
    assert render_report({"rollup": rollup}, "vi", date(2025, 11, 21)) != first
    assert PdfReader(io.BytesIO(first)).metadata["/CreationDate"].startswith("D:20251120")


def test_english_on_request():
    body = squash("".join(pages_text(render(district(4), lang="en"))))
    assert squash("HOUSEHOLD DIGITAL TRANSFORMATION SURVEY REPORT") in body
    assert squash("Households covered by fibre broadband") in body
    assert squash("Page 1/") in body and "Trang" not in body


def test_the_footer_states_the_method_on_every_page():
    pages = pages_text(render(district(30)))
    assert all(squash("tỷ lệ của tổng") in squash(page) and squash("phiếu mới nhất") in squash(page)
               for page in pages)


def test_a_province_report_has_the_districts_table_then_a_page_per_district():
    districts = [district(3, name=f"Huyện Số {n}", code=f"6{n:02d}") for n in range(1, 5)]
    province = unit_rollup("64", "Tỉnh Gia Lai", "province", {}, 0, districts)
    report = render_report({"rollup": province, "parent_name": None, "sections": districts}, "vi", DAY)
    pages = pages_text(report)
    assert len(pages) >= 1 + len(districts)
    starts = [next(i for i, page in enumerate(pages) if page.lstrip().startswith(d["unit"]["name"]))
              for d in districts]
    assert starts == sorted(starts) and len(set(starts)) == len(districts)


def test_a_unit_without_any_data_says_no_data():
    empty = unit_rollup("627", "Huyện Chư Păh", "district", {}, 0, [], expected=None)
    body = squash("".join(pages_text(render(empty))))
    assert squash("Chưa có số liệu") in body and squash("chưa rõ") in body
