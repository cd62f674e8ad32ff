"""tide ci init (checked against the GitHub / GitLab workflow schemas) and tide schedule."""

from __future__ import annotations

import os
import stat
import sys

import pytest
import yaml

from tests.conftest import git


def validate(path, schema):
    from check_jsonschema.cli.main_command import main as cj

    with pytest.raises(SystemExit) as exc:
        cj(["--builtin-schema", f"vendor.{schema}", str(path)])
    return exc.value.code


@pytest.mark.parametrize("extra", [[], ["--cloud", "aws", "--cloud-type", "t2.micro", "--schedule", "30 6 * * 1-5"]])
def test_github_workflow_is_valid(repo_dir, tide, extra):
    tide("ci", "init", "github", "--force", *extra, cwd=repo_dir)  # --force: repo_dir is no retrain project
    path = repo_dir / ".github" / "workflows" / "tide-retrain.yml"
    assert validate(path, "github-workflows") == 0
    doc = yaml.safe_load(path.read_text())
    on = doc[True] if True in doc else doc["on"]  # YAML 1.1 reads the key 'on' as a boolean
    assert "workflow_dispatch" in on and "push" not in on
    assert on["schedule"][0]["cron"] == ("30 6 * * 1-5" if extra else "0 8 * * *")
    train = doc["jobs"]["train-model"]
    assert train["steps"][-1]["run"] == "tide retrain"
    if extra:
        assert train["needs"] == "deploy-runner" and train["runs-on"] == ["self-hosted", "tide-runner"]
        launch = doc["jobs"]["deploy-runner"]["steps"][-1]
        assert "tide runner launch --cloud=aws" in launch["run"] and "--single" in launch["run"]
        assert launch["env"]["AWS_ACCESS_KEY_ID"] == "${{ secrets.AWS_ACCESS_KEY_ID }}"
    again = tide("ci", "init", "github", cwd=repo_dir, check=False)
    assert again.returncode != 0 and "--force" in again.stderr


@pytest.mark.parametrize("extra", [[], ["--cloud", "gcp"]])
def test_gitlab_pipeline_is_valid(repo_dir, tide, extra):
    tide("ci", "init", "gitlab", "--force", *extra, cwd=repo_dir)
    path = repo_dir / ".gitlab-ci.yml"
    assert validate(path, "gitlab-ci") == 0
    doc = yaml.safe_load(path.read_text())
    assert doc["train-model"]["script"] == ["tide retrain"]
    assert {"if": '$CI_PIPELINE_SOURCE == "schedule"'} in doc["train-model"]["rules"]


def test_bad_cron_and_provider(repo_dir, tide):
    for args, needle in ((["github", "--schedule", "every day"], "not a cron schedule"),
                         (["github", "--schedule", "0 25 * * *"], "not a valid cron"),
                         (["jenkins"], "invalid choice")):
        res = tide("ci", "init", *args, cwd=repo_dir, check=False)
        assert res.returncode != 0 and res.stderr.startswith("ERROR: ") and needle in res.stderr, res.stderr


def test_schedule_run_now_runs_command_and_logs(repo_dir, tide):
    script = f"{sys.executable} -c \"open('ran.txt','a').write('x')\""
    res = tide("schedule", "run", "--now", "--max-runs", "1", "--command", script, cwd=repo_dir)
    assert (repo_dir / "ran.txt").read_text() == "x"
    assert "finished with exit code 0" in res.stdout
    bad = tide("schedule", "run", "--now", "--max-runs", "1", "--command", "false", cwd=repo_dir, check=False)
    assert bad.returncode == 1 and "exit code 1" in bad.stdout


def test_schedule_run_stops_on_sigterm_while_waiting(repo_dir):
    import signal
    import subprocess
    import time

    proc = subprocess.Popen([sys.executable, "-m", "tide", "schedule", "run", "--cron", "0 0 1 1 *"],
                            cwd=repo_dir, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    assert "next run at" in line and "-01-01 00:00:00" in line
    time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0


def test_schedule_show_reads_tide_yaml(repo_dir, tide):
    (repo_dir / "tide.yaml").write_text("schedule:\n  cron: '15 4 * * *'\n")
    out = tide("schedule", "show", "-n", "2", cwd=repo_dir).stdout
    assert "15 4 * * *" in out and out.count("04:15 UTC") == 2
    (repo_dir / "tide.yaml").write_text("schedule:\n  cron: 5\n")
    res = tide("schedule", "show", cwd=repo_dir, check=False)
    assert res.returncode != 0 and "'schedule.cron' must be a str" in res.stderr


def test_install_crontab_replaces_its_own_entry(repo_dir, tide, tmp_path):
    # a stand-in for crontab(1) with its interface: 'crontab -l' prints, 'crontab -' replaces
    bindir = tmp_path / "bin"
    bindir.mkdir()
    store = tmp_path / "crontab.txt"
    store.write_text("0 1 * * * echo other job\n")
    fake = bindir / "crontab"
    fake.write_text(f"#!/bin/sh\nif [ \"$1\" = -l ]; then cat {store}; else cat > {store}; fi\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    env = dict(os.environ, PATH=f"{bindir}:{os.environ['PATH']}")
    tide("schedule", "install", "--cron", "0 8 * * *", cwd=repo_dir, env=env)
    tide("schedule", "install", "--cron", "0 9 * * *", cwd=repo_dir, env=env)
    lines = store.read_text().splitlines()
    assert lines[0] == "0 1 * * * echo other job"
    ours = [ln for ln in lines if "tide-retrain" in ln]
    assert len(ours) == 1 and ours[0].startswith("0 9 * * * cd ") and "-m tide retrain" in ours[0]


def test_install_systemd_timer(repo_dir, tide, tmp_path):
    units = tmp_path / "units"
    out = tide("schedule", "install", "--systemd", "--no-enable", "--cron", "*/30 6-18 * * 1-5",
               "--unit-dir", units, cwd=repo_dir).stdout
    timer = next(units.glob("*.timer")).read_text()
    assert "OnCalendar=Mon..Fri *-*-* 06..18:0/30:00" in timer and "Persistent=true" in timer
    service = next(units.glob("*.service")).read_text()
    assert f"WorkingDirectory={repo_dir}" in service and "tide retrain" in service
    assert "Wrote" in out
    git(repo_dir, "status")
