"""``tide queue``: run queued experiments (``tide exp run --queue``) on parallel workers."""


def register(p):
    import argparse

    sub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    s = sub.add_parser("start", help="start workers that run the queued experiments",
                       description="Start detached workers that run the queued experiments. With --on, each "
                       "experiment runs on its own runner (launched, shipped the experiment, torn down after "
                       "it whatever happens); the result comes back as an experiment ref with its outputs "
                       "in the cache (and pushed to the default remote, if any).")
    s.add_argument("-j", "--jobs", type=int, default=1, help="number of workers (experiments at once)")
    s.add_argument("--on", metavar="SPEC", default=None,
                   help="run each experiment on a runner: local, ssh://USER@HOST[:PORT], aws:TYPE[:spot], "
                   "gcp:TYPE, azure:TYPE or a tide.yaml 'runners:' profile (as tide run --on)")
    sub.add_parser("status", help="queued, running, finished and failed experiments")
    lg = sub.add_parser("logs", help="the output of a queued experiment's run")
    lg.add_argument("experiment", help="experiment name or task id")
    lg.add_argument("-f", "--follow", action="store_true", help="keep printing until the run ends")
    k = sub.add_parser("kill", help="kill running experiments (they are marked failed; the queue goes on)")
    k.add_argument("experiment", nargs="+", help="experiment names or task ids")
    k.add_argument("-f", "--force", action="store_true", help="SIGKILL instead of SIGTERM")
    st = sub.add_parser("stop", help="workers stop after their current experiment")
    st.add_argument("--kill", action="store_true", help="also kill the running experiments")
    rm = sub.add_parser("remove", help="remove entries from the queue")
    rm.add_argument("experiment", nargs="*", help="experiment names or task ids")
    rm.add_argument("--all", action="store_true", help="every entry that is not running")
    rm.add_argument("--queued", action="store_true", help="every queued entry")
    rm.add_argument("--failed", action="store_true", help="every failed entry")
    rm.add_argument("--success", action="store_true", help="every finished entry")
    w = sub.add_parser("_worker", help=argparse.SUPPRESS)
    w.add_argument("--on", default=None)
    ex = sub.add_parser("_exec", help=argparse.SUPPRESS)
    ex.add_argument("id")


def run(args):
    from tide.cli.output import repo
    from tide.ops import exp_queue as q

    r = repo()
    say = (lambda line: None) if args.quiet else print
    if args.action == "_worker":
        from tide.cli.signals import sigterm_interrupts

        sigterm_interrupts()
        q.work(r, args.on)
        return 0
    if args.action == "_exec":
        import sys

        def write(data: bytes) -> None:
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()

        if q.on_runner(r, args.id):  # a local run dies of SIGTERM as any process; a runner is torn down first
            from tide.cli.signals import sigterm_interrupts

            sigterm_interrupts()
        return q.execute(r, args.id, say=lambda line: print(line, flush=True), write=write)
    if args.action == "start":
        pids = q.start(r, args.jobs, args.on)
        say(f"Started {len(pids)} worker{'s' if len(pids) != 1 else ''} (pids {', '.join(map(str, pids))})"
            + (f" running experiments on {args.on}." if args.on else "."))
        return 0
    if args.action == "status":
        import time

        from tide.ops.metrics import table

        es = q.entries(r)
        rows = [[e.id[:7], e.name, time.strftime("%b %d %H:%M", time.localtime(e.created)), e.status.capitalize()]
                for e in es]
        head = ["Task", "Name", "Created", "Status"]
        if any(e.on for e in es):  # where each ran (queue start --on): the runner's name and spec
            head.append("Runner")
            for row, e in zip(rows, es, strict=True):
                row.append(f"{e.runner} ({e.on})" if e.on else "")
        if rows:
            print(table(head, rows))
        else:
            say("No experiments in the queue.")
        n = len(q.workers(r))
        say(f"Worker status: {n} active")
        return 0
    if args.action == "logs":
        import sys

        if not args.follow:
            sys.stdout.write(q.logs(r, args.experiment))
            return 0
        for chunk in q.follow(r, args.experiment):
            sys.stdout.write(chunk)
            sys.stdout.flush()
        return 0
    if args.action == "kill":
        for name in q.kill(r, args.experiment, args.force):
            say(f"Killed '{name}'.")
        return 0
    if args.action == "stop":
        q.stop(r, args.kill)
        say("Workers will stop after their current experiment." if not args.kill else "Stopped the queue.")
        return 0
    if args.action == "remove":
        from tide.core.errors import UsageError

        if not (args.experiment or args.all or args.queued or args.failed or args.success):
            raise UsageError("name the entries to remove, or use --all, --queued, --failed or --success")
        gone = q.remove(r, args.experiment, args.queued, args.failed, args.success, args.all)
        if gone:
            say(f"Removed experiments in queue: {', '.join(gone)}")
        return 0
    return 0

