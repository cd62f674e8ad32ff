"""``tide import-db``: snapshot a database query or table into a file and version it like ``tide add``.

The connection is a URL (``sqlite:///path.db``, ``postgresql://user@host/db`` ...; a plain file
path means SQLite) or, as in ``dvc import-db``, the name of a ``[db "NAME"]`` section of the DVC
config (``url``, ``username``, ``password``). The ``.dvc`` file is the one dvc writes for an
import-db: ``frozen: true``, a ``db`` dependency (connection, query or table, file format) and the
output. Rows of ``--table`` are ordered by every column, so the same rows give the same bytes; a
re-import that returns the same rows leaves the file and the ``.dvc`` file untouched. Passwords
are never printed nor written to the ``.dvc`` file.
"""

from __future__ import annotations

import csv
import datetime
import decimal
import io
import json
import os
import re
from dataclasses import dataclass

from tide.core.errors import ConfigError, MissingError, TideError, UsageError
from tide.core.fsutil import atomic_write_bytes
from tide.workspace import pointers
from tide.workspace.repo import Repo

FORMATS = ("csv", "json", "parquet")
TABLE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$")


@dataclass(frozen=True)
class ImportRequest:
    conn: str
    out: str | None = None
    sql: str | None = None
    table: str | None = None
    file_format: str = "csv"
    force: bool = False   # overwrite an output that is not this kind of import (dvc's -f/--force)


@dataclass(frozen=True)
class ImportResult:
    out: str          # relative to the repository root
    rows: int
    changed: bool     # the data file changed
    pointer: str
    git_files: tuple[str, ...]
    warnings: tuple[str, ...] = ()  # one line each, for the caller to show


class DatabaseError(TideError):
    pass


def resolve_connection(repo: Repo, conn: str) -> tuple[str, str]:
    """(SQLAlchemy URL with credentials, the name recorded in the .dvc file)."""
    named = repo.settings.get(f"db.{conn}")
    if named is not None:
        url = named.get("url")
        if not url:
            raise ConfigError(f"db connection '{conn}' has no url (tide config db.{conn}.url URL)")
        user, password = named.get("username"), named.get("password")
        if user or password:
            from sqlalchemy.engine import make_url

            u = make_url(_driver_url(url))
            url = u.set(username=user or u.username, password=password or u.password).render_as_string(
                hide_password=False)
        return _driver_url(url), conn
    if "://" not in conn:
        if not os.path.exists(conn):
            raise UsageError(f"'{conn}' is neither a configured db connection nor an existing SQLite file")
        return f"sqlite:///{os.path.abspath(conn)}", conn
    return _driver_url(conn), safe_url(conn)


def _driver_url(url: str) -> str:
    for plain, driver in (("postgresql://", "postgresql+psycopg://"), ("postgres://", "postgresql+psycopg://")):
        if url.startswith(plain):
            return driver + url[len(plain):]
    return url


def safe_url(url: str) -> str:
    """The URL without its password (for messages and the .dvc file)."""
    return re.sub(r"(://[^/:@]*):[^/@]*@", r"\1:***@", url)


def read_only(url: str) -> str:
    """The URL opened read-only where the driver would otherwise create or write a file.

    SQLite creates a missing database file on connect (and a query could write): the database is
    opened as a ``file:`` URI with ``mode=ro``, so a missing file is an error and nothing is made.
    Server databases (PostgreSQL, MySQL, ...) never create anything on connect.
    """
    from urllib.parse import quote

    from sqlalchemy.engine import make_url

    u = make_url(url)
    if u.get_backend_name() != "sqlite":
        return url
    db = u.database or ""
    if db in ("", ":memory:") or "mode=memory" in db:
        return url
    if db.startswith("file:") and str(u.query.get("uri", "")).lower() == "true":
        path, _, query = db[len("file:"):].partition("?")
        params = [p for p in query.split("&") if p and not p.startswith("mode=")]
        return u.set(database="file:" + path + "?" + "&".join([*params, "mode=ro"])).render_as_string(
            hide_password=False)
    path = os.path.abspath(db)
    if not os.path.isfile(path):
        raise MissingError(f"SQLite database '{db}' does not exist")
    return u.set(database=f"file:{quote(path, safe='/')}?mode=ro",
                 query={**u.query, "uri": "true"}).render_as_string(hide_password=False)


def query_rows(url: str, sql: str | None, table: str | None) -> tuple[list[str], list[tuple]]:
    try:
        import sqlalchemy as sa
    except ImportError:
        raise UsageError("import-db needs SQLAlchemy: pip install 'tide-ml[db]'")
    try:
        engine = sa.create_engine(read_only(url))
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError) as exc:
        raise UsageError(f"cannot use connection {safe_url(url)}: {str(exc).splitlines()[0]}")
    except ImportError as exc:
        raise UsageError(f"the database driver is not installed: {exc}")
    try:
        with engine.connect() as c:
            if table is not None:
                if not TABLE_RE.match(table):
                    raise UsageError(f"'{table}' is not a table name (use --sql for a query)")
                parts = table.split(".")
                tbl = sa.table(parts[-1], schema=parts[0] if len(parts) == 2 else None)
                cols = [col["name"] for col in sa.inspect(c).get_columns(parts[-1], schema=tbl.schema)]
                if not cols:
                    raise UsageError(f"table '{table}' does not exist or has no columns")
                stmt = sa.select(*[sa.column(n) for n in cols]).select_from(tbl).order_by(
                    *[sa.column(n) for n in cols])
                res = c.execute(stmt)
            else:
                res = c.execute(sa.text(sql))
            if not res.returns_rows:
                raise UsageError("the query returns no rows (use a SELECT)")
            names = list(res.keys())
            rows = [tuple(r) for r in res]
    except sa.exc.NoSuchTableError:
        raise UsageError(f"table '{table}' does not exist")
    except sa.exc.SQLAlchemyError as exc:
        first = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        raise DatabaseError(f"database query failed: {first[0] if first else type(exc).__name__}")
    finally:
        engine.dispose()
    return names, rows


