"""``tide run --on SPEC -- COMMAND``: run a command on a runner without a CI service.

Provision (local, ``ssh://USER@HOST[:PORT]``, ``aws:TYPE[:spot]``, ``gcp:...``, ``azure:...``, or a
profile under ``runners:`` in tide.yaml), ship the repository at HEAD (``--sync``: the working
tree with uncommitted changes) plus the tracked data present in the workspace, set up
``requirements.txt``/``pyproject.toml``, run COMMAND under the watchdog with live logs, bring back
the changed files as a commit on branch ``tide-run/NAME`` (the working tree is not touched) and
the new cache objects, push them when a default remote is configured, then tear down: also when
COMMAND fails or on Ctrl-C. A spot interruption relaunches (on demand after ``spot_retries``).
"""

from __future__ import annotations

import io
import os
import secrets
import shlex
import tarfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tide.core.config import Env
from tide.core.errors import RunnerError, TideError, UsageError
from tide.core.git import Git
from tide.runners.base import DEFAULT_MAX_RUNTIME, Capabilities, RunnerSpec, parse_duration
from tide.runners.remote import JobResult, RemoteJob, tar_manifest
from tide.runners.transport import LocalShell, Shell, SSHShell, SSHTarget


@dataclass(frozen=True)
class Target:
    """Where a run goes, parsed from ``--on``."""

    kind: str                      # local | ssh | a cloud kind
    host: str = ""
    type: str = "m"
    spot: bool = False
    region: str = "us-west"
    ssh_private: str = ""
    max_runtime: int = DEFAULT_MAX_RUNTIME
    image: str = ""
    spot_notice_url: str = ""      # drill: a metadata endpoint that announces interruptions (any kind)


def parse_on(on: str, profiles: dict[str, Any] | None = None, ssh_private: str = "") -> Target:
    profiles = profiles or {}
    if on in profiles:
        p = profiles[on] or {}
        spec = p.get("on", p.get(True)) if isinstance(p, dict) else None  # YAML 1.1 reads a bare on: as True
        if not spec:
            raise UsageError(f"tide.yaml runners.{on}: needs 'on: SPEC'")
        base = parse_on(str(spec), None, str(p.get("ssh_private", ssh_private)))
        return Target(base.kind, base.host, str(p.get("type", base.type)), bool(p.get("spot", base.spot)),
                      str(p.get("region", base.region)), base.ssh_private,
                      parse_duration(p.get("max_runtime"), "max_runtime", base.max_runtime),
                      str(p.get("image", "")), str(p.get("spot_notice_url", "")))
    if on == "local":
        return Target("local")
    if on.startswith("ssh://"):
        SSHTarget.parse(on)
        return Target("ssh", host=on, ssh_private=ssh_private)
    kind, _, rest = on.partition(":")
    if kind in ("aws", "gcp", "azure"):
        parts = rest.split(":") if rest else []
        spot = "spot" in parts
        parts = [x for x in parts if x != "spot"]
        return Target(kind, type=parts[0] if parts else "m", spot=spot,
                      region=parts[1] if len(parts) > 1 else "us-west", ssh_private=ssh_private)
    raise UsageError(f"--on '{on}': use local, ssh://USER@HOST[:PORT], aws:TYPE[:spot], gcp:TYPE, azure:TYPE "
                     "or a profile under 'runners:' in tide.yaml")


# --- what is shipped -----------------------------------------------------------------------------

def _tracked_data(root: str) -> list[str]:
    """Workspace paths of tracked outputs (git-ignored data the command needs)."""
    try:
        from tide.ops.index import collect
        from tide.workspace.repo import Repo

        repo = Repo.find(root)
    except TideError:
        return []
    try:
        return [t.out.path for t in collect(repo) if os.path.exists(os.path.join(root, t.out.path))]
    except TideError:
        return []
    finally:
        repo.close()


def build_tar(root: str, sync: bool, extra: tuple[str, ...] = ()) -> bytes:
    """HEAD (``sync``: the working tree, untracked files git does not ignore included) plus the tracked
    data present in the workspace, plus ``extra`` paths (relative to ``root``; ignored ones too)."""
    git = Git(root)
    if sync:
        names = git.out("ls-files", "-z", "--cached", "--others", "--exclude-standard").split("\0")
    else:
        if not git.has_commits():
            raise UsageError("the repository has no commit to ship: commit first or use --sync")
        names = []
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        if not sync and git.out("ls-tree", "HEAD").strip():  # an empty tree's archive does not open
            head = git.run("archive", "--format=tar", "HEAD").stdout
            with tarfile.open(fileobj=io.BytesIO(head)) as src:
                for m in src.getmembers():
                    tar.addfile(m, src.extractfile(m) if m.isfile() else None)
        for name in [n for n in names if n] + _tracked_data(root) + list(extra):
            path = os.path.join(root, name)
            if os.path.lexists(path) and not (os.path.isdir(path) and name in names):
                tar.add(path, arcname=name)
    return buf.getvalue()


