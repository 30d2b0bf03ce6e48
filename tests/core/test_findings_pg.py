"""The findings store on PostgreSQL/PostGIS: migrations, roles, concurrency, photos, sync, CLI.

Runs against the throwaway server of ``GRIDTOOL_TEST_PG`` (``scripts/run_tests.sh``);
fails, never skips, when it is missing. The generic findings tests run on this backend
too (``tests/core/test_findings.py`` via ``store_factory``).
"""
from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import textwrap
import threading
import uuid
from collections import Counter
from pathlib import Path

import psycopg
import pytest

from gridtool import cli
from gridtool.errors import ConflictError, InputError, ReadError
from gridtool.findings import FindingsStore
from gridtool.findings_pg import (
    LATEST_VERSION, PasswordInURLWarning, PostgresBackend, StorePermissionError, grant_read_only, migrate,
    parse_pg_url, redact_url, schema_version,
)
from gridtool.findings_sync import sync
from tests.core.findings_fixtures import (  # noqa: F401
    CST, X0, Y0, drop_pg_schemas, grids_gpkg, lonlat, make_photo, pg_schema_url, pg_url,
)

pytestmark = pytest.mark.postgres
REPO = Path(__file__).resolve().parents[2]
T0 = dt.datetime(2026, 3, 2, 9, 30, tzinfo=CST)


@pytest.fixture
def schemas():
    """Fresh schema names for a test; dropped afterwards."""
    made: list[str] = []

    def new(tag: str = "s") -> str:
        name = f"t{uuid.uuid4().hex[:12]}_{tag}"
        made.append(name)
        return name

    yield new
    drop_pg_schemas(made)


def _open(schema: str, grids: Path, tmp_path: Path, actor: str = "tester", url: str | None = None) -> FindingsStore:
    backend = PostgresBackend(url or pg_schema_url(schema), photo_cache_dir=tmp_path / f"cache_{actor}_{schema}")
    return FindingsStore(backend, grids=grids, actor=actor)


def _add(store, dx=500.0, dy=500.0, **kw):
    lon, lat = lonlat(dx, dy)
    args = dict(lon=lon, lat=lat, category="household", finding_type="exposed_garbage", found_at=T0)
    args.update(kw)
    return store.add(**args)


# -- migrations -------------------------------------------------------------------------
def test_migrations_upgrade_from_v1_and_are_idempotent(schemas, grids_gpkg, tmp_path):
    sch = schemas("mig")
    with psycopg.connect(pg_url(), autocommit=True) as con:
        assert migrate(con, sch, target=1) == [1]
        assert schema_version(con, sch) == 1
    s = _open(sch, grids_gpkg, tmp_path)  # opening upgrades to the latest version
    fid = _add(s).finding_id
    s.close()
    with psycopg.connect(pg_url(), autocommit=True) as con:
        rows = con.execute(f'SELECT version, name FROM "{sch}".gridtool_schema_version ORDER BY version').fetchall()
        assert [r[0] for r in rows] == list(range(1, LATEST_VERSION + 1))
        assert migrate(con, sch) == []  # nothing left to do
        geom = con.execute(f"SELECT ST_SRID(geom), GeometryType(geom) FROM \"{sch}\".findings").fetchone()
        assert geom == (4549, "POINT")
        idx = con.execute("SELECT indexdef FROM pg_indexes WHERE schemaname = %s AND indexname = 'findings_geom'",
                          (sch,)).fetchone()
        assert idx is not None and "gist" in idx[0]
    s2 = _open(sch, grids_gpkg, tmp_path)
    assert s2.get(fid).status == "registered"
    s2.close()


def test_clients_starting_together_migrate_once(schemas):
    sch = schemas("race")
    errors: list[BaseException] = []
    applied: list[list[int]] = []

    def start() -> None:
        try:
            with psycopg.connect(pg_url(), autocommit=True) as con:
                applied.append(migrate(con, sch))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(v for a in applied for v in a) == list(range(1, LATEST_VERSION + 1))


