"""tide update: bring imports (tide's or dvc's, import and import-url) to their source's latest data."""


def register(p):
    p.add_argument("targets", nargs="+", metavar="TARGET", help=".dvc files (or outputs) of imports")
    p.add_argument("--rev", help="git revision to follow from now on (repository imports)")
    p.add_argument("-R", "--recursive", action="store_true", help="update every import in the named directories")
    p.add_argument("--no-download", action="store_true", help="update the .dvc file, download nothing")
    p.add_argument("--to-remote", action="store_true", help="send new data of import-url imports straight to "
                                                            "the remote (not the workspace, not the cache)")
    p.add_argument("-r", "--remote", help="the remote for --to-remote (default: the default remote)")
    p.add_argument("-j", "--jobs", type=int, help="parallel downloads")


def run(args):
    from tide.cli._registry_args import check_jobs
    from tide.cli.output import here, repo
    from tide.ops.registry_import import update

    check_jobs(args.jobs)
    r = repo()
    try:
        results = update(r, args.targets, args.rev, args.no_download, args.jobs, recursive=args.recursive,
                         to_remote=args.to_remote, remote=args.remote)
    finally:
        r.close()
    if not args.quiet:
        for res in results:
            if res.changed:
                print(f"Importing '{res.source}' -> '{here(r.root, res.out)}'")  # dvc's line
            else:
                print(f"'{here(r.root, res.pointer)}' didn't change, skipping")
    return 0
