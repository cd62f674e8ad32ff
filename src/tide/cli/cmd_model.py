"""tide model: the model registry in git tags (GTO-compatible) and the promotion gate."""


def register(p):
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    r = sub.add_parser("register", help="register a version of an artifact at a commit (tag NAME@vX.Y.Z)")
    r.add_argument("name")
    r.add_argument("rev", nargs="?", default="HEAD", help="commit to register (default HEAD)")
    g = r.add_mutually_exclusive_group()
    g.add_argument("--version", help="the version, e.g. v1.0.0 (default: bump the latest patch)")
    g.add_argument("--bump-major", action="store_true")
    g.add_argument("--bump-minor", action="store_true")
    g.add_argument("--bump-patch", action="store_true")
    r.add_argument("-m", "--message", help="tag message")
    r.add_argument("--push", action="store_true", help="push the tag to origin")
    a = sub.add_parser("assign", help="assign a stage to a version (tag NAME#STAGE#N), without the gate")
    a.add_argument("name")
    a.add_argument("rev", nargs="?", default=None,
                   help="commit whose version gets the stage (registered first if it has none; default HEAD "
                        "when --version is not given)")
    a.add_argument("--version", help="the version to assign; with REV: the name of the version to register")
    a.add_argument("--stage", required=True)
    a.add_argument("-m", "--message")
    a.add_argument("--force", action="store_true", help="assign even if the version is in that stage already")
    a.add_argument("--push", action="store_true")
    d = sub.add_parser("deprecate", help="deprecate an artifact, deregister a version or unassign a stage")
    d.add_argument("name")
    d.add_argument("version", nargs="?")
    d.add_argument("stage", nargs="?")
    d.add_argument("--push", action="store_true")
    s = sub.add_parser("show", help="show the registry, or the versions of one artifact")
    s.add_argument("name", nargs="?")
    s.add_argument("--json", action="store_true")
    s.add_argument("--check", action="store_true",
                   help="compare the local registry tags with the forge remote's, and production with the "
                        "deployment (deploy.copy_to); list every disagreement and exit 1 when there is one "
                        "('tide retrain' repairs them)")
    s.add_argument("--remote", default="origin", help="the forge's git remote (default: origin)")
    s.add_argument("--stage", default=None, help="with --check: the deployed stage (default: retrain.stage)")
    h = sub.add_parser("history", help="the journal of registry events of an artifact")
    h.add_argument("name")
    h.add_argument("--json", action="store_true")
    pr = sub.add_parser("promote", help="run the promotion gate, deploy, and assign the stage")
    pr.add_argument("name")
    pr.add_argument("--stage", default=None, help="stage to promote to (default: retrain.stage or prod)")
    pr.add_argument("--version", help="version to promote (default: the latest)")
    pr.add_argument("--dry-run", action="store_true", help="evaluate the gate only; change nothing")
    pr.add_argument("--force", action="store_true", help="promote even if the gate says no (recorded)")
    pr.add_argument("--json", action="store_true", help="print the promotion record as JSON")
    g = sub.add_parser("get", help="fetch the file of a version (NAME@VERSION) or of a stage's version "
                                   "(NAME#STAGE; default: the latest) from a repository and its remote")
    g.add_argument("name", metavar="NAME[@VERSION|#STAGE]")
    g.add_argument("--repo", help="repository: a local path or a git URL (default: this one)")
    g.add_argument("-o", "--out", help="where to write it (default: its name, here)")
    g.add_argument("-f", "--force", action="store_true", help="replace what is at the destination")
    g.add_argument("-j", "--jobs", type=int, help="parallel downloads")
    an = sub.add_parser("annotate", help="describe an artifact in artifacts.yaml (type, path, description)")
    an.add_argument("name")
    an.add_argument("--type")
    an.add_argument("--path")
    an.add_argument("--description", default="")
    an.add_argument("--label", action="append", default=[])


def run(args):
    from tide.cli.output import repo

    if args.action == "get":  # reads another repository: no need to be inside one
        return _get(args)
    r = repo()
    try:
        return ACTIONS[args.action](r, args)
    finally:
        r.close()


def _get(args):
    from tide.core.config import Env
    from tide.ops.registry_model import model_get

    version, dst = model_get(args.name, args.repo, args.out, args.force, args.jobs, Env())
    _say(args, f"Fetched {args.name.partition('@')[0].partition('#')[0]} {version} into '{dst}'")
    return 0


def _say(args, line):
    if not args.quiet:
        print(line)


def _register(r, args):
    from tide.ops.model import push_tag, registry_for

    bump = "major" if args.bump_major else "minor" if args.bump_minor else "patch" if args.bump_patch else None
    reg = registry_for(r.git)
    c = reg.register(args.name, args.rev, version=args.version, bump=bump, message=args.message)
    _say(args, f"Created git tag '{c.tag}' that registers version {c.version} at {c.commit[:7]}")
    if args.push:
        for line in push_tag(r.git, c):
            _say(args, f"repaired: {line}")
    return 0


