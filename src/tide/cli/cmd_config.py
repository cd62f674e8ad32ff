LEVEL_FLAGS = ("system", "global", "project", "local")


def add_level_flags(p):
    g = p.add_mutually_exclusive_group()
    g.add_argument("--global", dest="level", action="store_const", const="global", help="use the global config")
    g.add_argument("--system", dest="level", action="store_const", const="system", help="use the system config")
    g.add_argument("--project", dest="level", action="store_const", const="repo", help="use .dvc/config (default)")
    g.add_argument("--local", dest="level", action="store_const", const="local",
                   help="use .dvc/config.local (git-ignored; for secrets)")


def register(p):
    p.add_argument("name", nargs="?", help="option name, e.g. core.remote or remote.NAME.url")
    p.add_argument("value", nargs="?", help="value to set")
    p.add_argument("-u", "--unset", action="store_true", help="remove the option")
    p.add_argument("-l", "--list", action="store_true", help="list all options")
    p.add_argument("--show-origin", action="store_true", help="show the file each value comes from")
    add_level_flags(p)


def run(args):
    import sys

    from tide.core.errors import UsageError
    from tide.ops import config as ops

    sc = ops.scope(args.level, listing=args.list)
    if args.list:
        if args.name or args.value:
            raise UsageError("--list takes no option name")
        for o in ops.list_options(sc):
            print(f"{o.origin}\t{o.name}={o.value}" if args.show_origin else f"{o.name}={o.value}")
        return 0
    if not args.name:
        raise UsageError("name an option (e.g. core.remote), or use --list")
    if args.unset:
        if args.value is not None:
            raise UsageError("--unset takes no value")
        ops.unset_option(sc.config, sc.write_level, args.name)
        return 0
    if args.value is None:
        o = ops.get_option(sc, args.name)
        if o is None:
            print(f"ERROR: option '{args.name}' is not set", file=sys.stderr)
            return 1
        print(f"{o.origin}\t{o.value}" if args.show_origin else o.value)
        return 0
    ops.set_option(sc.config, sc.write_level, args.name, args.value)
    return 0
