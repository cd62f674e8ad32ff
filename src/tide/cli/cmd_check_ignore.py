"""``tide check-ignore [-d] [-n] [-a] TARGET... | --stdin``: paths that .dvcignore excludes (exit 0 when one is)."""


def register(p):
    p.add_argument("targets", nargs="*", metavar="TARGET", help="paths to check")
    p.add_argument("-d", "--details", action="store_true", help="show the .dvcignore file, line and pattern that match")
    p.add_argument("-a", "--all", action="store_true",
                   help="with --details, as dvc: the deciding pattern of each target")
    p.add_argument("-n", "--non-matching", action="store_true",
                   help="with --details, also list targets no pattern matches ('::<TAB>path')")
    p.add_argument("--stdin", action="store_true", help="read paths from standard input, one per line")


def run(args):
    import sys

    from tide.cli.output import repo
    from tide.core.errors import UsageError
    from tide.ops.check_ignore import check

    if args.non_matching and not args.details:
        raise UsageError("`--non-matching` is only valid with `--details`")
    if args.stdin and args.targets:
        raise UsageError("cannot have both TARGET and --stdin")
    if not args.stdin and not args.targets:
        raise UsageError("TARGET or --stdin needed")
    r = repo()
    found = False
    lines = (ln.rstrip("\n") for ln in sys.stdin) if args.stdin else iter(args.targets)
    for target in lines:
        if not target:
            continue
        (v,) = check(r, [target])
        if args.details:
            if v.pattern is not None:
                found = True
                print(f"{v.source}:{v.line}:{v.pattern}\t{v.target}")
            elif args.non_matching:
                print(f"::\t{v.target}")
        elif v.ignored:
            found = True
            print(v.target)
        sys.stdout.flush()
    return 0 if found else 1
