"""tide get: download a file or directory of another repository (git- or dvc-tracked), as dvc get."""


def register(p):
    p.add_argument("url", help="repository: a local path or a git URL")
    p.add_argument("path", help="file or directory inside the repository")
    p.add_argument("-o", "--out", help="where to write it (default: its name, here)")
    p.add_argument("--rev", help="git revision (branch, tag, commit)")
    p.add_argument("-j", "--jobs", type=int, help="parallel downloads")
    p.add_argument("-f", "--force", action="store_true", help="replace what is at the destination")
    p.add_argument("--show-url", action="store_true",
                   help="print the URL of the data on the source's remote instead of downloading it")
    from tide.cli._registry_args import add_source_options

    add_source_options(p)


def run(args):
    from tide.cli._registry_args import source_options
    from tide.core.config import Env
    from tide.core.errors import TideError, UsageError
    from tide.ops.registry_get import get

    if args.jobs is not None and args.jobs < 1:
        raise UsageError("-j/--jobs must be at least 1")
    try:
        if args.show_url:  # as dvc: dvc.api.get_url with the source options; -o/-f/-j are ignored
            from tide.api.data import get_url

            print(get_url(args.path, args.url, args.rev, **source_options(args)))
            return 0
        get(args.url, args.path, args.out, args.rev, args.jobs, args.force, Env(), options=source_options(args))
    except TideError as exc:
        exc.args = (f"failed to get '{args.path}' from '{args.url}' - {exc}",)
        raise
    return 0
