def register(p):
    sub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    a = sub.add_parser("add", help="add a stage to dvc.yaml")
    a.add_argument("-n", "--name", required=True, help="stage name")
    a.add_argument("-d", "--deps", action="append", default=[], help="a dependency")
    a.add_argument("-p", "--params", action="append", default=[], help="[file:]key[,key...] parameters")
    for flags, dest, text in (
        (("-o", "--outs"), "outs", "an output stored in the cache"),
        (("-O", "--outs-no-cache"), "outs_no_cache", "an output kept in git"),
        (("--outs-persist",), "outs_persist", "an output not removed before running"),
        (("--outs-persist-no-cache",), "outs_persist_no_cache", "a persistent output kept in git"),
        (("-m", "--metrics"), "metrics", "a metrics file stored in the cache"),
        (("-M", "--metrics-no-cache"), "metrics_no_cache", "a metrics file kept in git"),
        (("--plots",), "plots", "a plots file stored in the cache"),
        (("--plots-no-cache",), "plots_no_cache", "a plots file kept in git"),
    ):
        a.add_argument(*flags, dest=dest, action="append", default=[], help=text)
    a.add_argument("-w", "--wdir", help="directory to run the command in (relative to dvc.yaml)")
    a.add_argument("--always-changed", action="store_true", help="always run this stage")
    a.add_argument("--desc", help="a description")
    a.add_argument("-f", "--force", action="store_true", help="replace a stage of the same name")
    a.add_argument("--run", action="store_true", help="reproduce the stage right after adding it")
    a.add_argument("command", nargs="+", help="the command to run")
    ls = sub.add_parser("list", help="list stages (of ./dvc.yaml unless targets, -R or --all say otherwise)")
    ls.add_argument("targets", nargs="*", metavar="TARGET",
                    help="dvc.yaml or .dvc files, stages (NAME, dir/dvc.yaml:NAME), directories with -R")
    ls.add_argument("--all", action="store_true", help="every stage and .dvc file of the repository")
    ls.add_argument("-R", "--recursive", action="store_true", help="the stages under each target directory")
    ls.add_argument("--name-only", "--names-only", action="store_true", help="only the stage addresses")
    ls.add_argument("--fail", action="store_true", help="accepted for dvc compatibility: tide always fails on a "
                    "file that does not load")


def run(args):
    from tide.cli.output import git_hint, repo, warn

    r = repo()
    if args.action == "list":
        from tide.ops.stage import list_stages

        rows = list_stages(r, args.targets, all_stages=args.all, recursive=args.recursive)
        width = max((len(a) for a, _ in rows), default=0)
        for addr, what in rows:  # dvc's table: the address column padded, two spaces, the description
            print(addr if args.name_only else f"{addr:<{width}}  {what}".rstrip())
        return 0
    import shlex

    from tide.ops.stage import KINDS, StageSpec, add

    outs = tuple((k, p) for k in KINDS for p in getattr(args, k))
    cmd = args.command[0] if len(args.command) == 1 else shlex.join(args.command)
    spec = StageSpec(args.name, cmd, tuple(args.deps), tuple(args.params), outs, args.wdir,
                     args.always_changed, args.desc, args.force)
    with r.ignore_journal.command():  # as dvc: a failed --run takes back the entries the add wrote too (N55)
        files = add(r, spec)
        if not args.quiet:
            print(f"Added stage '{args.name}' in 'dvc.yaml'")
        if args.run:
            from tide.ops.repro import ReproRequest, reproduce

            res = reproduce(r, ReproRequest(targets=(args.name,), single_item=True),
                            say=(lambda line: None) if args.quiet else print, warn=lambda line: warn([line]))
            files = list(dict.fromkeys(files + res.git_files))
    git_hint(sorted(set(files)), False, args.quiet, r.root)
    return 0
