"""``gto show NAME --json``'s version objects, built from the tags and commits the way GTO builds them.

A version (active, registered; highest semver first) carries its commit as an ``enrichments`` event
(commit date, author, committer, raw message, and the ``artifacts.yaml`` entry of the artifact at that
commit), its registration and deregistration events, and the stages it holds (GTO's default view:
each stage held by the version with its most recent standing assignment), each with every assignment
and unassignment of that version and stage. Dates are the tag's and commit's own, ISO 8601 with
their UTC offset. A deprecated artifact shows no versions.
"""

from __future__ import annotations

from tide.core.git import Git
from tide.registry import state as S
from tide.registry import tags as T

PRIORITY = {T.DEPRECATE: 2, T.REGISTER: 3, T.DEREGISTER: 4, T.ASSIGN: 5, T.UNASSIGN: 6}
EVENT = {T.ASSIGN: "assignment", T.UNASSIGN: "unassignment"}


def versions(git: Git, a: S.ArtifactState) -> list[dict]:
    sha, index, hc = head(git)
    if not discovered_active(a, hc if a.name in index else None):
        return []
    active = S.by_semver([v for v in a.versions.values() if v.active])
    commits = _commits(git, sorted({v.commit for v in active}))
    annotations = _annotations(git, a.name, sorted({v.commit for v in active}))
    holders = _holders(a)
    out = []
    for v in active:
        regs = [_event(a, e, v.version) for e in a.events
                if e.name.action == T.REGISTER and e.name.version == v.version]
        deregs = [_event(a, e, v.version) for e in a.events
                  if e.name.action == T.DEREGISTER and e.name.version == v.version]
        c = commits.get(v.commit)
        enrich = [] if c is None else [{
            "priority": 0, "addition": True, "artifact": a.name, "created_at": c["date"], "author": c["an"],
            "author_email": c["ae"], "message": c["message"], "commit_hexsha": v.commit, "version": v.version,
            "enrichments": annotations.get(v.commit, []), "committer": c["cn"], "committer_email": c["ce"]}]
        stages = [_vstage(a, v, stage) for stage, holder in holders if holder == v.version]
        latest = regs[-1]
        out.append({
            "artifact": a.name, "commit_hexsha": v.commit, "version": v.version, "enrichments": enrich,
            "registrations": regs, "deregistrations": deregs, "stages": stages, "is_active": True,
            "activated_at": regs[0]["created_at"], "created_at": latest["created_at"], "author": latest["author"],
            "author_email": latest["author_email"], "message": latest["message"], "ref": latest["tag"],
            "discovered": False,
        })
    bare = _bare(git, a, holders)
    if sha and hc and a.name in index and not any(v.commit == sha for v in a.versions.values()):
        ev = {"priority": 0, "addition": True, "artifact": a.name, "created_at": hc["date"], "author": hc["an"],
              "author_email": hc["ae"], "message": hc["message"], "commit_hexsha": sha, "version": sha,
              "enrichments": _annotations(git, a.name, [sha])[sha], "committer": hc["cn"],
              "committer_email": hc["ce"]}
        out.append({"artifact": a.name, "commit_hexsha": sha, "version": sha, "enrichments": [ev],
                    "registrations": [], "deregistrations": [], "stages": [], "is_active": True,
                    "activated_at": hc["date"], "created_at": hc["date"], "author": hc["an"],
                    "author_email": hc["ae"], "message": hc["message"], "ref": sha, "discovered": True})
        bare.append(out.pop())
    return out + sorted(bare, key=lambda v: v["version"])[::-1]  # GTO: hexsha versions after semver ones


def _bare(git: Git, a: S.ArtifactState, holders: list[tuple[str, str]]) -> list[dict]:
    """Stages on commits without a version (``gto assign --sr``), as GTO lists them: each such tag is its own
    discovered version object, and each gets a twin holding only the commit (GTO's index re-adds the commit
    event and, the object being "discovered", does not find it again); all carry the commit's held stages.
    Returned in GTO's creation order (twin, then the tag's object, tag by tag)."""
    evs = [e for e in a.events if e.name.action in (T.ASSIGN, T.UNASSIGN) and a._version_of(e) is None]
    if not evs:
        return []
    shas = sorted({e.commit for e in evs})
    commits, annotations = _commits(git, shas), _annotations(git, a.name, shas)
    out = []
    for e in evs:
        c = commits.get(e.commit)
        if c is None:
            continue
        enrich = [{"priority": 0, "addition": True, "artifact": a.name, "created_at": c["date"], "author": c["an"],
                   "author_email": c["ae"], "message": c["message"], "commit_hexsha": e.commit, "version": e.commit,
                   "enrichments": annotations.get(e.commit, []), "committer": c["cn"], "committer_email": c["ce"]}]
        stages = [_bare_stage(a, e.commit, stage) for stage, holder in holders if holder == e.commit]
        base = {"artifact": a.name, "commit_hexsha": e.commit, "version": e.commit, "enrichments": enrich,
                "registrations": [], "deregistrations": [], "stages": stages, "is_active": True,
                "activated_at": c["date"]}
        out.append({**base, "created_at": c["date"], "author": c["an"], "author_email": c["ae"],
                    "message": c["message"], "ref": e.commit, "discovered": True})
        out.append({**base, "created_at": e.iso, "author": e.author, "author_email": e.email,
                    "message": e.message, "ref": e.tag, "discovered": True})
    return out


