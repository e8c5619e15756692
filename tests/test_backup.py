"""Backups restore into a working database."""
from pony.orm import db_session

from sync.units import import_units


def village_count(store):
    with db_session:
        return store.Unit.select(lambda u: u.level == "village").count()


def test_a_backup_restores_what_was_there_when_it_was_taken(app, store, runner, tmp_path):
    import_units(store, "code,name,level,parent_code\n23722-01,Thôn Một,village,23722\n")
    out = tmp_path / "langso.backup"
    assert runner.invoke(["backup", str(out)]).exit_code == 0
    import_units(store, "code,name,level,parent_code\n23722-02,Thôn Hai,village,23722\n")
    assert village_count(store) == 2
    restored = runner.invoke(["restore", str(out), "--yes"])
    assert restored.exit_code == 0, restored.output
    assert village_count(store) == 1
    with db_session:
        assert store.Unit.get(code="23722-01").name == "Thôn Một"
        assert store.User.get(username="staff_chupah") is not None
