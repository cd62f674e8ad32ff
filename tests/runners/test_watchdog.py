"""The watchdog as a real process: idle timeout, single job, max runtime, spot notice, signals,
and the job's environment without the launcher's credentials."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from tests.reliability import canaries
from tide.runners import watchdog

WD = watchdog.__file__


def start(tmp_path, env=None, **cfg):
    base = {"name": "wd", "events": str(tmp_path / "events.jsonl"), "state": str(tmp_path / "state.json"),
            "log": str(tmp_path / "job.log"), "cwd": str(tmp_path), "tick": 0.1, "grace": 2,
            "rc_file": str(tmp_path / "job.rc")}
    base.update(cfg)
    (tmp_path / "wd.json").write_text(json.dumps(base))
    return subprocess.Popen([sys.executable, WD, str(tmp_path / "wd.json")], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def events(proc, timeout=20):
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def test_idle_timeout_without_agent_terminates(tmp_path):
    t0 = time.monotonic()
    ev = events(start(tmp_path, idle_timeout=1, poweroff=f"touch {tmp_path}/powered-off"))
    assert [e["status"] for e in ev] == ["ready", "terminated"]
    assert ev[-1]["reason"] == "idle-timeout:1"
    assert 0.9 <= time.monotonic() - t0 < 10
    assert (tmp_path / "powered-off").exists()
    assert json.loads((tmp_path / "state.json").read_text())["status"] == "terminated"


def test_agent_patterns_and_single(tmp_path):
    agent = "echo 'Listening for Jobs'; sleep 0.5; echo 'Running job: train'; sleep 1; " \
            "echo 'Job train completed with result: Succeeded'; sleep 60"
    proc = start(tmp_path, agent=agent, single=True, idle_timeout=0,
                 patterns={"ready": "Listening for Jobs", "job_started": "Running job",
                           "job_ended": "completed with result"})
    ev = events(proc)
    assert [e["status"] for e in ev] == ["ready", "job_started", "job_ended", "terminated"]
    assert ev[-1]["reason"] == "single"
    assert "Running job" in (tmp_path / "job.log").read_text()


def test_idle_timer_paused_while_a_job_runs(tmp_path):
    agent = "echo ready; echo 'Running job'; sleep 2.5; echo 'completed with result'; sleep 60"
    proc = start(tmp_path, agent=agent, idle_timeout=1.5,
                 patterns={"ready": "ready", "job_started": "Running job", "job_ended": "completed with result"})
    ev = events(proc)
    started = [e for e in ev if e["status"] == "job_started"]
    assert started and ev[-1]["reason"] == "idle-timeout:1"
    assert [e["status"] for e in ev].index("job_ended") < len(ev) - 1  # ended before the idle stop


def test_max_runtime_kills_job_and_its_children(tmp_path):
    proc = start(tmp_path, job="sleep 300 & echo $! > child.pid; wait", max_runtime=1.5)
    ev = events(proc)
    assert ev[-1]["reason"] == "max-runtime:1"
    ended = [e for e in ev if e["status"] == "job_ended"][0]
    assert ended.get("killed") is True
    child = int((tmp_path / "child.pid").read_text())
    time.sleep(0.2)
    assert not alive(child)


def test_job_mode_exit_code(tmp_path):
    ev = events(start(tmp_path, job="echo hello; exit 7"))
    assert [e["status"] for e in ev] == ["ready", "job_started", "job_ended", "terminated"]
    assert ev[2]["exit_code"] == 7
    assert (tmp_path / "job.rc").read_text().strip() == "7"
    assert (tmp_path / "job.log").read_text() == "hello\n"


def test_spot_notice_from_metadata_endpoint(tmp_path, metadata):
    proc = start(tmp_path, job="sleep 60", spot={"url": metadata.url + "/latest/meta-data/spot/instance-action",
                                                 "kind": "status", "interval": 0.2})
    time.sleep(1.0)
    assert proc.poll() is None  # 404: no notice, the job goes on
    metadata.app.notice = True
    ev = events(proc)
    assert ev[-1]["reason"] == "spot-interruption"
    assert metadata.app.hits >= 2


def test_sigterm_stops_agent(tmp_path):
    proc = start(tmp_path, agent="sleep 120", idle_timeout=0)
    time.sleep(0.8)
    proc.send_signal(signal.SIGTERM)
    ev = events(proc)
    assert ev[-1]["status"] == "terminated" and ev[-1]["reason"] == "signal:SIGTERM"


def test_job_never_sees_launcher_credentials(tmp_path):
    aws, az, gh = (canaries.value(n) for n in ("AWS_SECRET_ACCESS_KEY", "AZURE_CLIENT_SECRET", "GITHUB_TOKEN"))
    env = dict(os.environ, AWS_SECRET_ACCESS_KEY=aws, AZURE_CLIENT_SECRET=az,
               GOOGLE_APPLICATION_CREDENTIALS="/k.json", GITHUB_TOKEN=gh, KEEP_ME="visible")
    events(start(tmp_path, env=env, job="env"))
    log = (tmp_path / "job.log").read_text()
    assert "KEEP_ME=visible" in log
    for secret in (aws, az, "/k.json", gh, "AWS_", "AZURE_", "GOOGLE_"):
        assert secret not in log


def test_spot_notice_kinds(serve):
    from tests.fakes.runners import SpotMetadata

    class Gcp(SpotMetadata):
        def handle(self, method, path, q, body, headers):
            assert headers.get("Metadata-Flavor") == "Google"
            return 200, (b"TRUE" if self.notice else b"FALSE")

    app = Gcp()
    s = serve(app)
    cfg = {"url": s.url + "/preempted", "kind": "body-true", "headers": {"Metadata-Flavor": "Google"}}
    assert watchdog.spot_notice(cfg) is False
    app.notice = True
    assert watchdog.spot_notice(cfg) is True
