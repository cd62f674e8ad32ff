"""``tide data status``: changes between the last commit, the .dvc/dvc.lock files and the workspace (dvc's
``data status``, same text and ``--json``)."""

LABELS = {"not_in_remote": "Not in remote", "not_in_cache": "Not in cache", "committed": "DVC committed changes",
          "uncommitted": "DVC uncommitted changes", "untracked": "Untracked files",
          "unchanged": "DVC unchanged files"}
HINTS = {
    "not_in_remote": ('use "tide push <file>..." to upload files',),
    "not_in_cache": ('use "tide fetch <file>..." to download files',),
    "committed": ("git commit the corresponding dvc files to update the repo",),
    "uncommitted": ('use "tide commit <file>..." to track changes', 'use "tide checkout <file>..." to discard changes'),
    "untracked": ('use "git add <file> ..." or "tide add <file>..." to commit to git or to dvc',),
}


def register(p):
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    s = sub.add_parser("status", help="show changes between the last commit, the dvc files and the workspace")
    s.add_argument("targets", nargs="*", metavar="TARGET", help="limit to these tracked files or directories")
    s.add_argument("--json", action="store_true", help="print JSON")
    s.add_argument("--granular", action="store_true", help="list files inside tracked directories too")
    s.add_argument("--unchanged", action="store_true", help="also list unchanged tracked files")
    s.add_argument("--untracked-files", nargs="?", const="all", default="no", choices=("no", "all"),
                   help="also list files neither git nor tide tracks")
    s.add_argument("--not-in-remote", action="store_true", help="also list what the remote lacks")
    s.add_argument("-r", "--remote", help="remote for --not-in-remote (default: each output's, or core.remote)")
    s.add_argument("--no-remote-refresh", action="store_true",
                   help="with --not-in-remote: do not ask the remote, use what this clone knows is there")


def run(args):
    from tide.cli.output import emit_json, repo
    from tide.ops.data_status import ORDER, data_status

    r = repo()
    st = data_status(r, args.targets, granular=args.granular, untracked_files=args.untracked_files)
    if args.not_in_remote:
        import os

        from tide.ops.data_remote import not_in_remote
        from tide.ops.diff import target_roots

        roots = target_roots(r, args.targets, os.getcwd()) if args.targets else None
        st["not_in_remote"] = not_in_remote(r, roots, args.granular, args.remote,
                                             refresh=not args.no_remote_refresh)
    git = st.pop("git")
    if not args.unchanged:
        st.pop("unchanged")
    if args.untracked_files == "no":
        st.pop("untracked")
    if args.json:
        emit_json({k: st[k] for k in ORDER if st.get(k)})
        return 0
    parts = [(k, st[k]) for k in ORDER if st.get(k)]
    if not parts:
        print("No changes in an empty git repo." if git["is_empty"] else "No changes.")
    tab = " " * 8
    for i, (k, v) in enumerate(parts):
        if i:
            print()
        print(f"{LABELS[k]}:")
        for h in HINTS.get(k, ()):
            print(f"  ({h})")
        if isinstance(v, dict):
            items = [f"{kind}: " + (" -> ".join(c.values()) if isinstance(c, dict) else c)
                     for kind, changes in v.items() for c in changes]
        else:
            items = v
        for item in items:
            print(tab + item)
    if git["is_dirty"]:
        print(f'(there are {"other " if parts else ""}changes not tracked by dvc, use "git status" to see)')
    return 0
