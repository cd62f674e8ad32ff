"""Options shared by push, pull and fetch (dvc's names and letters)."""


def add_transfer_args(p, pull: bool = False):
    p.add_argument("targets", nargs="*", metavar="TARGET", help="limit to these outputs or .dvc files")
    p.add_argument("-r", "--remote", help="remote to use (default: core.remote, or each output's 'remote:')")
    p.add_argument("-j", "--jobs", type=int, help="parallel transfers (default: the remote's jobs option)")
    p.add_argument("-a", "--all-branches", action="store_true", help="also objects used by every branch")
    p.add_argument("-T", "--all-tags", action="store_true", help="also objects used by every tag")
    p.add_argument("-A", "--all-commits", action="store_true", help="also objects used by every commit")
    p.add_argument("--run-cache", action="store_true",
                   help="also transfer the run cache (runs/); the default when tide.yaml sets pipeline.run_cache")
    if pull:
        p.add_argument("-f", "--force", action="store_true", help="overwrite workspace changes on checkout")


def scope_of(args):
    from tide.ops.data_scope import Scope

    if args.jobs is not None and args.jobs < 1:
        from tide.core.errors import UsageError

        raise UsageError("-j/--jobs must be at least 1")
    return Scope(tuple(args.targets), args.all_branches, args.all_tags, args.all_commits)


def run_cache_of(args, repo):
    """--run-cache, or ``pipeline.run_cache: true`` in tide.yaml (read only when the file exists)."""
    import os

    if args.run_cache:
        return True
    if not os.path.exists(os.path.join(repo.root, "tide.yaml")):
        return False
    from tide.pipeline.runcache import sync_by_default

    return sync_by_default(repo.root)


def progress_for(verb, args, repo):
    from tide.cli.transfer_progress import make_progress

    return make_progress(verb, args.quiet, repo.env)
