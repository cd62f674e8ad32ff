"""``tide exp``: experiments stored as dvc 3 stores them (``refs/exps/...``)."""

# ``exp show`` loads no library that logs (git, JSON and YAML only): it does not pay for ``logging``
LIGHT_ACTIONS = frozenset({"show"})
# its options are plain: read without argparse when they are exactly what argparse would take (cli/plainargs.py)
PLAIN_ACTIONS = frozenset({"show"})


def register(p):
    sub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    r = sub.add_parser("run", help="run the pipeline as an experiment (in the workspace, or queued)")
    r.add_argument("targets", nargs="*", metavar="TARGET", help="stages or dvc.yaml files to reproduce")
    r.add_argument("-n", "--name", help="experiment name (default: a random adjective-noun)")
    r.add_argument("-S", "--set-param", dest="params", action="append", default=[], metavar="[FILE:]KEY=VALUE",
                   help="override a parameter; 'k=1,2', 'k=range(1,5)', 'k=choice(a,b)' sweep (with --queue)")
    r.add_argument("-f", "--force", action="store_true", help="run stages even if unchanged; replace an experiment")
    r.add_argument("-m", "--message", help="the experiment commit's message")
    r.add_argument("--queue", action="store_true", help="queue the experiment(s) instead of running now")
    r.add_argument("--run-all", action="store_true", help="run every queued experiment (waits for them)")
    r.add_argument("-j", "--jobs", type=int, default=1, help="with --run-all: experiments at once")
    r.add_argument("--on", metavar="SPEC", default=None,
                   help="with --run-all or --temp: run each experiment on its own runner (as tide queue start --on)")
    r.add_argument("--temp", action="store_true",
                   help="run now in an isolated copy of the repository, leaving the workspace as it is")
    r.add_argument("-C", "--copy-paths", action="append", default=[], metavar="PATH",
                   help="with --temp or --queue: an untracked or ignored path to copy into the isolated copy")
    r.add_argument("-s", "--single-item", action="store_true", help="only the named stages")
    r.add_argument("-R", "--recursive", action="store_true", help="targets may be directories")
    r.add_argument("-p", "--pipeline", action="store_true", help="every stage of the targets' pipelines")
    r.add_argument("--downstream", action="store_true", help="the targets and the stages after them")
    r.add_argument("-k", "--keep-going", action="store_true", help="after a failure, run what does not depend on it")
    r.add_argument("--no-run-cache", action="store_true", help="neither restore from nor save to the run cache")
    r.add_argument("--no-hydra", action="store_true",
                   help="with hydra.enabled: do not compose params.yaml from the Hydra config (-S edits it)")

    s = sub.add_parser("show", help="experiments under their baseline commits, with params and metrics")
    s.add_argument("-a", "--all-branches", action="store_true", help="baselines: every branch")
    s.add_argument("-T", "--all-tags", action="store_true", help="baselines: every tag")
    s.add_argument("-A", "--all-commits", action="store_true", help="baselines: every commit")
    s.add_argument("--rev", action="append", default=None, help="baseline revision (default HEAD)")
    s.add_argument("-n", "--num", type=int, default=1, help="this many commits back from each baseline")
    s.add_argument("--only-changed", action="store_true", help="only the columns whose values differ")
    s.add_argument("--drop", help="regular expression: columns to hide")
    s.add_argument("--keep", help="regular expression: columns to show even when --drop/--only-changed hides them")
    s.add_argument("--param-deps", action="store_true", help="only the params stages depend on")
    s.add_argument("--sort-by", help="sort experiments by this metric or param ([file:]key)")
    s.add_argument("--sort-order", choices=("asc", "desc"), default="asc", help="sort order (default asc)")
    s.add_argument("--sha", action="store_true", help="commit ids instead of branch/tag names")
    s.add_argument("--hide-queued", action="store_true", help="do not list queued experiments")
    s.add_argument("--hide-failed", action="store_true", help="do not list failed experiments")
    s.add_argument("--hide-workspace", action="store_true", help="do not list the workspace")
    s.add_argument("--json", action="store_true", help="print dvc's JSON")
    s.add_argument("--csv", action="store_true", help="print CSV")
    s.add_argument("--md", action="store_true", help="print a Markdown table")
    s.add_argument("--precision", type=int, default=None, help="significant digits of floats (default 5)")
    s.add_argument("-f", "--force", action="store_true", help="re-read every commit (no cache)")

    d = sub.add_parser("diff", help="compare params and metrics of two experiments or revisions")
    d.add_argument("a_rev", nargs="?", default=None, help="old: experiment or revision (default HEAD)")
    d.add_argument("b_rev", nargs="?", default=None, help="new: experiment or revision (default the workspace)")
    d.add_argument("--all", action="store_true", help="show unchanged values too")
    d.add_argument("--param-deps", action="store_true", help="only the params stages depend on")
    d.add_argument("--json", action="store_true", help="print JSON")
    d.add_argument("--md", action="store_true", help="print Markdown tables")
    d.add_argument("--no-path", action="store_true", help="hide the Path column")
    d.add_argument("--precision", type=int, default=None, help="round floats to N digits")

    a = sub.add_parser("apply", help="bring an experiment's files into the workspace")
    a.add_argument("experiment", help="experiment name, ref or commit")
    b = sub.add_parser("branch", help="create a git branch from an experiment")
    b.add_argument("experiment", help="experiment name, ref or commit")
    b.add_argument("branch", nargs="?", default=None, help="branch name (default: NAME-branch)")
    rm = sub.add_parser("remove", aliases=["rm"], help="delete experiments (or queued ones)")
    rm.add_argument("experiment", nargs="*", help="experiment names or refs (queued: their names too)")
    rm.add_argument("-A", "--all", action="store_true", help="every experiment")
    rm.add_argument("--rev", action="append", default=None, help="the experiments of this baseline")
    rm.add_argument("-n", "--num", type=int, default=1, help="with --rev: this many commits back")
    rm.add_argument("-g", "--git-remote", help="remove them from this git remote instead")
    rm.add_argument("-q", "--queue", dest="queue", action="store_true", help="also every queued experiment (dvc's -q)")
    sv = sub.add_parser("save", help="record the workspace as an experiment without running anything")
    sv.add_argument("targets", nargs="*", help="stages or .dvc files to commit first (default: all)")
    sv.add_argument("-n", "--name", help="experiment name")
    sv.add_argument("-f", "--force", action="store_true", help="replace an experiment of that name")
    sv.add_argument("-I", "--include-untracked", action="append", default=[], help="also this untracked file")
    sv.add_argument("-m", "--message", help="the experiment commit's message")
    rn = sub.add_parser("rename", help="rename an experiment")
    rn.add_argument("experiment", help="experiment name or ref")
    rn.add_argument("name", help="new name")
    rn.add_argument("-f", "--force", action="store_true", help="replace an experiment of the new name")
    ls = sub.add_parser("list", aliases=["ls"], help="experiment names by baseline")
    ls.add_argument("git_remote", nargs="?", default=None, help="list a git remote's experiments")
    ls.add_argument("-A", "--all-commits", action="store_true", help="every baseline")
    ls.add_argument("--rev", action="append", default=None, help="baseline revision (default HEAD)")
    ls.add_argument("-n", "--num", type=int, default=1, help="this many commits back")
    ls.add_argument("--name-only", "--names-only", dest="name_only", action="store_true", help="names only")
    for verb in ("push", "pull"):
        t = sub.add_parser(verb, help=f"{verb} experiment refs (git) and their data (DVC remote)")
        t.add_argument("git_remote", help="git remote name or URL")
        t.add_argument("experiment", nargs="*", help="experiment names (default: those of HEAD)")
        t.add_argument("-A", "--all", action="store_true", help="every experiment")
        t.add_argument("-f", "--force", action="store_true", help="replace diverged refs")
        t.add_argument("--no-cache", action="store_true", help="refs only, no data")
        t.add_argument("-r", "--remote", help="DVC remote for the data")
        t.add_argument("-j", "--jobs", type=int, default=None, help="parallel transfers")
        t.add_argument("--run-cache", action="store_true", help="also the run cache")
        if verb == "push":
            t.add_argument("--rev", action="append", default=None, help="the experiments of this baseline")
            t.add_argument("-n", "--num", type=int, default=1, help="with --rev: this many commits back")
    sub.add_parser("clean", help="remove what killed or finished queue workers left behind")


