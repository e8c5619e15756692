"""Inputs that stall or break the server (issue 16, points 10-15): budgets, deep data, big numbers,
unit codes, spreadsheet headers and owner-only files.

Cases that would hang or fill the memory on a server without budgets are bounded: the catastrophic
regex runs on a real gunicorn with a client timeout, the memory-hungry ones under a lowered address
space limit (a MemoryError then fails the test instead of the machine).
"""
import contextlib
import io
import json
import os
import resource
import signal
import stat
import subprocess
import sys

import pytest
import requests
from pony.orm import db_session

from forms import compile_form
from sync.form_versions import create_form, publish
from sync.units import import_units

from .support.ingest import household, submission
from .support.world import World

CATASTROPHIC = "regex(., '^([a-z]+)+$')"
BOMB = ('a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
        + "".join(f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8))
        + "id: x\n")
MEMORY_HEADROOM = 768 * 1024 * 1024


@contextlib.contextmanager
def memory_bounded(headroom=MEMORY_HEADROOM):
    """Lower this process's address-space limit to what it uses now plus `headroom`, then restore it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    with open("/proc/self/statm") as handle:
        used = int(handle.read().split()[0]) * resource.getpagesize()
    resource.setrlimit(resource.RLIMIT_AS, (used + headroom, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


@contextlib.contextmanager
def hang_guard(seconds=60):
    """Fail (instead of hanging) when the block runs past `seconds`: a guard, never a timing assertion."""
    def expired(signum, frame):
        raise TimeoutError(f"still running after {seconds} s: no budget stopped it")
    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def small_form(form_id, questions, version="1"):
    return {"id": form_id, "version": version, "title": {"vi": "Thử", "en": "Test"}, "questions": questions}


def publish_form(store, doc):
    with db_session:
        create_form(store, doc)
    publish(store, doc["id"], "admin")


def batch_item(form_id, answers, **fields):
    return submission(answers=answers, form_id=form_id, form_version="1", **fields)


@pytest.fixture
def world(app, store):
    from server.security import limiter
    limiter.enabled = False
    yield World(store, app.test_client())
    limiter.enabled = True


def post_batch(world, items, role="collector_in"):
    answer = world.client.post("/api/v1/submissions/batch", json={"submissions": items},
                               headers=world.headers(role))
    assert answer.status_code == 200, (answer.status_code, answer.data[:300])
    return answer.get_json()["results"]


# -- point 10: expressions and form definitions have budgets ------------------------------------------

def test_a_catastrophic_regex_is_answered_at_once_and_the_server_keeps_serving(store, villages, live_server, token_for):
    """On Python's backtracking engine 41 letters and a '!' took minutes: both workers died at 30 s."""
    publish_form(store, small_form("regex_form", [{"name": "word", "type": "text", "label": "Từ",
                                                   "constraint": CATASTROPHIC}]))
    headers = token_for("collector_phuhoa")
    items = [batch_item("regex_form", {"word": "a" * 41 + "!"}), batch_item("regex_form", {"word": "abc"})]
    answer = requests.post(f"{live_server}/api/v1/submissions/batch", json={"submissions": items},
                           headers=headers, timeout=15)
    results = answer.json()["results"]
    assert [r["status"] for r in results] == ["rejected", "accepted"], results
    assert results[0]["errors"][0]["code"] == "constraint"
    assert requests.get(f"{live_server}/api/v1/health", timeout=15).status_code == 200


def test_regex_is_a_full_match_where_dollar_is_the_end_of_the_text():
    from forms import evaluate
    assert evaluate("regex('0912345678', '^0[0-9]{9}$')") is True
    assert evaluate("regex('0912345678\n', '^0[0-9]{9}$')") is False  # as on the phone (issue 17)
    assert evaluate("regex('x0912345678', '0[0-9]{9}')") is False


def test_catastrophic_regex_evaluates_in_a_bounded_subprocess():
    code = ("from forms import evaluate; "
            f"print(evaluate({CATASTROPHIC!r}.replace('.', '${{w}}'), {{'w': 'a' * 41 + '!'}}))")
    try:
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=20)
    except subprocess.TimeoutExpired:
        pytest.fail("regex() backtracked for more than 20 s")
    assert done.stdout.strip() == "False", done.stderr


