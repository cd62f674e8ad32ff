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
    r.add_argument("--simple", default="auto", choices=("auto", "true", "false"),
                   help="tag notation: true writes no #N counter, false always one (default auto, as gto)")
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
    a.add_argument("--simple", default="auto", choices=("auto", "true", "false"),
                   help="tag notation: true writes no #N counter, false always one (default auto, as gto)")
    a.add_argument("--sr", "--skip-registration", dest="skip_registration", action="store_true",
                   help="do not register a version at REV: the stage goes to the commit itself (as gto)")
    d = sub.add_parser("deprecate", help="deprecate an artifact, deregister a version or unassign a stage")
    d.add_argument("name")
    d.add_argument("version", nargs="?")
    d.add_argument("stage", nargs="?")
    d.add_argument("--push", action="store_true")
    d.add_argument("--simple", default="auto", choices=("auto", "true", "false"),
                   help="tag notation: true writes no #N counter, false always one (default auto, as gto)")
    s = sub.add_parser("show", help="show the registry, or the versions of one artifact")
    s.add_argument("name", nargs="?")
    s.add_argument("--json", action="store_true")
    s.add_argument("--check", action="store_true",
                   help="compare the local registry tags with the forge remote's, and production with the "
                        "deployment (deploy.copy_to); list every disagreement and exit 1 when there is one "
                        "('tide retrain' repairs them)")
    s.add_argument("--remote", default="origin", help="the forge's git remote (default: origin)")
    s.add_argument("--stage", nargs="?", const=True, default=None,
                   help="alone: print the stage of each version shown (as gto); with --check: the deployed "
                        "stage (default: retrain.stage)")
    s.add_argument("--name", dest="show_name", action="store_true", help="print only the artifact names")
    s.add_argument("--version", dest="show_version", action="store_true", help="print only the versions")
    s.add_argument("--ref", dest="show_ref", action="store_true", help="print only the refs (tags)")
    s.add_argument("--plain", action="store_true", help="print the table in a grep-able format")
    cr = sub.add_parser("check-ref", help="what a registry tag did: artifact, version, stage, event (for CD jobs)")
    cr.add_argument("ref")
    og = cr.add_mutually_exclusive_group()
    og.add_argument("--json", action="store_true")
    og.add_argument("--name", dest="show_name", action="store_true", help="print only the artifact name")
    og.add_argument("--version", dest="show_version", action="store_true", help="print only the version")
    og.add_argument("--stage", dest="show_stage", action="store_true", help="print only the stage")
    og.add_argument("--event", dest="show_event", action="store_true", help="print only the event")
    st = sub.add_parser("stages", help="the stages in use in the registry")
    st.add_argument("--used", action="store_true", help="the stages some version holds (the default)")
    st.add_argument("--json", action="store_true")
    h = sub.add_parser("history", help="the journal of registry events (of one artifact, or of all)")
    h.add_argument("name", nargs="?")
    h.add_argument("--json", action="store_true")
    h.add_argument("--plain", action="store_true", help="the table in a grep-able format (the default)")
    h.add_argument("--ascending", "--asc", action="store_true", help="oldest first")
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


class _GitOnly:
    """A git repository without ``.dvc``: the registry lives in git tags, so ``tide model`` works there
    as GTO does (all but ``promote`` and ``show --check``, which read tide.yaml and the deployment)."""

    def __init__(self, root):
        from tide.core.git import Git

        self.root, self.git = root, Git(root)

    def close(self):
        pass


def _open(args):
    import os

    from tide.cli.output import repo
    from tide.core.errors import NotARepoError
    from tide.core.git import find_root

    try:
        return repo()
    except NotARepoError:
        top = find_root(os.getcwd())
        if top is None or args.action == "promote" or getattr(args, "check", False):
            raise
        return _GitOnly(top)


def run(args):
    if args.action == "get":  # reads another repository: no need to be inside one
        return _get(args)
    r = _open(args)
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
    c = reg.register(args.name, args.rev, version=args.version, bump=bump, message=args.message, simple=args.simple)
    _say(args, f"Created git tag '{c.tag}' that registers version {c.version} at {c.commit[:7]}")
    if args.push:
        for line in push_tag(r.git, c):
            _say(args, f"repaired: {line}")
    return 0


def _assign(r, args):
    from tide.ops.model import push_tag, registry_for

    version, new_version = (None, args.version) if args.rev is not None else (args.version, None)
    c = registry_for(r.git).assign(args.name, version, args.stage, message=args.message, force=args.force,
                                   rev=args.rev, new_version=new_version,
                                   skip_registration=args.skip_registration, simple=args.simple)
    _say(args, f"Created git tag '{c.tag}' that assigns stage '{c.stage}' to {args.name} {c.version}")
    if args.push:
        for line in push_tag(r.git, c):
            _say(args, f"repaired: {line}")
    return 0


def _deprecate(r, args):
    from tide.ops.model import deprecate, push_tag, registry_for

    c = deprecate(registry_for(r.git), args.name, args.version, args.stage, simple=args.simple)
    _say(args, f"Created git tag '{c.tag}'")
    if args.push:
        for line in push_tag(r.git, c):
            _say(args, f"repaired: {line}")
    return 0


