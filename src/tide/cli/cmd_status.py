# no library is loaded on the fast path; the storage registry quiets library logs (tide.core.logs)
LIGHT = True


def register(p):
    p.add_argument("targets", nargs="*", metavar="TARGET", help="limit to these outputs or .dvc files")
    p.add_argument("--json", action="store_true", help="print the status as JSON")
    p.add_argument("-c", "--cloud", action="store_true", help="compare the cache with a remote")
    p.add_argument("-r", "--remote", help="remote to compare with (implies -c)")
    p.add_argument("-j", "--jobs", type=int, help="parallel requests to the remote")
    p.add_argument("-a", "--all-branches", action="store_true", help="with -c: objects every branch uses")
    p.add_argument("-T", "--all-tags", action="store_true", help="with -c: objects every tag uses")
    p.add_argument("-A", "--all-commits", action="store_true", help="with -c: objects every commit uses")
    p.add_argument("-d", "--with-deps", action="store_true", help="also the targets' upstream stages")
    p.add_argument("--no-updates", action="store_true",
                   help="do not check whether imports' sources moved on (\"update available\")")
    p.add_argument("-R", "--recursive", action="store_true", help="a directory target: everything under it")


def run(args):
    from tide.cli.output import emit_json, repo

    r = repo()
    if args.cloud or args.remote:
        return _cloud(r, args)
    from tide.ops.status import workspace_status

    meaningless = [flag for flag, on in (("--all-branches", args.all_branches), ("--all-tags", args.all_tags),
                                         ("--all-commits", args.all_commits), ("--jobs", args.jobs)) if on]
    if meaningless:  # as dvc, which exits 1 with this message
        from tide.core.errors import TideError

        raise TideError("The following options are meaningless for local status: " + ", ".join(meaningless))
    import sys

    st = workspace_status(r, args.targets or None, recursive=args.recursive, with_deps=args.with_deps,
                          updates=not args.no_updates,
                          warn=None if args.quiet else lambda line: print(line, file=sys.stderr))
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

    targets = list(args.targets or ())
    if targets and (args.recursive or args.with_deps):
        import os

        from tide.ops.status import expand_targets

        targets = expand_targets(r, targets, os.getcwd(), args.recursive, args.with_deps)
    if args.targets and not targets:  # nothing recorded under the targets: nothing to compare (as dvc)
        from tide.ops.remote import resolve

        names, result = [resolve(r.settings, args.remote).spec.name], {}
    else:
        scope = Scope(tuple(targets), args.all_branches, args.all_tags, args.all_commits)
        import os

        names, result = cloud_status(r, scope, args.remote, args.jobs, os.getcwd())
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