@pytest.mark.parametrize("pattern", [r"^(a+)\1$", "^(?=a)a$", "^(?<!b)a$"])
def test_a_regex_rre2_cannot_run_is_refused_when_the_form_is_checked(world, pattern):
    doc = small_form("bad_regex", [{"name": "word", "type": "text", "label": "Từ",
                                    "constraint": f"regex(., '{pattern}')"}])
    answer = world.client.post("/api/v1/forms", json=doc, headers=world.headers("admin"))
    assert answer.status_code == 422, answer.get_json()
    text = json.dumps(answer.get_json(), ensure_ascii=False)
    assert "expression_syntax" in text and "backreferences and lookarounds are not supported" in text


def doubling_form(levels=40):
    questions = [{"name": "word", "type": "text", "label": "Từ"},
                 {"name": "c1", "type": "calculate", "calculation": "concat(${word}, ${word})"}]
    questions += [{"name": f"c{n}", "type": "calculate", "calculation": f"concat(${{c{n - 1}}}, ${{c{n - 1}}})"}
                  for n in range(2, levels + 1)]
    return small_form("doubling", questions)


def test_calculations_that_double_a_string_reject_their_item_and_the_batch_proceeds(world):
    publish_form(world.store, doubling_form())
    items = [batch_item("doubling", {"word": "x" * 1000}), submission(household_key="hh-fine")]
    with memory_bounded(), hang_guard():
        results = post_batch(world, items)
    assert [r["status"] for r in results] == ["rejected", "accepted"], results
    assert {e["code"] for e in results[0]["errors"]} == {"evaluation_error"}


def test_memory_error_during_validation_is_an_evaluation_error_on_the_field():
    form = compile_form(doubling_form(60))
    with memory_bounded(256 * 1024 * 1024), hang_guard():
        result = form.validate({"word": "x" * 10})
    assert not result.ok and {e["code"] for e in result.errors} == {"evaluation_error"}


def test_a_yaml_alias_bomb_is_refused_by_the_reader():
    from forms import yamltext
    assert len(BOMB) < 600
    with pytest.raises(yamltext.YamlBudgetError):
        yamltext.load(BOMB)
    with pytest.raises(yamltext.YamlBudgetError):
        yamltext.load("a: &a [1, *a]\n")
    assert yamltext.load("a: &x [1, 2]\nb: *x\n") == {"a": [1, 2], "b": [1, 2]}


@pytest.mark.parametrize("action", ["validate", "save", "publish"])
def test_a_yaml_alias_bomb_pasted_in_the_form_editor_is_refused(world, action):
    form_id = world.new_form()
    with memory_bounded(), hang_guard():
        answer = world.client.post(f"/forms/{form_id}/draft", data={"text": BOMB, "format": "yaml", "action": action},
                                   headers=world.headers("admin"))
    assert answer.status_code == 422, answer.data[:300]
    assert b"aliases are expanded" in answer.data