# --- bringing results back -----------------------------------------------------------------------

@dataclass
class RunOutcome:
    name: str
    exit_code: int | None
    reason: str
    branch: str = ""
    commit: str = ""
    changed: list[str] = field(default_factory=list)
    objects: int = 0
    pushed: bool = False
    attempts: int = 1
    reconnects: int = 0
    files: dict[str, bytes] = field(default_factory=dict)  # filled by collect_results


Collect = Callable[[RemoteJob, dict[str, str], RunOutcome], None]


# --- the target's lifetime -------------------------------------------------------------------------

class Session:
    """A shell on the target plus its teardown. Clouds: a machine launched for this run."""

    def __init__(self, target: Target, name: str, env: Env, log: Callable[[str], None]) -> None:
        self.target, self.name, self.env, self.log = target, name, env, log
        self.prov: Any = None
        self.machine: Any = None
        self.caps = Capabilities()
        self.shell: Shell = LocalShell()
        self.workdir = ""
        self.marker = ""  # the session's file while it may own a cloud machine (ops/run_sessions.py)

    def open(self, spot: bool | None = None) -> None:
        t = self.target
        if t.kind == "local":
            from tide.ops.runner import data_dir

            self.shell = LocalShell()
            self.workdir = shlex.quote(os.path.join(os.path.dirname(data_dir(self.env)), "runs", self.name))
            self._drill()
            return
        if t.kind == "ssh":
            self.shell = SSHShell(SSHTarget.parse(t.host), key=t.ssh_private, known_hosts=self.known_hosts())
            self.workdir = f'"$HOME/.tide-runs/{self.name}"'
            self._drill()
            return
        from tide.ops import runner as ops

        spec = self._spec(spot)
        self.prov = ops.provisioner(spec, self.env)
        self.caps = self.prov.capabilities
        from tide.ops.run_sessions import mark

        self.marker = self.marker or mark(self.env, self.name, t.kind, t.region)  # removed at teardown
        res = ops.launch(spec, no_agent=True, prov=self.prov, emit=lambda e: self.log(f"{e['status']}"))
        self.machine = res.machine
        self.shell = self._wait_ssh()
        self.workdir = f'"$HOME/.tide-runs/{self.name}"'

    def _spec(self, spot: bool | None = None) -> RunnerSpec:
        t = self.target
        return RunnerSpec(name=self.name, cloud=t.kind, type=t.type, spot=t.spot if spot is None else spot,
                          region=t.region, ssh_private=t.ssh_private, max_runtime=t.max_runtime, idle_timeout=0,
                          image=t.image)

    def sweep(self, hosts: bool = True) -> list[str]:
        """Terminate every machine of the provider still named after this session (a launcher killed
        before its own teardown, a terminate call that failed); returns their ids. On a host (local,
        ssh) with ``hosts``: stop the job left in the session's directory and remove it."""
        if self.target.kind in ("local", "ssh"):
            if hosts:
                self.open()
                job = RemoteJob(self.shell, self.workdir)
                job.stop()
                job.remove()
            return []
        from tide.ops import runner as ops

        prov = self.prov or ops.provisioner(self._spec(), self.env)
        left = [m for m in prov.list() if m.name == self.name and m.alive]
        for m in left:
            prov.terminate(m.id)
        return [m.id for m in left]

    def known_hosts(self) -> str:
        from tide.ops.runner import data_dir

        return os.path.join(os.path.dirname(data_dir(self.env)), "known_hosts")

    def _drill(self) -> None:
        if self.target.spot_notice_url:
            from tide.runners.base import SpotNotice

            self.caps = Capabilities(spot=True, spot_notice=SpotNotice(self.target.spot_notice_url))

    def _wait_ssh(self, timeout: float = 300) -> Shell:
        end = time.monotonic() + timeout
        while True:
            machine = next((m for m in self.prov.list() if m.id == self.machine.id), self.machine)
            if machine.address:
                shell = SSHShell(SSHTarget(machine.address, self.caps.ssh_user), key=self.target.ssh_private,
                                 known_hosts=self.known_hosts(), connect_timeout=5)
                try:
                    shell.run("true", timeout=20)
                    return shell
                except RunnerError:
                    pass
            if time.monotonic() > end:
                raise RunnerError(f"{self.name}: machine not reachable over SSH after {timeout:.0f}s")
            time.sleep(3)

    def close(self) -> None:
        if self.prov is not None and self.machine is not None:
            self.prov.terminate(self.machine.id)
            self.machine = None

    def done(self) -> None:
        """The run is over and its machine terminated: nothing left for the next run to reap."""
        if self.marker and self.machine is None:
            from tide.ops.run_sessions import unmark

            unmark(self.marker)
            self.marker = ""