def test_history_and_findings_cannot_be_edited_or_deleted(schemas, grids_gpkg, tmp_path):
    sch = schemas("ao")
    s = _open(sch, grids_gpkg, tmp_path)
    fid = _add(s).finding_id
    with psycopg.connect(pg_url(), autocommit=True) as con:
        for sql, text in ((f'UPDATE "{sch}".finding_events SET note = %s', "append-only"),
                          (f'DELETE FROM "{sch}".finding_events WHERE note <> %s', "append-only"),
                          (f'TRUNCATE "{sch}".finding_events CASCADE', "append-only"),
                          (f'DELETE FROM "{sch}".findings WHERE finding_id <> %s', "never deleted")):
            with pytest.raises(psycopg.errors.RestrictViolation, match=text):
                con.execute(sql, ("x",) if "%s" in sql else None)
    assert len(s.history(fid)) == 1
    s.close()


# -- roles and credentials ------------------------------------------------------------------
def test_read_only_role_can_list_but_not_change(schemas, grids_gpkg, tmp_path):
    sch = schemas("ro")
    s = _open(sch, grids_gpkg, tmp_path)
    fid = _add(s).finding_id
    grant_read_only(s)
    user = f"viewer_{sch}"
    with psycopg.connect(pg_url(), autocommit=True) as con:
        con.execute(f'CREATE ROLE "{user}" LOGIN')
        con.execute(f'GRANT gridtool_readonly TO "{user}"')
    try:
        parts = parse_pg_url(pg_schema_url(sch))
        ro_url = pg_schema_url(sch).replace("postgres@", f"{user}@", 1)
        assert parts.schema == sch
        ro = _open(sch, grids_gpkg, tmp_path, actor="viewer", url=ro_url)
        assert list(ro.query()["finding_id"]) == [fid]
        assert [e.to_status for e in ro.history(fid)] == ["registered"]
        with pytest.raises(StorePermissionError, match=rf"role '{user}' may only read this findings store"):
            _add(ro, 900, 900)
        with pytest.raises(StorePermissionError, match="may only read"):
            ro.set_status(fid, "dispatched")
        assert isinstance(StorePermissionError("x"), InputError)
        ro.close()
        code = cli.main(["findings", "set-status", "--store", ro_url, "--grids", str(grids_gpkg), fid, "dispatched"])
        assert code == 2
        assert s.get(fid).status == "registered" and s.get(fid).version == 1
    finally:
        s.close()
        with psycopg.connect(pg_url(), autocommit=True) as con:
            con.execute(f'DROP OWNED BY "{user}"')
            con.execute(f'DROP ROLE "{user}"')


def test_password_in_url_is_accepted_with_a_warning_and_never_shown(schemas, grids_gpkg, tmp_path):
    sch = schemas("pw")
    url = pg_schema_url(sch).replace("postgres@", "postgres:s3cretpw@", 1)  # trust auth ignores it
    with pytest.warns(PasswordInURLWarning, match=r"~/.pgpass") as rec:
        b = PostgresBackend(url, photo_cache_dir=tmp_path / "c")
    assert all("s3cretpw" not in str(w.message) for w in rec)
    assert "s3cretpw" not in b.location and ":***@" in b.location
    b.close()
    assert redact_url("postgresql://u:p@h:1/d?password=q&schema=x") == "postgresql://u:***@h:1/d?password=%2A%2A%2A&schema=x"
    dead = "postgresql://postgres:s3cretpw@127.0.0.1:1/nodb"
    with pytest.warns(PasswordInURLWarning), pytest.raises(ReadError, match="cannot connect") as exc:
        PostgresBackend(dead, connect_timeout_s=2)
    assert "s3cretpw" not in str(exc.value) and "pgpass" in str(exc.value)
    with pytest.raises(InputError, match="schema"):
        parse_pg_url(pg_url() + "?schema=Bad-Name;drop")


def test_missing_server_fails_instead_of_skipping(monkeypatch):
    monkeypatch.delenv("GRIDTOOL_TEST_PG", raising=False)
    with pytest.raises(pytest.fail.Exception, match="scripts/run_tests.sh"):
        pg_url()


