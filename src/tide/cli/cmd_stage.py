def register(p):
    sub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    a = sub.add_parser("add", help="add a stage to dvc.yaml")
    a.add_argument("-n", "--name", required=True, help="stage name")
    a.add_argument("-d", "--deps", action="append", default=[], help="a dependency")
    a.add_argument("-p", "--params", action="append", default=[], help="[file:]key[,key...] parameters")
    for flag, dest, text in (
        ("-o", "outs", "an output stored in the cache"), ("-O", "outs_no_cache", "an output kept in git"),
        ("--outs-persist", "outs_persist", "an output not removed before running"),
        ("--outs-persist-no-cache", "outs_persist_no_cache", "a persistent output kept in git"),
        ("-m", "metrics", "a metrics file stored in the cache"),
        ("-M", "metrics_no_cache", "a metrics file kept in git"),
        ("--plots", "plots", "a plots file stored in the cache"),
        ("--plots-no-cache", "plots_no_cache", "a plots file kept in git"),
    ):
        a.add_argument(flag, dest=dest, action="append", default=[], help=text)
    a.add_argument("-w", "--wdir", help="directory to run the command in (relative to dvc.yaml)")
    a.add_argument("--always-changed", action="store_true", help="always run this stage")
    a.add_argument("--desc", help="a description")
    a.add_argument("-f", "--force", action="store_true", help="replace a stage of the same name")
    a.add_argument("--run", action="store_true", help="reproduce the stage right after adding it")
    a.add_argument("command", nargs="+", help="the command to run")
    sub.add_parser("list", help="list the stages of the repository")


def run(args):
    from tide.cli.output import git_hint, repo

    r = repo()
    if args.action == "list":
        from tide.ops.stage import list_stages

        for name, what in list_stages(r):
            print(f"{name:<20} {what}".rstrip())
        return 0
    import shlex

    from tide.ops.stage import KINDS, StageSpec, add

    outs = tuple((k, p) for k in KINDS for p in getattr(args, k))
    cmd = args.command[0] if len(args.command) == 1 else shlex.join(args.command)
    spec = StageSpec(args.name, cmd, tuple(args.deps), tuple(args.params), outs, args.wdir,
                     args.always_changed, args.desc, args.force)
    files = add(r, spec)
    if not args.quiet:
        print(f"Added stage '{args.name}' in 'dvc.yaml'")
    if args.run:
        from tide.ops.repro import ReproRequest, reproduce

        res = reproduce(r, ReproRequest(targets=(args.name,), single_item=True),
                        say=(lambda line: None) if args.quiet else print)
        files = list(dict.fromkeys(files + res.git_files))
    git_hint(sorted(set(files)), False, args.quiet)
    return 0
