"""Options shared by push, pull and fetch (dvc's names and letters)."""


def add_transfer_args(p, pull: bool = False, glob: bool = False, fetch: bool = False):
    """dvc 3.67.1's options: ``--glob`` on push and pull, ``--allow-missing`` on pull, ``--max-size``
    and ``--type`` on fetch; ``-d``/``-R`` on all three."""
    p.add_argument("targets", nargs="*", metavar="TARGET", help="limit to these outputs or .dvc files")
    p.add_argument("-r", "--remote", help="remote to use (default: core.remote, or each output's 'remote:')")
    p.add_argument("-j", "--jobs", type=int, help="parallel transfers (default: the remote's jobs option)")
    p.add_argument("-a", "--all-branches", action="store_true", help="also objects used by every branch")
    p.add_argument("-T", "--all-tags", action="store_true", help="also objects used by every tag")
    p.add_argument("-A", "--all-commits", action="store_true", help="also objects used by every commit")
    # two plain flags, not argparse.BooleanOptionalAction: a command run without options needs no argparse
    p.add_argument("--run-cache", dest="run_cache", action="store_true", default=None,
                   help="also transfer the run cache (runs/); the default when tide.yaml sets pipeline.run_cache")
    p.add_argument("--no-run-cache", dest="run_cache", action="store_false", default=None,
                   help="do not transfer the run cache, whatever tide.yaml sets")
    add_selection_args(p, "transfer")
    if glob:
        p.add_argument("--glob", action="store_true", help="expand wildcards in the targets (as the shell)")
    if pull:
        p.add_argument("-f", "--force", action="store_true", help="overwrite workspace changes on checkout")
        p.add_argument("--allow-missing", action="store_true",
                       help="do not fail for outputs whose data is neither in the cache nor on the remote")
    if fetch:
        p.add_argument("--max-size", type=int, help="only outputs each smaller than this many bytes")
        p.add_argument("--type", dest="types", action="append", default=[], choices=["metrics", "plots"],
                       help="only metrics or plots outputs (repeatable)")


def add_selection_args(p, what: str):
    """``-d/--with-deps`` and ``-R/--recursive``, as dvc's transfer, checkout and commit commands."""
    p.add_argument("-d", "--with-deps", action="store_true",
                   help=f"also {what} the targets' upstream stages and .dvc files")
    p.add_argument("-R", "--recursive", action="store_true",
                   help="a directory target names every .dvc file and stage under it")


def selected_targets(args, repo) -> list[str] | None:
    """The targets after ``--glob``, ``-R`` and ``-d`` (tide.ops.status.expand_targets, the selector of
    ``status``); None: targets were given and name nothing (nothing to do, as dvc)."""
    targets = list(args.targets or ())
    if targets and getattr(args, "glob", False):
        import glob

        targets = [m for t in targets for m in glob.glob(t, recursive=True)]
        if not targets:
            from tide.core.errors import MissingError

            raise MissingError(f"Glob {list(args.targets)} has no matches.")
    if targets and (args.recursive or args.with_deps):
        import os

        from tide.ops.status import expand_targets

        targets = expand_targets(repo, targets, os.getcwd(), args.recursive, args.with_deps)
        if not targets:
            return None
    return targets


def scope_of(args, repo=None):
    """The transfer's Scope; None when the targets name nothing (see selected_targets)."""
    from tide.ops.data_scope import Scope

    if args.jobs is not None and args.jobs < 1:
        from tide.core.errors import UsageError

        raise UsageError("-j/--jobs must be at least 1")
    targets = selected_targets(args, repo) if repo is not None else list(args.targets)
    if targets is None:
        return None
    return Scope(tuple(targets), args.all_branches, args.all_tags, args.all_commits,
                 max_size=getattr(args, "max_size", None), types=tuple(getattr(args, "types", None) or ()))


def run_cache_of(args, repo):
    """--run-cache, or ``pipeline.run_cache: true`` in tide.yaml (read only when the file exists)."""
    import os

    if args.run_cache is not None:  # --run-cache / --no-run-cache
        return args.run_cache
    if not os.path.exists(os.path.join(repo.root, "tide.yaml")):
        return False
    from tide.pipeline.runcache import sync_by_default

    return sync_by_default(repo.root)


def progress_for(verb, args, repo):
    from tide.cli.transfer_progress import make_progress

    return make_progress(verb, args.quiet, repo.env)