def _bare_stage(a: S.ArtifactState, sha: str, stage: str) -> dict:
    """The stage object of a bare commit: GTO keeps the newest assignment's own object (one event)."""
    e = [x for x in a.events if x.name.action == T.ASSIGN and x.name.stage == stage and x.commit == sha][-1]
    ev = dict(_event(a, e, sha), event=EVENT[T.ASSIGN])
    return {"artifact": a.name, "commit_hexsha": sha, "version": sha, "stage": stage, "assignments": [ev],
            "unassignments": [], "is_active": True, "activated_at": ev["created_at"], "created_at": ev["created_at"],
            "author": ev["author"], "author_email": ev["author_email"], "message": ev["message"], "ref": ev["tag"]}


def _holders(a: S.ArtifactState) -> list[tuple[str, str]]:
    """(stage, version) of each held stage, the most recently assigned first (GTO's timestamp order)."""
    held = []
    for stage, vs in a.stages.items():
        if vs:
            ev = a.assignment_event(stage, vs[0])
            held.append((ev.order if ev else (0, 0), stage, vs[0]))
    return [(stage, version) for _, stage, version in sorted(held, reverse=True)]


def _vstage(a: S.ArtifactState, v: S.Version, stage: str) -> dict:
    evs = [e for e in a.events if e.name.stage == stage and e.name.action in (T.ASSIGN, T.UNASSIGN)
           and a._version_of(e) == v.version]
    assigns = [dict(_event(a, e, v.version), event=EVENT[e.name.action]) for e in evs if e.name.action == T.ASSIGN]
    unassigns = [dict(_event(a, e, v.version), event=EVENT[e.name.action]) for e in evs
                 if e.name.action == T.UNASSIGN]
    last = assigns[-1]
    return {"artifact": a.name, "commit_hexsha": v.commit, "version": v.version, "stage": stage,
            "assignments": assigns, "unassignments": unassigns, "is_active": True,
            "activated_at": last["created_at"], "created_at": last["created_at"], "author": last["author"],
            "author_email": last["author_email"], "message": last["message"], "ref": last["tag"]}


def _event(a: S.ArtifactState, e: S.Event, version: str) -> dict:
    d = {"priority": PRIORITY[e.name.action], "addition": e.name.action in (T.REGISTER, T.ASSIGN),
         "artifact": a.name, "created_at": e.iso, "author": e.author, "author_email": e.email,
         "message": e.message, "commit_hexsha": e.commit, "tag": e.tag, "version": version}
    if e.name.stage is not None:
        d["stage"] = e.name.stage
    return d


def _commits(git: Git, shas: list[str]) -> dict[str, dict]:
    """Author, committer, commit date and raw message of each commit (``git cat-file --batch``)."""
    if not shas:
        return {}
    raw = git.run("cat-file", "--batch", input="".join(f"{s}\n" for s in shas).encode()).stdout
    out, pos = {}, 0
    for sha in shas:
        nl = raw.index(b"\n", pos)
        header = raw[pos:nl].split()
        pos = nl + 1
        if len(header) != 3 or header[1] != b"commit":
            continue
        body = raw[pos:pos + int(header[2])].decode("utf-8", errors="replace")
        pos += int(header[2]) + 1
        head, _, message = body.partition("\n\n")
        who = {}
        for line in head.splitlines():
            key, _, value = line.partition(" ")
            if key in ("author", "committer"):
                who[key] = _ident(value)
        if "author" in who and "committer" in who:
            (an, ae, _), (cn, ce, date) = who["author"], who["committer"]
            out[sha] = {"an": an, "ae": ae, "cn": cn, "ce": ce, "date": date, "message": message}
    return out


