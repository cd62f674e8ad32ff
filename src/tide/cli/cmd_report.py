def register(p):
    p.add_argument("--base", default="HEAD", help="revision or branch to compare with (default HEAD)")
    p.add_argument("--head", default="workspace", help="revision to report on (default: the workspace)")
    p.add_argument("-o", "--out", default="report.md", help="report file to write (default report.md)")
    p.add_argument("--title", help="heading of the report")
    p.add_argument("--md", dest="include", action="append", default=[], metavar="FILE",
                   help="markdown file to include at the top (repeatable)")
    p.add_argument("--no-plots", action="store_true", help="do not render plots")
    p.add_argument("--precision", type=int, default=4, help="round metrics to N digits (default 4)")


def run(args):
    from tide.cli.output import repo, warn
    from tide.ops.report import build

    rep = build(repo(), args.base, args.head, args.out, args.title, args.include, not args.no_plots, args.precision)
    for w in rep.warnings:
        warn([f"WARNING: {w}"])
    if not args.quiet:
        print(f"Wrote {args.out} ({len(rep.images)} image(s)); post it with: tide comment create {args.out}")
    return 0
