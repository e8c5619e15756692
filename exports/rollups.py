"""Roll-ups: a unit's and its direct children's indicator percentages, fresh and O(units).

A percentage at any level is a ratio of sums over the households counted there (sum of
numerators / sum of denominators), never an average of village percentages: village A
9/10 and village B 45/90 give their commune 54/100 = 54%, not 70%.

The figures come only from the per-village sums ingest maintains in the same transaction
as each submission (`RollupSum`, `HouseholdCount`, see `sync.tally`), so a roll-up reads at
most one row per village and indicator and never scans submissions.

Rounds: `round=None` combines all rounds. A household counted in two rounds then counts
once in each (its two visits are two observations), so combined figures are sums over
the rounds, not a de-duplicated census.

Completeness: `expected_households` sums the expected counts of the villages (leaf units)
under a unit where known; `coverage` is households surveyed in those villages divided by
that sum, so villages without a known count neither inflate nor dilute it.
`villages_without_submissions` lists the leaf units under the unit (villages, or communes
whose villages are not loaded yet) with no household surveyed and no refusal in the round.
Small numbers: an indicator counted over fewer than `small_threshold` households is marked
`reliable: False` (its counts are still given); household-level indicators (counted over
households) carry a 95% Wilson score interval, in percent.
"""
import unicodedata

from pony.orm import db_session

from forms.i18n import N_, languages
from sync.errors import Invalid, NotFound
from sync.form_versions import latest_version
from sync.units import get_unit, unit_dict

from . import rollup_query as query
from .rollup_figures import IndicatorSpec, add_sums, indicator_figure, indicator_specs, labels

DEFAULT_FORM = "household_digital"
LANGUAGES = languages()  # every language of the catalogue


@db_session
def rounds(db, form_id=DEFAULT_FORM):
    """The rounds in which the form has data (households surveyed or refusals), in order."""
    return query.data_rounds(db, form_id)


@db_session
def rollup(db, unit_code, form_id=DEFAULT_FORM, round=None, lang="vi", small_threshold=5):
    """The roll-up of `unit_code` and of each direct child for one form and round (None: all rounds)."""
    unit = get_unit(db, unit_code)
    specs = form_indicators(db, form_id, lang)
    round_name = check_round(db, form_id, round)
    sums = query.indicator_sums(db, unit, form_id, round_name)
    villages = query.village_counts(db, unit, form_id, round_name)
    specs = specs + extra_indicators(specs, sums, lang)
    by_child, path = {}, unit.path
    for village in villages:
        by_child.setdefault(query.child_path(village.path, path), []).append(village)
    context = {"form_id": form_id, "round": round_name, "specs": specs, "small": small_threshold}
    result = unit_figures(unit, sums.values(), villages, context)
    result["children"] = [unit_figures(child, [sums.get(child.path, {})], by_child.get(child.path, []), context)
                          for child in sorted(unit.children, key=lambda child: child.code)]
    return result


def form_indicators(db, form_id, lang="vi"):
    """The indicators (labels, unit counted, targets) of the latest published version of the form."""
    if db.Form.get(form_id=form_id) is None:
        raise NotFound(N_("no form %(form)r"), form=form_id)
    version = latest_version(db, form_id)
    return indicator_specs(version.definition if version else {}, lang)


def extra_indicators(specs, sums, lang):
    """Indicators with data that the latest version no longer declares (kept, after the declared ones)."""
    declared = {spec.id for spec in specs}
    found = sorted({indicator for group in sums.values() for indicator in group} - declared)
    return [IndicatorSpec(id=indicator, label=labels(None, indicator, lang)) for indicator in found]


def check_round(db, form_id, round_name):
    """The round asked for, NFC-trimmed; Invalid unless it has data, is defined, or is a year."""
    if round_name is None or str(round_name).strip() == "":
        return None
    name = unicodedata.normalize("NFC", str(round_name)).strip()
    known = set(query.data_rounds(db, form_id)) | {r.name for r in db.SurveyRound.select()}
    if name in known or (len(name) == 4 and name.isdigit()):
        return name
    raise Invalid(f"no survey round {name!r}",
                  [{"field": "round", "code": "unknown_round",
                    "message": f"known rounds: {', '.join(sorted(known)) or 'none yet'}"}])


def unit_figures(unit, sum_groups, villages, context):
    """A unit's roll-up (without children) from its sum groups and village counts."""
    totals = {}
    for group in sum_groups:
        add_sums(totals, group)
    households = sum(v.households for v in villages)
    known = [v for v in villages if v.is_leaf and v.expected_households is not None]
    expected = sum(v.expected_households for v in known) if known else None
    surveyed_in_known = sum(v.households for v in known)
    return {
        "unit": unit_dict(unit), "form_id": context["form_id"], "round": context["round"],
        "households": households, "refusals": sum(v.refusals for v in villages),
        "expected_households": expected,
        "coverage": 100.0 * surveyed_in_known / expected if expected else None,
        "indicators": [indicator_figure(spec, totals.get(spec.id), context["small"])
                       for spec in context["specs"]],
        "villages_without_submissions": sorted(v.code for v in villages
                                               if v.is_leaf and not (v.households or v.refusals)),
    }
