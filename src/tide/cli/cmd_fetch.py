# no library is loaded on the fast path; the storage registry quiets library logs (tide.core.logs)
LIGHT = True


def register(p):
    from tide.cli._transfer_args import add_transfer_args

    add_transfer_args(p, fetch=True)


def run(args):
    from tide.cli._transfer_args import progress_for, run_cache_of, scope_of
    from tide.cli.output import repo, warn
    from tide.cli.transfer_progress import Timer, summary_line
    from tide.ops.fetch import run_fetch

    r = repo()
    timer = Timer()
    scope = scope_of(args, r)
    if scope is None:  # -R/-d targets that name nothing: nothing to move (as dvc)
        if not args.quiet:
            print("Everything is up to date.")
        return 0
    s = run_fetch(r, scope, args.remote, args.jobs, run_cache_of(args, r), progress_for("fetch", args, r),
                  warn=lambda line: warn([line]))
    if not args.quiet:
        if s.transferred:
            print(summary_line("fetched", s.transferred, s.nbytes, timer.seconds))
        else:
            print("Everything is up to date.")
    return 0
