"""tide get-url: download a file or directory from a URL (local path, s3://, http://, ...), as dvc get-url."""


def register(p):
    p.add_argument("url", help="what to download: a path or a URL (s3://, gs://, azure://, http(s)://, ...)")
    p.add_argument("out", nargs="?", help="where to write it (default: its name, here)")
    p.add_argument("-f", "--force", action="store_true", help="replace what is at the destination")
    p.add_argument("-j", "--jobs", type=int, help="accepted for dvc compatibility")
    p.add_argument("--fs-config", action="append", default=[], metavar="KEY=VALUE",
                   help="an option of the URL's filesystem, as a remote option (endpointurl=..., region=...)")


def run(args):
    from tide.cli._registry_args import fs_config
    from tide.core.config import Env
    from tide.core.errors import TideError
    from tide.ops.registry_url import get_url

    try:
        get_url(args.url, args.out, fs_config(args.fs_config), args.force, Env())
    except TideError as exc:
        exc.args = (f"failed to get '{args.url}' - {exc}",)
        raise
    return 0
