def register(p):
    p.add_argument("-w", "--workspace", action="store_true", help="keep what the workspace uses")
    p.add_argument("-a", "--all-branches", action="store_true", help="keep what every branch uses")
    p.add_argument("-T", "--all-tags", action="store_true", help="keep what every tag uses")
    p.add_argument("-A", "--all-commits", action="store_true", help="keep what every commit uses")
    p.add_argument("--all-experiments", action="store_true", help="keep what every experiment's commits use")
    p.add_argument("--date", dest="commit_date", metavar="YYYY-MM-DD",
                   help="keep what every commit made on or after that date (local time) uses")
    p.add_argument("--skip-failed", action="store_true",
                   help="a revision whose .dvc or dvc.lock files cannot be read keeps nothing (a warning), "
                        "instead of stopping gc")
    p.add_argument("--rev", help="keep what this commit uses (with -n: and its N-1 ancestors)")
    p.add_argument("-n", "--num", type=int, help="with --rev or -a: the last N commits of each")
    p.add_argument("--not-in-remote", action="store_true",
                   help="do not keep what the remote (-r, or the default) already has")
    p.add_argument("-c", "--cloud", action="store_true", help="also collect garbage on the remote")
    p.add_argument("-r", "--remote", help="remote for -c or --not-in-remote")
    p.add_argument("-j", "--jobs", type=int, help="parallel requests to the remote")
    p.add_argument("--dry", action="store_true", help="only show what would be removed")
    p.add_argument("-f", "--force", action="store_true", help="do not ask for confirmation")


def run(args):
    from tide.ops.gc import IncompleteKeepSet

    try:
        return _run(args)
    except IncompleteKeepSet as exc:
        if args.dry:  # a dry run lists every root that could not be read, then the one-line error
            import sys

            for u in exc.unreadable:
                print(f"could not read {u}", file=sys.stderr)
        raise


def _run(args):
    from tide.cli.output import confirm, repo
    from tide.core.errors import UsageError
    from tide.ops import gc

    def warn(line):
        import sys

        print(line, file=sys.stderr)

    r = repo()
    scope = dict(
        workspace=args.workspace, all_branches=args.all_branches, all_tags=args.all_tags, all_commits=args.all_commits,
        rev=args.rev, num=args.num,
    )
    # as dvc 3.67.1: -r alone is a local gc (its check that -r needs -c is never reached)
    if args.not_in_remote and args.cloud:
        raise UsageError("`--not-in-remote` and `--cloud` are mutually exclusive")
    if args.cloud and (args.all_experiments or args.commit_date or args.skip_failed):
        # refused rather than ignored: a remote gc that ignored them would delete what they keep
        raise UsageError("--all-experiments, --date and --skip-failed are not supported with -c/--cloud yet")
    if args.cloud:
        return _cloud(r, args, scope)
    with r.lock():
        plan = gc.plan(r, **scope, not_in_remote=args.not_in_remote, remote=args.remote, jobs=args.jobs,
                       all_experiments=args.all_experiments, date=args.commit_date, skip_failed=args.skip_failed,
                       warn=warn)
        gc.require_complete(plan.unreadable, args.dry)
        if args.dry:
            for oid, legacy in plan.remove:
                print(f"would remove {r.cache.path(oid, legacy)}")
            print(f"{len(plan.remove)} objects would be removed, {len(plan.keep)} kept.")
            return 0
        if plan.remove and not args.force:
            print(f"This will remove {len(plan.remove)} objects from the cache that the chosen scope does not use.")
            if not confirm("Are you sure you want to proceed?"):
                raise UsageError("gc aborted: nothing removed (use -f to skip the confirmation)")
        n = gc.execute(r, plan)
    if not args.quiet:
        print(f"Removed {n} objects from the cache." if n else "No unused cache to remove.")
    return 0


def _cloud(r, args, scope):
    from tide.cli.output import confirm
    from tide.core.errors import UsageError
    from tide.ops.gc import require_complete

    try:
        from tide.ops.cloud_gc import cloud_gc
    except ImportError:
        raise UsageError("remote garbage collection is not available in this build")

    def kept(p):
        if p.recent and not args.quiet:
            print(f"Kept {len(p.recent)} unused objects written less than {p.grace:g}s ago or of unknown age "
                  "(grace period for pushes in flight; TIDE_GC_GRACE=SECONDS changes it).")

    def proceed(p):
        kept(p)
        question = f"This will remove {len(p.remove)} objects from remote '{p.remote}'. Proceed?"
        return not p.remove or args.force or confirm(question)

    out = cloud_gc(r, scope, args.remote, args.jobs, dry=args.dry, proceed=proceed)
    p = out.plan
    if args.dry:
        from tide.objects.remote import object_key

        kept(p)
        for ref in p.remove:
            print(f"would remove {object_key(ref)}")
        print(f"{len(p.remove)} objects would be removed from remote '{p.remote}', {len(p.keep)} kept.")
        require_complete(out.local.unreadable, True)
        print(f"{len(out.local.remove)} objects would be removed from the cache.")
        return 0
    if not args.quiet:
        n, local_n = out.removed, out.local_removed
        print(f"Removed {n} objects from remote '{p.remote}'." if n else f"No unused objects on remote '{p.remote}'.")
        print(f"Removed {local_n} objects from the cache." if local_n else "No unused cache to remove.")
    return 0
