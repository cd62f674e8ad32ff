"""Runners on a host we do not create: this machine (``local``) or an existing one over SSH.

A "machine" here is one watchdog process and its directory ``BASE/NAME`` on the host (``BASE`` is
``~/.tide-runners`` on SSH hosts). Launch runs the startup script there; terminate signals the
watchdog (which stops the agent or job and reports ``terminated``), then removes the directory.
Processes are only ever signalled after checking that their command line is tide's watchdog for
that directory, so a recycled pid is never hit.
"""

from __future__ import annotations

import json
import shlex
import time

from tide.core.errors import RunnerError
from tide.runners.base import Capabilities, Machine, RunnerSpec, deadline_from, undone_on_failure
from tide.runners.transport import Shell

# Python run on the host (stdlib only): list runners as JSON, or stop one.
_HOST_PY = r'''
import json, os, signal, sys, time, shutil
base, action, name = sys.argv[1], sys.argv[2], (sys.argv[3] if len(sys.argv) > 3 else "")

def ours(pid, home):
    try:
        cmd = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
    except OSError:
        return False
    return any(c.endswith(b"watchdog.py") for c in cmd) and any(c.startswith(home.encode()) for c in cmd)

def pid_of(home):
    try:
        return int(open(os.path.join(home, "watchdog.pid")).read().strip())
    except (OSError, ValueError):
        try:
            return int(json.load(open(os.path.join(home, "state.json")))["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

def info(name):
    home = os.path.join(base, name)
    pid = pid_of(home)
    alive = bool(pid) and ours(pid, home)
    try:
        cfg = json.load(open(os.path.join(home, "watchdog.json")))
    except (OSError, ValueError):
        cfg = {}
    events = []
    try:
        events = [json.loads(l) for l in open(os.path.join(home, "events.jsonl")) if l.strip()]
    except (OSError, ValueError):
        pass
    try:
        launch = open(os.path.join(home, "launch-id")).read().strip()
    except OSError:
        launch = ""
    reason = next((e.get("reason", "") for e in reversed(events) if e.get("status") == "terminated"), "")
    return {"name": name, "alive": alive, "started_at": cfg.get("started_at") or 0,
            "deadline": cfg.get("deadline"), "ended": any(e.get("status") == "job_ended" for e in events),
            "reason": reason, "launch": launch, "events": events[-20:]}

if action == "list":
    out = []
    if os.path.isdir(base):
        for n in sorted(os.listdir(base)):
            if os.path.isdir(os.path.join(base, n)):
                out.append(info(n))
    print(json.dumps(out))
elif action == "stop":
    home = os.path.join(base, name)
    pid = pid_of(home)
    if pid and ours(pid, home):
        os.kill(pid, signal.SIGTERM)
        for _ in range(300):
            if not ours(pid, home):
                break
            time.sleep(0.1)
        else:
            os.kill(pid, signal.SIGKILL)
    try:
        st = json.load(open(os.path.join(home, "state.json")))
        child = st.get("child")
        if child and st.get("status") != "terminated":
            os.killpg(child, signal.SIGKILL)
    except (OSError, ValueError, ProcessLookupError, TypeError):
        pass
    if os.path.isdir(home):
        shutil.rmtree(home, ignore_errors=True)
'''


class HostProvisioner:
    """Shared by ``local`` and ``ssh``: runners are watchdog processes on one host."""

    def __init__(self, kind: str, shell: Shell, base: str, capabilities: Capabilities) -> None:
        self.kind = kind
        self.shell = shell
        self.base = base  # a bash word evaluated on the host, e.g. "$HOME/.tide-runners"
        self.capabilities = capabilities

    def _py(self, action: str, name: str = "", timeout: float = 60) -> bytes:
        script = (f'BASE={self.base}\npython3 - "$BASE" {shlex.quote(action)} {shlex.quote(name)} '
                  f"<<'TIDE_PY'\n{_HOST_PY}\nTIDE_PY\n")
        return self.shell.run(script, timeout=timeout).stdout

    def home_expr(self, name: str) -> str:
        return f'{self.base}/{shlex.quote(name)}'

    def launch(self, spec: RunnerSpec, user_data: str, launch_id: str) -> Machine:
        existing = {m.name: m for m in self.list()}
        if spec.name in existing:
            if existing[spec.name].alive:
                raise RunnerError(f"runner name '{spec.name}' is already in use on {self.shell.where}")
            self.terminate(spec.name)
        script = (f"TIDE_HOME={self.home_expr(spec.name)}\nexport TIDE_HOME TIDE_NO_SYSTEMD=1\n"
                  f"TIDE_POWEROFF={shlex.quote(self.capabilities.poweroff)}\nexport TIDE_POWEROFF\n"
                  'mkdir -p "$TIDE_HOME"\n'
                  f'echo {shlex.quote(launch_id)} > "$TIDE_HOME/launch-id"\n'
                  'cat > "$TIDE_HOME.startup.sh"\n'
                  'bash "$TIDE_HOME.startup.sh"; rc=$?\nrm -f "$TIDE_HOME.startup.sh"\nexit $rc\n')
        with undone_on_failure(lambda: self.cleanup(launch_id), on=RunnerError):
            self.shell.run(script, input=user_data.encode(), timeout=600)
        return Machine(id=spec.name, name=spec.name, cloud=self.kind, state="running",
                       region=self.shell.where, launched_at=time.time(), deadline=spec.deadline(),
                       address=self.shell.where)

    def list(self) -> list[Machine]:
        try:
            items = json.loads(self._py("list") or b"[]")
        except ValueError:
            raise RunnerError(f"{self.shell.where}: unreadable runner list")
        out = []
        for it in items:
            out.append(Machine(
                id=it["name"], name=it["name"], cloud=self.kind,
                state="running" if it["alive"] else "stopped", region=self.shell.where,
                launched_at=float(it.get("started_at") or 0),
                deadline=deadline_from({"tide-deadline": str(it.get("deadline") or 0)}),
                address=self.shell.where, reason=it.get("reason", ""), job_ended=bool(it.get("ended")),
                tags={"tide-launch": it.get("launch", ""), "events": json.dumps(it.get("events", []))},
            ))
        return out

    def terminate(self, machine_id: str) -> None:
        self._py("stop", machine_id)

    def cleanup(self, launch_id: str) -> None:
        for m in self.list():
            if m.tags.get("tide-launch") == launch_id:
                self.terminate(m.id)
