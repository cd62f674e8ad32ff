def register(p):
    p.add_argument("targets", nargs="*", metavar="TARGET", help="limit to these outputs or .dvc files")
    p.add_argument("--json", action="store_true", help="print the status as JSON")
    p.add_argument("-c", "--cloud", action="store_true", help="compare the cache with a remote")
    p.add_argument("-r", "--remote", help="remote to compare with (implies -c)")
    p.add_argument("-j", "--jobs", type=int, help="parallel requests to the remote")


def run(args):
    from tide.cli.output import emit_json, repo

    r = repo()
    if args.cloud or args.remote:
        try:
            from tide.ops.cloud_status import cloud_status_cli
        except ImportError:
            from tide.core.errors import UsageError

            raise UsageError("remote status is not available in this build")
        return cloud_status_cli(r, args)
    from tide.ops.status import workspace_status

    st = workspace_status(r, args.targets or None)
    if args.json:
        emit_json(st)
        return 0
    if not st:
        if not args.quiet:
            print("Data and pipelines are up to date.")
        return 0
    for source, entries in st.items():
        print(f"{source}:")
        for entry in entries:
            for kind, changes in entry.items():
                if isinstance(changes, dict):
                    print(f"\t{kind}:")
                    for path, state in changes.items():
                        print(f"\t\t{state + ':':<20}{path}")
                else:
                    print(f"\t{kind}")
    return 0
