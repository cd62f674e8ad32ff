"""tide comment create|update REPORT.md   (CML's deprecated 'send-comment REPORT.md' runs 'comment create')"""

import argparse


def register(p):
    from tide.cli.cmlcompat import add_publish_options
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
    add_publish_options(p)
    p.add_argument("--update", action="store_true", help="same as 'comment update' (CML compatibility)")
    p.add_argument("--rm-watermark", action="store_true",
                   help="post without tide's watermark (such a comment can never be found again to update)")
    w = p.add_argument_group("watch (CML's --watch, bounded)")
    w.add_argument("--watch", action="store_true",
                   help="post now, then update the comment each time the report or an image it links changes")
    w.add_argument("--watch-interval", default="2", metavar="SECONDS", help="how often to look (default 2)")
    w.add_argument("--watch-timeout", default="1h", metavar="DURATION",
                   help="stop watching after this long (default 1h; 'never' for no limit); deleting the report "
                        "or an interrupt stops it too")
    w.add_argument("--trigger-file", metavar="FILE",
                   help="with --watch: post when FILE appears or changes (then delete it) instead of on report changes")
    p.add_argument("--pr", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--commit-sha", "--head-sha", dest="commit_sha", nargs="?", const="HEAD", help=argparse.SUPPRESS)
    add_forge_options(p)


def _target(args) -> tuple[str, str | None]:
    """CML's --pr and --commit-sha: --pr alone = the PR of HEAD; --pr with --commit-sha REV = the PR
    containing REV; --commit-sha REV alone = that commit."""
    if args.pr:
        return "pr", args.commit_sha
    if args.commit_sha:
        return f"commit/{args.commit_sha}", None
    return args.target, None


def run(args):
    from tide.cli.cmlcompat import destination
    from tide.cli.forgeargs import forge_options
    from tide.core.errors import UsageError

    to, url = destination(args)
    target, commit = _target(args)
    update = args.update or args.action == "update"
    options = dict(target=target, commit=commit, watermark_title=args.watermark_title, publish=args.publish,
                   publish_to=to, publish_url=url, rm_watermark=args.rm_watermark, **forge_options(args))
    if args.trigger_file and not args.watch:
        raise UsageError("--trigger-file works with --watch")
    if args.watch:
        from tide.ops.comment import watch_comment
        from tide.runners.base import parse_duration

        try:
            interval = float(args.watch_interval)
        except ValueError:
            raise UsageError(f"--watch-interval: '{args.watch_interval}' is not a number of seconds")
        timeout = parse_duration(args.watch_timeout, "--watch-timeout", 3600)
        try:
            watch_comment(args.report, interval=interval, timeout=timeout, trigger_file=args.trigger_file,
                          update=update, on_post=lambda res: print(res.url, flush=True), **options)
        except KeyboardInterrupt:  # Ctrl-C is how a watch is meant to end
            pass
        return 0
    from tide.ops.comment import create_comment

    res = create_comment(args.report, update=update, **options)
    print(res.url)
    return 0
