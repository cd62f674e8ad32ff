def register(p):
    p.add_argument("target", nargs="?", help="show only this stage and its upstream")
    p.add_argument("--full", action="store_true", help="with a target: its whole pipeline")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--dot", action="store_true", help="print Graphviz DOT")
    g.add_argument("--md", action="store_true", help="print a Mermaid flowchart in Markdown")


def run(args):
    from tide.cli.output import repo
    from tide.ops.dag import dag

    fmt = "dot" if args.dot else "md" if args.md else "text"
    text = dag(repo(), args.target, fmt, args.full)
    if text:
        print(text)
    return 0