def run_on(root: str, on: str, command: list[str], *, sync: bool = False, keep: bool = False, setup: bool = True,
           max_runtime: int | None = None, ssh_private: str = "", branch: str = "", spot_retries: int = 1,
           push: bool = True, write: Callable[[bytes], None] | None = None, log: Callable[[str], None] | None = None,
           env: Env | None = None, name: str = "", profiles: dict[str, Any] | None = None,
           collect: Collect | None = None, extra: tuple[str, ...] = ()) -> RunOutcome:
    """Run ``command`` on the runner ``on`` and tear it down on every path. ``name`` names the runner
    (default ``tide-run-<random>``; clouds tag the machine with it). ``profiles``: the ``runners:``
    section to read ``on`` from (default: ``root``'s tide.yaml). ``collect(job, manifest, outcome)``
    brings the results back while the runner is still up (default: changed files as a commit on
    ``branch`` and new cache objects, pushed with ``push``). ``extra``: more paths to ship (see
    :func:`build_tar`)."""
    if not command:
        raise UsageError("nothing to run: tide run --on SPEC -- COMMAND")
    env = env or Env()
    write = write or (lambda b: None)  # the command's output; none kept unless the caller takes it
    log = log or (lambda m: None)  # progress lines
    from tide.core.settings import load as load_settings

    if profiles is None:
        profiles = load_settings(root).section("runners")
    target = parse_on(on, profiles, ssh_private)
    if max_runtime is not None:
        target = Target(**{**target.__dict__, "max_runtime": max_runtime})
    name = name or "tide-run-" + secrets.token_hex(4)
    tar = build_tar(root, sync, extra)
    manifest = tar_manifest(tar)
    cmd = " ".join(shlex.quote(c) for c in command) if len(command) > 1 else command[0]
    from tide.ops.run_sessions import reap_left_behind

    reap_left_behind(env, lambda m: log(f"repaired: {m}"))  # machines of earlier runs that were killed
    session = Session(target, name, env, log)
    job: RemoteJob | None = None
    attempts = 0
    reconnects = 0
    try:
        spot: bool | None = None
        while True:
            attempts += 1
            session.open(spot)
            job = RemoteJob(session.shell, session.workdir)
            log(f"{name}: shipping {len(manifest)} files to {session.shell.where}")
            job.upload(tar)
            job.start(cmd, setup=setup, max_runtime=target.max_runtime, name=name,
                      spot=session.caps.spot_notice if (target.spot or target.spot_notice_url) else None)
            result: JobResult = job.follow(write)
            reconnects += result.reconnects
            if result.interrupted and attempts <= spot_retries + 1:
                log(f"{name}: spot interruption; relaunching" + (" on demand" if attempts > spot_retries else ""))
                if not keep:
                    job.remove()
                session.close()
                spot = False if attempts > spot_retries else None
                continue
            break
        out = RunOutcome(name, result.exit_code, result.reason, attempts=attempts, reconnects=reconnects)
        if result.reason.startswith("max-runtime"):
            log(f"{name}: stopped at --max-runtime ({target.max_runtime}s)")
        if collect is None:
            _bring_back(root, job, manifest, out, branch or f"tide-run/{name}", cmd, push, log)
        else:
            collect(job, manifest, out)
        return out
    except KeyboardInterrupt:
        log(f"{name}: interrupted; stopping the job and tearing down")
        if job is not None:
            try:
                job.stop()
            except RunnerError:
                pass
        raise
    finally:
        try:
            if job is not None and not keep:
                job.remove()
        except RunnerError as exc:
            log(f"{name}: could not remove the job directory: {exc}")
        finally:
            session.close()
            session.done()


