def register(p):
    p.add_argument("targets", nargs="+", metavar="TARGET", help="files or directories to track")
    p.add_argument("--no-commit", action="store_true", help="write the .dvc file but do not put data in the cache")
    p.add_argument("-o", "--out", help="copy TARGET (which may be outside the repository) to OUT and track it")
    p.add_argument("--glob", action="store_true", help="expand wildcards in TARGETs")
    p.add_argument("-f", "--force", action="store_true", help="with -o: replace OUT when it exists")
    p.add_argument("--no-relink", dest="relink", action="store_false",
                   help="leave the workspace files as they are (not replaced by links to the cache)")


def run(args):
    from tide.cli.output import git_hint, repo, warn
    from tide.ops.add import add

    r = repo()
    res = add(r, args.targets, no_commit=args.no_commit, out=args.out, use_glob=args.glob,
              force=args.force, relink=args.relink)
    warn(res.warnings)
    git_hint(res.git_files, res.staged, args.quiet)
    return 0
