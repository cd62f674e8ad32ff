"""Issue 22: the experiment queue on runners (``tide queue start --on SPEC``, ``tide exp run --run-all
--on SPEC``): each queued experiment runs on its own runner, comes back as an experiment ref with its
outputs in the cache, and its runner is torn down on every path. On the suite's sshd (an ssh runner),
on the local runner (Ctrl-C) and on moto's EC2 (an aws runner whose machine is reached as a local
shell) with failures injected: a launch that fails after EC2 accepted it, a failing experiment, the
queue killed mid-run."""

from __future__ import annotations

import hashlib
import json
import os
import pwd
import signal
import sys
import textwrap
import time
from pathlib import Path

import tide as tide_pkg
from tests.conftest import git
from tests.pipeline.expproject import train_project

HOOKS = str(Path(__file__).parent / "hooks")  # sitecustomize for the queue's processes (see there)
REMOTE_TIDE = f"env PYTHONPATH={os.path.dirname(os.path.dirname(tide_pkg.__file__))} {sys.executable} -m tide"

TRAIN = textwrap.dedent('''
    import json, time, yaml
    p = yaml.safe_load(open("params.yaml"))["train"]
    time.sleep(p["sleep"])
    if p["fail"]:
        raise SystemExit("training diverged")
    open("model.txt", "w").write(f"model lr={p['lr']}")
    json.dump({"score": p["lr"] * 10}, open("metrics.json", "w"))
''')


def _project(d, tide, profile: str):
    return train_project(d, tide, TRAIN, "train:\n  lr: 0.1\n  sleep: 0\n  fail: 0\n",
                         {"tide.yaml": f"runners:\n{textwrap.indent(profile, '  ')}"})


def _entries(d) -> dict[str, dict]:
    from dataclasses import asdict

    from tide.ops.exp_queue import entries
    from tide.workspace.repo import Repo

    return {e.name: asdict(e) for e in entries(Repo(str(d)))}


def _wait(d, cond, what, timeout=120):
    end = time.time() + timeout
    while time.time() < end:
        st = _entries(d)
        if cond(st):
            return st
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}: {st}")


def _shown(tide, d) -> dict[str, dict]:
    rows = json.loads(tide("exp", "show", "--json", cwd=d).stdout)[1]["experiments"] or []
    return {r["name"]: r for r in rows}


def test_issue22_queue_on_ssh_runner_two_experiments(tmp_path, tide, ssh_home, monkeypatch):
    d = _project(tmp_path / "p", tide, textwrap.dedent(f"""\
        box:
          on: ssh://{ssh_home['host']}
          ssh_private: {ssh_home['key']}
          tide: {REMOTE_TIDE}
    """))
    store = tmp_path / "store"
    tide("remote", "add", "-d", "store", str(store), cwd=d)
    git(d, "commit", "-qam", "remote")
    tide("exp", "run", "--queue", "-n", "lo", "-S", "train.lr=0.2", cwd=d)
    tide("exp", "run", "--queue", "-n", "hi", "-S", "train.lr=0.5", cwd=d)
    ids = {n: e["id"] for n, e in _entries(d).items()}
    bad = tide("exp", "run", "--run-all", "--on", "mars:big", cwd=d, check=False)
    assert bad.returncode == 2 and bad.stderr.startswith("ERROR: --on 'mars:big'"), bad.stderr
    assert {e["status"] for e in _entries(d).values()} == {"queued"}  # refused before any worker started

    out = tide("exp", "run", "--run-all", "-j", "2", "--on", "box", cwd=d)
    assert "Ran experiment 'lo'" in out.stdout and "Ran experiment 'hi'" in out.stdout, out.stdout
    st = _entries(d)
    assert {n: (e["status"], e["on"]) for n, e in st.items()} == {"lo": ("success", "box"), "hi": ("success", "box")}
    assert f"tide-q-{ids['hi']} (box)" in tide("queue", "status", cwd=d).stdout
    log = tide("queue", "logs", "lo", cwd=d).stdout
    assert f"on box (runner tide-q-{ids['lo']})" in log and "Running stage 'train'" in log
    # experiments as if run here: refs dvc's layout names, params and metrics from the runner
    shown = _shown(tide, d)
    assert {n: r["revs"][0]["data"]["metrics"]["metrics.json"]["data"]["score"] for n, r in shown.items()} == {
        "lo": 2.0, "hi": 5.0}
    # the outputs came back into the cache and went to the default remote
    tide("exp", "apply", "hi", cwd=d)
    assert (d / "model.txt").read_text() == "model lr=0.5"
    for lr in ("0.2", "0.5"):
        h = hashlib.md5(f"model lr={lr}".encode()).hexdigest()
        assert (store / "files" / "md5" / h[:2] / h[2:]).is_file(), f"model lr={lr} not on the remote"
    # torn down on the host: no job directory left, and no copy of the repository here
    home = pwd.getpwuid(os.getuid()).pw_dir
    assert not [i for i in ids.values() if os.path.exists(os.path.join(home, ".tide-runs", f"tide-q-{i}"))]
    assert len(git(d, "worktree", "list").splitlines()) == 1


