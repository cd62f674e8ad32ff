def register(p):
    p.add_argument("a_rev", nargs="?", help="old revision (default: HEAD)")
    p.add_argument("b_rev", nargs="?", help="new revision (default: the workspace)")
    p.add_argument("--targets", nargs="*", default=None, metavar="PATH", help="compare only these outputs")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--md", action="store_true", help="print a markdown table")
    p.add_argument("--show-hash", action="store_true", help="show each entry's hash")
    p.add_argument("--hide-missing", action="store_true", help="do not list outputs missing from the cache")


ORDER = ("added", "deleted", "renamed", "modified", "not in cache")  # dvc's order for text and markdown


def _digest(h):
    if isinstance(h, dict):
        return f"{(h['old'] or '')[:8]}..{(h['new'] or '')[:8]}"
    return (h or "")[:8]


def _path(it):
    p = it["path"]
    return f"{p['old']} -> {p['new']}" if isinstance(p, dict) else p


def _markdown(res, show_hash):
    headers = ["Status", "Hash", "Path"] if show_hash else ["Status", "Path"]
    rows = [[kind, _digest(it["hash"]), _path(it)] if show_hash else [kind, _path(it)]
            for kind in ORDER for it in res.get(kind, [])]
    # as tabulate (dvc): a column is at least its header plus 2 wide
    widths = [max([len(h) + 2] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |")
    print()


def run(args):
    from tide.cli.output import emit_json, repo
    from tide.ops.diff import diff

    res = diff(repo(), args.a_rev, args.b_rev, args.targets)
    if args.b_rev or args.hide_missing:
        res.pop("not in cache")
    if not args.show_hash:
        for items in res.values():
            for it in items:
                del it["hash"]
    if args.json:
        emit_json(res if any(res.values()) else {})  # as dvc: no changes at all is {}
        return 0
    if args.md:
        _markdown(res, args.show_hash)
        return 0
    summary = []
    lines = []  # printed at once: one (redacted) write instead of two per line
    for kind in ORDER:
        items = res.get(kind)
        if not items:
            continue
        lines.append(f"{kind.capitalize()}:")
        lines += [f"    {_digest(it['hash']) + '  ' if it.get('hash') else ''}{_path(it)}" for it in items]
        lines.append("")
        n = sum(1 for it in items if not _path(it).endswith("/"))  # as dvc: directories are not counted
        if n:
            summary.append(f"{n} {kind}")
    if summary:
        lines.append("files summary: " + ", ".join(summary))
    if lines:
        print("\n".join(lines))
    return 0
