"""Issue 20, registry parity with GTO: GTO's shortcuts (``NAME@latest``, ``NAME@vX.Y.Z``, ``NAME#STAGE``),
``check-ref`` (what a CD job runs on a pushed tag), ``stages``, ``assign NAME REF`` (registering when needed,
``--sr``), ``history --json`` and ``show`` outputs, in git repositories with and without ``.dvc``. Each step
runs in two equal repositories, one with real gto and one with tide; outputs are compared."""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import git
from tests.retrain.test_issue27_gto_parity import Pair, _norm


def _git_repo(path):
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    git(path, "commit", "-q", "--allow-empty", "-m", "one")
    git(path, "commit", "-q", "--allow-empty", "-m", "two")
    return path


@pytest.fixture
def bare_pair(tmp_path, tide, gto):
    """Two git repositories without .dvc (GTO needs none; neither does tide model)."""
    return Pair(_git_repo(tmp_path / "gto"), _git_repo(tmp_path / "tide"), tide, gto)


def _out(pair, *args):
    """The same read command in both: exit status zero-ness, and stdout (JSON compared normalised)."""
    pg = pair.gto(*args, cwd=pair.g, check=False)
    pt = pair.tide("model", *args, cwd=pair.t, check=False)
    assert (pg.returncode == 0) == (pt.returncode == 0), (args, pg.stdout + pg.stderr, pt.stdout + pt.stderr)
    assert "Traceback" not in pt.stderr
    if "--json" in args and pg.returncode == 0 and pg.stdout.strip():
        ours, theirs = json.loads(pt.stdout), json.loads(pg.stdout)
        assert _norm(ours) == _norm(theirs), args
        # GTO reading tide's repository prints exactly what tide prints
        same = pair.gto(*args, cwd=pair.t, check=False)
        assert json.loads(same.stdout) == ours, args
        return ours
    # gto wraps long lines at the terminal width: compare the words
    assert _words(pt.stdout) == _words(pg.stdout), args
    return pt.stdout


def _words(text):
    """Words of a table or line, dates, times and commit ids (which differ between the repositories) masked."""
    out = []
    for w in text.split():
        if not set(w) - set("\u2502\u2552\u2555\u2558\u255b\u2564\u2567\u255e\u2561\u2550\u256a"):
            continue  # gto's box drawing (tide prints gto's --plain layout)
        w = re.sub(r"\d{4}-\d\d-\d\d|\d\d:\d\d:\d\d\+00:00", "<date>", w)
        out.append(re.sub(r"\b[0-9a-f]{7}([0-9a-f]{33})?\b", "<commit>", w))
    return out


def _build(pair):
    pair.step("register", "m", "HEAD~1")
    pair.step("register", "m")
    pair.step("assign", "m", "--version", "v0.0.1", "--stage", "prod")
    pair.step("assign", "m", "--stage", "dev")
    pair.step("register", "other")


@pytest.mark.long
def test_issue20_gto_shortcuts_in_show(bare_pair):
    p = bare_pair
    _build(p)
    assert [v["version"] for v in _out(p, "show", "m@latest", "--json")] == ["v0.0.2"]
    assert [v["version"] for v in _out(p, "show", "m@greatest", "--json")] == ["v0.0.2"]
    assert [v["version"] for v in _out(p, "show", "m#prod", "--json")] == ["v0.0.1"]
    assert [v["version"] for v in _out(p, "show", "m@v0.0.1", "--json")] == ["v0.0.1"]
    assert _out(p, "show", "m#nostage", "--json") == []
    assert _out(p, "show", "m@latest", "--version").strip() == "v0.0.2"
    assert _out(p, "show", "m#prod", "--ref").strip() == "m@v0.0.1"
    assert _out(p, "show", "m#dev", "--version").strip() == "v0.0.2"
    _out(p, "show", "m", "--stage")
    _out(p, "show", "--name")
    _out(p, "show", "m", "--plain")
    _out(p, "show", "--plain")
    _out(p, "show", "zz@latest")          # no such artifact: both fail
    _out(p, "show", "m#nostage")          # nothing found: both exit 0


def test_issue20_gto_check_ref_tells_a_cd_job_what_a_tag_did(bare_pair):
    p = bare_pair
    _build(p)
    p.step("deprecate", "m", "v0.0.1", "prod")
    p.step("deprecate", "m", "v0.0.2")
    p.step("deprecate", "other")
    for ref in ("m@v0.0.1", "m#prod#1", "refs/tags/m#dev#2", "m#prod!#3", "m@v0.0.2!", "other@deprecated"):
        ev = _out(p, "check-ref", ref, "--json")
        assert ev["tag"] == ref.removeprefix("refs/tags/") and "priority" not in ev
        for flag in ("--name", "--version", "--stage", "--event"):
            _out(p, "check-ref", ref, flag)
        _out(p, "check-ref", ref)
    assert _out(p, "check-ref", "m#prod!#3", "--json")["event"] == "unassignment"
    assert _out(p, "check-ref", "m#prod#1", "--stage").strip() == "prod"
    assert _out(p, "check-ref", "m#prod#1", "--version").strip() == "v0.0.1"
    # not a registry tag, or no such tag: nothing printed, exit 0 (GTO's behaviour; a CD job skips)
    git(p.g, "tag", "plain")
    git(p.t, "tag", "plain")
    for ref in ("plain", "m@v9.9.9", "main"):
        assert _out(p, "check-ref", ref).strip() == ""


