"""tide's on-machine watchdog: runs the forge agent (or one job), reports lifecycle events and
ends the machine. Standard library only: the startup script copies this file to the machine.

    python3 watchdog.py CONFIG.json

It ends the machine (kills the agent or job, writes ``terminated``, runs ``poweroff``) when:
  - no job has run for ``idle_timeout`` seconds (0 = never);
  - ``single`` is set and one job has ended (job mode is always single);
  - ``max_runtime`` seconds have passed since ``started_at``, whatever runs;
  - the cloud's metadata endpoint announces a spot interruption;
  - the agent exits, or the watchdog gets SIGTERM/SIGINT/SIGHUP.

Events are JSON lines ``{"status": "ready"|"job_started"|"job_ended"|"terminated", ...}`` printed
on stdout and appended to ``events``. The agent and the job run with an environment from which
every credential-like variable (``sensitive`` names and prefixes) has been removed.
"""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

SENSITIVE = (
    "AWS_", "AZURE_", "ARM_", "GOOGLE_", "GCLOUD_", "CLOUDSDK_", "GCP_", "KUBECONFIG",
    "KUBERNETES_CONFIGURATION", "TIDE_FORGE_TOKEN", "GITHUB_TOKEN", "GITLAB_TOKEN", "BITBUCKET_TOKEN",
    "REPO_TOKEN", "CML_TOKEN", "GH_TOKEN", "DIGITALOCEAN_", "TIDE_CLOUD_",
    "TIDE_TOKEN", "TIDE_SSH_PRIVATE_KEY", "TIDE_DB_URL", "CI_JOB_TOKEN", "GITEA_TOKEN", "FORGEJO_TOKEN",
    "GDRIVE_CREDENTIALS_DATA",
)
# words that make any variable a credential (found by the secrets canaries: CI_JOB_TOKEN, TIDE_TOKEN...
# reached the job); whole words between underscores, so TOKENIZERS_PARALLELISM stays
SENSITIVE_WORDS = frozenset({"TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL", "CREDENTIALS"})
SENSITIVE_PAIRS = ("PRIVATE_KEY", "ACCESS_KEY", "API_KEY", "SECRET_KEY")


def _credential_name(name: str) -> bool:
    upper = name.upper()
    return bool(SENSITIVE_WORDS.intersection(upper.split("_"))) or any(p in upper for p in SENSITIVE_PAIRS)


def scrub_env(env: dict[str, str], sensitive: list[str] | tuple[str, ...] = SENSITIVE) -> dict[str, str]:
    """``env`` without variables whose name equals or starts with an entry of ``sensitive``, or names a
    credential (TOKEN, SECRET, PASSWORD... as a word, or PRIVATE_KEY / ACCESS_KEY / API_KEY)."""
    return {k: v for k, v in env.items()
            if not any(k == s or k.startswith(s) for s in sensitive) and not _credential_name(k)}


def spot_notice(cfg: dict, timeout: float = 1.0) -> bool:
    """True when the metadata endpoint described by ``cfg`` announces an interruption."""
    headers = dict(cfg.get("headers") or {})
    try:
        if cfg.get("token_url"):
            req = urllib.request.Request(cfg["token_url"], method="PUT",
                                         headers={"X-aws-ec2-metadata-token-ttl-seconds": "60"})
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                headers[cfg.get("token_header") or "X-aws-ec2-metadata-token"] = resp.read().decode()
        req = urllib.request.Request(cfg["url"], headers=headers)
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            body = resp.read().decode(errors="replace")
    except (urllib.error.URLError, OSError, ValueError):
        return False  # 404 (no notice) lands here too
    kind = cfg.get("kind", "status")
    if kind == "body-true":
        return body.strip().upper() == "TRUE"
    if kind == "azure-events":
        try:
            events = json.loads(body).get("Events") or []
        except ValueError:
            return False
        return any(e.get("EventType") == "Preempt" for e in events)
    return True


