def register(p):
    sub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    s = sub.add_parser("show", help="render plots of the workspace")
    s.add_argument("targets", nargs="*", help="plot ids or files (default: every plot in dvc.yaml)")
    d = sub.add_parser("diff", help="render plots of revisions side by side")
    d.add_argument("revisions", nargs="*", help="git revisions (default: HEAD and the workspace)")
    d.add_argument("--targets", nargs="*", default=[], help="plot ids or files")
    for q in (s, d):
        q.add_argument("-o", "--out", help="output directory (default: dvc_plots)")
        q.add_argument("-t", "--template", help="linear, simple, scatter, smooth, confusion, "
                                                "confusion_normalized, bar_horizontal, bar_horizontal_sorted")
        q.add_argument("-x", help="field for the x axis")
        q.add_argument("-y", help="field for the y axis")
        q.add_argument("--title", help="plot title")
        q.add_argument("--x-label", help="x axis label")
        q.add_argument("--y-label", help="y axis label")
        q.add_argument("--no-header", action="store_true", help="CSV/TSV files have no header row")
        q.add_argument("--json", action="store_true", help="print the written files as JSON")


def run(args):
    from tide.cli.output import emit_json, repo
    from tide.ops.plots import render

    props = {"template": args.template, "x": args.x, "title": args.title,
             "x_label": args.x_label, "y_label": args.y_label}
    if args.no_header:
        props["header"] = False
    if args.action == "show":
        targets, revs = args.targets, ["workspace"]
    else:
        from tide.ops.metrics import no_commits

        if no_commits(repo()):  # as dvc: before the first commit there is nothing to compare
            if args.json:
                emit_json({})
            elif not args.quiet:
                print("No plots were loaded, visualization file will not be created.")
            return 0
        targets = args.targets
        revs = list(args.revisions) or ["HEAD"]
        if len(revs) == 1:
            revs.append("workspace")
    if args.y:
        props["y"] = args.y
    res = render(repo(), targets, revs, args.out, props)
    for err in res.errors:
        print(f"WARNING: {err}")
    if args.json:
        emit_json({"index": res.index, "images": res.images, "errors": res.errors})
    elif not args.quiet:
        print(f"file://{res.index}")
    return 0
