def register(p):
    sub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    d = sub.add_parser("diff", help="compare parameters between two revisions")
    d.add_argument("a_rev", nargs="?", default="HEAD", help="old revision (default HEAD)")
    d.add_argument("b_rev", nargs="?", default="workspace", help="new revision (default: the workspace)")
    d.add_argument("--targets", nargs="*", default=None, help="limit to these params files")
    d.add_argument("--all", action="store_true", help="show unchanged parameters too")
    d.add_argument("--deps", action="store_true", help="only parameters that stages depend on")
    d.add_argument("--no-path", action="store_true", help="hide the Path column")
    d.add_argument("--json", action="store_true", help="print JSON")
    d.add_argument("--md", "--show-md", dest="md", action="store_true", help="print a Markdown table")


def run(args):
    import os

    from tide.cli.output import emit_json, repo
    from tide.ops.metrics import diff_table, relative_to
    from tide.ops.params import diff

    r = repo()
    d = relative_to(r, diff(r, args.a_rev, args.b_rev, args.targets, args.all, args.deps, warn=_warn), os.getcwd())
    if args.json:
        emit_json(d)
        return 0
    if not d:
        return 0  # as dvc: no table at all when nothing changed
    print(diff_table(d, "Param", args.a_rev, args.b_rev, args.md, None, args.no_path, show_change=False))
    return 0


def _warn(line: str) -> None:
    import sys

    print(line, file=sys.stderr)
