def register(p):
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    d = sub.add_parser("dir", help="show or set the cache directory")
    d.add_argument("value", nargs="?", help="new cache directory")
    d.add_argument("-u", "--unset", action="store_true", help="go back to the default (.dvc/cache)")
    from tide.cli.cmd_config import add_level_flags

    add_level_flags(d)
    m = sub.add_parser("migrate", help="copy DVC 2.x cache objects into the 3.x layout")
    m.add_argument("--dvc-files", action="store_true", help="not supported: re-add the outputs")
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

    if args.dvc_files:
        from tide.core.errors import UsageError

        raise UsageError("cache migrate --dvc-files is not supported: re-adding an output ('tide add PATH') "
                         "records it with 3.x hashes")
    if args.dry:
        n = len(cache_migrate.legacy_objects(r))
        print(f"{n} files will be re-hashed and migrated to the DVC 3.0 cache location.")
        return 0
    print(f"Migrated {cache_migrate.migrate(r)} files to DVC 3.0 cache location.")
    return 0
