"""tide import-db against SQLite and a real PostgreSQL server; real dvc reads the result."""

from __future__ import annotations

import json
import os
import sqlite3

import pytest

from tests.conftest import git
from tests.reliability import canaries


@pytest.fixture
def shop(repo_dir):
    db = repo_dir / "shop.db"
    c = sqlite3.connect(db)
    c.execute("create table sales (id integer, amount real, day text, note text)")
    c.executemany("insert into sales values (?,?,?,?)",
                  [(2, 3.5, "2026-01-02", "b,c"), (1, 1.25, "2026-01-01", None)])
    c.commit()
    c.close()
    (repo_dir / ".gitignore").write_text("/shop.db\n")
    return repo_dir, db


def test_sqlite_table_reimport_and_dvc(shop, tide, dvc):
    d, db = shop
    out = tide("import-db", "--table", "sales", "--conn", db, "-o", "data/sales.csv", cwd=d).stdout
    assert "Imported 2 rows" in out and "written" in out
    assert (d / "data" / "sales.csv").read_text() == (
        'id,amount,day,note\n1,1.25,2026-01-01,\n2,3.5,2026-01-02,"b,c"\n')
    ptr = (d / "data" / "sales.csv.dvc").read_text()
    assert "frozen: true" in ptr and "table: sales" in ptr
    git(d, "add", "-A")
    git(d, "commit", "-q", "-m", "import")
    assert "up to date" in dvc("status", cwd=d).stdout
    before = (os.stat(d / "data" / "sales.csv").st_mtime_ns, ptr)
    # the same rows: nothing changes
    out = tide("import-db", "--table", "sales", "--conn", db, "-o", "data/sales.csv", cwd=d).stdout
    assert "unchanged" in out
    assert (os.stat(d / "data" / "sales.csv").st_mtime_ns, (d / "data" / "sales.csv.dvc").read_text()) == before
    assert git(d, "status", "--porcelain") == ""
    # new rows: a new version
    c = sqlite3.connect(db)
    c.execute("insert into sales values (3, 9.0, '2026-01-03', 'x')")
    c.commit()
    c.close()
    tide("import-db", "--table", "sales", "--conn", f"sqlite:///{db}", "-o", "data/sales.csv", cwd=d)
    assert (d / "data" / "sales.csv").read_text().count("\n") == 4
    assert "up to date" in dvc("status", cwd=d).stdout
    git(d, "add", "-A")
    git(d, "commit", "-q", "-m", "day 3")
    os.unlink(d / "data" / "sales.csv")
    dvc("checkout", cwd=d)  # real dvc restores the file from the cache tide wrote
    assert (d / "data" / "sales.csv").read_text().endswith("3,9.0,2026-01-03,x\n")


def test_sqlite_query_json_and_parquet(shop, tide):
    d, db = shop
    tide("import-db", "--sql", "select id, amount from sales order by id", "--conn", db, "-o", "q.json",
         "--format", "json", cwd=d)
    assert json.loads((d / "q.json").read_text()) == [{"id": 1, "amount": 1.25}, {"id": 2, "amount": 3.5}]
    tide("import-db", "--sql", "select id, day from sales order by id", "--conn", db, "-o", "q.parquet",
         "--format", "parquet", cwd=d)
    import pyarrow.parquet as pq

    assert pq.read_table(d / "q.parquet").to_pylist() == [{"id": 1, "day": "2026-01-01"},
                                                          {"id": 2, "day": "2026-01-02"}]


@pytest.mark.parametrize("args, needle", [
    (("--sql", "select nope from sales"), "database query failed: no such column: nope"),
    (("--table", "x; drop table sales"), "is not a table name"),
    (("--table", "missing"), "does not exist"),
    (("--sql", "delete from sales"), "readonly database"),   # SQLite is opened read-only
    (("--sql", "pragma foreign_keys = on"), "returns no rows"),
])
def test_errors_are_one_line_and_leave_nothing(shop, tide, args, needle):
    d, db = shop
    res = tide("import-db", *args, "--conn", db, "-o", "out.csv", cwd=d, check=False)
    assert res.returncode != 0 and res.stderr.startswith("ERROR: ") and needle in res.stderr, res.stderr
    assert not (d / "out.csv").exists() and not (d / "out.csv.dvc").exists()


