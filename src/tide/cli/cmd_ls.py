"""tide list / tide ls: list a repository's files (git and dvc) at a revision, as dvc ls."""


def register(p):
    from tide.cli._registry_args import add_source_options

    p.add_argument("url", help="repository: a local path or a git URL")
    p.add_argument("path", nargs="?", help="directory or file inside the repository")
    p.add_argument("-R", "--recursive", action="store_true", help="list files of sub-directories too")
    p.add_argument("-T", "--tree", action="store_true", help="recurse into directories as a tree")
    p.add_argument("-L", "--level", type=int, metavar="depth", help="limit the depth of recursion")
    p.add_argument("--dvc-only", action="store_true", help="only data tracked by dvc/tide")
    p.add_argument("--json", action="store_true", help="print JSON (dvc's entry format)")
    p.add_argument("--rev", help="git revision (branch, tag, commit); default: the workspace of a local "
                                 "path, the default branch of a URL")
    add_source_options(p)
    p.add_argument("--size", action="store_true", help="show sizes")
    p.add_argument("--show-hash", action="store_true", help="show the md5 of tracked entries")


def run(args):
    from tide.cli._registry_args import source_options
    from tide.cli.output import emit_json
    from tide.core.config import Env
    from tide.core.errors import TideError, UsageError
    from tide.ops.registry_ls import format_entries, format_tree, ls, ls_tree
    from tide.ops.registry_source import open_source

    if args.tree and args.json:
        raise UsageError("Cannot use --tree and --json options together.")
    try:
        with open_source(args.url, args.rev, Env(), **source_options(args)) as src:
            if args.tree:
                tree = ls_tree(src, args.path, args.dvc_only, args.level)
            else:
                entries = ls(src, args.path, args.recursive, args.dvc_only, args.level)
    except TideError as exc:
        exc.args = (f"failed to list '{args.url}' - {exc}",)
        raise
    if args.tree:
        print(format_tree(tree, args.size, args.show_hash))
    elif args.json:
        emit_json(entries)
    elif entries:
        print(format_entries(entries, args.size, args.show_hash))
    return 0
