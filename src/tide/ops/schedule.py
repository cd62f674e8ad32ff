"""``tide schedule``: the retraining loop without a CI service.

``run`` is a foreground scheduler: it sleeps until the next time the cron expression names, runs
``tide retrain`` (or ``--command``) in the repository root, logs the outcome, and goes on until it
is stopped (SIGINT/SIGTERM end it between runs, or stop the running job and then it). ``install``
writes a crontab entry (marked, so re-installing replaces it) or a systemd user timer and service.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from tide.core.errors import TideError, UsageError
from tide.core.fsutil import atomic_write_text

Say = Callable[[str], None]
DOW = ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat")


@dataclass(frozen=True)
class RunLog:
    started: str
    exit_code: int
    seconds: float


def next_times(cron: str, start: datetime.datetime, n: int = 1) -> list[datetime.datetime]:
    from croniter import croniter

    it = croniter(cron, start)
    return [it.get_next(datetime.datetime) for _ in range(n)]


def default_command() -> list[str]:
    return [sys.executable, "-m", "tide", "retrain"]


def run_loop(root: str, cron: str, command: list[str], say: Say, max_runs: int | None = None,
             now_first: bool = False, env: dict[str, str] | None = None,
             clock: Callable[[], float] = time.time) -> list[RunLog]:
    stop = threading.Event()
    previous = {}

    def handler(signum, frame):
        say(f"schedule: got signal {signum}; stopping")
        stop.set()

    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, handler)
    logs: list[RunLog] = []
    try:
        first = now_first
        while not stop.is_set() and (max_runs is None or len(logs) < max_runs):
            if not first:
                nxt = next_times(cron, datetime.datetime.fromtimestamp(clock(), datetime.UTC))[0]
                wait = max(0.0, nxt.timestamp() - clock())
                say(f"schedule: next run at {nxt.strftime('%Y-%m-%d %H:%M:%S')} UTC (in {wait:.0f} s)")
                if stop.wait(wait):
                    break
            first = False
            logs.append(_run_once(root, command, say, env, stop))
    finally:
        for sig, h in previous.items():
            signal.signal(sig, h)
    return logs


def _run_once(root: str, command: list[str], say: Say, env: dict[str, str] | None,
              stop: threading.Event) -> RunLog:
    started = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    say(f"schedule: {started} running: {shlex.join(command)}")
    t0 = time.monotonic()
    try:
        proc = subprocess.Popen(command, cwd=root, env=env, start_new_session=True)
    except OSError as exc:
        raise TideError(f"schedule: cannot run '{command[0]}': {exc.strerror}")
    while True:
        try:
            code = proc.wait(timeout=0.5)
            break
        except subprocess.TimeoutExpired:
            if stop.is_set():
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    code = proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    code = proc.wait()
                break
    secs = time.monotonic() - t0
    say(f"schedule: finished with exit code {code} after {secs:.1f} s")
    return RunLog(started, code, secs)


# --- install -------------------------------------------------------------------------------------
def marker(root: str) -> str:
    return f"# tide-retrain {root}"


def crontab_line(root: str, cron: str, command: str) -> str:
    log = os.path.join(root, ".dvc", "tmp", "tide-schedule.log")
    return f"{cron} cd {shlex.quote(root)} && {command} >> {shlex.quote(log)} 2>&1 {marker(root)}"


def install_crontab(root: str, cron: str, command: str) -> str:
    try:
        cur = subprocess.run(["crontab", "-l"], capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise UsageError("crontab is not installed; install cron, or use 'tide schedule install --systemd'")
    lines = [ln for ln in (cur.stdout.splitlines() if cur.returncode == 0 else []) if not ln.endswith(marker(root))]
    lines.append(crontab_line(root, cron, command))
    proc = subprocess.run(["crontab", "-"], input="\n".join(lines) + "\n", capture_output=True, text=True,
                          check=False)
    if proc.returncode != 0:
        raise TideError(f"crontab refused the entry: {proc.stderr.strip() or proc.returncode}")
    return lines[-1]


def _field(value: str, names: tuple[str, ...] | None = None, width: int = 2, first: int = 0) -> str:
    """One cron field in systemd OnCalendar syntax (``*``, lists, ``a-b`` ranges, ``*/n`` / ``a/n`` steps)."""
    out = []
    for part in value.split(","):
        base, _, step = part.partition("/")
        if base == "*":
            text = "*" if not step else f"{first}/{step}"
        elif "-" in base:
            a, b = base.split("-", 1)
            text = f"{_one(a, names, width)}..{_one(b, names, width)}"
            if step:
                raise UsageError(f"cron field '{part}': ranges with steps are not supported for systemd timers")
        else:
            text = _one(base, names, width) + (f"/{step}" if step else "")
        out.append(text)
    return ",".join(out)


def _one(v: str, names: tuple[str, ...] | None, width: int) -> str:
    if not v.isdigit():
        raise UsageError(f"cron value '{v}' is not supported for systemd timers (use numbers)")
    return names[int(v) % 7] if names else v.zfill(width)


def on_calendar(cron: str) -> str:
    m, h, dom, mon, dow = cron.split()
    day = "" if dow == "*" else _field(dow, DOW) + " "
    if dow != "*" and "/" in dow:
        raise UsageError("day-of-week steps are not supported for systemd timers")
    return f"{day}*-{_field(mon, first=1)}-{_field(dom, first=1)} {_field(h)}:{_field(m)}:00"


def install_systemd(root: str, cron: str, command: str, unit_dir: str) -> tuple[str, str]:
    name = "tide-retrain-" + hashlib.sha1(root.encode()).hexdigest()[:8]
    service = (f"[Unit]\nDescription=tide retrain in {root}\n\n[Service]\nType=oneshot\n"
               f"WorkingDirectory={root}\nExecStart=/bin/sh -c {shlex.quote(command)}\n")
    timer = (f"[Unit]\nDescription=Scheduled tide retrain in {root} ({cron})\n\n[Timer]\n"
             f"OnCalendar={on_calendar(cron)}\nPersistent=true\n\n[Install]\nWantedBy=timers.target\n")
    os.makedirs(unit_dir, exist_ok=True)
    svc, tmr = os.path.join(unit_dir, name + ".service"), os.path.join(unit_dir, name + ".timer")
    atomic_write_text(svc, service)
    atomic_write_text(tmr, timer)
    return svc, tmr


def enable_systemd(timer_path: str) -> str | None:
    """Enable the timer with ``systemctl --user``; None when that worked, else the manual command."""
    unit = os.path.basename(timer_path)
    manual = f"systemctl --user daemon-reload && systemctl --user enable --now {unit}"
    try:
        for args in (["daemon-reload"], ["enable", "--now", unit]):
            proc = subprocess.run(["systemctl", "--user", *args], capture_output=True, text=True, check=False,
                                  timeout=30)
            if proc.returncode != 0:
                return manual
    except (FileNotFoundError, subprocess.TimeoutExpired):
        return manual
    return None
