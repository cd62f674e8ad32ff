"""tide retrain: the whole retraining loop once (see docs/retrain.md)."""


def register(p):
    p.add_argument("--day", help="the day this run is for, YYYY-MM-DD (names the PR branch; default today, UTC)")
    p.add_argument("--stage", help="stage to promote to (default: retrain.stage in tide.yaml, else prod)")
    p.add_argument("--json", action="store_true", help="print the result as JSON at the end")


def run(args):
    import dataclasses
    import os

    from tide.cli.output import emit_json
    from tide.core.errors import UsageError
    from tide.ops.retrain import RetrainRequest, retrain

    if args.day:
        import datetime

        try:
            datetime.date.fromisoformat(args.day)
        except ValueError:
            raise UsageError(f"--day '{args.day}' is not a date (YYYY-MM-DD)")
    say = (lambda s: None) if args.quiet else (lambda s: print(s, flush=True))
    res = retrain(os.getcwd(), RetrainRequest(args.day, args.stage), say=say)
    if args.json:
        emit_json(dataclasses.asdict(res))
    elif not args.quiet and res.pr_url:
        print(f"\nPR: {res.pr_url}\nmodel: {res.version} ({res.outcome})\nreport: {res.comment_url}")
    return 0