@pytest.mark.long
def test_issue20_gto_stages_lists_the_stages_in_use(bare_pair):
    p = bare_pair
    assert _out(p, "stages").strip() == ""
    _build(p)
    assert _out(p, "stages", "--json") == ["dev", "prod"]
    assert _out(p, "stages").split() == ["dev", "prod"]
    p.step("deprecate", "m", "v0.0.1", "prod")
    assert _out(p, "stages", "--json") == ["dev"]


def test_issue20_gto_assign_ref_registers_when_needed_and_sr_skips(bare_pair):
    p = bare_pair
    p.step("register", "m", "HEAD~1")
    p.step("assign", "m", "HEAD", "--stage", "dev")               # HEAD has no version: registered v0.0.2
    p.step("assign", "m", "m@v0.0.1", "--stage", "prod")           # REF is a version's tag
    for d in (p.g, p.t):
        git(d, "commit", "-q", "--allow-empty", "-m", "three")
    p.step("assign", "m", "HEAD", "--stage", "qa", "--sr")         # a stage on the bare commit
    assert p.tags() == {"m@v0.0.1", "m@v0.0.2", "m#dev#1", "m#prod#2", "m#qa#3"}
    p.show()
    for d in (p.g, p.t):
        git(d, "commit", "-q", "--allow-empty", "-m", "four")
    p.step("assign", "m", "HEAD", "--stage", "dev", "--sr")
    p.step("assign", "m", "HEAD", "--stage", "prod", "--sr")
    # show NAME lists a bare commit as GTO does: one object per stage tag plus a twin of each, every one
    # carrying the commit's stages (hexsha versions sort by their ids, which differ between the two
    # repositories: compared with gto reading tide's repository only)
    def same(*args):
        ours = json.loads(p.tide("model", *args, "--json", cwd=p.t).stdout)
        assert ours == json.loads(p.gto(*args, "--json", cwd=p.t).stdout), args
        return ours

    versions = same("show", "m")
    assert [v["ref"][:7] for v in versions][:2] == ["m@v0.0.", "m@v0.0."] and len(versions) == 8
    assert [v["version"] for v in same("show", "m#qa")] == [git(p.t, "rev-parse", "HEAD~1").strip()] * 2
    same("show", "m#dev")
    same("show")
    assert _out(p, "check-ref", "m#qa#3", "--json")["version"] == git(p.t, "rev-parse", "HEAD~1").strip()


@pytest.mark.long
def test_issue20_gto_history_json_has_gtos_shape(bare_pair):
    p = bare_pair
    _build(p)
    p.step("deprecate", "m", "v0.0.1", "prod")
    p.step("deprecate", "other")
    hist = _out(p, "history", "m", "--json")
    assert [h["event"] for h in hist] == ["unassignment", "assignment", "assignment", "registration",
                                          "registration"]
    assert all(len(h["commit"]) == 40 and "T" in h["timestamp"] for h in hist)
    assert hist[-1]["stage"] is None and hist[-1]["priority"] == 3
    everything = _out(p, "history", "--json")
    assert {h["artifact"] for h in everything} == {"m", "other"}
    assert _out(p, "history", "zz", "--json") == []
    _out(p, "history", "m", "--ascending", "--json")
    _out(p, "history", "--plain")


def test_issue20_gto_model_works_without_dvc(bare_pair):
    p = bare_pair
    _build(p)
    assert not (p.t / ".dvc").exists()
    assert p.check()["m"]["stage"] == {"dev": "v0.0.2", "prod": "v0.0.1"}
    # promote reads tide.yaml: it still needs a tide repository, said in one line
    r = p.tide("model", "promote", "m", cwd=p.t, check=False)
    assert r.returncode != 0 and "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


@pytest.mark.long
def test_issue20_gto_simple_notation_true_and_false(bare_pair):
    p = bare_pair
    p.step("register", "m", "--simple", "false")                                  # m@v0.0.1#1
    p.step("assign", "m", "--version", "v0.0.1", "--stage", "prod", "--simple", "true")   # m#prod
    p.step("assign", "m", "--version", "v0.0.1", "--stage", "dev", "--simple", "false")   # m#dev#2
    p.step("deprecate", "m", "v0.0.1", "prod", "--simple", "true")               # m#prod!
    assert p.step("assign", "m", "--version", "v0.0.1", "--stage", "prod", "--simple", "true").returncode != 0
    p.step("deprecate", "m", "v0.0.1", "--simple", "false")                       # m@v0.0.1!#3
    p.step("deprecate", "m", "--simple", "false")                                 # m@deprecated#4
    assert p.tags() == {"m@v0.0.1#1", "m#prod", "m#dev#2", "m#prod!", "m@v0.0.1!#3", "m@deprecated#4"}
    assert p.check() == {}
