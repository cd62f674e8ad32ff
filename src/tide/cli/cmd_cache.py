def register(p):
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    d = sub.add_parser("dir", help="show or set the cache directory")
    d.add_argument("value", nargs="?", help="new cache directory")
    d.add_argument("-u", "--unset", action="store_true", help="go back to the default (.dvc/cache)")
    from tide.cli.cmd_config import add_level_flags

    add_level_flags(d)


def run(args):
    from tide.cli.output import repo
    from tide.ops.config import set_option, unset_option

    r = repo()
    level = args.level or "repo"
    if args.unset:
        unset_option(r.config, level, "cache.dir")
        return 0
    if args.value is None:
        print(r.cache_dir)
        return 0
    set_option(r.config, level, "cache.dir", args.value)  # relative to the cwd, written as dvc does
    return 0