def run(args):
    from tide.cli.output import repo

    r = repo()
    action = {"rm": "remove", "ls": "list"}.get(args.action, args.action)
    return globals()[f"_{action}"](r, args)


def _say(args):
    def say(line):
        if not args.quiet:
            print(line, flush=True)
    return say


def _run(r, args):
    import os

    from tide.cli.output import warn

    say = _say(args)
    from tide.core.errors import UsageError

    if args.on is not None and not (args.run_all or args.temp):
        raise UsageError("--on runs experiments in isolated copies: use it with --run-all or --temp "
                         "(or tide queue start --on SPEC)")
    if args.copy_paths and not (args.temp or args.queue):
        raise UsageError("-C/--copy-paths copies into an isolated copy: use it with --temp or --queue "
                         "(a workspace run already sees those paths)")
    if args.temp and not args.queue:
        return _run_temp(r, args, say)
    if args.run_all and not args.queue:
        return _run_all(r, args, say)
    if args.queue:
        from tide.ops import exp_queue

        entries = exp_queue.enqueue(r, exp_queue.QueueRequest(
            name=args.name, params=tuple(args.params), targets=tuple(args.targets), force=args.force,
            message=args.message, run_cache=not args.no_run_cache, copy_paths=tuple(args.copy_paths),
            cwd=os.getcwd(), no_hydra=args.no_hydra))
        for e in entries:
            if e.overrides:
                say(f"Queueing with overrides '{e.overrides}'.")
            say(f"Queued experiment '{e.name}' for future execution.")
        if args.run_all:
            return _run_all(r, args, say)
        return 0
    from tide.ops.exp_run import RunRequest, run

    req = RunRequest(name=args.name, params=tuple(args.params), targets=tuple(args.targets), force=args.force,
                     message=args.message, run_cache=not args.no_run_cache, single_item=args.single_item,
                     recursive=args.recursive, pipeline=args.pipeline, downstream=args.downstream,
                     keep_going=args.keep_going, no_hydra=args.no_hydra)
    res = run(r, req, say=say, warn=lambda line: warn([line]))
    say("")
    say(f"Ran experiment(s): {res.name}")
    say("Experiment results have been applied to your workspace.")
    return 0


