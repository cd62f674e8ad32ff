"""The state database: (inode, mtime, size) → md5 per workspace path, so unchanged files are never re-hashed.

Keys are paths relative to the repository root, so moving or cloning the repository keeps it
useful. It lives in ``.dvc/tmp/`` (git-ignored) and is only a cache: if it is unreadable it is
rebuilt.
"""

from __future__ import annotations

import itertools
import os
import sqlite3
from collections.abc import Iterable

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS state "
    "(path TEXT PRIMARY KEY, inode INTEGER, mtime INTEGER, size INTEGER, md5 TEXT)"
)

DIR_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS dirs "
    "(path TEXT PRIMARY KEY, snapshot TEXT, md5 TEXT, size INTEGER, nfiles INTEGER)"
)

# outputs tide wrote into the workspace (add, commit, checkout, repro, move) with the hash they had and
# the stamp of their state rows then: a later ``checkout`` deletes those no longer tracked if nothing
# changed them since (dvc's "links", which keep each link's inode and mtime as they were when written)
LINKS_SCHEMA = "CREATE TABLE IF NOT EXISTS links (path TEXT PRIMARY KEY, md5 TEXT, stamp TEXT)"

# a row already there is updated in place (its key and the key's index stay): ``INSERT OR REPLACE`` deletes
# and re-inserts both, twice the time (70,000 rows rewritten by a checkout: ~0.5 -> ~0.25 s)
UPSERT = (
    "INSERT INTO state VALUES (?, ?, ?, ?, ?) ON CONFLICT(path) DO UPDATE SET "
    "inode = excluded.inode, mtime = excluded.mtime, size = excluded.size, md5 = excluded.md5"
)

Row = tuple[int, int, int, str]
DirRow = tuple[str, str, int, int]  # snapshot digest, tree oid, total size, number of files


