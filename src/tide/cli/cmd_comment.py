"""tide comment create|update REPORT.md"""

import argparse


def register(p):
    from tide.cli.forgeargs import add_forge_options

    p.add_argument("action", choices=("create", "update"),
                   help="create a comment, or update the newest one with the same watermark (create if none)")
    p.add_argument("report", metavar="REPORT.md", help="markdown file to post")
    p.add_argument("--target", default="auto",
                   help="auto (default: the PR of this commit, else the commit), pr, commit, commit/REV, pr#N, issue#N")
    p.add_argument("--watermark-title", default="",
                   help="label that identifies the comment to update ({workflow} and {run} are replaced)")
    p.add_argument("--publish", dest="publish", action="store_true", default=True,
                   help="upload local images the report references and rewrite their links (default)")
    p.add_argument("--no-publish", dest="publish", action="store_false", help="post the markdown as it is")
    p.add_argument("--to", dest="publish_to", choices=("forge", "remote"), default="forge",
                   help="where images go: the forge's storage (default) or the project's DVC remote")
    p.add_argument("--update", action="store_true", help="same as 'comment update' (CML compatibility)")
    p.add_argument("--pr", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--commit-sha", "--head-sha", dest="commit_sha", help=argparse.SUPPRESS)
    p.add_argument("--rm-watermark", action="store_true", help=argparse.SUPPRESS)
    add_forge_options(p)


def run(args):
    from tide.cli.forgeargs import forge_options
    from tide.ops.comment import create_comment

    target = args.target
    if args.pr:
        target = "pr"
    if args.commit_sha:
        target = f"commit/{args.commit_sha}"
    res = create_comment(
        args.report, target=target, update=args.update or args.action == "update",
        watermark_title=args.watermark_title, publish=args.publish, publish_to=args.publish_to,
        rm_watermark=args.rm_watermark, **forge_options(args),
    )
    print(res.url)
    return 0