def _run_temp(r, args, say):
    import os
    import sys

    from tide.ops import exp_queue
    from tide.ops.exp_refs import ExperimentError

    def write(data: bytes) -> None:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()

    from tide.cli.signals import sigterm_interrupts

    sigterm_interrupts()  # SIGTERM stops the run like Ctrl-C: its copy removed, its runner torn down
    e = exp_queue.run_temp(r, exp_queue.QueueRequest(
        name=args.name, params=tuple(args.params), targets=tuple(args.targets), force=args.force,
        message=args.message, run_cache=not args.no_run_cache, copy_paths=tuple(args.copy_paths), cwd=os.getcwd(),
        no_hydra=args.no_hydra),
        say=say, write=write if not args.quiet else (lambda data: None), on=args.on)
    if e.status != "success":
        raise ExperimentError(e.error or f"experiment '{e.name}' failed")
    say("")
    say(f"Ran experiment(s): {e.name}")
    return 0


def _run_all(r, args, say):
    """Run the queue on -j workers; on a terminal, a live table of the experiments and their state."""
    import sys

    from tide.cli.signals import sigterm_interrupts
    from tide.ops import exp_queue

    sigterm_interrupts()  # SIGTERM stops the workers' runs like Ctrl-C (runners torn down), then ends
    if args.quiet or not sys.stdout.isatty():
        done = exp_queue.run_all(r, jobs=args.jobs, say=say, on=args.on)
        return 0 if all(e.status == "success" for e in done) else 1
    from rich.live import Live
    from rich.table import Table

    def render(es):
        t = Table("Task", "Name", "Status", "Exit", "Log", *(["Runner"] if args.on else []))
        for e in es:
            t.add_row(e.id[:7], e.name, e.status.capitalize(), "" if e.returncode is None else str(e.returncode),
                      f"tide queue logs {e.name}", *([e.runner or ""] if args.on else []))
        return t

    with Live(render([]), refresh_per_second=2, transient=True) as live:
        done = exp_queue.run_all(r, jobs=args.jobs, say=lambda line: None, tick=lambda es: live.update(render(es)),
                                 on=args.on)
    for e in done:
        say(f"{'Ran' if e.status == 'success' else 'Failed'} experiment '{e.name}'"
            + (f": {e.error}" if e.error and e.status != "success" else ""))
    return 0 if all(e.status == "success" for e in done) else 1


