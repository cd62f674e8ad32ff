"""tide import: track a file or directory of another repository here (frozen .dvc file, as dvc import)."""


def register(p):
    p.add_argument("url", help="repository: a local path or a git URL")
    p.add_argument("path", help="file or directory inside the repository")
    p.add_argument("-o", "--out", help="where to put it (default: its name, here)")
    p.add_argument("--rev", help="git revision (branch, tag, commit); recorded, so 'update' follows it")
    p.add_argument("--no-exec", action="store_true", help="only write the .dvc file (no revision locked)")
    p.add_argument("--no-download", action="store_true", help="write the .dvc file with the locked revision, "
                                                              "download nothing")
    p.add_argument("-f", "--force", action="store_true", help="replace an existing output or .dvc file")
    p.add_argument("-j", "--jobs", type=int, help="parallel downloads")
    from tide.cli._registry_args import add_source_options

    add_source_options(p)


def run(args):
    import os

    from tide.cli._registry_args import check_jobs, source_options
    from tide.cli.output import git_hint, repo
    from tide.core.errors import TideError, UsageError
    from tide.ops.registry_import import import_

    check_jobs(args.jobs)
    options = source_options(args)
    if args.no_exec and args.no_download:
        raise UsageError("--no-exec and --no-download cannot be used together")
    r = repo()
    out = args.out or os.path.basename(args.path.rstrip("/")) or args.path
    line = None if args.quiet else f"Importing '{args.path} ({args.url})' -> '{out}'"
    try:
        res = import_(r, args.url, args.path, args.out, args.rev, args.no_download, args.no_exec, args.force,
                      args.jobs, options=options, announce=line and (lambda: print(line, flush=True)))
    except TideError as exc:
        exc.args = (f"failed to import '{args.path}' from '{args.url}' - {exc}",)
        raise
    finally:
        r.close()
    git_hint(res.git_files, r.autostage and r.git is not None, args.quiet, r.root)
    return 0
