"""The model registry: tide writes GTO's tags and real GTO reads them, and the other way round."""

from __future__ import annotations

import json
import time

import pytest

from tests.conftest import git


def commit(d, name, text):
    (d / name).write_text(text)
    git(d, "add", name)
    git(d, "commit", "-q", "-m", f"{name}: {text}")
    return git(d, "rev-parse", "HEAD").strip()


@pytest.fixture
def reg_repo(repo_dir):
    git(repo_dir, "commit", "-q", "-m", "init")
    return repo_dir


def test_gto_reads_tides_registry(reg_repo, tide, gto):
    d = reg_repo
    c1 = commit(d, "model.txt", "one")
    tide("model", "register", "churn", cwd=d)
    tide("model", "assign", "churn", "--version", "v0.0.1", "--stage", "prod", cwd=d)
    commit(d, "model.txt", "two")
    out = tide("model", "register", "churn", "--bump-minor", cwd=d).stdout
    assert "churn@v0.1.0" in out
    tide("model", "assign", "churn", "--version", "v0.1.0", "--stage", "staging", cwd=d)
    tide("model", "assign", "churn", "--version", "v0.1.0", "--stage", "prod", cwd=d)
    commit(d, "model.txt", "three")
    tide("model", "register", "churn", "--version", "v1.0.0", cwd=d)

    assert set(git(d, "tag", "-l").split()) == {
        "churn@v0.0.1", "churn@v0.1.0", "churn@v1.0.0", "churn#prod#1", "churn#staging#2", "churn#prod#3"}
    shown = json.loads(gto("show", "--json", cwd=d).stdout)
    assert shown == {"churn": {"version": "v1.0.0", "stage": {"prod": "v0.1.0", "staging": "v0.1.0"},
                               "registered": True, "active": True}}
    ours = json.loads(tide("model", "show", "--json", cwd=d).stdout)
    assert ours == shown
    versions = {v["version"]: v for v in json.loads(gto("show", "churn", "--json", cwd=d).stdout)}
    assert versions["v0.0.1"]["commit_hexsha"] == c1
    hist = gto("history", "churn", "--json", cwd=d, check=False)
    assert hist.returncode == 0, hist.stderr

    # deregister a version and unassign a stage: GTO agrees
    tide("model", "deprecate", "churn", "v0.1.0", "staging", cwd=d)
    tide("model", "deprecate", "churn", "v1.0.0", cwd=d)
    shown = json.loads(gto("show", "--json", cwd=d).stdout)
    assert shown["churn"]["version"] == "v0.1.0"
    assert shown["churn"]["stage"] == {"prod": "v0.1.0"}
    assert json.loads(tide("model", "show", "--json", cwd=d).stdout) == shown
    # deprecate the artifact: both hide it
    tide("model", "deprecate", "churn", cwd=d)
    assert "churn" not in json.loads(gto("show", "--json", cwd=d).stdout)
    assert "churn" not in json.loads(tide("model", "show", "--json", cwd=d).stdout)


def test_tide_reads_gtos_registry(reg_repo, tide, gto):
    d = reg_repo
    commit(d, "m", "1")
    # git tag times have one-second resolution: events within one second have no defined order in GTO
    # or in tide, so the steps whose order the history check below relies on are a second apart
    gto("register", "fraud", cwd=d)
    time.sleep(1.1)
    gto("assign", "fraud", "--version", "v0.0.1", "--stage", "prod", cwd=d)
    commit(d, "m", "2")
    time.sleep(1.1)
    gto("register", "fraud", "--bump-major", cwd=d)
    time.sleep(1.1)
    shown = json.loads(tide("model", "show", "--json", cwd=d).stdout)
    assert shown == {"fraud": {"version": "v1.0.0", "stage": {"prod": "v0.0.1"}, "registered": True, "active": True}}
    # tide continues GTO's counters and versions
    tide("model", "assign", "fraud", "--version", "v1.0.0", "--stage", "prod", cwd=d)
    assert "fraud#prod#2" in git(d, "tag", "-l")
    assert json.loads(gto("show", "--json", cwd=d).stdout)["fraud"]["stage"] == {"prod": "v1.0.0"}
    hist = json.loads(tide("model", "history", "fraud", "--json", cwd=d).stdout)
    assert [h["event"] for h in hist] == ["assignment", "registration", "assignment", "registration"]


def test_registry_errors_are_one_line(reg_repo, tide):
    d = reg_repo
    commit(d, "m", "1")
    for args, needle in [
        (("model", "register", "bad!name"), "invalid artifact name"),
        (("model", "register", "ok", "--version", "1.0"), "invalid version"),
        (("model", "register", "ok", "--bump-minor"), "first version"),
        (("model", "assign", "nothing", "--version", "v0.0.1", "--stage", "prod"), "no artifact 'nothing'"),
        (("model", "register", "ok", "no-such-rev"), "unknown revision"),
    ]:
        res = tide(*args, cwd=d, check=False)
        assert res.returncode != 0, args
        assert res.stderr.startswith("ERROR: ") and needle in res.stderr, res.stderr
        assert "Traceback" not in res.stderr
    tide("model", "register", "ok", cwd=d)
    res = tide("model", "register", "ok", cwd=d, check=False)
    assert "registered already" in res.stderr


def test_annotate_writes_gto_artifacts_yaml(reg_repo, tide, gto):
    d = reg_repo
    tide("model", "annotate", "churn", "--type", "model", "--path", "model/rf.joblib", "--description", "RF", cwd=d)
    git(d, "add", "artifacts.yaml")
    git(d, "commit", "-q", "-m", "annotate")
    tide("model", "register", "churn", cwd=d)
    shown = json.loads(gto("show", "churn", "--json", cwd=d).stdout)
    enrich = shown[0]["enrichments"][0]["enrichments"][0]["artifact"]
    assert enrich["type"] == "model" and enrich["path"] == "model/rf.joblib" and enrich["description"] == "RF"