def _show(r, args):
    from tide.cli.output import emit_json
    from tide.ops import exp_show

    queued = exp_show.queued(r, args.hide_queued, args.hide_failed)
    states = exp_show.collect(r, args.rev, args.all_branches, args.all_tags, args.all_commits, args.num,
                              args.hide_workspace, queued=queued, use_cache=not args.force,
                              param_deps=args.param_deps)
    if args.sha:
        for s in states:
            s["name"] = None if s["rev"] != "workspace" else s["name"]
    if args.json:
        emit_json(states)
        return 0
    fill = "" if args.csv else "-"
    headers, rows, groups = exp_show.tabulate(states, fill=fill, precision=None if args.csv else (args.precision or 5),
                                              iso=args.csv, sort_by=args.sort_by, sort_order=args.sort_order)
    headers = _columns(headers, rows, groups, args, fill)
    if args.csv:
        import csv
        import sys

        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(headers)
        for row in rows:
            w.writerow([row[h] for h in headers])
        return 0
    print(_table(headers, rows, args.md))
    return 0


def _columns(headers, rows, groups, args, fill):
    import re

    from tide.core.errors import UsageError

    data_cols = [h for k in ("metrics", "params", "deps") for h in groups[k]]
    keep_re = drop_re = None
    try:
        if args.keep:
            keep_re = re.compile(args.keep)
        if args.drop:
            drop_re = re.compile(args.drop)
    except re.error as exc:
        raise UsageError(f"invalid regular expression: {exc}")
    out = []
    for h in headers:
        values = [row[h] for row in rows]
        kept = keep_re is not None and keep_re.search(h)
        if not kept:
            if h in ("State", "Executor") and all(v in (fill, "") for v in values):
                continue  # dvc drops its empty bookkeeping columns
            if drop_re is not None and drop_re.search(h):
                continue
            if args.only_changed and h in data_cols and len({v for v in values if v != fill}) <= 1:
                continue
        out.append(h)
    if not args.csv:
        out = [h for h in out if h not in ("rev", "typ", "parent")]
    return out


def _table(headers, rows, markdown):
    from tide.core.texttable import table

    shown = []
    for row in rows:
        if row["typ"] == "baseline":
            label = row["rev"]
        else:
            tree = "└── " if row["typ"] == "branch_base" else "├── "
            label = f"{tree}{row['rev']}" + (f" [{row['Experiment']}]" if row["Experiment"] else "")
        shown.append([label if h == "Experiment" else row[h] for h in headers])
    return table(headers, shown, markdown)