def _bring_back(root: str, job: RemoteJob, manifest: dict[str, str], out: RunOutcome, branch: str, cmd: str,
                push: bool, log: Callable[[str], None]) -> None:
    changed, objects = job.changes(manifest)
    git = Git(root)
    ignored = git.ignored(changed)
    files = [p for p in changed if p not in ignored and not p.startswith(".dvc/")]
    if files:
        data = job.fetch(files)
        contents: dict[str, bytes] = {}
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            for m in tar.getmembers():
                f = tar.extractfile(m) if m.isfile() else None
                if f is not None:
                    contents[m.name] = f.read()
        msg = f"tide run: {cmd}\n\nExit code {out.exit_code} on {job.shell.where} ({out.name})."
        out.commit = git.commit_on_branch(contents, branch, msg)
        out.branch = branch
        out.changed = sorted(contents)
        log(f"{out.name}: {len(contents)} changed file(s) committed on branch {branch}")
    if objects:
        out.objects = _import_objects(root, job, objects)
        if out.objects and push:
            out.pushed = _push(root, log)


def sweep(on: str, name: str, profiles: dict[str, Any] | None = None, env: Env | None = None,
          hosts: bool = True) -> list[str]:
    """Terminate the machines still named ``name`` of the runner spec ``on`` (see :meth:`Session.sweep`)."""
    return Session(parse_on(on, profiles), name, env or Env(), lambda m: None).sweep(hosts)


def collect_results(root: str, log: Callable[[str], None] | None = None) -> Collect:
    """A ``collect`` for :func:`run_on` that reads the job's changed files (those git does not ignore in
    ``root``, outside ``.dvc/``) into ``outcome.files`` (path relative to ``root`` -> bytes; a path that
    would leave ``root`` is refused) and admits its new cache objects into ``root``'s cache (hashed at
    the door). Nothing is written to the working tree, committed or pushed: the caller decides. A
    failed command brings nothing back."""
    log = log or (lambda m: None)

    def collect(job: RemoteJob, manifest: dict[str, str], out: RunOutcome) -> None:
        if out.exit_code != 0:
            return
        changed, objects = job.changes(manifest)
        real = os.path.realpath(root)
        safe = []
        for p in changed:
            full = os.path.realpath(os.path.join(real, p))
            if os.path.isabs(p) or ".." in p.split("/") or not full.startswith(real + os.sep):
                raise RunnerError(f"{out.name}: the job reported a changed file outside the repository: {p!r}")
            safe.append(p)
        ignored = Git(root).ignored(safe)
        files = [p for p in safe if p not in ignored and not p.startswith(".dvc/")]
        if files:
            wanted = set(files)
            with tarfile.open(fileobj=io.BytesIO(job.fetch(files))) as tar:
                for m in tar.getmembers():
                    f = tar.extractfile(m) if m.isfile() and m.name in wanted else None
                    if f is not None:
                        out.files[m.name] = f.read()
            out.changed = sorted(out.files)
        if objects:
            out.objects = _import_objects(root, job, objects)
        log(f"{out.name}: {len(out.changed)} changed file(s) and {out.objects} new object(s) brought back")

    return collect


def _import_objects(root: str, job: RemoteJob, objects: list[str]) -> int:
    try:
        from tide.workspace.repo import Repo

        repo = Repo.find(root)
    except TideError:
        return 0
    try:
        base = os.path.join(repo.cache_dir, "files", "md5")
        missing = [o for o in objects if not os.path.exists(os.path.join(base, o))]
        if not missing:
            return 0
        data = job.fetch(missing, subdir="repo/.dvc/cache/files/md5")
        from tide.core.errors import CacheError
        from tide.core.hashing import is_md5
        from tide.objects.cache import ObjectRefused

        refused: list[str] = []
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            for m in tar.getmembers():
                f = tar.extractfile(m) if m.isfile() else None
                head, _, tail = m.name.partition("/")
                if f is None or len(head) != 2 or not is_md5(head + tail):
                    continue
                try:  # the door into the cache hashes what the job sent: a wrong object is refused
                    repo.cache.admit_bytes(f.read(), head + tail)
                except ObjectRefused as exc:
                    refused.append(f"{exc.oid} (its content hashes to {exc.digest})")
        if refused:
            more = f" and {len(refused) - 1} more" if len(refused) > 1 else ""
            raise CacheError(f"the job sent back objects that do not match their names: {refused[0]}{more}; "
                             "refused (not in the cache, not pushed)")
        return len(missing)
    finally:
        repo.close()


def _push(root: str, log: Callable[[str], None]) -> bool:
    from tide.workspace.repo import Repo

    repo = Repo.find(root)
    try:
        if not repo.option("core.remote"):
            log("no default remote: new objects stay in the local cache (tide push later)")
            return False
        from tide.ops.data_scope import Scope
        from tide.ops.push import run_push

        run_push(repo, Scope(all_branches=True))
        log("pushed the new objects to the default remote")
        return True
    finally:
        repo.close()
