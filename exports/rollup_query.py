"""The two SQL reads behind a roll-up, both O(units): never a scan of submissions.

Roll-ups read the per-village sums that ingest keeps (`rollup_sum`, `household_count`).
A unit's villages are the units whose materialised path starts with the unit's path;
the sums are grouped in SQL by the direct child of the unit they fall under (the child's
path is the village path cut after the next "/"), so a province roll-up returns about
one row per district and indicator, however many households were surveyed.
"""
from dataclasses import dataclass

from sync.dialect import dialect_of


@dataclass
class VillageCount:
    """One village (a leaf unit, or any unit holding counts) with its households in the round."""
    code: str
    path: str
    expected_households: int | None
    households: int
    refusals: int
    is_leaf: bool


def child_path(path, parent_path):
    """The path of the direct child of `parent_path` that `path` lies in (the parent's own path for itself)."""
    rest = path[len(parent_path):]
    return parent_path + rest[:rest.find("/") + 1] if rest else parent_path


def _round_filter(alias, round_name, params):
    """SQL restricting `alias` to one round (nothing when all rounds are combined)."""
    if round_name is None:
        return ""
    params["round_name"] = round_name
    return f' AND {alias}."round" = $round_name'


def indicator_sums(db, unit, form_id, round_name=None):
    """{child path: {indicator: [numerator, denominator, households]}} under `unit` (one SQL aggregate).

    The child path is computed once per village in a subquery that SQLite must not flatten
    (LIMIT -1), not once per indicator row: that halves the province roll-up's time.
    """
    params = {"prefix": unit.path, "n": len(unit.path), "form_id": form_id}
    dialect = dialect_of(db)
    find, keep = dialect.find_slash, dialect.keep_subquery
    sql = f"""
        SELECT v.child, r.indicator, SUM(r.numerator), SUM(r.denominator), SUM(r.households)
        FROM (SELECT id, substr(path, 1, $n + {find}(substr(path, $n + 1), '/')) AS child
              FROM unit WHERE substr(path, 1, $n) = $prefix{keep}) v
             JOIN rollup_sum r ON r.village = v.id
        WHERE r.form_id = $form_id{_round_filter("r", round_name, params)}
        GROUP BY v.child, r.indicator"""
    sums = {}
    for child, indicator, numerator, denominator, households in db.select(sql.strip(), params):
        sums.setdefault(child, {})[indicator] = [float(numerator or 0), float(denominator or 0),
                                                 int(households or 0)]
    return sums


def village_counts(db, unit, form_id, round_name=None):
    """Every village under `unit` (leaf units, plus any unit holding counts) with households and refusals."""
    params = {"prefix": unit.path, "n": len(unit.path), "form_id": form_id}
    sql = f"""
        SELECT v.code, v.path, v.expected_households,
               COALESCE(SUM(h.households), 0), COALESCE(SUM(h.refusals), 0),
               CASE WHEN EXISTS (SELECT 1 FROM unit c WHERE c.parent = v.id) THEN 0 ELSE 1 END
        FROM unit v LEFT JOIN household_count h
             ON h.village = v.id AND h.form_id = $form_id {_round_filter("h", round_name, params)}
        WHERE substr(v.path, 1, $n) = $prefix
        GROUP BY v.id, v.code, v.path, v.expected_households
        HAVING COUNT(h.id) > 0 OR NOT EXISTS (SELECT 1 FROM unit c WHERE c.parent = v.id)"""
    return [VillageCount(code, path, expected, int(households), int(refusals), bool(leaf))
            for code, path, expected, households, refusals, leaf in db.select(sql.strip(), params)]


def data_rounds(db, form_id):
    """The rounds in which some household of the form was counted (surveyed or refused), in order."""
    rows = db.select("""SELECT DISTINCT "round" FROM household_count
                        WHERE form_id = $form_id AND (households > 0 OR refusals > 0)""",
                     {"form_id": form_id})
    return sorted(rows)
