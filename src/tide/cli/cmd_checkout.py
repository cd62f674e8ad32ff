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
    from tide.ops.checkout import checkout, missing_error

    r = repo()
    targets = selected_targets(args, r)
    if targets is None:  # -R/-d targets that name nothing: nothing to restore (as dvc)
        return 0
    res = checkout(r, targets or None, force=args.force, relink=args.relink)
    if args.summary and not args.quiet:
        print(files_summary(res.files) or "No changes.")
    elif not args.quiet:
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
    if res.failed and not args.allow_missing:
        raise missing_error(res)
    return 0


def files_summary(counts: dict[str, int]) -> str:
    """dvc's ``get_summary``: ``1 file modified, 2 files added and 1 file deleted`` (zero counts left out)."""
    words = [f"{n} file{'s' if n > 1 else ''} {kind}" for kind, n in counts.items() if n]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + (" and " + words[-1] if words else "")