# -- photos ----------------------------------------------------------------------------------
def test_photos_are_in_the_database_and_seen_by_a_second_client(schemas, grids_gpkg, tmp_path):
    sch = schemas("ph")
    a = _open(sch, grids_gpkg, tmp_path, actor="a")
    lon, lat = lonlat(500, 500)
    ph = make_photo(tmp_path / "site.jpg", lon=lon, lat=lat, taken=T0)
    fid = _add(a, photos=[ph]).finding_id
    b = _open(sch, grids_gpkg, tmp_path, actor="b")  # another client, empty photo cache
    assert not b.photo_dir.exists()
    got = b.photos(fid)
    assert [p.kind for p in got] == ["report"]
    assert got[0].path.is_relative_to(b.photo_dir) and got[0].path.read_bytes() == ph.read_bytes()
    assert b.backend.integrity_check() == "ok"
    a.close()
    b.close()


# -- concurrency -------------------------------------------------------------------------------
WORKER = textwrap.dedent("""
    import sys, time
    from gridtool.errors import ConflictError
    from gridtool.findings import FindingsStore
    url, grids, name, x0, y0, n = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])
    hot = sys.argv[7].split(",")
    store = FindingsStore.open(url, grids=grids, actor=name)
    k = int(name[1:])
    for i in range(n):
        r = store.add(x=x0 + 50 + (i * 37 + k * 911) % 3900, y=y0 + 50 + (i * 53 + k * 577) % 3900,
                      category="household", finding_type="other", description=f"{name} #{i}")
        print("id", r.finding_id, flush=True)
        if i % 5 == 0:
            fid = hot[(i // 5 + k) % len(hot)]
            v = store.get(fid).version
            time.sleep(0.001)
            try:
                f = store.set_status(fid, "dispatched", department=name, expected_version=v)
                print("ok", fid, f.version, flush=True)
            except ConflictError as exc:
                print("conflict", fid, v, str(exc).replace(chr(10), " "), flush=True)
    store.close()
""")


