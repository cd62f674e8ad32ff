"""``tide git-hook HOOK [ARGS...]``: what the hooks ``tide install`` writes run (not for use by hand)."""


def register(p):
    p.add_argument("hook", choices=("post-checkout", "pre-commit", "pre-push"))
    p.add_argument("args", nargs="*", help="the arguments git gives the hook")


def run(args):
    from tide.cli.main import main
    from tide.cli.output import repo
    from tide.ops.install import run_hook

    argv = run_hook(repo(), args.hook, args.args)
    return main(argv) if argv else 0
