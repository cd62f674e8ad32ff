def register(p):
    sub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    s = sub.add_parser("show", help="print metrics")
    s.add_argument("targets", nargs="*", help="metrics files (default: those named in dvc.yaml)")
    s.add_argument("-a", "--all-branches", action="store_true", help="also every branch")
    s.add_argument("-T", "--all-tags", action="store_true", help="also every tag")
    s.add_argument("-A", "--all-commits", action="store_true", help="also every commit")
    d = sub.add_parser("diff", help="compare metrics between two revisions")
    d.add_argument("a_rev", nargs="?", default="HEAD", help="old revision (default HEAD)")
    d.add_argument("b_rev", nargs="?", default="workspace", help="new revision (default: the workspace)")
    d.add_argument("--targets", nargs="*", default=None, help="limit to these metrics files")
    d.add_argument("--all", action="store_true", help="show unchanged metrics too")
    d.add_argument("--no-path", action="store_true", help="hide the Path column")
    for q in (s, d):
        q.add_argument("--json", action="store_true", help="print JSON")
        q.add_argument("--md", "--show-md", dest="md", action="store_true", help="print a Markdown table")
        q.add_argument("--precision", type=int, default=None, help="round floats to N digits (default 5)")
        q.add_argument("-R", "--recursive", action="store_true",
                       help="accepted as dvc accepts it: a directory target always means the files under it")


def run(args):
    from tide.cli.output import emit_json, repo
    from tide.ops import metrics as ops

    r = repo()
    precision = args.precision if args.precision is not None else ops.DEFAULT_PRECISION
    if args.action == "show":
        revs = ops.revisions(r, args.all_branches, args.all_tags, args.all_commits)
        res = ops.show(r, args.targets or None, revs, warn=_warn)
        if len(revs) > 1:
            res = ops.hide_workspace(r, res)
        import os

        for val in res.values():  # from a subdirectory, paths relative to it (as dvc)
            if "data" in val:
                val["data"] = ops.relative_to(r, val["data"], os.getcwd())
        if errored := ops.errored_revisions(res):
            _warn(f"tide failed to load some metrics for following revisions: '{', '.join(errored)}'.")
        if args.json:
            emit_json(res)
            return 0
        text = ops.show_table(res, args.md, precision, len(revs) > 1)
        print(text)
        return 0
    import os

    d = ops.relative_to(r, ops.diff(r, args.a_rev, args.b_rev, args.targets, args.all, warn=_warn), os.getcwd())
    if args.json:
        emit_json(d)
        return 0
    if not d:
        return 0  # as dvc: no table at all when nothing changed
    print(ops.diff_table(d, "Metric", args.a_rev, args.b_rev, args.md, precision, args.no_path))
    return 0


def _warn(line: str) -> None:
    import sys

    print(line, file=sys.stderr)
