def register(p):
    p.add_argument("targets", nargs="*", metavar="TARGET", help="outputs or .dvc files to restore (default: all)")
    p.add_argument("-f", "--force", action="store_true", help="discard workspace changes that are not in the cache")
    p.add_argument("--relink", action="store_true", help="re-create links even for unchanged outputs")


def run(args):
    from tide.cli.output import repo
    from tide.ops.checkout import checkout, missing_error

    res = checkout(repo(), args.targets or None, force=args.force, relink=args.relink)
    if not args.quiet:
        for p in res.added:
            print(f"A\t{p}")
        for p in res.modified:
            print(f"M\t{p}")
        for p in res.deleted:
            print(f"D\t{p}")
        parts = []
        if res.added:
            parts.append(f"{len(res.added)} added")
        if res.modified:
            parts.append(f"{len(res.modified)} modified")
        if res.deleted:
            parts.append(f"{len(res.deleted)} deleted")
        if parts:
            print(", ".join(parts))
    if res.failed:
        raise missing_error(res)
    return 0
