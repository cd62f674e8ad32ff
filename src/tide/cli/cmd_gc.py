def register(p):
    p.add_argument("-w", "--workspace", action="store_true", help="keep what the workspace uses")
    p.add_argument("-a", "--all-branches", action="store_true", help="keep what every branch uses")
    p.add_argument("-T", "--all-tags", action="store_true", help="keep what every tag uses")
    p.add_argument("-A", "--all-commits", action="store_true", help="keep what every commit uses")
    p.add_argument("-c", "--cloud", action="store_true", help="also collect garbage on the remote")
    p.add_argument("-r", "--remote", help="remote for -c")
    p.add_argument("-j", "--jobs", type=int, help="parallel requests to the remote")
    p.add_argument("--dry", action="store_true", help="only show what would be removed")
    p.add_argument("-f", "--force", action="store_true", help="do not ask for confirmation")


def run(args):
    from tide.cli.output import confirm, repo
    from tide.core.errors import UsageError
    from tide.ops import gc

    r = repo()
    scope = dict(
        workspace=args.workspace, all_branches=args.all_branches, all_tags=args.all_tags, all_commits=args.all_commits
    )
    if args.cloud or args.remote:
        try:
            from tide.ops.cloud_gc import cloud_gc_cli
        except ImportError:
            raise UsageError("remote garbage collection is not available in this build")
        return cloud_gc_cli(r, args, scope)
    with r.lock():
        plan = gc.plan(r, **scope)
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
