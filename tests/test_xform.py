"""XForm export: our rendering of a form matches pyxform's XForm of the same form as an XLSForm.

pyxform (the reference ODK tool) converts an XLSForm made from our definition; the
instance tree, binds, body controls, choice instances and vi/en texts of both XForms must
agree, apart from what langso adds (the `langso` village/household group and meta fields).
"""
import re
import xml.etree.ElementTree as ET

import pytest
from pyxform.xls2xform import convert

import forms
from forms.xform import XFormError, render_xform, to_xpath, xform_hash

from .fixtures.xlsforms.surveys import definition_sheets, write_xlsx

XF, H, JR = "{http://www.w3.org/2002/xforms}", "{http://www.w3.org/1999/xhtml}", "{http://openrosa.org/javarosa}"
OURS_ONLY = ("/data/langso", "/data/meta")
PATHS = {"a": "/data/a", "b": "/data/g/b", "c": "/data/c"}


def model(root):
    return root.find(f"{H}head/{XF}model")


def instance_tree(node):
    """(tag, children) of an instance node, without namespaces, skipping meta and langso."""
    return (node.tag.replace(XF, ""), [instance_tree(c) for c in node
                                       if c.tag.replace(XF, "") not in ("meta", "langso")])


def binds(root):
    """{nodeset: attributes} with whitespace removed from values, outside langso and meta."""
    found = {}
    for bind in model(root).findall(f"{XF}bind"):
        nodeset = bind.get("nodeset")
        if not nodeset.startswith(OURS_ONLY):
            found[nodeset] = {k: re.sub(r"\s+", "", v) for k, v in bind.attrib.items() if k != "nodeset"}
    return found


def controls(root):
    """(control, ref) of every body element with a ref, in order, outside the langso group."""
    return [(node.tag.replace(XF, ""), node.get("ref")) for node in root.find(f"{H}body").iter()
            if node.get("ref", "").startswith("/data/") and not node.get("ref").startswith(OURS_ONLY)]


def texts(root):
    """{(language, text id): value} of every itext text pyxform filled in ("-" means missing)."""
    found = {}
    for translation in model(root).find(f"{XF}itext"):
        for text in translation:
            if not text.get("id").startswith("/data/langso"):
                found[(translation.get("lang"), text.get("id"))] = text.find(f"{XF}value").text
    return found


def choice_instances(root):
    """{list name: [(itextId, name)]} of the secondary instances, except langso's villages."""
    found = {}
    for instance in model(root).findall(f"{XF}instance"):
        if instance.get("id") and instance.get("id") != "langso-villages":
            found[instance.get("id")] = [(i.findtext(f"{XF}itextId"), i.findtext(f"{XF}name"))
                                         for i in instance.iter(f"{XF}item")]
    return found


@pytest.fixture
def both(tmp_path):
    """(our XForm, pyxform's XForm) of the default household form, parsed."""
    doc = forms.household_digital()
    path = write_xlsx(tmp_path / "household_digital.xlsx", definition_sheets(doc))
    reference = convert(xlsform=str(path), form_name="data").xform
    return ET.fromstring(render_xform(doc, [("2372201", "Làng Ia Ly (Phú Hòa)")]).encode()), ET.fromstring(reference)


def test_the_instance_tree_matches_pyxforms(both):
    ours, reference = both
    primary = [model(r).find(f"{XF}instance")[0] for r in both]
    assert instance_tree(primary[0]) == instance_tree(primary[1])
    assert primary[0].get("id") == primary[1].get("id") == "household_digital"
    assert primary[0].get("version") == primary[1].get("version") == "2025.1"


def test_binds_have_the_same_types_relevance_requirements_constraints_and_messages(both):
    ours, reference = binds(both[0]), binds(both[1])
    assert ours == reference
    assert ours["/data/core/fibre_subscribed"]["relevant"] == "/data/core/fibre_available='yes'"
    assert ours["/data/core/members_15plus"]["constraint"] == ".>=0and.<=/data/core/members"


def test_body_controls_and_choice_instances_match_pyxforms(both):
    assert controls(both[0]) == controls(both[1])
    assert choice_instances(both[0]) == choice_instances(both[1]) == {
        "yes_no": [("yes_no-0", "yes"), ("yes_no-1", "no")]}


def test_vietnamese_and_english_texts_match_pyxforms(both):
    ours, reference = texts(both[0]), texts(both[1])
    assert {key for key, value in reference.items() if value != "-"} <= set(ours)
    assert all(ours[key] == value for key, value in reference.items() if value != "-")
    assert ours[("English (en)", "/data/core/members:label")] == "Total number of household members"
    default = model(both[0]).find(f"{XF}itext/{XF}translation[@default='true()']")
    assert default.get("lang") == "Tiếng Việt (vi)"


