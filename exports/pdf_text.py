"""Words and number formats of the reports, in Vietnamese (default) and English.

Numbers follow the reader's language: Vietnamese writes 54,3% and 12.345 (comma for
decimals, dot for thousands), English 54.3% and 12,345. Tests format the roll-up's numbers
with these same functions and look for the result in the PDF's text.
"""
LANGUAGES = ("vi", "en")

WORDS = {
    "vi": {
        "committee": "ỦY BAN NHÂN DÂN", "committee_short": "UBND",
        "nation": "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "motto": "Độc lập - Tự do - Hạnh phúc",
        "dated": "ngày {d:02d} tháng {m:02d} năm {y}",
        "title": "BÁO CÁO KẾT QUẢ KHẢO SÁT CHUYỂN ĐỔI SỐ HỘ GIA ĐÌNH",
        "subtitle": "Thực hiện Kế hoạch số 1331/KH-UBND ngày 22/6/2022 của UBND tỉnh Gia Lai",
        "round": "Đợt khảo sát", "all_rounds": "tất cả các đợt", "generated": "Ngày lập báo cáo",
        "unit": "Đơn vị", "households": "Số hộ đã khảo sát", "refusals": "Số hộ từ chối",
        "expected": "Số hộ dự kiến", "coverage": "Tỷ lệ bao phủ khảo sát",
        "unknown": "chưa rõ",
        "summary": "I. KẾT QUẢ CÁC CHỈ TIÊU SO VỚI MỤC TIÊU 2025 VÀ 2030",
        "levels": "II. KẾT QUẢ THEO ĐƠN VỊ TRỰC THUỘC ({level})",
        "charts": "III. BIỂU ĐỒ CÁC CHỈ TIÊU CHÍNH",
        "method": "IV. PHƯƠNG PHÁP TÍNH",
        "districts_pages": "KẾT QUẢ CHI TIẾT TỪNG ĐƠN VỊ",
        "no": "TT", "indicator": "Chỉ tiêu", "result": "Kết quả", "counts": "Tử số/Mẫu số",
        "target": "Mục tiêu {year}", "status": "Đánh giá", "gap": "Chênh lệch (điểm %)",
        "met": "Đạt", "not_met": "Chưa đạt", "no_data": "Chưa có số liệu",
        "hh": "Số hộ", "cov": "Bao phủ", "name": "Tên đơn vị", "total": "Toàn {unit}",
        "target_line": "Đường mục tiêu {year}: {value}", "no_children": "Không có đơn vị trực thuộc.",
        "small": "* Ít hơn {n} hộ: kết quả chưa đủ tin cậy.",
        "nodata_mark": "– Chưa có số liệu.",
        "no_submissions": "Thôn/làng chưa có phiếu khảo sát: {count}.",
        "page": "Trang {page}/{pages}",
        "footer": "Tỷ lệ = tổng tử số / tổng mẫu số của các hộ được đếm (tỷ lệ của tổng, không lấy "
                  "trung bình các tỷ lệ); mỗi hộ chỉ tính phiếu mới nhất trong đợt.",
        "method_text": [
            "Mỗi tỷ lệ ở cấp xã, huyện, tỉnh là tỷ lệ của tổng: tổng tử số chia tổng mẫu số trên "
            "tất cả các hộ được đếm trong đơn vị, không phải trung bình cộng tỷ lệ của các thôn.",
            "Mỗi hộ gia đình chỉ được tính một lần trong một đợt, theo phiếu khảo sát mới nhất "
            "được chấp nhận; phiếu cũ bị thay thế không được tính.",
            "Tỷ lệ bao phủ = số hộ đã khảo sát / số hộ dự kiến, chỉ tính ở các thôn đã biết số hộ dự kiến.",
            "Ô có dấu * dựa trên ít hơn {n} hộ nên chưa đủ tin cậy; dấu – là chưa có số liệu.",
        ],
    },
    "en": {
        "committee": "PEOPLE'S COMMITTEE", "committee_short": "PC",
        "nation": "SOCIALIST REPUBLIC OF VIET NAM", "motto": "Independence - Freedom - Happiness",
        "dated": "{y}-{m:02d}-{d:02d}",
        "title": "HOUSEHOLD DIGITAL TRANSFORMATION SURVEY REPORT",
        "subtitle": "Implementing Plan 1331/KH-UBND of 22 June 2022 of the Gia Lai People's Committee",
        "round": "Survey round", "all_rounds": "all rounds", "generated": "Generated on",
        "unit": "Unit", "households": "Households surveyed", "refusals": "Households refusing",
        "expected": "Households expected", "coverage": "Survey coverage", "unknown": "unknown",
        "summary": "I. INDICATORS AGAINST THE 2025 AND 2030 TARGETS",
        "levels": "II. RESULTS BY SUBORDINATE UNIT ({level})",
        "charts": "III. CHARTS OF THE CORE INDICATORS",
        "method": "IV. METHOD",
        "districts_pages": "DETAILED RESULTS BY UNIT",
        "no": "No.", "indicator": "Indicator", "result": "Result", "counts": "Numerator/Denominator",
        "target": "Target {year}", "status": "Status", "gap": "Gap (points)",
        "met": "Met", "not_met": "Not met", "no_data": "No data",
        "hh": "Households", "cov": "Coverage", "name": "Unit name", "total": "All of {unit}",
        "target_line": "Target line {year}: {value}", "no_children": "No subordinate units.",
        "small": "* Fewer than {n} households: not yet reliable.",
        "nodata_mark": "– No data.",
        "no_submissions": "Villages without any submission: {count}.",
        "page": "Page {page}/{pages}",
        "footer": "Percentage = sum of numerators / sum of denominators over the households counted "
                  "(a ratio of sums, not an average of percentages); latest submission per household.",
        "method_text": [
            "Every percentage at commune, district and province level is a ratio of sums: the sum of "
            "numerators over the sum of denominators of all households counted in the unit, never an "
            "average of village percentages.",
            "Each household counts once per round, by its latest accepted submission; superseded "
            "submissions are not counted.",
            "Survey coverage = households surveyed / households expected, over the villages whose "
            "expected count is known.",
            "Cells marked * rest on fewer than {n} households and are not yet reliable; – means no data.",
        ],
    },
}