def _show(r, args):
    from tide.cli.output import emit_json
    from tide.ops.model import artifact_for_show, registry_for, show_all, show_json

    reg = registry_for(r.git)
    if args.check:
        return _check(r, args)
    if args.name:
        from tide.ops.model import select
        from tide.registry.gtoshape import versions
        from tide.registry.tags import parse_shortcut

        shortcut = parse_shortcut(args.name)  # NAME@latest, NAME@vX.Y.Z, NAME#STAGE (GTO's shortcuts)
        a = artifact_for_show(reg, shortcut.name)
        rows = select(versions(r.git, a), shortcut)  # gto show NAME --json's objects
        if args.json:
            emit_json(rows)
            return 0
        star = "" if a.events else "*"
        cols = ["artifact", "version", "stage", "created_at", "ref"]
        cells = [[star + v["artifact"], _short(v["version"]), ", ".join(s["stage"] for s in v["stages"]),
                  v["created_at"].replace("T", " "), _short(v["ref"])] for v in rows]
        return _print_table(args, cols, cells)
    rows = show_all(reg)
    if args.json:
        emit_json(show_json(rows))
        return 0
    stages = sorted({s for row in rows for s in row.stages})
    return _print_table(args, ["name", "latest", *[f"#{s}" for s in stages]],
                        [[row.name if row.registered else f"*{row.name}", row.latest or "-",
                          *[_short(row.stages.get(s)) for s in stages]]
                         for row in sorted(rows, key=lambda x: x.name)])


def _print_table(args, cols, cells):
    """gto show's outputs: one column, one value a line (--name/--version/--stage/--ref; a column the
    table lacks is refused), else the table, 'Nothing found in the current workspace' when empty."""
    from tide.core.errors import UsageError
    from tide.ops.metrics import table

    pick = next((c for c, on in (("name", args.show_name), ("version", args.show_version),
                                 ("stage", args.stage is True), ("ref", args.show_ref)) if on), None)
    if pick is not None:
        if not cells:
            return 0
        if pick not in cols:
            raise UsageError(f"cannot apply --{pick} here")
        for row in cells:
            print(row[cols.index(pick)])
        return 0
    if not cells:
        print("Nothing found in the current workspace")
        return 0
    print(table(cols, cells))  # gto --plain's layout (tide prints no box drawing either way)
    return 0


def _short(version):
    """A stage held by an unregistered commit (gto assign --sr) shows its short hexsha, as gto's table."""
    if not version:
        return "-"
    return version[:7] if len(version) == 40 and all(c in "0123456789abcdef" for c in version) else version


def _check(r, args):
    from tide.cli.output import emit_json
    from tide.ops.converge import check

    problems = check(r, args.remote, args.name, args.stage if isinstance(args.stage, str) else None)
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
    from tide.ops.model import registry_for
    from tide.registry.gtoshape import history

    rows = history(registry_for(r.git).state(), args.name)  # gto history [NAME] --json's shape
    if args.ascending:
        rows.reverse()
    if args.json:
        emit_json(rows)
        return 0
    if not rows:
        print("Nothing found in the current workspace")
        return 0
    cols = ["timestamp", "artifact", "event", "version", "stage", "commit", "ref"]
    print(table(cols, [[x["timestamp"].replace("T", " "), x["artifact"], x["event"], _short(x["version"]) or "-",
                        x["stage"] or "-", x["commit"][:7], x["ref"]] for x in rows]))
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


def _check_ref(r, args):
    from tide.cli.output import emit_json
    from tide.ops.model import check_ref, registry_for

    ev = check_ref(registry_for(r.git), args.ref)
    if ev is None:
        return 0  # not a registry tag of this repository: nothing to do (gto prints nothing, exits 0)
    if args.json:
        emit_json(ev)
        return 0
    for flag, key in (("show_name", "artifact"), ("show_version", "version"), ("show_stage", "stage"),
                      ("show_event", "event")):
        if getattr(args, flag):
            if key in ev:
                print(ev[key])
            return 0
    print(f"\u2705  {_describe(ev)}")
    return 0


def _describe(ev):
    a, v, s = ev["artifact"], ev.get("version"), ev.get("stage")
    return {"registration": f'Version "{v}" of artifact "{a}" was registered',
            "deregistration": f'Version "{v}" of artifact "{a}" was deregistered',
            "assignment": f'Stage "{s}" was assigned to version "{v}" of artifact "{a}"',
            "unassignment": f'Stage "{s}" was unassigned from version "{v}" of artifact "{a}"',
            "deprecation": f'Artifact "{a}" was deprecated'}[ev["event"]]


def _stages(r, args):
    from tide.cli.output import emit_json
    from tide.ops.model import registry_for, used_stages

    stages = used_stages(registry_for(r.git).state())
    if args.json:
        emit_json(stages)
    else:
        for s in stages:
            print(s)
    return 0


ACTIONS = {"check-ref": _check_ref, "stages": _stages,
           "register": _register, "assign": _assign, "deprecate": _deprecate, "show": _show,
           "history": _history, "promote": _promote, "annotate": _annotate}
