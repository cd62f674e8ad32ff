"""tide import-db: snapshot a database query or table into a versioned file."""


def register(p):
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--sql", help="SQL query to snapshot (add ORDER BY for stable bytes)")
    g.add_argument("--table", help="table to snapshot (rows ordered by every column)")
    p.add_argument("--conn", help="connection: a URL (sqlite:///x.db, postgresql://user@host/db), a SQLite file, "
                                  "or a [db \"NAME\"] section of the DVC config (default: $TIDE_DB_URL)")
    p.add_argument("-o", "--out", help="output file (default TABLE.FORMAT or results.FORMAT)")
    p.add_argument("--format", "--output-format", dest="file_format", default="csv",
                   choices=("csv", "json", "parquet"), help="file format (default csv)")
    p.add_argument("-f", "--force", action="store_true",
                   help="overwrite an existing output that is not this import's snapshot")


def run(args):
    from tide.cli.output import git_hint, repo, warn
    from tide.core.errors import UsageError
    from tide.ops.import_db import ImportRequest, import_db

    r = repo()
    conn = args.conn or r.env.get("TIDE_DB_URL")
    if not conn:
        raise UsageError("name the database with --conn URL|NAME (or set TIDE_DB_URL)")
    try:
        res = import_db(r, ImportRequest(conn, args.out, args.sql, args.table, args.file_format,
                                           args.force))
    finally:
        r.close()
    warn(res.warnings)
    if not args.quiet:
        state = "written" if res.changed else "unchanged (same rows)"
        print(f"Imported {res.rows} rows into {res.out}: {state}; tracked by {res.pointer}")
    git_hint(list(res.git_files), False, args.quiet, r.root)
    return 0
