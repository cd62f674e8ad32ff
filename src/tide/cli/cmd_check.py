"""tide check create REPORT.md"""


def register(p):
    from tide.cli.forgeargs import add_forge_options

    p.add_argument("action", choices=("create",))
    p.add_argument("report", metavar="REPORT.md")
    p.add_argument("--title", default="tide report", help="check name (default: tide report)")
    p.add_argument("--conclusion", default="success", choices=("success", "failure", "neutral"))
    p.add_argument("--commit-sha", "--head-sha", dest="sha", help="commit to attach the check to (default: HEAD)")
    p.add_argument("--no-publish", dest="publish", action="store_false", default=True,
                   help="do not upload local images")
    add_forge_options(p)


def run(args):
    from tide.cli.forgeargs import forge_options
    from tide.ops.check import create_check

    print(create_check(args.report, title=args.title, conclusion=args.conclusion, sha=args.sha,
                       publish=args.publish, **forge_options(args)))
    return 0
