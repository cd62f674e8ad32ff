# no library is loaded on the fast path; the storage registry quiets library logs (tide.core.logs)
LIGHT = True


def register(p):
    p.add_argument("targets", nargs="+", metavar="TARGET", help="files or directories to track")
    p.add_argument("--no-commit", action="store_true", help="write the .dvc file but do not put data in the cache")
    p.add_argument("-o", "--out", help="copy TARGET (a path outside the repository, or a URL) to OUT and track it")
    p.add_argument("--glob", action="store_true", help="expand wildcards in TARGETs")
    p.add_argument("--to-remote", action="store_true",
                   help="send TARGET (a path or a URL) straight to the remote: neither the workspace nor the "
                        "cache gets the data, only the .dvc file is written")
    p.add_argument("-r", "--remote", help="with --to-remote: the remote (default: the default remote)")
    p.add_argument("--remote-jobs", type=int, metavar="N", help="with --to-remote: parallel uploads")
    p.add_argument("-f", "--force", action="store_true", help="with -o: replace OUT when it exists")
    p.add_argument("--no-relink", dest="relink", action="store_false",
                   help="leave the workspace files as they are (not replaced by links to the cache)")


def run(args):
    from tide.cli.output import git_hint, repo, warn
    from tide.ops.add import add, add_to_remote, check_transfer_args

    check_transfer_args(args.targets, args.to_remote, args.out, args.glob, args.no_commit, args.remote,
                        args.remote_jobs)
    r = repo()
    if args.to_remote:
        res = add_to_remote(r, args.targets[0], args.out, args.remote, args.remote_jobs, force=args.force)
    else:
        res = add(r, args.targets, no_commit=args.no_commit, out=args.out, use_glob=args.glob,
                  force=args.force, relink=args.relink)
    warn(res.warnings)
    git_hint(res.git_files, res.staged, args.quiet, r.root)
    return 0
