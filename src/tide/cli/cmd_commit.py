def register(p):
    p.add_argument("targets", nargs="*", metavar="TARGET", help="outputs, .dvc files or stages (default: all)")
    p.add_argument("-f", "--force", action="store_true",
                   help="record changed outputs and stages without asking (without -f a changed one is committed "
                        "only if you confirm it; never without a terminal)")
    p.add_argument("--no-relink", dest="relink", action="store_false",
                   help="leave the workspace files as they are (not replaced by links to the cache)")
    from tide.cli._transfer_args import add_selection_args

    add_selection_args(p, "commit")


def run(args):
    from tide.cli.output import confirm, repo
    from tide.ops.commit import commit

    changed = commit(repo(), args.targets or None, force=args.force, confirm=confirm,
                     recursive=args.recursive, with_deps=args.with_deps, relink=args.relink)
    if not args.quiet:
        for c in changed:
            print(f"Updated '{c}'")
        if not changed:
            print("Nothing to commit.")
    return 0