def xlsx_bytes(survey_rows, label="Câu hỏi"):
    from openpyxl import Workbook
    workbook = Workbook()
    survey = workbook.active
    survey.title = "survey"
    survey.append(["type", "name", "label"])
    for number in range(survey_rows):
        survey.append(["text", f"q{number}", label])
    settings = workbook.create_sheet("settings")
    settings.append(["form_id", "version"])
    settings.append(["big", "1"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("case", ["too_many_rows", "huge_cell"])
def test_an_xlsform_past_its_budget_is_refused_with_too_large(world, case):
    content = xlsx_bytes(6000) if case == "too_many_rows" else xlsx_bytes(1, label="x" * 20000)
    answer = world.client.post("/api/v1/forms/import", content_type="multipart/form-data",
                               headers=world.headers("admin"),
                               data={"file": (io.BytesIO(content), "form.xlsx", "application/octet-stream")})
    assert answer.status_code == 422, answer.data[:300]
    assert [e["code"] for e in answer.get_json()["errors"]] == ["too_large"]


def test_an_xlsx_zip_bomb_is_refused_before_it_is_unpacked(world):
    import zipfile
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"<a>" + b" " * (64 * 1024 * 1024) + b"</a>")
    answer = world.client.post("/api/v1/forms/import", content_type="multipart/form-data",
                               headers=world.headers("admin"),
                               data={"file": (io.BytesIO(buffer.getvalue()), "form.xlsx", "application/octet-stream")})
    assert answer.status_code == 422 and answer.get_json()["errors"][0]["code"] == "too_large", answer.data[:300]


# -- point 11: stored data never breaks a page ---------------------------------------------------------

DEEP_JSON = "[" * 950 + '"x"' + "]" * 950  # orjson reads it; the json module cannot write it back


def test_answers_nested_950_deep_are_rejected_as_too_deep_and_others_proceed(world):
    items = [submission(household_key="hh-deep", answers=household(head_name="__DEEP__")),
             submission(household_key="hh-next")]
    body = json.dumps({"submissions": items}).replace('"__DEEP__"', DEEP_JSON)
    answer = world.client.post("/api/v1/submissions/batch", data=body, content_type="application/json",
                               headers=world.headers("collector_in"))
    assert answer.status_code == 200, answer.data[:300]
    results = answer.get_json()["results"]
    assert [r["status"] for r in results] == ["rejected", "accepted"], results
    assert results[0]["errors"] == [{"field": "answers", "code": "too_deep",
                                     "message": results[0]["errors"][0]["message"]}]


@pytest.mark.parametrize("role", ["admin", "staff_in"])
def test_a_stored_record_nested_950_deep_never_breaks_the_quarantine_pages(world, role):
    item = submission(household_key="hh-deep", answers=household(adults_smartphone=5))
    post_batch(world, [item])
    deep_raw = json.dumps(dict(item, answers=household(head_name="__DEEP__"))).replace('"__DEEP__"', DEEP_JSON)
    with db_session:  # as a server without the nesting bound stored it
        row = world.store.Submission.get(instance_id=item["instance_id"])
        row_id = row.id
    _store_raw(world.store, row_id, deep_raw)
    listing = world.client.get("/submissions", headers=world.headers(role))
    assert listing.status_code == 200, listing.data[:300]
    detail = world.client.get(f"/submissions/{row_id}", headers=world.headers(role))
    assert detail.status_code == 200, detail.data[:300]
    api = world.client.get("/api/v1/submissions/quarantine", headers=world.headers(role))
    assert api.status_code == 200, api.data[:300]


def _store_raw(store, row_id, raw):
    with db_session:
        store.execute("UPDATE submission SET raw = $text WHERE id = $row_id",
                      {"text": raw, "row_id": row_id})


# -- point 12: big numbers give 400, never 500 -----------------------------------------------------------

BIG = "9223372036854775807"


@pytest.mark.parametrize("url, statuses", [
    (f"/audit?page={BIG}", (400,)),
    ("/audit?page=99999999999999999999", (400,)),
    (f"/api/v1/submissions/quarantine?page={BIG}", (400, 422)),
    ("/submissions/99999999999999999999", (400,)),
    ("/submissions/9223372036854775808", (400,)),
    ("/submissions/99999999999999999999/decide", (400,)),
    ("/users/99999999999999999999/active", (400,)),
    ("/api/v1/sync/manifest?since=9999999999999999999.0123456789ab", (400, 422)),
])
def test_a_big_number_in_a_path_or_query_is_a_4xx_never_a_500(world, url, statuses):
    method = "POST" if url.endswith(("/decide", "/active")) else "GET"
    answer = world.client.open(url, method=method, headers=world.headers("admin"))
    assert answer.status_code in statuses, (answer.status_code, answer.data[:300])


# -- point 13: unit codes are validated at import -----------------------------------------------------------

@pytest.mark.parametrize("code, parent, problem", [
    ("23722/01", "23722", "invalid_code"),
    ("2357201/", "23572", "invalid_code"),
    ("23722 01", "23722", "invalid_code"),
    ("../23722", "23722", "invalid_code"),
    ("2" * 40, "23722", "invalid_code"),
    ("2357299", "23722", "code_not_under_parent"),
    ("23722", "23722", "code_not_under_parent"),
    ("2372299", "23722/", "invalid_code"),
])
def test_a_bad_unit_code_is_refused_at_import_and_nothing_is_imported(store, code, parent, problem):
    from sync.errors import UnitImportError
    with db_session:
        before = store.Unit.select().count()
    with pytest.raises(UnitImportError) as refused:
        import_units(store, f"code,name,level,parent_code\n{code},Làng,village,{parent}\n")
    assert problem in {e["code"] for e in refused.value.errors}
    with db_session:
        assert store.Unit.select().count() == before


def test_village_codes_built_from_their_commune_are_imported(store):
    import_units(store, "code,name,level,parent_code\n2372299,Làng A,village,23722\n23722-98,Làng B,village,23722\n")
    with db_session:
        assert store.Unit.get(code="23722-98").path.endswith("/23722/23722-98/")


# -- point 14: header rows are spreadsheet-safe -------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_label_that_starts_like_a_formula_is_text_in_the_header_row(store, fmt):
    from exports.tabular import csv_chunks, xlsx_chunks
    header = ["=HYPERLINK(\"http://x\",\"y\")", "+1+2", "@SUM(A1)", "-5", "members"]
    chunks = (csv_chunks if fmt == "csv" else xlsx_chunks)(header, iter([["=1+1", 1, 2, 3, 4]]))
    data = b"".join(chunks)
    if fmt == "csv":
        first = data.decode("utf-8-sig").splitlines()[0]
        assert first.startswith("\"'=HYPERLINK") and ",'+1+2,'@SUM(A1),-5,members" in first
    else:
        from openpyxl import load_workbook
        sheet = load_workbook(io.BytesIO(data)).active
        cells = list(next(sheet.iter_rows(min_row=1, max_row=1)))
        assert cells[0].data_type == "s" and cells[0].value.startswith("=HYPERLINK")


def test_a_formula_label_is_text_in_a_real_export(world):
    with db_session:
        form = world.store.Form.get(form_id="household_digital")
        version = form.versions.select().first()
        definition = json.loads(json.dumps(version.definition))
        definition["questions"][0]["label"] = {"vi": "=cmd|' /C calc'!A0", "en": "=cmd|' /C calc'!A0"}
        version.definition = definition
    answer = world.client.get("/api/v1/exports/627.csv?headers=labels&lang=vi", headers=world.headers("admin"))
    assert answer.status_code == 200 and b"=cmd" in answer.data, answer.data[:300]
    header = answer.data.decode("utf-8-sig").splitlines()[0]
    assert "'=cmd" in header and not header.startswith("=") and ",=cmd" not in header


# -- point 15: files with secrets are owner-only ---------------------------------------------------------------

def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_backup_file_is_owner_only(app, runner, tmp_path):
    old = os.umask(0o022)
    try:
        out = tmp_path / "langso.backup"
        result = runner.invoke(["backup", str(out)])
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.output
    assert mode(out) == 0o600


def test_the_sqlite_database_its_wal_and_the_secret_key_are_owner_only(tmp_path):
    from server import create_app
    from sync.store import DatabaseUrl
    instance = tmp_path / "instance"
    old = os.umask(0o022)
    try:
        app = create_app({"TESTING": True, "INSTANCE_PATH": str(instance)})
        store = app.extensions["langso_db"]
        with db_session:
            store.execute("CREATE TABLE IF NOT EXISTS probe (x INTEGER)")
    finally:
        os.umask(old)
    database = DatabaseUrl.parse(app.config["DATABASE_URL"]).params.get("filename")
    if database is None:
        pytest.skip("the app runs on PostgreSQL here")
    for path in (database, database + "-wal", database + "-shm", str(instance / "secret_key")):
        if os.path.exists(path):
            assert mode(path) == 0o600, path
    assert mode(database) == 0o600
    assert mode(instance) == 0o700
    store.disconnect()
