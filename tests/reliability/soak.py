"""Soak: ``tide retrain`` once a simulated day for N days on embedded defaults, with faults on some days.

    run(days, seed, work, fault_share=0.1, faults=None, rows_per_day=10) -> {"rows", "checks", "failures", ...}

The project is the example (``tide init --example``) on a local forge (a bare repository), local remote
storage and the local runner, as ``tide demo`` sets it up; its data grows ``rows_per_day`` rows every day
(the day comes from ``TIDE_DAY`` and ``tide retrain --day``: no clock is waited for). After each day the
reviewer merges a promoted model's PR and leaves a rejected one open, as in the demo.

About ``fault_share`` of the days (never the first nor the last, never two in a row), drawn from ``seed``,
meet one fault for the whole cycle (FAULTS; soakrun.py injects them): the forge answers 5xx, the forge
refuses every push, the runner never starts, the process group is SIGKILLed at a named point of the cycle, the remote is
unreachable, the remote's disk fills. A faulted day must fail (non-zero exit), never report success; the
next day runs with no fault and must repair what the bad day left.

Measured after every day (one row each): the wall time of each retrain step and of the cycle, objects and
bytes on the remote, bytes in the cache, tags (local and forge), PRs, report comments, promotion records,
runner jobs alive after the cycle, the gate's decision. The checks at the end are in ``final_checks``.
"""

from __future__ import annotations

import datetime
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

from tests.reliability import retrainkill
from tests.reliability.crashlib import isolated_env

HERE = Path(__file__).resolve().parent
SOAKRUN = str(HERE / "soakrun.py")
FIRST_DAY = datetime.date(2026, 1, 1)
MODEL = "example-model"
FAULTS = ("forge-5xx", "forge-push", "runner-start", "kill", "remote-down", "disk-full")
# kill points of a cycle on the local runner (retrainkill's, without the in-process repro ones)
KILL_POINTS = tuple(p for p in retrainkill.STEP_POINTS + retrainkill.CALL_POINTS + retrainkill.RUNNER_POINTS
                    if p not in ("step:repro", "after:reproduce"))
REFUSE_PUSH_HOOK = "#!/bin/sh\necho \"push refused (soak fault)\" >&2\necho forge-push >> \"LOG\"\nexit 1\n"


def plan_faults(days: int, seed: int, share: float) -> dict[int, str]:
    """Day index -> fault: round(share * days) days (at least one when share > 0), never the first or the
    last, never two days in a row (each bad day is followed by a healthy one that must repair it); the
    kinds in turn, shuffled by the seed, so that even a short soak meets different faults."""
    rng = random.Random(seed)
    want = max(1, round(share * days)) if share > 0 else 0
    free = list(range(1, days - 1))
    rng.shuffle(free)
    chosen: set[int] = set()
    for d in free:
        if len(chosen) >= want:
            break
        if d - 1 not in chosen and d + 1 not in chosen:
            chosen.add(d)
    kinds: list[str] = []
    out = {}
    for d in sorted(chosen):
        if not kinds:
            kinds = list(FAULTS)
            rng.shuffle(kinds)
        out[d] = kinds.pop()
    return out


AWS_PROFILE = "runners:\n  soak-aws:\n    on: aws:s\n    region: us-east\n    image: {image}\n"