def _cell(v):
    if v is None:
        return ""
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, datetime.datetime | datetime.date | datetime.time):
        return v.isoformat()
    if isinstance(v, bytes | memoryview):
        return bytes(v).hex()
    return str(v)


def _json_cell(v):
    if v is None or isinstance(v, bool | int | float | str):
        return v
    if isinstance(v, decimal.Decimal):
        return str(v)
    return _cell(v)


def serialize(names: list[str], rows: list[tuple], fmt: str) -> bytes:
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(names)
        for r in rows:
            w.writerow([_cell(v) for v in r])
        return buf.getvalue().encode("utf-8")
    if fmt == "json":
        return (json.dumps([dict(zip(names, map(_json_cell, r), strict=True)) for r in rows], indent=2) + "\n").encode()
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise UsageError("--format parquet needs pyarrow: pip install 'tide-ml[db]'")
    cols = {n: [_json_cell(r[i]) for r in rows] for i, n in enumerate(names)}
    table = pa.table(cols)
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


# keys dvc leaves out of a stage's checksum (dvc.stage.utils.compute_md5)
MD5_EXCLUDE = frozenset({"desc", "type", "labels", "meta", "locked", "frozen", "metric", "persist",
                         "isexec", "size", "nfiles"})


def _filtered(d):
    if isinstance(d, list):
        return [_filtered(e) for e in d]
    if isinstance(d, dict):
        return {k: _filtered(v) for k, v in d.items() if k not in MD5_EXCLUDE}
    return d


def stage_md5(dump: dict) -> str:
    """The checksum dvc records as ``md5:`` of an import stage, so ``dvc status`` sees it unchanged."""
    import hashlib

    top = {k: v for k, v in dump.items() if k not in MD5_EXCLUDE and k != "md5"}
    return hashlib.md5(json.dumps(_filtered(top), sort_keys=True).encode("utf-8")).hexdigest()


def _refuse_foreign_output(repo: Repo, path: str) -> None:
    """As ``dvc import-db`` without ``--force``: an existing file or directory is not overwritten.

    tide refreshes its own snapshot in place (re-running an import-db whose ``.dvc`` file records a
    ``db`` dependency writes the new rows, or nothing when they are the same); anything else at the
    output path (a plain file, a directory, a file tracked otherwise) needs ``-f/--force``, as in dvc.
    """
    from tide.ops.registry_get import OutputExists

    if not os.path.lexists(path):
        return
    ptr = path + pointers.SUFFIX
    if os.path.isfile(path) and os.path.isfile(ptr):
        try:
            deps = pointers.load(ptr, repo.root).top.get("deps") or []
        except TideError:
            deps = []
        if any(isinstance(d, dict) and "db" in d for d in deps):
            return
    kind = "directory" if os.path.isdir(path) else "file"
    raise OutputExists(f"the {kind} '{repo.rel(path)}' already exists locally; to override it, re-run with --force")


def import_db(repo: Repo, req: ImportRequest, cwd: str | None = None) -> ImportResult:
    from tide.ops.add import add, resolve_target

    if bool(req.sql) == bool(req.table):
        raise UsageError("give exactly one of --sql QUERY or --table TABLE")
    if req.file_format not in FORMATS:
        raise UsageError(f"unknown format '{req.file_format}' (use {', '.join(FORMATS)})")
    cwd = cwd or os.getcwd()
    out = req.out or f"{req.table or 'results'}.{req.file_format}"
    path = resolve_target(repo, out, cwd)
    if not req.force:
        _refuse_foreign_output(repo, path)
    url, recorded = resolve_connection(repo, req.conn)
    names, rows = query_rows(url, req.sql, req.table)
    data = serialize(names, rows, req.file_format)
    old = None
    if os.path.isfile(path) and not os.path.islink(path):
        with open(path, "rb") as f:
            old = f.read()
    changed = old != data
    if req.force and os.path.isdir(path) and not os.path.islink(path):
        import shutil

        shutil.rmtree(path)  # dvc -f: the output directory gives way to the snapshot file
    if changed:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        atomic_write_bytes(path, data)
    with repo.ignore_journal.command():  # add's .gitignore entry is taken back if the rest fails (dvc's imp_db)
        res = add(repo, [path], cwd=cwd)
        ptr = path + pointers.SUFFIX
        pf = pointers.load(ptr, repo.root)
        db = {"connection": recorded, "file_format": req.file_format}
        db.update({"query": req.sql} if req.sql else {"table": req.table})
        top = {k: v for k, v in pf.top.items() if k != "md5"}
        top["frozen"] = True
        top["deps"] = [{"db": db}]
        new = pointers.PointerFile(pf.path, pf.outs, top)
        top = {"md5": stage_md5(new.dump()), **top}
        if top != pf.top:
            pointers.PointerFile(pf.path, pf.outs, top).write()
    return ImportResult(repo.rel(path), len(rows), changed, repo.rel(ptr), tuple(res.git_files),
                        tuple(res.warnings))