def _ec2():
    import boto3

    return boto3.client("ec2", region_name="us-east-1")


def _alive(names) -> list[str]:
    out = []
    for r in _ec2().describe_instances()["Reservations"]:
        for i in r["Instances"]:
            tags = {t["Key"]: t["Value"] for t in i.get("Tags", [])}
            if tags.get("tide-runner") in names and i["State"]["Name"] in ("pending", "running", "stopping"):
                out.append(f"{tags['tide-runner']}:{i['InstanceId']}")
    return out


def _launched(names) -> set[str]:
    found = set()
    for r in _ec2().describe_instances()["Reservations"]:
        for i in r["Instances"]:
            tags = {t["Key"]: t["Value"] for t in i.get("Tags", [])}
            if tags.get("tide-runner") in names:
                found.add(tags["tide-runner"])
    return found


def test_issue22_queue_on_aws_failures_leave_no_machine(tmp_path, tide, aws_env, monkeypatch):
    image = _ec2().describe_images(Owners=["099720109477"], Filters=[  # unfiltered, moto takes ~10 s
        {"Name": "name", "Values": ["ubuntu/images/*"]}])["Images"][0]["ImageId"]
    d = _project(tmp_path / "p", tide, textwrap.dedent(f"""\
        cloud:
          on: aws:s
          region: us-east
          image: {image}
          tide: {REMOTE_TIDE}
    """))
    tide("exp", "run", "--queue", "-n", "nolaunch", cwd=d)
    tide("exp", "run", "--queue", "-n", "bad", "-S", "train.fail=1", cwd=d)
    tide("exp", "run", "--queue", "-n", "good", "-S", "train.lr=0.3", cwd=d)
    tide("exp", "run", "--queue", "-n", "slow", "-S", "train.sleep=120", cwd=d)
    ids = {n: e["id"] for n, e in _entries(d).items()}
    names = {f"tide-q-{i}" for i in ids.values()}
    monkeypatch.setenv("PYTHONPATH", HOOKS + os.pathsep + os.environ.get("PYTHONPATH", ""))
    monkeypatch.setenv("TIDE_TEST_CLOUD_LOCAL", "1")
    monkeypatch.setenv("TIDE_TEST_FAIL_LAUNCH", f"tide-q-{ids['nolaunch']}")

    assert "running experiments on cloud" in tide("queue", "start", "-j", "2", "--on", "cloud", cwd=d).stdout
    logs = d / ".dvc" / "tmp" / "tide-queue" / "logs"

    def slow_runs(st):
        log = logs / f"{ids['slow']}.log"
        done = all(st[n]["status"] in ("success", "failed") for n in ("nolaunch", "bad", "good"))
        return done and st["slow"]["status"] == "running" and log.exists() and "Running stage" in log.read_text()

    st = _wait(d, slow_runs, "three finished experiments and 'slow' running on its machine")
    assert _alive({f"tide-q-{ids['slow']}"}), "the slow experiment's machine is not running"
    # the queue is killed (as a service manager stops it): its run is stopped and its machine ended
    workers = {e["worker"] for e in st.values() if e["worker"]}
    for pid in workers:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    st = _wait(d, lambda s: s["slow"]["status"] == "failed" and not any(
        os.path.exists(f"/proc/{p}") for p in workers), "the killed queue to tear down")

    assert {n: e["status"] for n, e in st.items()} == {
        "nolaunch": "failed", "bad": "failed", "good": "success", "slow": "failed"}
    assert "injected-after-RunInstances" in st["nolaunch"]["error"] and st["nolaunch"]["error"].startswith(
        "on cloud: aws "), st["nolaunch"]["error"]
    assert st["bad"]["error"].startswith("on cloud: 'tide repro' ended with exit code 1: failed to reproduce"), \
        st["bad"]["error"]
    assert st["slow"]["error"] == "interrupted (SIGTERM/Ctrl-C); its runner was torn down"
    assert "training diverged" in tide("queue", "logs", "bad", cwd=d).stdout
    # every experiment got a machine (the failed launch too: EC2 had accepted it) and none is left
    assert _launched(names) == names
    assert _alive(names) == []
    shown = _shown(tide, d)
    assert shown["good"]["revs"][0]["data"]["metrics"]["metrics.json"]["data"]["score"] == 3.0
    assert {n: (r["executor"] or {}).get("state") for n, r in shown.items()} == {
        "good": None, "nolaunch": "failed", "bad": "failed", "slow": "failed"}
    # the worker's safety net after every run (a run SIGKILLed before its teardown): machines still
    # named after the entry's runner are found at the provider and terminated
    from tide.core.settings import load
    from tide.ops.run import sweep
    from tide.runners.aws import AwsProvisioner
    from tide.runners.base import RunnerSpec

    orphan = AwsProvisioner("us-east", poll=0.05).launch(
        RunnerSpec(name="tide-q-orphan", cloud="aws", region="us-east", image=image), "#!/bin/sh\n", "orphan-l")
    assert sweep("cloud", "tide-q-orphan", load(str(d)).section("runners")) == [orphan.id]
    assert _alive({"tide-q-orphan"}) == []


