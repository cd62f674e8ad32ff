def register(p):
    p.add_argument("a_rev", nargs="?", help="old revision (default: HEAD)")
    p.add_argument("b_rev", nargs="?", help="new revision (default: the workspace)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--md", action="store_true", help="print a markdown table")


def run(args):
    from tide.cli.output import emit_json, repo
    from tide.ops.diff import diff

    res = diff(repo(), args.a_rev, args.b_rev)
    if args.json:
        emit_json(res if any(res.values()) else {})  # as dvc: no changes at all is {}
        return 0
    if args.md:
        print("| Status | Path |\n|--------|------|")
        for kind, items in res.items():
            for it in items:
                print(f"| {kind} | {it['path']} |")
        return 0
    summary = []
    for kind, items in res.items():
        if not items:
            continue
        print(f"{kind.capitalize()}:")
        for it in items:
            print(f"    {it['path']}")
        print()
        summary.append(f"{len(items)} {kind}")
    if summary:
        print("files summary: " + ", ".join(summary))
    return 0