@pytest.mark.slow
def test_four_processes_add_500_each_with_concurrent_status_changes(schemas, grids_gpkg, tmp_path):
    sch = schemas("mp")
    url = pg_schema_url(sch)
    s = _open(sch, grids_gpkg, tmp_path)
    hot = [_add(s, 100 + 300 * i, 3700, finding_type="other").finding_id for i in range(6)]
    for fid in hot:
        s.set_status(fid, "dispatched")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    procs = [
        subprocess.Popen([sys.executable, "-c", WORKER, url, str(grids_gpkg), f"w{k}", str(X0), str(Y0), "500",
                          ",".join(hot)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO)
        for k in range(4)
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err[-2000:]
    lines = [ln.split(" ", 3) for out, _ in outs for ln in out.splitlines()]
    acked = [ln[1] for ln in lines if ln[0] == "id"]
    oks = [(ln[1], int(ln[2])) for ln in lines if ln[0] == "ok"]
    conflicts = [ln for ln in lines if ln[0] == "conflict"]
    assert len(acked) == 2000 and len(set(acked)) == 2000  # ids unique
    assert len(oks) + len(conflicts) == 4 * 100  # every attempt: applied or reported as a conflict
    assert all("was changed by someone else" in c[3] or "changed while" in c[3] for c in conflicts)
    stored = {f.finding_id: f for f in s.findings()}
    assert set(acked) <= set(stored) and len(stored) == 2000 + len(hot)
    per = Counter(fid for fid, _v in oks)
    for fid in hot:
        f = stored[fid]
        hist = s.history(fid)
        # registered, dispatched, then exactly one event per applied change: none lost, none extra
        assert len(hist) == 2 + per[fid]
        assert f.version == 2 + per[fid]
        assert sorted(v for g, v in oks if g == fid) == list(range(3, f.version + 1))  # each version once
    events = s.backend.select_events()
    assert len(events) == 2000 + 2 * len(hot) + len(oks)
    s.close()


# -- sync ----------------------------------------------------------------------------------------
def test_sync_field_store_twice_changes_nothing_the_second_time(schemas, grids_gpkg, tmp_path):
    sch = schemas("sy")
    server = _open(sch, grids_gpkg, tmp_path, actor="office")
    other = _add(server, 3000, 3000, description="server first").finding_id  # takes ZL-2026-000001
    field = FindingsStore.open(tmp_path / "field.gpkg", grids=grids_gpkg, actor="inspector")
    lon, lat = lonlat(505, 505)
    ph = make_photo(tmp_path / "f.jpg", lon=lon, lat=lat, taken=T0 + dt.timedelta(minutes=5))
    f1 = _add(field, 500, 500, description="field 1", photos=[ph]).finding_id  # ZL-2026-000001 too
    f2 = _add(field, 900, 900, description="field 2").finding_id
    field.set_status(f2, "dispatched")
    rep = sync(field, server)
    assert len(rep.added) == 2 and rep.conflicts == () and rep.photos_added == 1
    assert rep.renumbered == ((f1, "ZL-2026-000003"),)  # 000001 is another finding; 000002 stays f2's
    ids = dict(rep.added)
    assert ids[f2] == f2  # a free field id is kept
    assert server.get(ids[f2]).status == "dispatched" and server.get(ids[f2]).department == "区城管局"
    assert [e.to_status for e in server.history(ids[f2])] == ["registered", "dispatched"]
    assert server.photos(ids[f1])[0].path.read_bytes() == ph.read_bytes()
    assert server.get(other).description == "server first"
    before = (server.backend.select_findings(), server.backend.select_events(), server.backend.select_photos())

    again = sync(field, server)
    assert not again.changed and again.unchanged == 2 and again.conflicts == ()
    assert (server.backend.select_findings(), server.backend.select_events(), server.backend.select_photos()) == before

    # a field change after the sync goes in; one made on both sides is listed, not applied
    field.set_status(f2, "rectifying")
    field.set_status(f1, "rejected", note="not waste (field)")
    server.set_status(ids[f1], "dispatched", department="区住建局")
    third = sync(field, server)
    assert third.updated == ((f2, ids[f2]),) and third.events_added == 1
    assert [c.source_id for c in third.conflicts] == [f1]
    assert "changed in the field" in third.conflicts[0].reason and "not applied" in third.conflicts[0].reason
    assert server.get(ids[f1]).status == "dispatched" and server.get(ids[f2]).status == "rectifying"
    assert len({e["event_id"] for e in server.backend.select_events()}) == len(server.backend.select_events())
    fourth = sync(field, server)
    assert fourth.updated == () and fourth.added == () and [c.source_id for c in fourth.conflicts] == [f1]
    field.close()
    server.close()


def test_cli_store_url_and_sync(schemas, grids_gpkg, tmp_path, capsys):
    sch = schemas("cli")
    url = pg_schema_url(sch)
    lon, lat = lonlat(500, 500)
    g = ["--grids", str(grids_gpkg)]
    assert cli.main(["findings", "add", "--store", url, *g, "--lon", str(lon), "--lat", str(lat),
                     "--category", "生活垃圾", "--type", "暴露垃圾", "--found-at", "2026-03-02 09:30"]) == 0
    fid = capsys.readouterr().out.strip()
    assert fid == "ZL-2026-000001"
    assert cli.main(["findings", "set-status", "--store", url, *g, fid, "派遣", "--expect-version", "1"]) == 0
    assert cli.main(["findings", "set-status", "--store", url, *g, fid, "rejected", "--expect-version", "1"]) == 2
    err = capsys.readouterr().err
    assert "conflict" in err and "now version 2" in err
    assert cli.main(["findings", "list", "--store", url, *g, "--format", "csv"]) == 0
    assert fid in capsys.readouterr().out
    assert cli.main(["findings", "history", "--store", url, *g, fid]) == 0
    assert "registered -> dispatched" in capsys.readouterr().out
    field = tmp_path / "field.gpkg"
    assert cli.main(["findings", "add", "--store", str(field), *g, "--lon", str(lon), "--lat", str(lat),
                     "--category", "household", "--type", "other"]) == 0
    capsys.readouterr()
    assert cli.main(["findings", "sync", "--from", str(field), "--to", url]) == 0
    out = capsys.readouterr()
    assert "added ZL-" in out.out and "1 added (1 renumbered)" in out.err
    assert cli.main(["findings", "sync", "--from", str(field), "--to", url]) == 0
    assert "0 added (0 renumbered), 0 updated, 1 unchanged, 0 conflict(s)" in capsys.readouterr().err
    assert cli.main(["findings", "sync", "--from", str(field), "--to", str(tmp_path / "x.gpkg")]) == 2
    assert "not a database URL" in capsys.readouterr().err
