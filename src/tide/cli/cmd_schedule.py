"""tide schedule run|install|show: the retraining loop without a CI service."""


def register(p):
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    r = sub.add_parser("run", help="foreground scheduler: run tide retrain at every cron time until stopped")
    r.add_argument("--cron", help="cron schedule (default: schedule.cron in tide.yaml, else '0 8 * * *')")
    r.add_argument("--now", action="store_true", help="run once immediately, then follow the schedule")
    r.add_argument("--max-runs", type=int, help="stop after N runs")
    r.add_argument("--command", help="command to run instead of 'tide retrain'")
    i = sub.add_parser("install", help="install the schedule as a crontab entry or a systemd user timer")
    i.add_argument("--cron")
    g = i.add_mutually_exclusive_group()
    g.add_argument("--crontab", action="store_true", help="a crontab entry (the default)")
    g.add_argument("--systemd", action="store_true", help="a systemd user timer and service")
    i.add_argument("--command", help="command to run instead of 'tide retrain'")
    i.add_argument("--unit-dir", help="where to write systemd units (default ~/.config/systemd/user)")
    i.add_argument("--no-enable", action="store_true", help="write the units without enabling them")
    s = sub.add_parser("show", help="the schedule and its next run times")
    s.add_argument("--cron")
    s.add_argument("-n", type=int, default=3, help="how many next runs to show")


def _cron(args, root):
    from tide.core import settings as S
    from tide.ops.workflows import check_cron

    return check_cron(args.cron or S.schedule_settings(S.load(root)).cron)


def run(args):
    import datetime
    import os
    import shlex
    import sys

    from tide.cli.output import repo
    from tide.ops import schedule as sch

    r = repo()
    root = r.root
    r.close()
    cron = _cron(args, root)
    if args.action == "show":
        print(f"schedule: {cron} (UTC)")
        for t in sch.next_times(cron, datetime.datetime.now(datetime.UTC), args.n):
            print(f"  next: {t.strftime('%Y-%m-%d %H:%M')} UTC")
        return 0
    if args.action == "run":
        command = shlex.split(args.command) if args.command else sch.default_command()
        logs = sch.run_loop(root, cron, command, say=lambda s: print(s, flush=True), max_runs=args.max_runs,
                            now_first=args.now)
        return 0 if all(x.exit_code == 0 for x in logs) else 1
    command = args.command or f"{shlex.quote(sys.executable)} -m tide retrain"
    if args.systemd:
        unit_dir = args.unit_dir or os.path.join(os.path.expanduser("~"), ".config", "systemd", "user")
        svc, tmr = sch.install_systemd(root, cron, command, unit_dir)
        print(f"Wrote {svc}\nWrote {tmr} (OnCalendar={sch.on_calendar(cron)})")
        if not args.no_enable:
            manual = sch.enable_systemd(tmr)
            print("Enabled the timer." if manual is None else f"Enable it with: {manual}")
        return 0
    line = sch.install_crontab(root, cron, command)
    print(f"Installed crontab entry:\n  {line}")
    return 0