class Watchdog:
    def __init__(self, cfg: dict) -> None:
        self.cfg = cfg
        self.name = cfg.get("name", "runner")
        self.tick = float(cfg.get("tick", 1.0))
        self.grace = float(cfg.get("grace", 10.0))
        self.idle_timeout = float(cfg.get("idle_timeout", 0) or 0)
        self.max_runtime = float(cfg.get("max_runtime", 0) or 0)
        self.job_mode = bool(cfg.get("job"))
        self.single = bool(cfg.get("single")) or self.job_mode
        self.started_at = float(cfg.get("started_at") or time.time())
        self.patterns = {k: re.compile(v) for k, v in (cfg.get("patterns") or {}).items() if v}
        self.spot = cfg.get("spot") or None
        self.proc: subprocess.Popen | None = None
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.stop_reason = ""
        self.job_running = False
        self.jobs_done = 0
        self.exit_code: int | None = None

    # --- events ---------------------------------------------------------------------------------
    def emit(self, status: str, **extra) -> None:
        event = {"status": status, "runner": self.name,
                 "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **extra}
        line = json.dumps(event, sort_keys=False)
        print(line, flush=True)
        path = self.cfg.get("events")
        if path:
            with open(path, "a", encoding="utf-8") as f:
                f.write(line + "\n")
                f.flush()
                os.fsync(f.fileno())

    def write_state(self, status: str) -> None:
        path = self.cfg.get("state")
        if not path:
            return
        data = {"pid": os.getpid(), "status": status, "started_at": self.started_at,
                "child": self.proc.pid if self.proc else None, "reason": self.stop_reason,
                "exit_code": self.exit_code, "jobs_done": self.jobs_done}
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(data, f)
        os.replace(tmp, path)

    # --- child ----------------------------------------------------------------------------------
    def start_child(self) -> None:
        env = scrub_env(dict(os.environ), tuple(self.cfg.get("sensitive") or SENSITIVE))
        env.update(self.cfg.get("env") or {})
        cmd = self.cfg.get("job") or self.cfg.get("agent")
        if not cmd:
            return  # idle mode: no agent (tide run jobs or a test host without the forge agent)
        argv = ["bash", "-c", cmd] if isinstance(cmd, str) else list(cmd)
        log = self.cfg.get("log")
        self.proc = subprocess.Popen(
            argv, cwd=self.cfg.get("cwd") or None, env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
        )
        threading.Thread(target=self._pump, args=(self.proc.stdout, log), daemon=True).start()
        if self.job_mode:
            self.job_running = True
            self.emit("job_started", pid=self.proc.pid)

    def _pump(self, stream, log_path: str | None) -> None:
        log = open(log_path, "ab") if log_path else None  # noqa: SIM115
        try:
            for raw in iter(stream.readline, b""):
                if log:
                    log.write(raw)
                    log.flush()
                self.lines.put(raw.decode("utf-8", errors="replace"))
        finally:
            if log:
                log.close()
            self.lines.put(None)

    def _match(self, line: str) -> None:
        for status in ("ready", "job_started", "job_ended"):
            pat = self.patterns.get(status)
            if pat and pat.search(line):
                if status == "job_started":
                    self.job_running = True
                elif status == "job_ended":
                    self.job_running = False
                    self.jobs_done += 1
                self.emit(status)

    # --- main loop -----------------------------------------------------------------------------
    def request_stop(self, reason: str) -> None:
        if not self.stop_reason:
            self.stop_reason = reason

    def run(self) -> int:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, lambda s, f: self.request_stop(f"signal:{signal.Signals(s).name}"))
        if self.job_mode or not self.patterns.get("ready"):
            self.emit("ready")
        self.start_child()
        self.write_state("running")
        idle_since = time.monotonic()
        next_spot = 0.0
        pump_done = self.proc is None
        exited_at = None
        while not self.stop_reason:
            try:
                line = self.lines.get(timeout=self.tick)
                if line is None:
                    pump_done = True
                else:
                    self._match(line)
            except queue.Empty:
                pass
            now = time.monotonic()
            if self.job_running:
                idle_since = now
            rc = self.proc.poll() if self.proc else None
            if rc is not None and exited_at is None:
                exited_at = now
            if rc is not None and (pump_done or now - exited_at > 2.0):
                self.exit_code = rc
                if self.job_mode:
                    self.job_running = False
                    self.jobs_done += 1
                    self.emit("job_ended", exit_code=rc)
                    self.request_stop("single")
                else:
                    self.request_stop(f"agent-exited:{rc}")
                break
            if self.single and self.jobs_done > 0:
                self.request_stop("single")
            elif self.idle_timeout and not self.job_running and now - idle_since >= self.idle_timeout:
                self.request_stop(f"idle-timeout:{int(self.idle_timeout)}")
            if self.max_runtime and time.time() - self.started_at >= self.max_runtime:
                self.request_stop(f"max-runtime:{int(self.max_runtime)}")
            if self.spot and now >= next_spot:
                next_spot = now + float(self.spot.get("interval", 5))
                if spot_notice(self.spot):
                    self.request_stop("spot-interruption")
        return self.shutdown()

    def kill_child(self) -> None:
        p = self.proc
        if not p or p.poll() is not None:
            return
        for sig, wait in ((signal.SIGTERM, self.grace), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(p.pid, sig)
            except ProcessLookupError:
                return
            try:
                p.wait(timeout=wait)
                return
            except subprocess.TimeoutExpired:
                continue

    def shutdown(self) -> int:
        self.kill_child()
        if self.job_mode and self.exit_code is None:
            self.exit_code = self.proc.poll() if self.proc else None
            self.emit("job_ended", exit_code=self.exit_code, killed=True)
        if self.cfg.get("rc_file") and self.exit_code is not None:
            with open(self.cfg["rc_file"] + ".tmp", "w") as f:
                f.write(f"{self.exit_code}\n")
            os.replace(self.cfg["rc_file"] + ".tmp", self.cfg["rc_file"])
        self.emit("terminated", reason=self.stop_reason)
        self.write_state("terminated")
        poweroff = self.cfg.get("poweroff")
        if poweroff:
            subprocess.run(["bash", "-c", poweroff], check=False)
        return 0


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="watchdog.py")
    parser.add_argument("config")
    parser.add_argument("--no-agent", action="store_true", help="do not start the forge agent")
    parser.add_argument("--poweroff", help="command that ends the machine (overrides the config)")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    with open(args.config, encoding="utf-8") as f:
        cfg = json.load(f)
    if args.no_agent:
        cfg["agent"] = None
        cfg["patterns"] = {}
    if args.poweroff is not None:
        cfg["poweroff"] = args.poweroff
    return Watchdog(cfg).run()


if __name__ == "__main__":
    raise SystemExit(main())