def _ident(value: str) -> tuple[str, str, str]:
    """``Name <email> 1733443200 +0100`` -> (name, email, '2024-12-06T00:00:00+01:00')."""
    import datetime

    name, _, rest = value.partition(" <")
    email, _, when = rest.partition("> ")
    ts, _, tz = when.partition(" ")
    sign = -1 if tz.startswith("-") else 1
    offset = datetime.timedelta(hours=int(tz[1:3] or 0), minutes=int(tz[3:5] or 0)) * sign
    date = datetime.datetime.fromtimestamp(int(ts), datetime.timezone(offset)).isoformat()
    return name, email, date


def _annotations(git: Git, name: str, shas: list[str]) -> dict[str, list[dict]]:
    """GTO's ``gto`` enrichment: the artifact's entry in ``artifacts.yaml`` at each commit."""
    out: dict[str, list[dict]] = {}
    for sha in shas:
        index = artifacts_at(git, sha)
        if name in index:
            body = index[name]
            out[sha] = [{"source": "gto", "artifact": {
                "type": body.get("type"), "path": body.get("path"), "virtual": body.get("virtual", True),
                "labels": list(body.get("labels") or []), "description": body.get("description", ""),
                "custom": body.get("custom")}}]
    return out


def artifacts_at(git: Git, sha: str) -> dict[str, dict]:
    """The artifacts ``artifacts.yaml`` of commit ``sha`` declares (unreadable: none)."""
    from tide.core import yamlio
    from tide.core.errors import FileFormatError
    from tide.registry.registry import ARTIFACTS_FILE

    raw = git.read_files(sha, [ARTIFACTS_FILE]).get(ARTIFACTS_FILE)
    if raw is None:
        return {}
    try:
        data = yamlio.loads(raw.decode("utf-8"), ARTIFACTS_FILE)
    except (FileFormatError, UnicodeDecodeError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): (v or {}) for k, v in data.items() if v is None or isinstance(v, dict)}


def head(git: Git) -> tuple[str | None, dict[str, dict], dict | None]:
    """GTO's discovery: HEAD, the artifacts its ``artifacts.yaml`` declares, and HEAD's commit facts."""
    if not git.has_commits():
        return None, {}, None
    sha = git.resolve("HEAD")
    index = artifacts_at(git, sha)
    return sha, index, (_commits(git, [sha]).get(sha) if index else None)


def discovered_active(a: S.ArtifactState, head_commit: dict | None) -> bool:
    """GTO adds HEAD's commit as an event of every artifact HEAD's artifacts.yaml declares: a deprecated
    artifact is active again when that commit is newer than its deprecation."""
    if not a.deprecated or head_commit is None:
        return not a.deprecated
    return newer_than(head_commit, a.events[-1].time)


def newer_than(commit: dict, when: int) -> bool:
    import datetime

    return datetime.datetime.fromisoformat(commit["date"]).timestamp() > when


EVENT_NAMES = {T.REGISTER: "registration", T.DEREGISTER: "deregistration", T.ASSIGN: "assignment",
               T.UNASSIGN: "unassignment", T.DEPRECATE: "deprecation"}


def event_version(a: S.ArtifactState, e: S.Event) -> str | None:
    """The version an event concerns as GTO names it: the tag's own, the version registered at the commit,
    else (a stage on an unregistered commit, ``gto assign --sr``) the commit's full hexsha."""
    if e.name.action == T.DEPRECATE:
        return None
    return e.name.version or a._version_of(e) or e.commit


def event(a: S.ArtifactState, e: S.Event) -> dict:
    """GTO's event object (``gto check-ref --json`` prints it without priority and addition)."""
    d = {"priority": PRIORITY[e.name.action], "addition": e.name.action in (T.REGISTER, T.ASSIGN),
         "artifact": a.name, "created_at": e.iso, "author": e.author, "author_email": e.email,
         "message": e.message, "commit_hexsha": e.commit, "tag": e.tag}
    version = event_version(a, e)
    if version is not None:
        d["version"] = version
    if e.name.stage is not None:
        d["stage"] = e.name.stage
    d["event"] = EVENT_NAMES[e.name.action]
    return d


def history(state: dict[str, S.ArtifactState], name: str | None = None) -> list[dict]:
    """``gto history [NAME] --json``: every registry event, newest first (GTO sorts by time, then by the
    event's priority, and reverses)."""
    rows = []
    for a in state.values():
        if name is not None and a.name != name:
            continue
        for e in a.events:
            rows.append(((e.time, PRIORITY[e.name.action]), {
                "timestamp": e.iso, "artifact": a.name, "event": EVENT_NAMES[e.name.action],
                "priority": PRIORITY[e.name.action], "version": event_version(a, e), "stage": e.name.stage,
                "commit": e.commit, "author": e.author, "author_email": e.email, "message": e.message,
                "ref": e.tag}))
    rows.sort(key=lambda r: r[0])
    return [r for _, r in reversed(rows)]