def _diff(r, args):
    from tide.cli.output import emit_json
    from tide.ops import exp_manage
    from tide.ops.metrics import diff_table

    d = exp_manage.diff(r, args.a_rev, args.b_rev, args.all, args.param_deps)
    if args.json:
        emit_json(d)
        return 0
    a, b = args.a_rev or "HEAD", args.b_rev or "workspace"
    out = []
    for key, title in (("metrics", "Metric"), ("params", "Param")):
        if d.get(key):
            out.append(diff_table(d[key], title, a, b, args.md, args.precision, args.no_path))
    if out:
        print("\n\n".join(out))
    return 0


def _apply(r, args):
    from tide.ops import exp_manage

    _, backup = exp_manage.apply(r, args.experiment)
    say = _say(args)
    if backup:
        say(f"Your uncommitted changes were saved as {backup[:7]} ({exp_manage.BACKUP}): "
            f"'git stash show -p {backup[:7]}' shows them, 'git stash apply {backup[:7]}' on a clean "
            "workspace restores them.")
    say(f"Changes for experiment '{args.experiment}' have been applied to your current workspace.")
    return 0


def _branch(r, args):
    from tide.ops import exp_manage

    name = exp_manage.branch(r, args.experiment, args.branch)
    _say(args)(f"Git branch '{name}' has been created from experiment '{args.experiment}'.\n"
               f"To switch to the new branch run:\n\n\tgit checkout {name}")
    return 0


def _remove(r, args):
    from tide.core.errors import UsageError
    from tide.ops import exp_manage

    if not (args.experiment or args.all or args.rev or args.queue):
        raise UsageError("name the experiments to remove, or use --all, --rev or --queue")
    removed: list[str] = []
    names = list(args.experiment)
    if args.queue or names:
        from tide.ops import exp_queue

        taken = exp_queue.remove(r, names, queued=args.queue)
        removed += taken
        names = [n for n in names if n not in taken]
    if names or args.all or args.rev:
        removed += exp_manage.remove(r, names, args.all, args.rev or [], args.num, args.git_remote)
    if removed:
        _say(args)(f"Removed experiments: {','.join(removed)}")
    return 0


def _save(r, args):
    from tide.ops.exp_run import save

    res = save(r, args.name, args.force, tuple(args.include_untracked), args.message, tuple(args.targets))
    _say(args)(f"Experiment has been saved as: {res.name}")
    return 0


def _rename(r, args):
    from tide.ops import exp_manage

    exp_manage.rename(r, args.experiment, args.name, args.force)
    return 0


def _list(r, args):
    from tide.ops import exp_manage

    res = exp_manage.listing(r, args.all_commits, args.rev, args.num, args.git_remote)
    say = _say(args)
    for base, items in res.items():
        if not args.name_only:
            say(f"{base[:7]}:")
        for name, _ in items:
            say(name if args.name_only else f"\t{name}")
    return 0


def _push(r, args):
    from tide.ops import exp_manage

    done = exp_manage.push(r, args.git_remote, args.experiment, args.all, args.rev, args.num, args.force,
                           not args.no_cache, args.remote, args.jobs, args.run_cache)
    say = _say(args)
    if done:
        say(f"Pushed experiment {','.join(done)} to Git remote '{args.git_remote}'.")
    else:
        say("No experiments to push.")
    return 0


def _pull(r, args):
    from tide.ops import exp_manage

    done = exp_manage.pull(r, args.git_remote, args.experiment, args.all, args.force, not args.no_cache,
                           args.remote, args.jobs, args.run_cache)
    say = _say(args)
    if done:
        say(f"Pulled experiment {','.join(done)} from Git remote '{args.git_remote}'.")
    else:
        say("No experiments to pull.")
    return 0


def _clean(r, args):
    from tide.ops import exp_queue

    n = exp_queue.clean(r)
    _say(args)(f"Removed {n} leftover worker cop{'y' if n == 1 else 'ies'}." if n else "Nothing to clean.")
    return 0
