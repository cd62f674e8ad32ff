# no library is loaded on the fast path; the storage registry quiets library logs (tide.core.logs)
LIGHT = True


def register(p):
    from tide.cli._transfer_args import add_transfer_args

    add_transfer_args(p, glob=True)


def run(args):
    from tide.cli._transfer_args import progress_for, run_cache_of, scope_of
    from tide.cli.output import repo
    from tide.cli.transfer_progress import Timer, summary_line
    from tide.ops.push import run_push

    r = repo()
    timer = Timer()
    scope = scope_of(args, r)
    if scope is None:  # -R/-d targets that name nothing: nothing to move (as dvc)
        if not args.quiet:
            print("Everything is up to date.")
        return 0
    s = run_push(r, scope, args.remote, args.jobs, run_cache_of(args, r), progress_for("push", args, r))
    missing = sum(len(res.missing_local) for res in s.results.values())
    if missing:
        import sys

        print(f"WARNING: {missing} objects are missing from the cache and were not pushed "
              "(run 'tide status -c' to see which)", file=sys.stderr)
    if not args.quiet:
        if s.transferred:
            print(summary_line("pushed", s.transferred, s.nbytes, timer.seconds))
        else:
            print("Everything is up to date.")
    return 0
