"""One error root, one table of codes: every domain error has an errno, an HTTP status and a message in
every language; messages are rendered in the reader's language."""
import importlib
import pkgutil

import pytest

import exports
import forms
import server
import sync
from forms import i18n
from forms.errors import LangsoError, domain_errors
from server.errors import ERRORS


def import_everything():
    """Load every module of the product, so that every error class is defined."""
    for package in (forms, sync, exports, server):
        for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            importlib.import_module(module.name)


def test_every_domain_error_code_has_an_errno_a_status_and_a_message():
    import_everything()
    classes = domain_errors()
    assert len(classes) > 15
    missing = sorted({cls.code for cls in classes} - set(ERRORS))
    assert missing == [], "add these codes to server/errors.py's ERRORS"
    for cls in classes:
        assert cls.msgid, cls


def test_every_code_in_the_table_has_an_errno_a_status_and_a_translated_message():
    errnos = [entry.errno for entry in ERRORS.values()]
    assert len(errnos) == len(set(errnos))
    for code, entry in ERRORS.items():
        assert isinstance(entry.errno, int) and 100 <= entry.status < 600 and entry.message, code
        for lang in i18n.languages():
            assert i18n.catalogue(lang)._catalog.get(entry.message), (code, lang)


RELEASED = {"bad_request": 100, "invalid": 101, "malformed_json": 102, "unauthorized": 110,
            "bad_credentials": 111, "account_locked": 112, "forbidden": 121, "csrf_failed": 122,
            "not_found": 130, "method_not_allowed": 131, "conflict": 140, "precondition_failed": 141,
            "breaking_change": 142, "concurrent_change": 143, "too_large": 150, "unsupported_media_type": 151,
            "too_many_requests": 160, "unit_import_failed": 170, "schema_out_of_date": 990,
            "storage_failed": 991, "server_error": 999}


def test_released_errnos_never_change():
    assert {code: ERRORS[code].errno for code in RELEASED} == RELEASED


def test_a_domain_error_renders_in_each_language_and_reads_english_in_logs():
    from sync.accounts import MIN_PASSWORD_LENGTH, AccountError
    error = AccountError(i18n.N_("password must have at least %(n)s characters"), n=MIN_PASSWORD_LENGTH)
    assert error.message == str(error) == f"password must have at least {MIN_PASSWORD_LENGTH} characters"
    assert error.render("vi") == f"mật khẩu phải có ít nhất {MIN_PASSWORD_LENGTH} ký tự"
    assert error.render("jra") == error.render("vi")  # a language without a catalogue reads Vietnamese
    assert isinstance(error, LangsoError) and error.code in ERRORS


def test_form_errors_are_domain_errors_with_fields():
    from forms.errors import DefinitionError, FormError
    assert issubclass(FormError, LangsoError)
    with pytest.raises(DefinitionError) as caught:
        forms.load_form({"id": 1})
    assert all("field" in e and "path" not in e for e in caught.value.errors)
    assert caught.value.render("vi").startswith("định nghĩa biểu mẫu có")


def test_the_cli_speaks_english_unless_the_environment_asks_otherwise():
    assert i18n.environment_language({}) == "en"
    assert i18n.environment_language({"LANG": "C.UTF-8"}) == "en"
    assert i18n.environment_language({"LANG": "vi_VN.UTF-8"}) == "vi"
    assert i18n.environment_language({"LANGSO_LANG": "en", "LANG": "vi_VN.UTF-8"}) == "en"


VI = {"Accept-Language": "vi"}


def test_an_api_error_answers_in_the_readers_language(client):
    vi = client.get("/api/v1/me", headers=VI).get_json()
    en = client.get("/api/v1/me", headers={"Accept-Language": "en"}).get_json()
    assert vi["code"] == en["code"] == "unauthorized"
    assert vi["message"] == i18n.translate(en["message"], "vi") != en["message"]
    assert client.get("/api/v1/me").get_json()["message"] == vi["message"]  # Vietnamese by default


def test_a_domain_error_answers_in_the_readers_language(client, token_for):
    headers = token_for("admin")
    vi = client.get("/api/v1/units/99999", headers={**headers, **VI}).get_json()
    en = client.get("/api/v1/units/99999?lang=en", headers=headers).get_json()
    assert (vi["code"], en["code"]) == ("not_found", "not_found")
    assert en["message"] == "no unit with code 99999" and vi["message"] == "không có đơn vị mã 99999"


def test_an_odk_reply_is_vietnamese_for_a_vietnamese_phone(client):
    answer = client.get("/odk/formList", headers=VI)
    assert answer.status_code == 401
    assert i18n.translate("sign in with your langso username and password", "vi") in answer.get_data(as_text=True)


def test_a_scope_error_names_the_unit_in_the_readers_language(client, token_for):
    headers = token_for("staff_chupah")
    vi = client.get("/api/v1/rollups/622", headers={**headers, **VI})
    en = client.get("/api/v1/rollups/622", headers={**headers, "Accept-Language": "en"})
    assert vi.status_code == en.status_code == 403
    assert vi.get_json()["message"] == "Đơn vị 622 nằm ngoài phạm vi của bạn"
    assert en.get_json()["message"] == "unit 622 is outside your scope"


def test_every_language_of_the_catalogue_is_accepted_where_a_language_is_chosen():
    from exports.rollups import LANGUAGES
    from forms.i18n import languages
    from server.api import openrosa, submissions
    assert LANGUAGES == submissions.LANGS == openrosa.LANGS == languages()