class State:
    def __init__(self, path: str) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None

    def _conn(self) -> sqlite3.Connection | None:
        if self._db is None:
            try:
                os.makedirs(os.path.dirname(self.path), exist_ok=True)
                db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
                db.execute(SCHEMA)
                db.execute(DIR_SCHEMA)
                db.execute(LINKS_SCHEMA)
                _add_stamp_column(db)
            except sqlite3.DatabaseError:
                try:
                    os.unlink(self.path)
                    db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
                    db.execute(SCHEMA)
                    db.execute(DIR_SCHEMA)
                    db.execute(LINKS_SCHEMA)
                except (sqlite3.DatabaseError, OSError):
                    return None
            except OSError:
                return None  # read-only repository: work without a state database
            self._db = db
        return self._db

    def lookup_prefix(self, prefix: str) -> dict[str, Row]:
        """All rows whose path is ``prefix`` or lies under ``prefix/``."""
        return {p: (i, m, s, d) for chunk in self._chunks_under(prefix) for p, i, m, s, d in chunk}

    def _chunks_under(self, prefix: str, size: int = 4096) -> Iterable[list[tuple[str, int, int, int, str]]]:
        """The rows of ``prefix`` and of the paths under ``prefix/``, in order of path, a list of at most
        ``size`` at a time (the rows are never all held); none when the database cannot be read."""
        db = self._conn()
        if db is None:
            return
        try:
            cur = db.execute(
                "SELECT path, inode, mtime, size, md5 FROM state WHERE path = ? OR (path >= ? AND path < ?)"
                " ORDER BY path",
                (prefix, prefix + "/", prefix + "0"),
            )
            while chunk := cur.fetchmany(size):
                yield chunk
        except sqlite3.DatabaseError:
            return

    def save_many(self, rows: Iterable[tuple[str, int, int, int, str]]) -> None:
        db = self._conn()
        if db is None:
            return
        rows = iter(rows)  # streamed: a million rows are never all held here
        first = next(rows, None)
        if first is None:
            return
        try:
            db.execute("BEGIN")
            db.executemany(UPSERT, itertools.chain((first,), rows))
            db.execute("COMMIT")
        except sqlite3.OperationalError:
            try:
                db.execute("ROLLBACK")
            except sqlite3.DatabaseError:
                pass

    def lookup_dir(self, path: str) -> DirRow | None:
        """What the directory ``path`` hashed to when its files had the recorded snapshot."""
        db = self._conn()
        if db is None:
            return None
        try:
            row = db.execute("SELECT snapshot, md5, size, nfiles FROM dirs WHERE path = ?", (path,)).fetchone()
        except sqlite3.DatabaseError:
            return None
        return tuple(row) if row else None

    def save_dir(self, path: str, snapshot: str, md5: str, size: int, nfiles: int) -> None:
        db = self._conn()
        if db is None:
            return
        try:
            db.execute("INSERT OR REPLACE INTO dirs VALUES (?, ?, ?, ?, ?)", (path, snapshot, md5, size, nfiles))
        except sqlite3.OperationalError:
            pass

    def forget_dir(self, path: str) -> None:
        db = self._conn()
        if db is None:
            return
        try:
            db.execute("DELETE FROM dirs WHERE path = ?", (path,))
        except sqlite3.OperationalError:
            pass

    def save_links(self, rows: Iterable[tuple[str, str]]) -> None:
        """Remember outputs (path relative to the root, oid) just written or recorded by tide, each with
        ``stamp(path)`` as it is now (call it after the output's files and state rows are written)."""
        self._write_many("INSERT OR REPLACE INTO links VALUES (?, ?, ?)",
                         [(p, md5, self.stamp(p)) for p, md5 in rows])

    def links(self) -> dict[str, tuple[str, str | None]]:
        """{path: (oid, stamp)}; the stamp is None for a row an older tide wrote."""
        db = self._conn()
        if db is None:
            return {}
        try:
            return {p: (md5, stamp) for p, md5, stamp in db.execute("SELECT path, md5, stamp FROM links")}
        except sqlite3.DatabaseError:
            return {}

    def has_link(self, path: str, md5: str) -> bool:
        db = self._conn()
        if db is None:
            return False
        try:
            return db.execute("SELECT 1 FROM links WHERE path = ? AND md5 = ?", (path, md5)).fetchone() is not None
        except sqlite3.DatabaseError:
            return False

    def stamp(self, path: str) -> str:
        """A digest of the state rows (inode, mtime, size, md5) of ``path`` and the files under it. A row
        changes only when a file is hashed or written with another inode, mtime or size: a stamp that
        differs from a link's says its output was touched after tide wrote it (N45: even rewritten with
        the same bytes, and hashed again by ``status``), as dvc's link database tells by inode and mtime."""
        import hashlib

        # the digest of ``repr(sorted(lookup_prefix(path).items()))``, streamed in the index's order
        # (SQLite's binary order of UTF-8 text is Python's order of str): a million rows were held
        # three times over (dict, sorted list, repr), the peak memory of a million-file add. Each
        # chunk of rows is formatted by one join (70,000 rows: 0.38 -> ~0.23 s)
        h = hashlib.md5(b"[", usedforsecurity=False)
        sep = b""
        for chunk in self._chunks_under(path):
            h.update(sep + ", ".join([f"({p!r}, ({i!r}, {m!r}, {s!r}, {d!r}))" for p, i, m, s, d in chunk]).encode())
            sep = b", "
        h.update(b"]")
        return h.hexdigest()

    def forget_links(self, paths: Iterable[str]) -> None:
        self._write_many("DELETE FROM links WHERE path = ?", [(p,) for p in paths])

    def _write_many(self, sql: str, rows: list[tuple[str, ...]]) -> None:
        """The links table is a hint (a locked or read-only state database loses nothing): errors pass."""
        db = self._conn()
        if db is None or not rows:
            return
        try:
            db.executemany(sql, rows)
        except sqlite3.OperationalError:
            pass

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


def _add_stamp_column(db: sqlite3.Connection) -> None:
    """A links table an older tide made has no ``stamp`` column: add it (its rows keep stamp NULL)."""
    cols = [r[1] for r in db.execute("PRAGMA table_info(links)")]
    if "stamp" not in cols:
        db.execute("ALTER TABLE links ADD COLUMN stamp TEXT")
