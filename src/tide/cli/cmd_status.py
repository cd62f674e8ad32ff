# no library is loaded on the fast path; the storage registry quiets library logs (tide.core.logs)
LIGHT = True


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
        return _cloud(r, args)
    from tide.ops.status import workspace_status

    st = workspace_status(r, args.targets or None)
    if args.json:
        emit_json(st)
        return 0
    if args.quiet:  # as dvc: nothing printed, the exit code says whether anything changed
        return int(bool(st))
    if not st:
        print("Data and pipelines are up to date.")
        return 0
    _show(st, 0)
    return 0


def _cloud(r, args):
    try:
        from tide.ops.cloud_status import cloud_status
    except ImportError:
        from tide.core.errors import UsageError

        raise UsageError("remote status is not available in this build")
    from tide.ops.data_scope import Scope

    scope = Scope(tuple(args.targets or ()), getattr(args, "all_branches", False),
                  getattr(args, "all_tags", False), getattr(args, "all_commits", False))
    names, result = cloud_status(r, scope, args.remote, args.jobs)
    if args.json:
        from tide.cli.output import emit_json

        emit_json(result)
        return 0
    if args.quiet:  # as dvc: nothing printed, the exit code says whether anything differs
        return int(bool(result))
    if not result:
        which = ", ".join(f"'{n}'" for n in names)
        print(f"Cache and remote {which} are in sync.")
        return 0
    for path, state in sorted(result.items(), key=lambda kv: kv[0]):
        print(f"\t{state + ':':<20}{path}")
    return 0


def _show(status, indent):
    """dvc's layout: nested mappings indented by tabs, ``state:`` padded to 20 columns."""
    pad = "\t" * indent
    if isinstance(status, str):
        print(f"{pad}{status}")
    elif isinstance(status, list):
        for entry in status:
            _show(entry, indent)
    else:
        for key, value in status.items():
            if isinstance(value, str):
                print(f"{pad}{value + ':':<20}{key}")
            elif value:
                print(f"{pad}{key}:")
                _show(value, indent + 1)
