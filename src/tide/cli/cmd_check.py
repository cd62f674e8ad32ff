"""tide check create REPORT.md   (CML's deprecated 'send-github-check REPORT.md' runs this too)"""


def register(p):
    from tide.cli.forgeargs import add_forge_options
    from tide.forge.base import CHECK_STATUSES, CONCLUSIONS

    p.add_argument("action", choices=("create",))
    p.add_argument("report", metavar="REPORT.md")
    p.add_argument("--title", default="tide report", help="check name (default: tide report)")
    p.add_argument("--conclusion", choices=CONCLUSIONS, help="result of a completed check (default: success)")
    p.add_argument("--status", choices=CHECK_STATUSES, default="completed",
                   help="completed (default), or queued/in_progress for a check that has no result yet")
    p.add_argument("--commit-sha", "--head-sha", dest="sha", help="commit to attach the check to (default: HEAD)")
    p.add_argument("--no-publish", dest="publish", action="store_false", default=True,
                   help="do not upload local images")
    add_forge_options(p)


def run(args):
    from tide.cli.forgeargs import forge_options
    from tide.ops.check import create_check

    print(create_check(args.report, title=args.title, conclusion=args.conclusion, status=args.status, sha=args.sha,
                       publish=args.publish, **forge_options(args)))
    return 0
