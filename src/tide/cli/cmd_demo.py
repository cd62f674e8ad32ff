"""tide demo: run the seed's example on embedded defaults in ./.demo (make demo)."""


def register(p):
    p.add_argument("--dir", default=".demo",
                   help="workspace to create (default .demo); one an earlier demo made is emptied first,"
                   " any other non-empty directory is refused")
    p.add_argument("--days", type=int, default=4, help="simulated days of tide retrain (default 4)")


def run(args):
    from tide.ops.demo import run_demo

    say = (lambda s: None) if args.quiet else (lambda s: print(s, flush=True))
    if args.days < 1:
        from tide.core.errors import UsageError

        raise UsageError('--days must be at least 1')
    run_demo(args.dir, days=args.days, say=say)
    return 0
