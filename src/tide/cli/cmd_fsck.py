def register(p):
    p.add_argument("-j", "--jobs", type=int, help="parallel hashing threads")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("-c", "--cloud", action="store_true",
                   help="check a remote instead of the cache (a sample of its objects; --all: every one)")
    p.add_argument("-r", "--remote", help="the remote to check (default: the default remote)")
    p.add_argument("--all", action="store_true", help="with -c: check every object and pack")
    p.add_argument("--sample", type=int, default=20, help="with -c: how many objects and packs to check (20)")


def _cloud(args):
    import sys

    from tide.cli.output import emit_json, repo
    from tide.core.errors import UsageError
    from tide.ops.remote_convert import fsck_remote

    if args.sample < 1:
        raise UsageError("--sample must be at least 1")
    rep = fsck_remote(repo(), args.remote, None if args.all else args.sample, args.jobs)
    if args.json:
        emit_json({"remote": rep.remote, "objects": rep.objects, "problems": rep.problems})
    else:
        for p in rep.problems:
            print(f"problem: {p}")
        if not args.quiet:
            print(f"remote '{rep.remote}': {rep.objects} objects, {len(rep.problems)} problems "
                  f"({'all checked' if args.all else f'a sample of {args.sample} checked'}).")
    if rep.problems:
        print(f"ERROR: remote '{rep.remote}' is not consistent (see above)", file=sys.stderr)
        return 1
    return 0


def run(args):
    if args.cloud:
        return _cloud(args)
    from tide.cli.output import emit_json, repo
    from tide.ops.fsck import fsck

    rep = fsck(repo(), args.jobs)
    if args.json:
        emit_json({"checked": rep.checked, "corrupt": rep.corrupt, "missing": rep.missing,
                   "bad_manifests": rep.bad_manifests})
    else:
        for p in rep.corrupt:
            print(f"corrupt: {p}")
        for m in rep.missing:
            print(f"missing: {m}")
        for m in rep.bad_manifests:
            print(f"bad manifest: {m}")
        if not args.quiet:
            print(f"{rep.checked} objects checked: {len(rep.corrupt)} corrupt, {len(rep.missing)} missing.")
    if not rep.ok:
        import sys

        print("ERROR: the cache is not consistent (see above)", file=sys.stderr)
        return 1
    return 0
