def _level(p):
    g = p.add_mutually_exclusive_group()
    g.add_argument("--global", dest="level", action="store_const", const="global", help="use the global config")
    g.add_argument("--system", dest="level", action="store_const", const="system", help="use the system config")
    g.add_argument("--project", dest="level", action="store_const", const="repo", help="use .dvc/config (default)")
    g.add_argument("--local", dest="level", action="store_const", const="local", help="use .dvc/config.local")


def register(p):
    sub = p.add_subparsers(dest="action", metavar="ACTION")
    sub.required = True
    a = sub.add_parser("add", help="add a remote")
    _level(a)
    a.add_argument("-d", "--default", action="store_true", help="make it the default remote")
    a.add_argument("-f", "--force", action="store_true", help="overwrite an existing remote of that name")
    a.add_argument("name")
    a.add_argument("url")
    m = sub.add_parser("modify", help="set or unset an option of a remote (dvc option names)")
    _level(m)
    m.add_argument("-u", "--unset", action="store_true", help="remove the option")
    m.add_argument("name")
    m.add_argument("option")
    m.add_argument("value", nargs="?")
    s = sub.add_parser("list", help="list remotes")
    _level(s)
    r = sub.add_parser("remove", help="remove a remote")
    _level(r)
    r.add_argument("name")
    d = sub.add_parser("default", help="show or set the default remote")
    _level(d)
    d.add_argument("-u", "--unset", action="store_true", help="unset the default remote")
    d.add_argument("name", nargs="?")
    n = sub.add_parser("rename", help="rename a remote")
    _level(n)
    n.add_argument("name")
    n.add_argument("new")
    c = sub.add_parser("convert", help="copy every object of remote SRC to remote DST, across formats "
                                       "(dvc <-> chunked, tide.yaml); resumable")
    c.add_argument("src")
    c.add_argument("dst")
    c.add_argument("-j", "--jobs", type=int, help="parallel transfers")
    for sp in (a, m, s, r, d, n, c):
        sp.add_argument("-q", "--quiet", action="store_true", help="print only errors")
        sp.add_argument("-v", "--verbose", action="count", default=0, help="show details")


def _convert(args):
    from tide.cli.output import repo
    from tide.core.errors import StorageError
    from tide.ops.remote_convert import convert

    res = convert(repo(), args.src, args.dst, args.jobs)
    if not args.quiet:
        print(f"{res.copied} objects copied to '{args.dst}' ({res.nbytes} bytes), {res.present} already there"
              + (f", {res.runs} run-cache entries" if res.runs else ""))
    if res.failed:
        ref, why = res.failed[0]
        raise StorageError(f"convert incomplete: {len(res.failed)} objects failed (first: {ref.oid}: {why}); "
                           "run it again to resume")
    return 0


def run(args):
    import os

    if args.action == "convert":
        return _convert(args)

    from tide.core.config import Config
    from tide.core.errors import ConfigError
    from tide.ops import remote
    from tide.workspace.repo import find_repo_root

    root = find_repo_root(os.getcwd())
    level = args.level
    if root is None and level in (None, "repo", "local"):
        if args.action == "list" and level is None:
            level = "global"
        else:
            raise ConfigError("not inside a repository: use --global or --system")
    config = Config(os.path.join(root, ".dvc") if root else None)
    if args.action == "add":
        remote.add(config, args.name, args.url, level or "repo", args.default, args.force)
        if args.default and not args.quiet:
            print(f"Setting '{args.name.lower()}' as a default remote.")
    elif args.action == "modify":
        remote.modify(config, args.name, args.option, args.value, level or "repo", args.unset)
    elif args.action == "list":
        for name, url, is_default in remote.listing(config, level):
            print((f"{name}\t{url}" + ("\t(default)" if is_default else "")).expandtabs())
    elif args.action == "remove":
        remote.remove(config, args.name, level or "repo")
    elif args.action == "rename":
        remote.rename(config, args.name, args.new, level or "repo")
    elif args.action == "default":
        if args.unset or args.name:
            remote.set_default(config, args.name, level or "repo", args.unset)
        else:
            name = remote.get_default(config, level)
            if name is None:
                print("No default remote set")
                return 1
            print(name)
    return 0
