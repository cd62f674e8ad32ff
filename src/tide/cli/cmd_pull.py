# no library is loaded on the fast path; the storage registry quiets library logs (tide.core.logs)
LIGHT = True


def register(p):
    from tide.cli._transfer_args import add_transfer_args

    add_transfer_args(p, pull=True, glob=True)


def run(args):
    from tide.cli._transfer_args import progress_for, run_cache_of, scope_of
    from tide.cli.output import repo, warn
    from tide.cli.transfer_progress import Timer, change_lines, counts, summary_line
    from tide.ops.pull import run_pull

    r = repo()
    timer = Timer()
    scope = scope_of(args, r)
    if scope is None:  # -R/-d targets that name nothing: nothing to move (as dvc)
        if not args.quiet:
            print("Everything is up to date.")
        return 0
    s = run_pull(r, scope, args.remote, args.jobs, run_cache_of(args, r), args.force,
                 progress_for("pull", args, r), warn=lambda line: warn([line]), allow_missing=args.allow_missing)
    if not args.quiet:
        co = s.checkout
        for line in change_lines(co):
            print(line)
        n = s.fetched.transferred
        if n:
            print(summary_line("fetched", n, s.fetched.nbytes, timer.seconds, then=co.files.items()))
        else:
            print(counts(co.files.items()) or "Everything is up to date.")
    return 0
