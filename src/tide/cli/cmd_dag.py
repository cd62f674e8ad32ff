def register(p):
    p.add_argument("target", nargs="?", help="show only this stage (or output) and its upstream")
    p.add_argument("--full", action="store_true", help="with a target: its whole pipeline")
    p.add_argument("-o", "--outs", action="store_true", help="the graph of outputs instead of stages")
    p.add_argument("--collapse-foreach-matrix", action="store_true",
                   help="one node for the stages of each foreach/matrix definition")
    p.add_argument("--dot", action="store_true", help="print Graphviz DOT")
    p.add_argument("--mermaid", action="store_true", help="print a Mermaid flowchart")
    p.add_argument("--md", action="store_true", help="print a Mermaid flowchart in a Markdown block")


def run(args):
    from tide.cli.output import repo
    from tide.ops.dag import dag

    # dvc's precedence when several are given: --dot, then --mermaid/--md (--md wraps it)
    fmt = "dot" if args.dot else "md" if args.md else "mermaid" if args.mermaid else "text"
    text = dag(repo(), args.target, fmt, args.full, outs=args.outs, collapse=args.collapse_foreach_matrix)
    print(text)
    return 0
