"""``tide unprotect TARGET...``: linked data (hardlink/symlink caches) becomes a writable copy."""


def register(p):
    p.add_argument("targets", nargs="+", metavar="TARGET", help="data files or directories to unprotect")


def run(args):
    from tide.cli.output import repo
    from tide.ops.unprotect import unprotect

    unprotect(repo(), args.targets)
    return 0
