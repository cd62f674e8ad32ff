def register(p):
    sub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    s = sub.add_parser("show", help="render plots of the workspace (Vega-Lite HTML, as dvc)")
    s.add_argument("targets", nargs="*", help="plot ids or files (default: every plot in dvc.yaml)")
    d = sub.add_parser("diff", help="render plots of revisions side by side")
    d.add_argument("revisions", nargs="*", help="git revisions (default: HEAD and the workspace)")
    d.add_argument("--targets", nargs="*", default=[], help="plot ids or files")
    d.add_argument("-e", "--experiment", action="store_true",
                   help="one REVISION is an experiment: compare it with its baseline commit")
    m = sub.add_parser("modify", help="set plot properties of a stage output (written to its dvc.yaml)")
    m.add_argument("target", help="plot file")
    m.add_argument("--unset", nargs="*", default=None, metavar="PROP", help="properties to remove")
    for q in (s, d, m):
        q.add_argument("-t", "--template", help="linear, simple, scatter, smooth, confusion, "
                                                "confusion_normalized, bar_horizontal, bar_horizontal_sorted, "
                                                "or a file under .dvc/plots")
        q.add_argument("-x", help="field for the x axis")
        q.add_argument("-y", help="field for the y axis")
        q.add_argument("--title", help="plot title")
        q.add_argument("--x-label", help="x axis label")
        q.add_argument("--y-label", help="y axis label")
        q.add_argument("--no-header", action="store_true", help="CSV/TSV files have no header row")
    for q in (s, d):
        q.add_argument("-o", "--out", help="output directory (default: dvc_plots)")
        q.add_argument("--json", action="store_true", help="print dvc's JSON: Vega-Lite specs per plot id")
        q.add_argument("--split", action="store_true", help="with --json: data apart from the specs")
        q.add_argument("--show-vega", action="store_true", help="print the Vega-Lite spec of one plot")
        q.add_argument("--open", action="store_true", help="open the page in a browser")
        q.add_argument("--html-template", help="HTML page with {plot_divs} (and {scripts}) placeholders")
        q.add_argument("--png", action="store_true",
                       help="draw PNG images with matplotlib instead (needs the 'plots' extra)")
    t = sub.add_parser("templates", help="list dvc's default templates or print one")
    t.add_argument("template", nargs="?", help="template name")


def _props(args) -> dict:
    props = {"template": args.template, "x": args.x, "y": args.y, "title": args.title,
             "x_label": args.x_label, "y_label": args.y_label}
    if args.no_header:
        props["header"] = False
    return {k: v for k, v in props.items() if v is not None}


def _warn(line: str) -> None:
    import sys

    print(f"WARNING: {line}", file=sys.stderr)


def run(args):
    if args.action == "templates":
        return _templates(args)
    if args.action == "modify":
        from tide.cli.output import repo
        from tide.ops.plots_modify import modify

        modify(repo(), args.target, _props(args), args.unset, say=print)
        return 0
    if args.action == "show":
        targets, revs = args.targets, ["workspace"]
    else:
        from tide.cli.output import emit_json, repo
        from tide.ops.metrics import no_commits

        if no_commits(repo()):  # as dvc: before the first commit there is nothing to compare
            if args.json:
                emit_json({})
            elif not args.quiet:
                print("No plots were loaded, visualization file will not be created.")
            return 0
        targets = args.targets
        revs = diff_revisions(repo(), list(args.revisions), args.experiment)
    if args.png:
        return _png(args, targets, revs)
    if "workspace" in revs:  # dvc's brancher visits the workspace first
        revs = ["workspace", *[r for r in revs if r != "workspace"]]
    return _vega(args, targets, revs)


def diff_revisions(r, revs: list[str], experiment: bool) -> list[str]:
    """dvc's ``plots.diff._revisions``: with ``-e`` one revision is an experiment, compared with its
    baseline (short id); one revision is compared with the workspace; none: the workspace, and HEAD
    first when tracked files changed."""
    from tide.ops.exp_refs import baseline_of

    if experiment and len(revs) == 1 and r.git is not None:
        base = baseline_of(r.git, revs[0])
        if base:
            revs.append(base[:7])
    if len(revs) <= 1:
        if not revs and r.git is not None and r.git.out("status", "--porcelain", "-uno").strip():
            revs.append("HEAD")
        revs.append("workspace")
    return list(dict.fromkeys(revs))


def _templates(args):
    import json

    from tide.core.errors import UsageError
    from tide.pipeline import vega_templates

    if args.template:
        content = vega_templates.default(args.template)
        if content is None:
            raise UsageError(f"Unexpected template: {args.template}.")
        print(json.dumps(content))
        return 0
    for name in vega_templates.NAMES:
        print(name)
    return 0


def _vega(args, targets, revs):
    import os
    import sys

    from tide.cli.output import emit_json, repo
    from tide.core.errors import UsageError
    from tide.ops import plots_vega

    props = _props(args)
    if args.show_vega:
        if not targets:
            raise UsageError("please specify a target for `--show-vega`")
        if len(targets) > 1:
            raise UsageError("you can only specify one target for `--show-vega`")
        if args.json:
            raise UsageError("'--show-vega' and '--json' are mutually exclusive options.")
        spec = plots_vega.show_vega(repo(), targets[0], revs, props, warn=_warn)
        if spec is not None:
            emit_json(spec)
        return 0
    if args.json:
        out = os.path.abspath(args.out or repo().option("plots.out_dir") or "dvc_plots")
        rendered, errors = plots_vega.collect(repo(), targets, revs, props, out, split=args.split, warn=_warn)
        if errors:
            bad = ", ".join(f"'{r}'" for r in dict.fromkeys(e["rev"] for e in errors))
            print(f"DVC failed to load some plots for following revisions: {bad}.", file=sys.stderr)
        emit_json(plots_vega.to_json(rendered, errors, args.split))
        return 0
    index, rendered = plots_vega.show(repo(), targets, revs, props, args.out, html_template=args.html_template,
                                      warn=_warn)
    if index is None:
        print("No plots were loaded, visualization file will not be created.", file=sys.stderr)
        return 0
    if not args.quiet:
        from pathlib import Path

        print(Path(index).as_uri())
    if args.open or repo().option("plots.auto_open", "false").lower() in ("true", "1", "yes"):
        import webbrowser

        webbrowser.open(Path(index).as_uri())
    return 0


def _png(args, targets, revs):
    from tide.cli.output import emit_json, repo, warn
    from tide.ops.plots import render

    props = _props(args)
    res = render(repo(), targets, revs, args.out, props)
    for err in res.errors:
        warn([f"WARNING: {err}"])
    if args.json:
        emit_json({"index": res.index, "images": res.images, "errors": res.errors})
    elif not args.quiet:
        print(f"file://{res.index}")
    return 0
