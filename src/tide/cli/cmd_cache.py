def register(p):
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    d = sub.add_parser("dir", help="show or set the cache directory")
    d.add_argument("value", nargs="?", help="new cache directory")
    d.add_argument("-u", "--unset", action="store_true", help="go back to the default (.dvc/cache)")
    from tide.cli.cmd_config import add_level_flags

    add_level_flags(d)
    m = sub.add_parser("migrate", help="copy DVC 2.x cache objects into the 3.x layout")
    m.add_argument("--dvc-files", action="store_true",
                   help="also record the 2.x entries of .dvc files and dvc.lock with 3.x hashes (a forced commit)")
    m.add_argument("--dry", action="store_true", help="only say how many objects would be migrated")


def run(args):
    from tide.cli.output import repo
    from tide.ops.config import set_option, unset_option

    r = repo()
    if args.action == "migrate":
        return _migrate(r, args)
    level = args.level or "repo"
    if args.unset:
        unset_option(r.config, level, "cache.dir")
        return 0
    if args.value is None:
        print(r.cache_dir)
        return 0
    set_option(r.config, level, "cache.dir", args.value)  # relative to the cwd, written as dvc does
    return 0


def _migrate(r, args):
    from tide.ops import cache_migrate

    if args.dry:
        n = len(cache_migrate.legacy_objects(r))
        print(f"{n} files will be re-hashed and migrated to the DVC 3.0 cache location.")
    else:
        print(f"Migrated {cache_migrate.migrate(r)} files to DVC 3.0 cache location.")
    if not args.dvc_files:
        return 0
    entries = cache_migrate.legacy_dvc_files(r)  # dvc's messages (commit_2_to_3)
    if not entries:
        print("No DVC files in the repo to migrate to the 3.0 format.")
        return 0
    if args.dry:
        print("Entries in following DVC files will be migrated to the 3.0 format:")
        print("\n".join(sorted(f"\t{shown}" for shown, _ in entries)))
        return 0
    from tide.cli.output import git_hint

    changed = cache_migrate.migrate_dvc_files(r, entries)
    for f in changed:
        print(f"Updating {'DVC' if f.endswith('.dvc') else 'lock'} file '{f}'")
    staged = bool(changed) and r.autostage and r.git is not None
    if staged:
        r.git.add(changed)
    git_hint(changed, staged, args.quiet)
    return 0
