def register(p):
    p.add_argument("targets", nargs="*", metavar="TARGET", help="outputs, .dvc files or stages (default: all)")
    p.add_argument("-f", "--force", action="store_true", help="commit without asking")


def run(args):
    from tide.cli.output import repo
    from tide.ops.commit import commit

    changed = commit(repo(), args.targets or None)
    if not args.quiet:
        for c in changed:
            print(f"Updated '{c}'")
        if not changed:
            print("Nothing to commit.")
    return 0