def _assign(r, args):
    from tide.ops.model import push_tag, registry_for

    version, new_version = (None, args.version) if args.rev is not None else (args.version, None)
    c = registry_for(r.git).assign(args.name, version, args.stage, message=args.message, force=args.force,
                                   rev=args.rev, new_version=new_version)
    _say(args, f"Created git tag '{c.tag}' that assigns stage '{c.stage}' to {args.name} {c.version}")
    if args.push:
        for line in push_tag(r.git, c):
            _say(args, f"repaired: {line}")
    return 0


def _deprecate(r, args):
    from tide.ops.model import deprecate, push_tag, registry_for

    c = deprecate(registry_for(r.git), args.name, args.version, args.stage)
    _say(args, f"Created git tag '{c.tag}'")
    if args.push:
        for line in push_tag(r.git, c):
            _say(args, f"repaired: {line}")
    return 0


def _show(r, args):
    from tide.cli.output import emit_json
    from tide.ops.metrics import table
    from tide.ops.model import artifact_for_show, registry_for, show_all, show_json

    reg = registry_for(r.git)
    if args.check:
        return _check(r, args)
    if args.name:
        from tide.registry.gtoshape import versions

        rows = versions(r.git, artifact_for_show(reg, args.name))  # gto show NAME --json's objects
        if args.json:
            emit_json(rows)
        else:
            print(table(["artifact", "version", "stage", "created_at", "ref"],
                        [[v["artifact"], v["version"], ", ".join(s["stage"] for s in v["stages"]) or "-",
                          v["created_at"].replace("T", " "), v["ref"]] for v in rows]))
        return 0
    rows = show_all(reg)
    if args.json:
        emit_json(show_json(rows))
        return 0
    if not rows:
        print("The registry is empty: register a version with 'tide model register NAME'.")
        return 0
    stages = sorted({s for row in rows for s in row.stages})
    print(table(["name", "latest", *[f"#{s}" for s in stages]],
                [[row.name if row.registered else f"*{row.name}", row.latest or "-",
                  *[_short(row.stages.get(s)) for s in stages]]
                 for row in sorted(rows, key=lambda x: x.name)]))
    return 0


def _short(version):
    """A stage held by an unregistered commit (gto assign --sr) shows its short hexsha, as gto's table."""
    if not version:
        return "-"
    return version[:7] if len(version) == 40 and all(c in "0123456789abcdef" for c in version) else version


def _check(r, args):
    from tide.cli.output import emit_json
    from tide.ops.converge import check

    problems = check(r, args.remote, args.name, args.stage)
    if args.json:
        emit_json({"agree": not problems, "problems": problems})
    elif problems:
        for line in problems:
            print(line)
        print(f"{len(problems)} disagreement(s): a re-run of 'tide retrain' repairs them")
    elif not args.quiet:
        print(f"the local registry tags, the forge remote '{args.remote}' and the deployment agree")
    return 1 if problems else 0


def _history(r, args):
    from tide.cli.output import emit_json
    from tide.ops.metrics import table
    from tide.ops.model import history, registry_for

    rows = history(registry_for(r.git).artifact(args.name))
    if args.json:
        emit_json(rows)
        return 0
    print(table(["timestamp", "artifact", "event", "version", "stage", "commit", "ref"],
                [[x["timestamp"], x["artifact"], x["event"], x["version"], x["stage"], x["commit"], x["ref"]]
                 for x in rows]))
    return 0


def _promote(r, args):
    from tide.core import settings as S
    from tide.ops.promote import PromoteRequest, promote

    stage = args.stage or S.retrain_settings(S.load(r.root)).stage
    import sys

    def say(line):
        if not args.quiet:
            print(line, file=sys.stderr if args.json else sys.stdout)

    rec = promote(r, PromoteRequest(args.name, stage, args.version, args.dry_run, args.force), say=say)
    if args.json:
        from tide.cli.output import emit_json

        emit_json(rec.to_dict(), indent=2)
    elif not args.quiet:
        print(rec.markdown(), end="")
    return 0 if rec.outcome in ("promoted", "forced", "dry-run") else 1


def _annotate(r, args):
    from tide.registry.registry import Annotation, annotate

    annotate(r.root, Annotation(args.name, args.type, args.path, args.description, tuple(args.label)))
    _say(args, f"Updated artifacts.yaml ({args.name})")
    return 0


ACTIONS = {"register": _register, "assign": _assign, "deprecate": _deprecate, "show": _show,
           "history": _history, "promote": _promote, "annotate": _annotate}
