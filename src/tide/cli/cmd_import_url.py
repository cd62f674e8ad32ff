"""tide import-url: track a file or directory from a URL (local path, s3://, http://...), as dvc import-url."""


def register(p):
    p.add_argument("url", help="a path or a URL (s3://, gs://, azure://, http(s)://, ...)")
    p.add_argument("out", nargs="?", help="where to put it (default: its name, here)")
    p.add_argument("--no-exec", action="store_true", help="only write the .dvc file")
    p.add_argument("--no-download", action="store_true", help="write the .dvc file with the source's hash, "
                                                              "download nothing")
    p.add_argument("-f", "--force", action="store_true", help="replace an existing output or .dvc file")
    p.add_argument("-j", "--jobs", type=int, help="parallel uploads (with --to-remote)")
    p.add_argument("--to-remote", action="store_true", help="send the data straight to the remote: neither the "
                                                            "workspace nor the cache gets it")
    p.add_argument("-r", "--remote", help="the remote for --to-remote (default: the default remote)")
    p.add_argument("--version-aware", action="store_true",
                   help="record each object's version id (a versioned bucket); update follows new versions, "
                        "pull gets the recorded ones")
    p.add_argument("--fs-config", action="append", default=[], metavar="KEY=VALUE",
                   help="an option of the URL's filesystem, as a remote option (endpointurl=..., region=...)")


def run(args):
    import os

    from tide.cli._registry_args import check_jobs, fs_config
    from tide.cli.output import git_hint, repo
    from tide.core.errors import TideError, UsageError
    from tide.ops.registry_import_url import import_url

    check_jobs(args.jobs)
    if args.no_exec and args.no_download:
        raise UsageError("--no-exec and --no-download cannot be used together")
    r = repo()
    out = args.out or os.path.basename(args.url.rstrip("/"))
    line = None if args.quiet or args.to_remote else f"Importing '{args.url}' -> '{out}'"
    try:
        res = import_url(r, args.url, args.out, args.no_download, args.no_exec, args.force, fs_config(args.fs_config),
                         to_remote=args.to_remote, remote=args.remote, jobs=args.jobs,
                         version_aware=args.version_aware, announce=line and (lambda: print(line, flush=True)))
    except TideError as exc:
        exc.args = (f"failed to import '{args.url}' - {exc}",)
        raise
    finally:
        r.close()
    git_hint(res.git_files, r.autostage and r.git is not None, args.quiet, r.root)
    return 0
