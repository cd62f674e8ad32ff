"""tide retrain: the whole retraining loop once (see docs/retrain.md)."""


def register(p):
    p.add_argument("--day", help="the day this run is for, YYYY-MM-DD (names the PR branch; default today, UTC)")
    p.add_argument("--stage", help="stage to promote to (default: retrain.stage in tide.yaml, else prod)")
    p.add_argument("--check", action="store_true",
                   help="change nothing: list everything retrain still needs, each with the line that fixes it "
                        "(exit 1 when not ready)")
    p.add_argument("--json", action="store_true",
                   help="print the result (or with --check, the findings) as JSON on stdout; step logs go to stderr")


def run(args):
    import dataclasses
    import os
    import sys

    from tide.cli.output import emit_json
    from tide.core.errors import UsageError

    if args.check:
        from tide.cli.readiness_out import text
        from tide.ops.readiness import check

        r = check(os.getcwd())
        if args.json:
            emit_json(r.to_dict())
        elif not args.quiet or not r.ready:
            print(text(r))
        return 0 if r.ready else 1
    from tide.ops.readiness import NotReady
    from tide.ops.retrain import RetrainRequest, retrain

    if args.day:
        import datetime

        try:
            datetime.date.fromisoformat(args.day)
        except ValueError:
            raise UsageError(f"--day '{args.day}' is not a date (YYYY-MM-DD)")
    say = (lambda s: None) if args.quiet else (lambda s: print(s, flush=True))  # --json: to stderr (cli.main)
    try:
        res = retrain(os.getcwd(), RetrainRequest(args.day, args.stage), say=say)
    except NotReady as exc:
        from tide.cli.readiness_out import text

        print(text(exc.readiness), file=sys.stderr)
        raise
    if args.json:
        emit_json(dataclasses.asdict(res))
    elif not args.quiet and res.pr_url:
        print(f"\nPR: {res.pr_url}\nmodel: {res.version} ({res.outcome})\nreport: {res.comment_url}")
    return 0