def test_postgresql_real_server(repo_dir, tide, dvc, postgres):
    import sqlalchemy as sa

    engine = sa.create_engine(postgres.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as c:
        c.execute(sa.text("drop table if exists events"))
        c.execute(sa.text("create table events (id int primary key, kind text, at timestamp, value numeric(6,2))"))
        c.execute(sa.text("insert into events values (2, 'b', '2026-01-02 10:00', 2.50), "
                          "(1, 'a', '2026-01-01 09:30', 1.00)"))
    engine.dispose()
    d = repo_dir
    tide("import-db", "--table", "events", "--conn", postgres, "-o", "events.csv", cwd=d)
    assert (d / "events.csv").read_text() == (
        "id,kind,at,value\n1,a,2026-01-01T09:30:00,1.00\n2,b,2026-01-02T10:00:00,2.50\n")
    # a named connection in the DVC config, as dvc import-db uses; the password never leaks
    host = postgres.split("@", 1)[1]
    tide("config", "db.warehouse.url", f"postgresql://{host}", cwd=d)
    tide("config", "--local", "db.warehouse.username", "tide", cwd=d)
    pw = canaries.user_value("DB_PASSWORD")
    tide("config", "--local", "db.warehouse.password", pw, cwd=d)
    res = tide("import-db", "--sql", "select kind, value from events order by id", "--conn", "warehouse",
               "-o", "kinds.csv", cwd=d)
    assert (d / "kinds.csv").read_text() == "kind,value\na,1.00\nb,2.50\n"
    ptr = (d / "kinds.csv.dvc").read_text()
    assert "connection: warehouse" in ptr and pw not in ptr and pw not in res.stdout + res.stderr
    assert "up to date" in dvc("status", cwd=d).stdout
    again = tide("import-db", "--table", "events", "--conn", postgres, "-o", "events.csv", cwd=d).stdout
    assert "unchanged" in again
    bad = tide("import-db", "--table", "events", "--conn", "postgresql://tide:pw-xyz@127.0.0.1:1/x",
               "-o", "e2.csv", cwd=d, check=False)
    assert bad.returncode == 1 and bad.stderr.startswith("ERROR: ") and "pw-xyz" not in bad.stderr


def test_issue20_import_db_force_as_dvc(shop, tide, dvc):
    """dvc import-db refuses an existing output without -f/--force; tide too (its own snapshot is refreshed)."""
    d, db = shop
    (d / "u.csv").write_text("mine\n")
    ref = dvc("import-db", "--table", "sales", "--conn", "x", "-o", "u.csv", cwd=d, check=False)
    res = tide("import-db", "--table", "sales", "--conn", db, "-o", "u.csv", cwd=d, check=False)
    assert ref.returncode != 0 and "already exists locally" in ref.stderr and "--force" in ref.stderr
    assert res.returncode != 0 and "already exists locally" in res.stderr and "--force" in res.stderr
    assert res.stderr.count("\n") == 1 and (d / "u.csv").read_text() == "mine\n"
    assert not (d / "u.csv.dvc").exists()
    (d / "dir.csv").mkdir()
    (d / "dir.csv" / "f").write_text("x")
    assert tide("import-db", "--table", "sales", "--conn", db, "-o", "dir.csv", cwd=d,
                check=False).returncode != 0
    for out in ("u.csv", "dir.csv"):
        tide("import-db", "--table", "sales", "--conn", db, "-o", out, "-f", cwd=d)
        assert (d / out).read_text().startswith("id,amount,day,note\n")
        assert "table: sales" in (d / f"{out}.dvc").read_text()
    git(d, "add", "-A")
    git(d, "commit", "-q", "-m", "forced")
    assert "up to date" in dvc("status", cwd=d).stdout