def words(lang):
    """The report vocabulary for `lang` (Vietnamese when unknown)."""
    return WORDS.get(lang, WORDS["vi"])


def number(value, lang="vi", decimals=0):
    """A number with the language's thousands and decimal separators (None: "–")."""
    if value is None:
        return "–"
    text = f"{value:,.{decimals}f}"
    if lang == "vi":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


def percent(value, lang="vi"):
    """A percentage with one decimal ("54,3%"), or "–" for no data."""
    return "–" if value is None else number(value, lang, 1) + "%"


def count(value, lang="vi"):
    """A count of households or people; fractional sums keep one decimal."""
    if value is None:
        return "–"
    return number(value, lang, 0 if float(value).is_integer() else 1)


def ratio(numerator, denominator, lang="vi"):
    """"54/100" with the language's separators."""
    return f"{count(numerator, lang)}/{count(denominator, lang)}"


def gap(points, lang="vi"):
    """A signed gap in percentage points ("+4,0", "−12,5"), or "–"."""
    if points is None:
        return "–"
    sign = "+" if points >= 0 else "−"
    return sign + number(abs(points), lang, 1)


def target(op, value, lang="vi"):
    """A target as written in the plan: "≥ 80%" or "> 95%"."""
    if value is None:
        return "–"
    symbol = "≥" if op == ">=" else ">"
    return f"{symbol} {number(value, lang, 0 if float(value).is_integer() else 1)}%"


def status(name, lang="vi"):
    """"Đạt" / "Chưa đạt" / "Chưa có số liệu" (or English)."""
    return words(lang)[name]
