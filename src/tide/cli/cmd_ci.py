"""tide ci: prepare the repository in CI.  tide ci init github|gitlab: write a scheduled workflow."""

import argparse


def register(p):
    from tide.cli.forgeargs import add_forge_options

    p.add_argument("action", nargs="?", choices=("init",),
                   help="'init PROVIDER': write a scheduled CI workflow (tide ci init github|gitlab)")
    p.add_argument("init_args", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    add_prepare_options(p)
    add_forge_options(p)


def add_prepare_options(p):
    p.add_argument("--fetch-depth", type=int, help="fetch N commits of history (0: everything, unshallow)")
    p.add_argument("--unshallow", action="store_true", help="same as --fetch-depth 0")
    p.add_argument("--user-name", default="tide[bot]", help="git user.name for this repository")
    p.add_argument("--user-email", default="tide-bot@users.noreply.localhost", help="git user.email")


def run_prepare(args):
    from tide.cli.forgeargs import forge_options
    from tide.ops.ci import prepare

    depth = 0 if args.unshallow else args.fetch_depth
    res = prepare(user_name=args.user_name, user_email=args.user_email, fetch_depth=depth, **forge_options(args))
    if not args.quiet:
        for step in res.steps:
            print(step)
    return 0


def run(args):
    if args.action == "init":
        import importlib.util

        if importlib.util.find_spec("tide.ops.workflows") is None:
            from tide.core.errors import UsageError

            raise UsageError("tide ci init is not available in this installation (tide.ops.workflows is missing)")
        from tide.ops.workflows import ci_init

        args.provider = args.init_args[0] if args.init_args else None
        return int(ci_init(args) or 0)
    return run_prepare(args)