def test_issue22_run_all_on_local_runner_ctrl_c_stops_and_tears_down(tmp_path, tide):
    import subprocess

    d = _project(tmp_path / "p", tide, "box:\n  on: local\n")
    tide("exp", "run", "--queue", "-n", "slow", "-S", "train.sleep=120", cwd=d)
    eid = _entries(d)["slow"]["id"]
    log = d / ".dvc" / "tmp" / "tide-queue" / "logs" / f"{eid}.log"
    # a terminal's Ctrl-C: SIGINT to the foreground process group (the command and its workers)
    # Ctrl-C as in a terminal even when the suite was started in the background (``cmd &`` ignores SIGINT)
    p = subprocess.Popen([sys.executable, "-m", "tide", "exp", "run", "--run-all", "--on", "box"], cwd=d,
                         start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        _wait(d, lambda s: log.exists() and "Running stage" in log.read_text(), "the run on the local runner")
        os.killpg(p.pid, signal.SIGINT)
        out, err = p.communicate(timeout=90)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 130 and "interrupted" in err, (out, err)
    e = _entries(d)["slow"]
    assert (e["status"], e["error"]) == ("failed", "interrupted (SIGTERM/Ctrl-C); its runner was torn down")
    job = Path(os.environ["HOME"]) / ".local" / "share" / "tide" / "runs" / f"tide-q-{eid}"
    assert not job.exists()
    left = [pid for pid in os.listdir("/proc") if pid.isdigit() and _cmdline_has(pid, f"tide-q-{eid}")]
    assert left == [], "the runner's job is still running"
    assert _refs_exps(d) == []

    # a run SIGKILLed (no teardown of its own): the worker's sweep stops and removes its job
    tide("exp", "run", "--queue", "-n", "hard", "-S", "train.sleep=120", cwd=d)
    hid = _entries(d)["hard"]["id"]
    tide("queue", "start", "--on", "box", cwd=d)
    hlog = d / ".dvc" / "tmp" / "tide-queue" / "logs" / f"{hid}.log"
    _wait(d, lambda s: hlog.exists() and "Running stage" in hlog.read_text(), "the second run")
    worker = _entries(d)["hard"]["worker"]
    tide("queue", "kill", "-f", "hard", cwd=d)
    _wait(d, lambda s: s["hard"]["status"] == "failed" and not os.path.exists(f"/proc/{worker}"), "the sweep")
    assert _entries(d)["hard"]["error"] == "killed by signal 9"
    assert not (job.parent / f"tide-q-{hid}").exists()
    left = [pid for pid in os.listdir("/proc") if pid.isdigit() and _cmdline_has(pid, f"tide-q-{hid}")]
    assert left == [], "the killed run's job is still running"


def test_issue22_tide_run_sigterm_tears_the_runner_down(tmp_path, tide):
    """The same rule for ``tide run --on`` (the runner layer's own command): SIGTERM, as a CI job's cancel
    or ``kill`` sends it, stops the job and removes it before tide exits, as Ctrl-C does."""
    import subprocess

    d = _project(tmp_path / "p", tide, "box:\n  on: local\n")
    p = subprocess.Popen([sys.executable, "-m", "tide", "run", "--on", "box", "--no-setup", "--no-push", "--",
                          "bash", "-c", "echo started; sleep 120"], cwd=d, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    runs = Path(os.environ["HOME"]) / ".local" / "share" / "tide" / "runs"
    try:
        assert p.stdout is not None and p.stdout.readline().strip() == "started"
        jobs = [x.name for x in runs.iterdir()]
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 130 and "interrupted; stopping the job and tearing down" in err, err
    assert len(jobs) == 1 and not list(runs.iterdir())
    deadline = time.monotonic() + 20  # the job was signalled: allow its processes the time to die
    while (left := [pid for pid in os.listdir("/proc") if pid.isdigit() and _cmdline_has(pid, jobs[0])]):
        if time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert left == [], "the job is still running"


def _cmdline_has(pid: str, text: str) -> bool:
    """The process names ``text`` on its command line or works in a directory that does."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return text.encode() in f.read() or text in os.readlink(f"/proc/{pid}/cwd")
    except OSError:
        return False


def _refs_exps(d) -> list[str]:
    return git(d, "for-each-ref", "--format=%(refname)", "refs/exps/").split()


def test_issue22_runner_results_never_land_outside_the_copy(tmp_path):
    """What a runner reports as changed is written into the experiment's copy only: a path that leaves
    it (``..``, absolute, through a symlink) is refused in one line, nothing is written."""
    import pytest

    from tide.core.errors import RunnerError
    from tide.ops.run import RunOutcome, collect_results

    root = tmp_path / "copy"
    root.mkdir()
    git(root, "init", "-q")
    (root / "link").symlink_to(tmp_path)

    class Job:
        def __init__(self, changed):
            self.changed = changed

        def changes(self, manifest):
            return self.changed, []

        def fetch(self, paths, subdir="repo"):
            raise AssertionError("nothing may be fetched")

    for bad in ("../evil", "/etc/evil", "link/evil", "a/../../evil"):
        with pytest.raises(RunnerError, match="outside the repository"):
            collect_results(str(root))(Job([bad]), {}, RunOutcome("r", 0, "single"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy"]
