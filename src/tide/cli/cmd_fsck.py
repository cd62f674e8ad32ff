def register(p):
    p.add_argument("-j", "--jobs", type=int, help="parallel hashing threads")
    p.add_argument("--json", action="store_true", help="print the report as JSON")


def run(args):
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
