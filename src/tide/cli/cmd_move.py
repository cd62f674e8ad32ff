def register(p):
    p.add_argument("src", help="tracked output to move")
    p.add_argument("dst", help="new path (or an existing directory to move into)")


def run(args):
    from tide.cli.output import git_hint, repo
    from tide.ops.move import move

    r = repo()
    _, files = move(r, args.src, args.dst)
    git_hint(files, r.autostage, args.quiet, r.root)
    return 0
