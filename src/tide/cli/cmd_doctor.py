"""tide doctor: the environment (as dvc doctor prints it), then the retrain readiness check."""


def register(p):
    p.add_argument("--json", action="store_true", help="print the environment and the findings as JSON")


def run(args):
    import os

    from tide.cli.output import emit_json
    from tide.cli.readiness_out import lines
    from tide.ops.doctor import environment
    from tide.workspace.repo import find_repo_root

    cwd = os.getcwd()
    e = environment(cwd)
    r = None
    if find_repo_root(cwd) is not None:
        from tide.ops.readiness import check

        r = check(cwd)
    if args.json:
        emit_json({**e.to_dict(), "readiness": r.to_dict() if r is not None else None})
        return 0 if r is None or r.ready else 1
    head = f"tide version: {e.version} ({e.install})"
    out = [head, "-" * len(head), f"Platform: {e.platform}", "Supports:"]
    out += [f"\t{s} ({libs})" + ("," if i < len(e.supports) - 1 else "") for i, (s, libs) in enumerate(e.supports)]
    out += ["Config:"] + [f"\t{k}: {v}" for k, v in e.config]
    if e.repo:
        out += [f"Caches: {', '.join(e.caches)}", f"Remotes: {', '.join(e.remotes) or 'None'}"]
        if e.cache_dir:
            out.append(f"Cache directory: {e.cache_dir}")
        if e.workspace:
            out.append(f"Workspace directory: {e.workspace}")
        out.append(f"Repo: {', '.join(e.repo)}")
    out.append("")
    out += lines(r) if r is not None else ["Retrain readiness: not in a tide repository (tide init, or "
                                           "tide init --example DIR)."]
    if not args.quiet or (r is not None and not r.ready):
        print("\n".join(out))
    return 0 if r is None or r.ready else 1