def test_meta_instance_id_start_end_and_the_village_select_are_added(both):
    ours = both[0]
    binds_by_node = {b.get("nodeset"): b.attrib for b in model(ours).findall(f"{XF}bind")}
    assert binds_by_node["/data/meta/instanceID"][f"{JR}preload"] == "uid"
    assert binds_by_node["/data/langso/start"][f"{JR}preloadParams"] == "start"
    assert binds_by_node["/data/langso/end"][f"{JR}preloadParams"] == "end"
    assert binds_by_node["/data/langso/village_code"]["required"] == "true()"
    primary = model(ours).find(f"{XF}instance")[0]
    assert primary.get("{http://openrosa.org/xforms}version") == "2025.1"
    assert [c.tag.replace(XF, "") for c in primary.find(f"{XF}meta")] == ["instanceID", "instanceName", "deprecatedID"]
    village = ours.find(f"{H}body/{XF}group/{XF}select1")
    assert village.get("ref") == "/data/langso/village_code"
    items = model(ours).find(f"{XF}instance[@id='langso-villages']/{XF}root")
    assert [(i.findtext(f"{XF}name"), i.findtext(f"{XF}label")) for i in items] == [
        ("2372201", "Làng Ia Ly (Phú Hòa)")]


def test_a_long_village_list_gets_a_search_box():
    villages = [(str(2372200 + n), f"Thôn {n}") for n in range(40)]
    root = ET.fromstring(render_xform(forms.household_digital(), villages).encode())
    assert root.find(f"{H}body/{XF}group/{XF}select1").get("appearance") == "autocomplete"


def test_the_hash_changes_with_the_villages_and_is_md5_of_the_bytes():
    one = render_xform(forms.household_digital(), [("1", "A")])
    assert xform_hash(one) == xform_hash(render_xform(forms.household_digital(), [("1", "A")]))
    assert xform_hash(one) != xform_hash(render_xform(forms.household_digital(), [("2", "B")]))
    assert re.fullmatch(r"md5:[0-9a-f]{32}", xform_hash(one))


@pytest.mark.parametrize("expression, xpath", [
    ("${a} = 'yes'", "/data/a = 'yes'"),
    (". >= 0 and . <= ${b}", ". >= 0 and . <= /data/g/b"),
    ("selected(${c}, 'x') or count-selected(${c}) > 2", "selected(/data/c, 'x') or count-selected(/data/c) > 2"),
    ("if(${a} = 'yes', 1, 0)", "if(/data/a = 'yes', 1, 0)"),
    ("coalesce(${a}, concat(${b}, \"it's\"))", "coalesce(/data/a, concat(/data/g/b, \"it's\"))"),
    ("(${a} + 1) * 2", "(/data/a + 1) * 2"),
    ("${a} - (${b} - 1)", "/data/a - (/data/g/b - 1)"),
    ("-(${a} + 0.5) div 2 mod 3", "-(/data/a + 0.5) div 2 mod 3"),
    ("not(${a} = 'no') and (${b} > 1 or ${c} < 2)", "not(/data/a = 'no') and (/data/g/b > 1 or /data/c < 2)"),
    ("regex(., '^[0-9]{10}$') and string-length(.) = 10", "regex(., '^[0-9]{10}$') and string-length(.) = 10"),
    ("round(int(${a}) div 3, 2) >= today()", "round(int(/data/a) div 3, 2) >= today()"),
])
def test_expressions_are_translated_to_instance_paths(expression, xpath):
    assert to_xpath(expression, PATHS) == xpath


def test_translated_expressions_evaluate_like_the_originals():
    """Parenthesisation is kept where it matters: both texts give the same value in our evaluator."""
    for expression in ("(${a} + 1) * 2", "${a} - (${b} - 1)", "${a} - ${b} - 1", "-(${a} + 1)", "${a} div (${b} * 2)"):
        back = to_xpath(expression, PATHS)
        for path, name in (("/data/g/b", "${b}"), ("/data/a", "${a}"), ("/data/c", "${c}")):
            back = back.replace(path, name)
        env = {"a": 7, "b": 3}
        assert forms.evaluate(back, env) == forms.evaluate(expression, env)


def test_a_question_named_like_a_reserved_xform_node_is_refused_clearly():
    doc = forms.household_digital()
    doc["questions"][0]["name"] = "langso"
    doc["consent_field"] = "langso"
    for question in doc["questions"][1:]:
        question["relevant"] = "${langso} = 'yes'"
    with pytest.raises(XFormError, match="reserved"):
        render_xform(doc)
