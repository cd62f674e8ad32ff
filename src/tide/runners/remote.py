"""Running one job on a host through a :class:`Shell`: ship files, run under the watchdog (job
mode), stream the log live across connection drops, collect what changed, clean up.

Layout on the host, under the job directory ``W``::

    W/repo/          the shipped tree, the job's working directory
    W/watchdog.py    the watchdog (job mode: runs the command, enforces max runtime, spot notice)
    W/job.json       its config;  W/job.log  output;  W/events.jsonl  lifecycle;  W/job.rc  exit code

The job runs detached from the connection (setsid + nohup), so a dropped SSH connection does not
kill it: :meth:`RemoteJob.follow` reconnects and continues from the byte offset it had reached.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shlex
import tarfile
import time
from collections.abc import Callable
from dataclasses import dataclass

from tide.core.errors import RunnerError
from tide.runners.base import SpotNotice
from tide.runners.startup import watchdog_source
from tide.runners.transport import Shell

EXCLUDE_DIRS = (".git", ".dvc/cache", ".dvc/tmp", ".venv", "__pycache__", ".tide-run")

_FOLLOW_PY = r'''
import json, os, sys, time
w, off = sys.argv[1], int(sys.argv[2])
log, state = os.path.join(w, "job.log"), os.path.join(w, "state.json")
out = sys.stdout.buffer
def finished():
    try:
        return json.load(open(state))["status"] == "terminated"
    except (OSError, ValueError, KeyError):
        return not os.path.exists(os.path.join(w, "job.json"))
while True:
    fin = finished()
    try:
        with open(log, "rb") as f:
            f.seek(off)
            chunk = f.read()
    except FileNotFoundError:
        chunk = b""
    if chunk:
        out.write(chunk)
        out.flush()
        off += len(chunk)
    if fin:
        break
    time.sleep(0.2)
'''

_CHANGES_PY = r'''
import hashlib, json, os, sys
root, manifest = sys.argv[1], json.load(sys.stdin)
skip = tuple(sys.argv[2].split(","))
changed, objects = [], []
for d, dirs, files in os.walk(root):
    rel_d = os.path.relpath(d, root)
    rel_d = "" if rel_d == "." else rel_d + "/"
    dirs[:] = [x for x in dirs if (rel_d + x) not in skip and x not in ("__pycache__", ".git")]
    for name in files:
        p = os.path.join(d, name)
        rel = rel_d + name
        if os.path.islink(p) or not os.path.isfile(p):
            continue
        data = open(p, "rb").read()
        sha = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
        if manifest.get(rel) != sha:
            changed.append(rel)
cache = os.path.join(root, ".dvc", "cache", "files", "md5")
if os.path.isdir(cache):
    for d, _, files in os.walk(cache):
        for name in files:
            objects.append(os.path.relpath(os.path.join(d, name), cache).replace(os.sep, "/"))
print(json.dumps({"changed": sorted(changed), "objects": sorted(objects)}))
'''


def blob_sha(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def tar_manifest(data: bytes) -> dict[str, str]:
    """Path -> git blob id of every regular file in a tar (what was shipped)."""
    out = {}
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for m in tar.getmembers():
            if m.isfile():
                f = tar.extractfile(m)
                out[m.name.removeprefix("./")] = blob_sha(f.read() if f else b"")
    return out


@dataclass(frozen=True)
class JobResult:
    exit_code: int | None
    reason: str                 # the watchdog's terminated reason (single, max-runtime:N, spot-interruption...)
    events: tuple[dict, ...]
    reconnects: int = 0

    @property
    def interrupted(self) -> bool:
        return self.reason == "spot-interruption"


class RemoteJob:
    def __init__(self, shell: Shell, workdir: str) -> None:
        self.shell = shell
        self.w = workdir  # a bash word evaluated on the host (may use $HOME)

    def _sh(self, script: str, **kw) -> bytes:
        return self.shell.run(f"W={self.w}\n{script}", **kw).stdout

    def upload(self, tar_bytes: bytes) -> None:
        self._sh('rm -rf "$W"\nmkdir -p "$W/repo"\ntar -x -C "$W/repo"', input=tar_bytes, timeout=600)

    def start(self, command: str, *, setup: bool = True, max_runtime: int = 0, spot: SpotNotice | None = None,
              name: str = "job", grace: float = 10.0) -> None:
        steps = []
        if setup:
            steps.append(
                'if [ -f requirements.txt ]; then python3 -m venv .venv && .venv/bin/pip install -q -r requirements.txt'
                ' && export PATH="$PWD/.venv/bin:$PATH"; '
                'elif [ -f pyproject.toml ] && grep -q "^\\[project\\]" pyproject.toml; then python3 -m venv .venv'
                ' && .venv/bin/pip install -q . && export PATH="$PWD/.venv/bin:$PATH"; fi')
        steps.append(command)
        cfg = {"name": name, "job": "\n".join(steps), "cwd": "$W/repo", "log": "$W/job.log",
               "events": "$W/events.jsonl", "state": "$W/state.json", "rc_file": "$W/job.rc",
               "max_runtime": max_runtime, "idle_timeout": 0, "grace": grace, "poweroff": ""}
        if spot:
            cfg["spot"] = {"url": spot.url, "kind": spot.kind, "headers": dict(spot.headers),
                           "token_url": spot.token_url, "token_header": spot.token_header, "interval": 1}
        payload = json.dumps({"watchdog": watchdog_source().decode(), "cfg": cfg})
        self._sh(
            'W="$(cd "$W" && pwd)"\n'
            'cat > "$W/job.payload"\n'
            "python3 - \"$W\" <<'TIDE_PY'\n"
            "import json, os, sys, time\n"
            "w = sys.argv[1]\n"
            "data = json.load(open(os.path.join(w, 'job.payload')))\n"
            "open(os.path.join(w, 'watchdog.py'), 'w').write(data['watchdog'])\n"
            "cfg = data['cfg']\n"
            "for k in ('cwd', 'log', 'events', 'state', 'rc_file'):\n"
            "    cfg[k] = cfg[k].replace('$W', w)\n"
            "cfg['started_at'] = time.time()\n"
            "json.dump(cfg, open(os.path.join(w, 'job.json'), 'w'))\n"
            "os.remove(os.path.join(w, 'job.payload'))\n"
            "TIDE_PY\n"
            'nohup setsid python3 "$W/watchdog.py" "$W/job.json" > "$W/watchdog.out" 2>&1 < /dev/null &\n'
            'echo $! > "$W/watchdog.pid"\n',
            input=payload.encode(), timeout=120,
        )

    def follow(self, write: Callable[[bytes], None], *, reconnect_window: float = 120.0,
               retry_delay: float = 1.0) -> JobResult:
        """Stream the job's log to ``write`` until the job ends; survive dropped connections."""
        offset = 0
        reconnects = 0
        last_ok = time.monotonic()
        while True:
            proc = self.shell.popen(f"W={self.w}\npython3 - \"$W\" {offset} <<'TIDE_PY'\n{_FOLLOW_PY}\nTIDE_PY\n")
            assert proc.stdout is not None
            try:
                while True:
                    chunk = os.read(proc.stdout.fileno(), 65536)
                    if not chunk:
                        break
                    offset += len(chunk)
                    write(chunk)
                    last_ok = time.monotonic()
                rc = proc.wait()
            except BaseException:
                proc.kill()
                proc.wait()
                raise
            finally:
                proc.stdout.close()
            if rc == 0:
                return self.result(reconnects)
            if time.monotonic() - last_ok > reconnect_window:
                raise RunnerError(f"{self.shell.where}: lost the connection to the job for "
                                  f"{reconnect_window:.0f}s; it may still run (use --keep and inspect the host)")
            reconnects += 1
            time.sleep(retry_delay)

    def events(self) -> list[dict]:
        raw = self._sh('cat "$W/events.jsonl" 2>/dev/null || true', timeout=60)
        out = []
        for line in raw.decode(errors="replace").splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
        return out

    def result(self, reconnects: int = 0) -> JobResult:
        events = self.events()
        rc = next((e.get("exit_code") for e in reversed(events) if e.get("status") == "job_ended"), None)
        reason = next((e.get("reason", "") for e in reversed(events) if e.get("status") == "terminated"), "")
        return JobResult(rc, reason, tuple(events), reconnects)

    def stop(self) -> None:
        """Stop the job (watchdog SIGTERM -> it kills the job's process group)."""
        self._sh('p="$(cat "$W/watchdog.pid" 2>/dev/null || true)"\n'
                 'if [ -n "$p" ] && grep -q watchdog.py "/proc/$p/cmdline" 2>/dev/null; then\n'
                 '  kill -TERM "$p" 2>/dev/null || true\n'
                 '  for _ in $(seq 1 150); do grep -q watchdog.py "/proc/$p/cmdline" 2>/dev/null || break; '
                 "sleep 0.1; done\n"
                 "fi\n", timeout=60, check=False)

    def changes(self, manifest: dict[str, str]) -> tuple[list[str], list[str]]:
        """(changed or new files relative to the repo, cache object paths ``ab/cdef...``)."""
        raw = self._sh(f'python3 - "$W/repo" {shlex.quote(",".join(EXCLUDE_DIRS))} 3<&0 <<\'TIDE_PY\'\n'
                       "import sys, os\nsys.stdin = os.fdopen(3)\n"
                       f"{_CHANGES_PY}\nTIDE_PY\n", input=json.dumps(manifest).encode(), timeout=300)
        data = json.loads(raw or b"{}")
        return data.get("changed", []), data.get("objects", [])

    def fetch(self, paths: list[str], subdir: str = "repo") -> bytes:
        """A tar of ``paths`` (relative to ``W/subdir``)."""
        if not paths:
            return b""
        listing = "\0".join(paths).encode() + b"\0"
        return self._sh(f'cd "$W/{subdir}" && tar -c --null -T -', input=listing, timeout=600)

    def remove(self) -> None:
        self._sh('rm -rf "$W"', timeout=120, check=False)
