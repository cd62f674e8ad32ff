"""tide du: disk usage of a repository's files (git and dvc), as dvc du."""


def register(p):
    p.add_argument("url", help="repository: a local path or a git URL")
    p.add_argument("path", nargs="?", help="directory or file inside the repository")
    p.add_argument("--rev", help="git revision (branch, tag, commit)")
    p.add_argument("-s", "--summarize", action="store_true", help="show the total only")
    from tide.cli._registry_args import add_source_options

    add_source_options(p)  # --config, --remote, --remote-config: the source's config, as dvc du and ls


def run(args):
    from tide.cli._registry_args import source_options
    from tide.core.config import Env
    from tide.ops.du import du, render
    from tide.ops.registry_source import open_source

    with open_source(args.url, args.rev, Env(), **source_options(args)) as src:
        rows = du(src, args.path, args.summarize)
    print(render(rows))
    return 0
