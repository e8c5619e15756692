"""Built-in submission error messages in Vietnamese and English (other languages fall back to vi)."""

MESSAGES = {
    "required": {"vi": "Câu hỏi này là bắt buộc", "en": "This question is required"},
    "constraint": {"vi": "Giá trị không hợp lệ", "en": "The value is not allowed"},
    "invalid_text": {"vi": "Câu trả lời phải là văn bản", "en": "The answer must be text"},
    "too_long": {"vi": "Câu trả lời quá dài", "en": "The answer is too long"},
    "invalid_integer": {"vi": "Câu trả lời phải là số nguyên", "en": "The answer must be a whole number"},
    "invalid_decimal": {"vi": "Câu trả lời phải là một số", "en": "The answer must be a number"},
    "out_of_range": {"vi": "Số quá lớn hoặc không hợp lệ", "en": "The number is too large or not valid"},
    "invalid_choice": {"vi": "Lựa chọn không có trong danh sách", "en": "The choice is not in the list"},
    "invalid_choices": {"vi": "Các lựa chọn phải là một danh sách", "en": "The choices must be a list"},
    "invalid_date": {"vi": "Ngày không hợp lệ (định dạng NNNN-TT-NN)", "en": "Not a valid date (YYYY-MM-DD)"},
    "invalid_geopoint": {"vi": "Tọa độ không hợp lệ (vĩ độ kinh độ)",
                         "en": "Not a valid location (latitude longitude)"},
    "unknown_field": {"vi": "Trường này không có trong biểu mẫu", "en": "This field is not in the form"},
    "invalid_submission": {"vi": "Dữ liệu gửi lên phải là một đối tượng JSON",
                           "en": "The submission must be a JSON object"},
    "evaluation_error": {"vi": "Không tính được biểu thức của câu hỏi này",
                         "en": "An expression of this question could not be evaluated"},
}


def pick(texts, lang):
    """The text for `lang` from a multilingual dict, falling back to vi, then to any text."""
    if not texts:
        return ""
    if not isinstance(lang, str):
        lang = "vi"
    return texts.get(lang) or texts.get("vi") or next(iter(texts.values()), "")


def message(code, lang="vi"):
    """A built-in message for an error code in `lang` (fallback vi)."""
    return pick(MESSAGES.get(code) or MESSAGES["constraint"], lang)
