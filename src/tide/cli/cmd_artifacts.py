"""tide artifacts get: download an artifact of a registry repository (dvc.yaml ``artifacts:``, GTO tags)."""


def register(p):
    sub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    g = sub.add_parser("get", help="download an artifact's data (its latest version, --rev or --stage)")
    g.add_argument("url", help="repository: a local path or a git URL")
    g.add_argument("name", help="artifact name (NAME, or DIR:NAME for the dvc.yaml of DIR)")
    g.add_argument("--rev", metavar="VERSION", help="the artifact version (a NAME@VERSION tag)")
    g.add_argument("--stage", help="the version this stage holds (NAME#STAGE#N tags)")
    g.add_argument("-o", "--out", help="where to write it (default: its name, here)")
    g.add_argument("--show-url", action="store_true", help="print the URL of the data on the remote instead")
    g.add_argument("-j", "--jobs", type=int, help="parallel downloads")
    g.add_argument("-f", "--force", action="store_true", help="replace what is at the destination")
    from tide.cli._registry_args import add_source_options

    add_source_options(g)


def run(args):
    from tide.cli._registry_args import check_jobs, source_options
    from tide.core.config import Env
    from tide.core.errors import TideError
    from tide.ops import artifacts

    check_jobs(args.jobs)
    options = source_options(args)
    try:
        if args.show_url:
            from tide.api.data import get_url

            commit, path = artifacts.resolve(args.url, args.name, args.rev, args.stage, Env())
            print(get_url(path, args.url, commit, **options))
            return 0
        count, out = artifacts.get(args.url, args.name, args.rev, args.stage, args.out, args.force, args.jobs,
                                   Env(), options)
    except TideError as exc:
        exc.args = (f"failed to get '{args.name}' from '{args.url}' - {exc}",)
        raise
    print(f"Downloaded {count} file(s) to '{out}'")
    return 0
