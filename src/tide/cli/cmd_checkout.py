# no library is loaded on the fast path; the storage registry quiets library logs (tide.core.logs)
LIGHT = True


def register(p):
    p.add_argument("targets", nargs="*", metavar="TARGET", help="outputs or .dvc files to restore (default: all)")
    p.add_argument("-f", "--force", action="store_true", help="discard workspace changes that are not in the cache")
    p.add_argument("--relink", action="store_true", help="re-create links even for unchanged outputs")
    p.add_argument("--allow-missing", action="store_true",
                   help="do not fail for outputs whose data is missing from the cache (they are left out)")
    p.add_argument("--summary", action="store_true", help="print only how many files changed")
    from tide.cli._transfer_args import add_selection_args

    add_selection_args(p, "check out")


def run(args):
    from tide.cli._transfer_args import selected_targets
    from tide.cli.output import repo
    from tide.cli.transfer_progress import change_lines, counts
    from tide.ops.checkout import checkout, missing_error

    r = repo()
    targets = selected_targets(args, r)
    if targets is None:  # -R/-d targets that name nothing: nothing to restore (as dvc)
        return 0
    res = checkout(r, targets or None, force=args.force, relink=args.relink)
    if args.summary and not args.quiet:
        print(counts(res.files.items()) or "No changes.")
    elif not args.quiet:  # no count line: that is --summary's (as dvc)
        for line in change_lines(res):
            print(line)
    if res.failed and not args.allow_missing:
        raise missing_error(res)
    return 0

