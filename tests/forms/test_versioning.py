"""Content hashes, breaking changes between versions and next_version."""
import copy
import unicodedata

import forms
from forms.versioning import next_version


def test_content_hash_is_canonical(small_doc):
    digest = forms.content_hash(small_doc)
    assert len(digest) == 64 and digest == forms.content_hash(copy.deepcopy(small_doc))
    reordered = dict(reversed(list(small_doc.items())))
    assert forms.content_hash(reordered) == digest
    decomposed = copy.deepcopy(small_doc)
    decomposed["title"]["vi"] = unicodedata.normalize("NFD", decomposed["title"]["vi"])
    assert forms.content_hash(decomposed) == digest
    changed = copy.deepcopy(small_doc)
    changed["questions"][1]["required"] = False
    assert forms.content_hash(changed) != digest


def test_no_changes_no_breaks(small_doc):
    assert forms.breaking_changes(small_doc, copy.deepcopy(small_doc)) == []


def test_breaking_changes_are_listed(small_doc):
    new = copy.deepcopy(small_doc)
    new["questions"][2]["type"] = "decimal"                      # age: integer -> decimal
    del new["questions"][3]                                       # height removed
    new["questions"][4]["children"].pop(1)                        # bought (nested) removed
    new["choices"]["devices"] = new["choices"]["devices"][:1]     # laptop and tv removed
    new["questions"].append({"name": "extra", "type": "text", "label": {"vi": "Thêm"}})  # additions are fine
    found = {(c["field"], c["code"]) for c in forms.breaking_changes(small_doc, new)}
    assert found == {("questions.age.type", "type_changed"), ("questions.height", "question_removed"),
                     ("questions.bought", "question_removed"), ("questions.which.choices.laptop", "choice_removed"),
                     ("questions.which.choices.tv", "choice_removed")}
    for change in forms.breaking_changes(small_doc, new):
        assert set(change) == {"field", "code", "message"}


def test_removed_choices_only_matter_when_used(small_doc):
    new = copy.deepcopy(small_doc)
    new["choices"]["devices"] = new["choices"]["devices"][:1]
    used = {"which": {"phone", "tv"}}
    changes = forms.breaking_changes(small_doc, new, used_values=used)
    assert [c["field"] for c in changes] == ["questions.which.choices.tv"]
    assert forms.breaking_changes(small_doc, new, used_values={}) == []


def test_switching_a_question_to_another_list(small_doc):
    new = copy.deepcopy(small_doc)
    new["questions"][4]["choices"] = "devices"
    found = [c["field"] for c in forms.breaking_changes(small_doc, new)]
    assert found == ["questions.owns.choices.yes", "questions.owns.choices.no"]


def test_breaking_changes_tolerate_junk():
    assert forms.breaking_changes(None, {"questions": "x"}) == []
    assert forms.breaking_changes({"questions": [{"name": "a", "type": "text"}, 3]}, {}) == [
        {"field": "questions.a", "code": "question_removed",
         "message": "question 'a' was removed — câu hỏi 'a' đã bị xóa"}]


def test_next_version():
    assert next_version([], year=2025) == "2025.1"
    assert next_version(["2025.1", "2025.10", "2025.2", "2024.7"], year=2025) == "2025.11"
    assert next_version(["2025.3"], year=2026) == "2026.1"
