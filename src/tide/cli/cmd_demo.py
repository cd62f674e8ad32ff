"""tide demo: run the seed's example on embedded defaults in ./.demo (make demo)."""


def register(p):
    p.add_argument("--dir", default=".demo", help="workspace to create (removed first if it exists; default .demo)")


def run(args):
    from tide.ops.demo import run_demo

    say = (lambda s: None) if args.quiet else (lambda s: print(s, flush=True))
    run_demo(args.dir, say=say)
    return 0