class Soak:
    def __init__(self, work: Path, seed: int, rows_per_day: int, days: int, runner: str = "local",
                 extra_env: dict[str, str] | None = None, warm: bool = True, remote_format: str = "dvc") -> None:
        self.work = work
        self.rng = random.Random(seed * 7919 + 1)
        work.mkdir(parents=True, exist_ok=True)
        self.home = work / "home"
        self.home.mkdir(exist_ok=True)
        self.env = isolated_env(str(self.home), {
            "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
            "GIT_TERMINAL_PROMPT": "0", "MPLBACKEND": "Agg",
            "GIT_AUTHOR_NAME": "tide soak", "GIT_AUTHOR_EMAIL": "soak@tide.invalid",
            "GIT_COMMITTER_NAME": "tide soak", "GIT_COMMITTER_EMAIL": "soak@tide.invalid", **(extra_env or {})})
        self.runner = runner
        # PYTHONDONTWRITEBYTECODE off: every process of a day would compile tide's sources again (~0.3 s each)
        for k in ("TIDE_RK_KILL", "TIDE_RK_FAULT", "TIDE_SOAK_FAULT", "TIDE_DAY", "PYTHONDONTWRITEBYTECODE"):
            self.env.pop(k, None)
        self.project = work / "project"
        self.forge = work / "forge.git"
        self.storage = work / "storage"
        self.remote_format = remote_format  # dvc (DVC's layout) | chunked (tide.yaml remotes.storage.format)
        self.runs = self.home / ".local" / "share" / "tide" / "runs"
        self.rows: list[dict] = []
        self.failures: list[str] = []
        self.setup(rows_per_day, days)
        self.warm = None
        if warm:  # the stages' `python X.py` forked from an interpreter with the example's imports done
            from tests.reliability.soakpy import WarmPython

            self.warm = WarmPython(work / "warm-bin", env=self.env)

    def close(self) -> None:
        if self.warm is not None:
            self.warm.stop()
            self.warm = None

    # --- the project, as tide demo sets it up ------------------------------------------------------
    def setup(self, rows_per_day: int, days: int) -> None:
        from tide.ops.demo import _set_runner
        from tide.ops.example import init_example

        p = self.project
        init_example(str(p), nested=True)
        params = (p / "params.yaml").read_text()
        params = params.replace("rows_per_day: 150", f"rows_per_day: {rows_per_day}")
        params = params.replace("max_days: 120", f"max_days: {days + 1}")
        (p / "params.yaml").write_text(params)
        _set_runner(str(p))
        if self.runner == "aws":
            with open(p / "tide.yaml", "a", encoding="utf-8") as f:
                f.write(AWS_PROFILE.format(image=self._ec2().describe_images()["Images"][0]["ImageId"]))
        self.git("add", "-A")
        self.git("commit", "-q", "-m", "Example project (tide init --example), data growing every day")
        self.tide("forge", "init", str(self.forge), "--add-remote", "origin")
        self.tide("remote", "add", "-d", "storage", str(self.storage))
        if self.remote_format == "chunked":
            with open(p / "tide.yaml", "a", encoding="utf-8") as f:
                f.write("remotes:\n  storage:\n    format: chunked\n")
        self.git("commit", "-q", "-am", f"Local remote storage ({self.remote_format} format)")
        self.git("push", "-q", "origin", "main")

    def _ec2(self):
        import boto3

        return boto3.client("ec2", endpoint_url=self.env["AWS_ENDPOINT_URL"], region_name="us-east-1",
                            aws_access_key_id=self.env["AWS_ACCESS_KEY_ID"],
                            aws_secret_access_key=self.env["AWS_SECRET_ACCESS_KEY"])

    def machines(self) -> int:
        """Machines alive on moto's EC2 (launched by tide: its tag) when the soak uses it."""
        if self.runner != "aws":
            return 0
        from tide.runners.aws import AwsProvisioner

        return len(AwsProvisioner("us-east", client=self._ec2()).list())

    def use_runner(self, on: str) -> None:
        """The day's runner in tide.yaml, committed and pushed to main (as a user switching runners would)."""
        path = self.project / "tide.yaml"
        text = path.read_text()
        new = text.replace("  runner: local\n", f"  runner: {on}\n") if on != "local" else \
            text.replace("  runner: soak-aws\n", "  runner: local\n")
        if new != text:
            path.write_text(new)
            self.git("commit", "-q", "-am", f"train on runner {on}")
            self.git("push", "-q", "origin", "main")

    def git(self, *args: str, cwd: Path | None = None) -> str:
        return retrainkill._git(cwd or self.project, self.env, *args)

    def tide(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return retrainkill._tide(list(args), self.project, self.env, check)

    # --- one day -----------------------------------------------------------------------------------
    def day(self, n: int, fault: str | None) -> dict:
        t_day = time.monotonic()
        date = (FIRST_DAY + datetime.timedelta(days=n)).isoformat()
        logs = self.work / "logs"
        logs.mkdir(exist_ok=True)
        times, flog = logs / f"day-{n + 1}.times", logs / f"day-{n + 1}.faults"
        env = dict(self.env, TIDE_DAY=str(n), TIDE_SOAK_TIMES=str(times), TIDE_RK_LOG=str(flog))
        on_aws = self.runner == "aws" and (n + 1) % 7 == 0
        if on_aws:
            self.use_runner("soak-aws")
            env["TIDE_SOAK_AWS"] = "1"
        kill = ""
        if fault and fault.startswith("kill"):  # kill, or kill:POINT
            kill = fault.partition(":")[2] or self.rng.choice(KILL_POINTS)
            fault = "kill"
            env["TIDE_RK_KILL"] = kill
        elif fault == "forge-push":
            hook = self.forge / "hooks" / "pre-receive"
            hook.write_text(REFUSE_PUSH_HOOK.replace("LOG", str(flog)))
            hook.chmod(0o755)
        elif fault:
            env["TIDE_SOAK_FAULT"] = fault
        if self.warm is not None:  # a kill still ends a stage at once: the shim dies, its script with it
            env["PATH"] = str(self.warm.bindir) + os.pathsep + env["PATH"]
        t0 = time.monotonic()
        proc = subprocess.Popen([sys.executable, SOAKRUN, "retrain", "--day", date, "--json"], cwd=self.project,
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)
        try:
            out, err = proc.communicate(timeout=900)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate(timeout=60)
            self.failures.append(f"day {n + 1}: the cycle did not end in 900 s (killed)")
        cycle = time.monotonic() - t0
        (self.forge / "hooks" / "pre-receive").unlink(missing_ok=True)
        (logs / f"day-{n + 1}.log").write_text(err + out)
        rc = proc.returncode
        res = {}
        if rc == 0:
            try:
                res = json.loads(out.strip().splitlines()[-1])
            except (ValueError, IndexError):
                self.failures.append(f"day {n + 1}: exit 0 without a JSON result:\n{out[-800:]}")
        met = flog.exists() and flog.read_text().strip() != ""
        what = f"day {n + 1} ({date}, fault {fault or 'none'}{' at ' + kill if kill else ''})"
        if fault == "kill" and rc == 0 and not met:
            pass  # the kill point is not on this day's path (e.g. an assignment when the gate rejects)
        elif fault and rc == 0:
            self.failures.append(f"{what}: exited 0 although the fault {'happened' if met else 'was set'}:\n"
                                 f"{err[-1500:]}")
        if not fault and rc != 0:
            self.failures.append(f"{what}: failed ({rc}):\n{err[-2000:]}")
        alive = self.alive()
        row = {"day": n + 1, "date": date, "runner": "aws" if on_aws else "local", "fault": fault or "",
               "kill": kill, "exit": rc, "fault_met": met,
               "cycle_s": round(cycle, 3), "steps": self._steps(times), "outcome": res.get("outcome", ""),
               "pr": res.get("pr_number", 0), "version": res.get("version", ""), "alive": alive,
               "repairs": err.count("] repaired: ")}
        if alive and not kill:
            self.failures.append(f"{what}: {alive} runner job(s) or machine(s) alive after the cycle")
            self.reap()
        elif alive:
            self._wait_gone(what)
        self.review(row, what)
        if on_aws:
            self.use_runner("local")
        row.update(self.measure())
        row["python"] = "warm" if self.warm is not None else "cold"
        row["day_s"] = round(time.monotonic() - t_day, 3)  # the cycle plus the reviewer and the measurements
        self.rows.append(row)
        return row

    def _steps(self, path: Path) -> dict[str, float]:
        out: dict[str, float] = {}
        for line in path.read_text().splitlines() if path.exists() else []:
            d = json.loads(line)
            out[d["step"]] = d["seconds"]
        return out

    def review(self, row: dict, what: str) -> None:
        """The reviewer: merge a promoted model's PR; otherwise the workspace goes back to main."""
        from tide.core.git import Git
        from tide.ops.demo import merge_and_sync, reset_to_main

        git = Git(str(self.project))
        try:
            if row["exit"] == 0 and row["outcome"] == "promoted":
                merge_and_sync(str(self.project), git, row["pr"])
            else:
                reset_to_main(str(self.project), git)
        except Exception as exc:
            self.failures.append(f"{what}: the review after the cycle failed: {type(exc).__name__}: {exc}")

    # --- measurements --------------------------------------------------------------------------------
    def alive(self) -> int:
        """Runner jobs still alive: processes whose command line or directory is under the runners' runs, and
        machines on moto's EC2."""
        return self.jobs() + self.machines()

    def jobs(self) -> int:
        return len(self._pids(str(self.runs).encode())) + len(self._pids(str(self.home / ".tide-runs").encode()))

    @staticmethod
    def _pids(mark: bytes) -> list[int]:
        out = []
        for pid in os.listdir("/proc"):
            if not pid.isdigit() or int(pid) == os.getpid():
                continue
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    cmd = f.read()
                cwd = os.readlink(f"/proc/{pid}/cwd").encode()
            except OSError:
                continue
            if mark in cmd or cwd.startswith(mark):
                out.append(int(pid))
        return out

    def _wait_gone(self, what: str, timeout: float = 120) -> None:
        """After a kill: the runner job ends on its own (a machine it ran on is the next day's to reap)."""
        end = time.monotonic() + timeout
        while self.jobs() and time.monotonic() < end:
            time.sleep(0.5)
        if self.jobs():
            self.failures.append(f"{what}: runner job(s) still alive {timeout:.0f}s after the cycle")
            self.reap()

    def reap(self) -> None:
        """SIGKILL, by id, runner jobs of this soak that outlived their cycle (after reporting them)."""
        for pid in self._pids(str(self.runs).encode()) + self._pids(str(self.home / ".tide-runs").encode()):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.runner == "aws":
            from tide.runners.aws import AwsProvisioner

            prov = AwsProvisioner("us-east", client=self._ec2())
            for m in prov.list():
                prov.terminate(m.id)

    def measure(self) -> dict:
        objs, rbytes = _walk(self.remote_dir())
        _, cbytes = _walk(self.project / ".dvc" / "cache")
        pulls = self.pulls()
        records = self.project / "promotions" / MODEL
        return {"remote_objects": objs, "remote_bytes": rbytes, "cache_bytes": cbytes,
                "tags": len(retrainkill._tags(self.project, self.env)),
                "forge_tags": len(retrainkill._tags(self.forge, self.env)),
                "prs": len(pulls), "comments": sum(len(self.reports(p["number"])) for p in pulls),
                "records": len(list(records.glob("*.json"))) if records.is_dir() else 0}

    def remote_dir(self) -> Path:
        """Where the remote keeps objects: files/md5 (one file an object), or chunked/ (packs and indexes)."""
        return self.storage / ("chunked" if self.remote_format == "chunked" else "files/md5")

    def pulls(self) -> list[dict]:
        return [self._json(p) for p in (self.forge / "tide-forge" / "pulls").glob("*.json")]

    def reports(self, number: int) -> list[str]:
        cdir = self.forge / "tide-forge" / "comments" / "pr" / str(number)
        bodies = [self._json(p)["body"] for p in cdir.glob("*.json")] if cdir.is_dir() else []
        return [b for b in bodies if f"tide retrain {MODEL}" in b]

    def _json(self, path: Path) -> dict:
        """A forge file, parsed again only when it changed (the daily counts stay cheap as PRs pile up)."""
        st = path.stat()
        key = (st.st_mtime_ns, st.st_size, st.st_ino)
        cache = self.__dict__.setdefault("_parsed", {})
        hit = cache.get(path)
        if hit is None or hit[0] != key:
            hit = cache[path] = (key, json.loads(path.read_text()))
        return hit[1]


def _walk(top: Path) -> tuple[int, int]:
    n = size = 0
    for dirpath, _, files in os.walk(top):
        for f in files:
            if not f.startswith("."):
                n += 1
                size += os.path.getsize(os.path.join(dirpath, f))
    return n, size


def run(days: int, seed: int, work: Path, fault_share: float = 0.1, faults: dict[int, str] | None = None,
        rows_per_day: int = 10, say=lambda line: None, runner: str = "local",
        extra_env: dict[str, str] | None = None, on_day=lambda rows: None, warm: bool = True,
        remote_format: str = "dvc") -> dict:
    """``days`` simulated days; ``faults`` (day index -> fault) replaces the seeded plan when given."""
    from tests.reliability.soakcheck import final_checks

    plan = plan_faults(days, seed, fault_share) if faults is None else dict(faults)
    t0 = time.monotonic()
    s = Soak(Path(work), seed, rows_per_day, days, runner, extra_env, warm, remote_format)
    setup_s = time.monotonic() - t0
    try:
        for n in range(days):
            row = s.day(n, plan.get(n))
            say(f"day {row['day']:>3} {row['date']} {row['runner']:<5} {row['fault'] or '-':<12} exit "
                f"{row['exit']:>3} {row['outcome'] or '-':<16} cycle {row['cycle_s']:6.2f}s day {row['day_s']:6.2f}s "
                f"remote {row['remote_objects']} obj {row['remote_bytes'] / 1e6:.1f} MB, PRs {row['prs']}, "
                f"tags {row['tags']}")
            on_day(s.rows)
    finally:
        s.close()
    t1 = time.monotonic()
    checks = final_checks(s)
    checks_s = time.monotonic() - t1
    return {"rows": s.rows, "checks": checks, "failures": s.failures + [c["detail"] for c in checks if not c["ok"]],
            "plan": {str(k + 1): v for k, v in sorted(plan.items())}, "seconds": round(time.monotonic() - t0, 1),
            "days": days, "seed": seed, "rows_per_day": rows_per_day, "runner": runner, "warm_python": warm,
            "remote_format": remote_format,
            "setup_s": round(setup_s, 1), "checks_s": round(checks_s, 1)}


def cycle_ratio(rows: list[dict], early: int = 10) -> tuple[float, float, float] | None:
    """(median cycle of the healthy days around day ``early`` (8..12), median of the last five healthy days,
    their ratio); None when the soak is too short to compare."""
    healthy = [r for r in rows if not r["fault"] and r["exit"] == 0]
    first = [r["cycle_s"] for r in healthy if early - 2 <= r["day"] <= early + 2]
    last = [r["cycle_s"] for r in healthy if r["day"] > early + 2][-5:]
    if len(rows) < early + 8 or not first or not last:
        return None
    a, b = statistics.median(first), statistics.median(last)
    return a, b, b / a

