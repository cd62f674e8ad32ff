"""tide du: disk usage of a repository's files (git and dvc), as dvc du."""


def register(p):
    p.add_argument("url", help="repository: a local path or a git URL")
    p.add_argument("path", nargs="?", help="directory or file inside the repository")
    p.add_argument("--rev", help="git revision (branch, tag, commit)")
    p.add_argument("-s", "--summarize", action="store_true", help="show the total only")
    p.add_argument("--remote", help="remote of the repository to read manifests from")


def run(args):
    from tide.core.config import Env
    from tide.ops.du import du, render
    from tide.ops.registry_source import open_source

    with open_source(args.url, args.rev, Env(), args.remote) as src:
        rows = du(src, args.path, args.summarize)
    print(render(rows))
    return 0
