"""tide run and runners on a real OpenSSH sshd (loopback), the startup script executed for real
(agent download skipped), and tide run --on local."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time

from tests.conftest import git
from tests.reliability import canaries
from tide.runners import agents
from tide.runners.base import Capabilities, RunnerSpec
from tide.runners.startup import Registration, render

TRAIN = """import json, sys, time
for epoch in range(int(sys.argv[1]) if len(sys.argv) > 1 else 3):
    print(f"epoch {epoch}", flush=True)
    time.sleep(0.4)
json.dump({"acc": 0.93}, open("metrics.json", "w"))
"""


def make_repo(git_dir):
    (git_dir / "train.py").write_text(TRAIN)
    (git_dir / "metrics.json").write_text("{}\n")
    git(git_dir, "add", ".")
    git(git_dir, "commit", "-qm", "init")
    return git_dir


def test_run_on_ssh_real_training_with_connection_kill(ssh_home, git_dir):
    repo = make_repo(git_dir)
    on = f"ssh://{ssh_home['host']}"
    proc = subprocess.Popen([sys.executable, "-m", "tide", "run", "--on", on, "--cloud-ssh-private",
                             ssh_home["key"], "--", "python3", "train.py", "8"],
                            cwd=repo, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # wait for the log follower (an ssh child of tide) and kill it mid-run: the job must go on
    killed = False
    end = time.monotonic() + 20
    while time.monotonic() < end and not killed:
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                stat = open(f"/proc/{pid}/stat").read()  # noqa: SIM115
                cmd = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")  # noqa: SIM115
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == proc.pid and cmd[0] == b"ssh" and any(b"finished()" in c for c in cmd):
                time.sleep(1.0)
                os.kill(int(pid), signal.SIGKILL)
                killed = True
                break
        time.sleep(0.1)
    out, err = proc.communicate(timeout=60)
    assert killed, "never saw the log follower"
    assert proc.returncode == 0, err
    assert [f"epoch {i}" for i in range(8)] == [x for x in out.splitlines() if x.startswith("epoch")]
    branch = [b.strip() for b in git(repo, "branch", "--list", "tide-run/*").splitlines()]
    assert len(branch) == 1
    assert json.loads(git(repo, "show", f"{branch[0]}:metrics.json")) == {"acc": 0.93}
    assert git(repo, "status", "--porcelain") == ""  # the working tree is untouched
    left = subprocess.run(["bash", "-c", "ls ~/.tide-runs 2>/dev/null | wc -l"], capture_output=True, text=True)
    assert left.stdout.strip() == "0"  # torn down on the host


def test_run_failure_propagates_and_tears_down(tide, git_dir, tmp_path):
    repo = make_repo(git_dir)
    r = tide("run", "--on", "local", "--", "bash", "-c", "echo failing; exit 3", cwd=repo, check=False)
    assert r.returncode == 3 and "failing" in r.stdout
    runs = tmp_path / "home"
    assert not list(runs.rglob("tide-run-*")) if runs.exists() else True


def test_run_local_hides_credentials_and_ships_uncommitted_with_sync(tide, git_dir):
    repo = make_repo(git_dir)
    (repo / "extra.txt").write_text("uncommitted\n")
    aws, gtoken = canaries.value("AWS_SECRET_ACCESS_KEY"), canaries.value("GOOGLE_OAUTH_ACCESS_TOKEN")
    env = dict(os.environ, AWS_SECRET_ACCESS_KEY=aws, GOOGLE_OAUTH_ACCESS_TOKEN=gtoken)
    r = tide("run", "--on", "local", "--sync", "--", "bash", "-c", "cat extra.txt; env", cwd=repo, env=env)
    assert "uncommitted" in r.stdout
    assert aws not in r.stdout and gtoken not in r.stdout


def test_run_max_runtime_and_bad_spec(tide, git_dir):
    repo = make_repo(git_dir)
    r = tide("run", "--on", "local", "--max-runtime", "1", "--", "sleep", "30", cwd=repo, check=False)
    assert r.returncode != 0 and "max-runtime:1" in r.stdout
    bad = tide("run", "--on", "mars:big", "--", "true", cwd=repo, check=False)
    assert bad.returncode == 2 and bad.stderr.startswith("ERROR: --on 'mars:big'") and "Traceback" not in bad.stderr


def test_spot_interruption_relaunches_and_reruns(git_dir, metadata):
    from tide.ops.run import run_on

    repo = make_repo(git_dir)
    (repo / "tide.yaml").write_text(f"runners:\n  drill:\n    on: local\n    spot_notice_url: {metadata.url}/n\n")
    git(repo, "add", "tide.yaml")
    git(repo, "commit", "-qm", "profile")
    logs = []

    def write(b):
        logs.append(b)
        if b"epoch 1" in b"".join(logs) and not metadata.app.hits_after:
            metadata.app.notice = True
            metadata.app.hits_after = 1

    metadata.app.hits_after = 0
    orig = metadata.app.handle

    def handle(*a):
        status, body = orig(*a)
        if status == 200:
            metadata.app.notice = False  # the replacement machine gets no notice
        return status, body

    metadata.app.handle = handle
    out = run_on(str(repo), "drill", ["python3", "train.py", "4"], write=write, log=lambda m: None)
    assert out.attempts == 2 and out.exit_code == 0
    assert out.branch and "metrics.json" in out.changed


def test_startup_script_runs_on_ssh_host_without_agent(ssh_home):
    from tide.runners.transport import SSHShell, SSHTarget

    spec = RunnerSpec(name="boot-test", cloud="aws", idle_timeout=2, max_runtime=60,
                      startup_script="echo user-startup-ran > \"$TIDE_HOME/user.txt\"")
    caps = Capabilities(poweroff="shutdown -h now")
    script = render(spec, caps, agents.GITHUB, Registration("https://github.com/o/r", "REGTOKEN"), None)
    sh = SSHShell(SSHTarget.parse(ssh_home["host"]), key=ssh_home["key"],
                  known_hosts=os.path.join(os.environ["HOME"], "kh"))
    home = "$HOME/.tide-boot-test"
    sh.run(f'rm -rf {home}; export TIDE_HOME={home} TIDE_SKIP_AGENT=1 TIDE_NO_SYSTEMD=1 '
           f'TIDE_POWEROFF="touch {home}/poweroff-called"; bash -s', input=script.encode(), timeout=60)
    end = time.monotonic() + 20
    while time.monotonic() < end:
        if sh.run(f"test -e {home}/poweroff-called", check=False).returncode == 0:
            break
        time.sleep(0.3)
    events = [json.loads(x) for x in sh.run(f"cat {home}/events.jsonl").stdout.decode().splitlines()]
    assert [e["status"] for e in events] == ["ready", "terminated"]
    assert events[-1]["reason"] == "idle-timeout:2"
    assert sh.run(f"cat {home}/user.txt").stdout.decode().strip() == "user-startup-ran"
    # re-running the script (a reboot) is a no-op
    again = sh.run(f"TIDE_HOME={home} bash -s", input=script.encode(), timeout=30)
    assert b"already set up" in again.stderr
    sh.run(f"rm -rf {home}")


def test_startup_scripts_pass_shellcheck(tmp_path):
    from tide.runners import registry

    scripts = {}
    for kind in registry.KINDS:
        caps = registry.capabilities(kind)
        for forge, recipe in [("none", None), *agents.AGENTS.items()]:
            spec = RunnerSpec(name="sc", cloud=kind, spot=caps.spot, single=True,
                              startup_script=base64.b64decode(base64.b64encode(b"apt-get -y install jq")).decode())
            scripts[f"{kind}-{forge}.sh"] = render(spec, caps, recipe, Registration("https://x", "T"), 1)
    for forge, recipe in agents.AGENTS.items():
        scripts[f"agent-{forge}-install.sh"] = "#!/usr/bin/env bash\n" + recipe.install
        scripts[f"agent-{forge}-run.sh"] = "#!/usr/bin/env bash\n" + recipe.run + "\n"
    for name, text in scripts.items():
        (tmp_path / name).write_text(text)
    r = subprocess.run(["shellcheck", "-S", "warning", *sorted(str(p) for p in tmp_path.iterdir())],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout
