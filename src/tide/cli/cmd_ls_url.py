"""tide list-url / tide ls-url: list what is at a URL (local path, s3://, http://, ...), as dvc list-url."""


def register(p):
    p.add_argument("url", help="a path or a URL (s3://, gs://, azure://, http(s)://, ...)")
    p.add_argument("-R", "--recursive", action="store_true", help="list files of sub-directories too")
    p.add_argument("-T", "--tree", action="store_true", help="recurse into directories as a tree")
    p.add_argument("-L", "--level", type=int, metavar="depth", help="limit the depth of recursion")
    p.add_argument("--size", action="store_true", help="show sizes")
    p.add_argument("--fs-config", action="append", default=[], metavar="KEY=VALUE",
                   help="an option of the URL's filesystem, as a remote option (endpointurl=..., region=...)")


def run(args):
    from tide.cli._registry_args import fs_config
    from tide.core.config import Env
    from tide.ops.registry_ls import format_entries, format_tree
    from tide.ops.registry_ls_url import ls_url, ls_url_tree

    options = fs_config(args.fs_config)
    if args.tree:
        print(format_tree(ls_url_tree(args.url, args.level, options, Env(), args.size), args.size))
        return 0
    entries = ls_url(args.url, args.recursive, args.level, options, Env(), args.size)
    if entries:
        print(format_entries(entries, args.size))
    return 0
