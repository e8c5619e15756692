"""The demo campaign: villages everywhere, accounts, a believable survey through the real ingest path."""
from pony.orm import db_session, select

from server.bench.demo import run_demo
from sync import tally
from sync.form_versions import publish_default_form


def test_the_demo_fills_every_commune_and_runs_through_ingest(app, store, runner):
    publish_default_form(store)
    result = runner.invoke(["demo", "--households", "600", "--seed", "7"])
    assert result.exit_code == 0, result.output
    assert "600 visits" in result.output and "canbo_627" in result.output
    with db_session:
        communes = select(u for u in store.Unit if u.level == "commune").count()
        with_villages = select(u.parent for u in store.Unit if u.level == "village").count()
        assert with_villages == communes == 218
        statuses = {s: select(x for x in store.Submission if x.status == s).count()
                    for s in ("accepted", "rejected", "conflict", "superseded")}
        assert statuses["accepted"] > 500 and statuses["rejected"] > 0
        assert store.User.get(username="canbo_627").role == "district_staff"
    assert tally.check(store) == []


def test_running_the_demo_twice_changes_nothing(app, store):
    publish_default_form(store)
    first = run_demo(store, households=300, seed=3)
    with db_session:
        before = (store.Submission.select().count(), store.Unit.select().count(), store.User.select().count())
    second = run_demo(store, households=300, seed=3)
    with db_session:
        after = (store.Submission.select().count(), store.Unit.select().count(), store.User.select().count())
    assert first.results and not second.results
    assert before == after


def test_urban_pleiku_is_more_connected_than_remote_kong_chro(app, store):
    publish_default_form(store)
    run_demo(store, households=3000, seed=11)
    with db_session:
        def fibre_share(district):
            rows = select((s.numerator, s.denominator) for s in store.RollupSum
                          if s.indicator == "fibre_coverage" and s.village.path.startswith(f"/64/{district}/"))[:]
            return sum(n for n, _ in rows) / sum(d for _, d in rows)
        assert fibre_share("622") > fibre_share("630") + 0.1
