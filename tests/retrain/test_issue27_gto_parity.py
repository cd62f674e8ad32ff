"""Issue 27, registry: ``tide model`` and real GTO run the same steps in two equal repositories; the tags,
the exit status (zero or not), ``show --json`` and ``show NAME --json`` must agree. In tide's repository
GTO must also print exactly what tide prints (dates and commits included)."""

from __future__ import annotations

import json
import re
import time

import pytest

from tests.conftest import git


def _repo(path, tide):
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    git(path, "commit", "-q", "--allow-empty", "-m", "i")
    tide("init", "-q", cwd=path)
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "t")
    return path


@pytest.fixture
def pair(tmp_path, tide, gto):
    return Pair(_repo(tmp_path / "gto", tide), _repo(tmp_path / "tide", tide), tide, gto)


def _norm(value):
    """What differs between two repositories by construction: dates and commit ids."""
    if isinstance(value, dict):
        return {k: _norm(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_norm(v) for v in value]
    if isinstance(value, str) and re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", value):
        return "<date>"
    if isinstance(value, str):  # a commit id, alone or in a message (equal only when both commits fell in one second)
        return re.sub(r"\b[0-9a-f]{40}\b", "<commit>", value)
    return value


class Pair:
    def __init__(self, g, t, tide, gto):
        self.g, self.t, self.tide, self.gto = g, t, tide, gto

    def step(self, *args):
        """One registry step in both repositories (GTO orders events by tag time: one second apart)."""
        time.sleep(1.05)
        pg = self.gto(*args, cwd=self.g, check=False)
        pt = self.tide("model", *args, cwd=self.t, check=False)
        assert (pg.returncode == 0) == (pt.returncode == 0), (args, pg.stdout + pg.stderr, pt.stdout + pt.stderr)
        assert "Traceback" not in pt.stderr
        return pt

    def tags(self):
        """The tag names, and the commit each points at (by its message: both repositories have the same
        commits, made at different seconds)."""
        fmt = "--format=%(refname:strip=2) %(*subject)"
        tg, tt = (sorted(git(d, "for-each-ref", "refs/tags", fmt).splitlines()) for d in (self.g, self.t))
        assert tg == tt
        return {line.split(" ")[0] for line in tt}

    def show(self, *name):
        """``show [NAME] --json``: tide's equals GTO's in GTO's repository (but dates and commits), and
        equals GTO's reading tide's repository exactly."""
        ours = json.loads(self.tide("model", "show", *name, "--json", cwd=self.t).stdout)
        theirs = json.loads(self.gto("show", *name, "--json", cwd=self.g).stdout)
        assert _norm(ours) == _norm(theirs)
        assert json.dumps(ours) == json.dumps(json.loads(self.gto("show", *name, "--json", cwd=self.t).stdout))
        return ours

    def check(self):
        self.tags()
        state = self.show()
        for name in state:
            self.show(name)
        return state


def test_issue27_g1_one_character_artifact_name(pair):
    pair.step("register", "m")
    pair.step("assign", "m", "--version", "v0.0.1", "--stage", "p")
    assert pair.tags() == {"m@v0.0.1", "m#p#1"}
    assert pair.check() == {"m": {"version": "v0.0.1", "stage": {"p": "v0.0.1"}, "registered": True, "active": True}}


def test_issue27_g1_names_git_cannot_carry_are_refused(pair):
    # GTO accepts 'a//b' and writes the tag a/b@v0.0.1, which names another artifact; tide refuses first
    for name in ("a//b", "d..x:m", ".d:m", "d.lock/x:m"):
        p = pair.tide("model", "register", name, cwd=pair.t, check=False)
        assert p.returncode != 0 and "invalid artifact name" in p.stderr and "Traceback" not in p.stderr
    assert git(pair.t, "tag", "-l") == ""


@pytest.mark.long
def test_issue27_g2_deprecation_tag_is_simple(pair):
    pair.step("register", "model")
    pair.step("deprecate", "model")
    assert pair.tags() == {"model@v0.0.1", "model@deprecated"}
    assert pair.check() == {}
    # a deprecation is written once: after a new registration, deprecating again fails in both
    git(pair.g, "commit", "-q", "--allow-empty", "-m", "n")
    git(pair.t, "commit", "-q", "--allow-empty", "-m", "n")
    pair.step("register", "model")
    p = pair.step("deprecate", "model")
    assert p.returncode != 0 and "deprecated once" in p.stderr
    pair.check()


@pytest.mark.long
def test_issue27_g3_registered_after_deregistering_the_only_version(pair):
    pair.step("register", "nested/clf", "--version", "v0.2.3")
    pair.step("deprecate", "nested/clf", "v0.2.3")
    assert pair.tags() == {"nested/clf@v0.2.3", "nested/clf@v0.2.3!"}
    assert pair.check() == {"nested/clf": {"version": None, "stage": {}, "registered": True, "active": True}}
    assert pair.show("nested/clf") == []


def test_issue27_g4_every_used_stage_for_every_artifact(pair):
    pair.step("register", "model")
    pair.step("register", "clf")
    pair.step("assign", "clf", "--version", "v0.0.1", "--stage", "staging")
    state = pair.check()
    assert state["model"]["stage"] == {"staging": None}
    assert state["clf"]["stage"] == {"staging": "v0.0.1"}
    # a deprecated artifact's stages still count (as in GTO)
    pair.step("deprecate", "clf")
    assert pair.check() == {"model": {"version": "v0.0.1", "stage": {"staging": None}, "registered": True,
                                      "active": True}}


def test_issue27_g5_show_name_json_has_gtos_version_objects(pair):
    (pair.t / "artifacts.yaml").write_text("m:\n  type: model\n  path: m.pkl\n  labels: [b, a]\n")
    (pair.g / "artifacts.yaml").write_text("m:\n  type: model\n  path: m.pkl\n  labels: [b, a]\n")
    for d in (pair.g, pair.t):
        git(d, "add", "artifacts.yaml")
        git(d, "commit", "-q", "-m", "annotate\n\nbody")
    pair.step("register", "m", "HEAD~1")
    pair.step("register", "m", "--version", "v1.2.0")
    pair.step("assign", "m", "--version", "v0.0.1", "--stage", "prod")
    pair.step("assign", "m", "--version", "v1.2.0", "--stage", "prod")
    pair.step("deprecate", "m", "v1.2.0", "prod")
    pair.step("assign", "m", "--version", "v1.2.0", "--stage", "prod")
    pair.step("assign", "m", "--version", "v0.0.1", "--stage", "dev")
    pair.check()
    versions = pair.show("m")
    assert [v["version"] for v in versions] == ["v1.2.0", "v0.0.1"]
    top = versions[0]
    assert top["enrichments"][0]["message"] == "annotate\n\nbody\n"
    assert top["enrichments"][0]["enrichments"][0]["artifact"]["labels"] == ["b", "a"]
    assert [s["stage"] for s in top["stages"]] == ["prod"]
    assert len(top["stages"][0]["assignments"]) == 2 and len(top["stages"][0]["unassignments"]) == 1


@pytest.mark.long
def test_issue27_g6_assign_by_ref_registers_the_commit_first(pair):
    pair.step("assign", "m", "--stage", "dev")                              # HEAD, registered as v0.0.1
    pair.step("assign", "m", "HEAD~1", "--stage", "dev", "--version", "v1.0.0")
    pair.step("assign", "m", "HEAD", "--stage", "prod")                     # HEAD has a version: no new one
    p = pair.step("assign", "m", "HEAD", "--stage", "qa", "--version", "v2.0.0")  # HEAD is v0.0.1 already
    assert p.returncode != 0
    p = pair.step("assign", "m", "--stage", "prod")                         # in the stage already
    assert p.returncode != 0
    pair.step("assign", "m", "--stage", "prod", "--force")
    assert pair.tags() == {"m@v0.0.1", "m#dev#1", "m@v1.0.0", "m#dev#2", "m#prod#3", "m#prod#4"}
    pair.check()


def test_issue27_g7_unassign_deregister_and_reregister_follow_gto(pair):
    pair.step("register", "m")
    pair.step("assign", "m", "--version", "v0.0.1", "--stage", "prod")
    pair.step("deprecate", "m", "v0.0.1", "prod")
    pair.step("deprecate", "m", "v0.0.1", "prod")            # GTO unassigns a stage the version once had
    assert pair.step("deprecate", "m", "v0.0.1", "dev").returncode != 0   # never had it
    pair.step("deprecate", "m", "v0.0.1")
    pair.step("assign", "m", "--version", "v0.0.1", "--stage", "qa")     # a deregistered version: allowed
    assert pair.step("register", "m").returncode != 0                      # its tag exists
    assert pair.step("register", "m", "--version", "v0.3.0").returncode != 0  # the commit is v0.0.1's
    assert pair.step("deprecate", "m", "v0.0.1").returncode != 0          # deregistered already
    pair.step("register", "m", "HEAD~1")
    pair.check()


@pytest.mark.long
def test_issue27_g8_any_event_after_deprecation_makes_the_artifact_active(pair):
    pair.step("register", "m")
    pair.step("deprecate", "m")
    assert pair.check() == {}
    assert pair.step("deprecate", "m").returncode != 0   # deprecated already
    pair.step("assign", "m", "--version", "v0.0.1", "--stage", "prod")
    assert pair.check() == {"m": {"version": "v0.0.1", "stage": {"prod": "v0.0.1"}, "registered": True,
                                  "active": True}}


def test_issue27_g9_head_artifacts_yaml_is_discovered_as_gto_does(pair):
    pair.step("register", "x")
    pair.step("register", "m")
    pair.step("deprecate", "x")
    time.sleep(1.05)
    for d in (pair.g, pair.t):  # committed after the deprecation: GTO counts the commit as x's newest event
        (d / "artifacts.yaml").write_text("ann:\n  type: model\nm: {}\nx:\n  path: x.pkl\n")
        git(d, "add", "artifacts.yaml")
        git(d, "commit", "-q", "-m", "declare")
    state = pair.check()
    assert state == {"x": {"version": "v0.0.1", "stage": {}, "registered": True, "active": True},
                     "m": {"version": "v0.0.1", "stage": {}, "registered": True, "active": True},
                     "ann": {"version": None, "stage": {}, "registered": False, "active": True}}
    discovered = pair.show("ann")
    assert len(discovered) == 1 and discovered[0]["discovered"] and discovered[0]["version"] == discovered[0]["ref"]
    assert [v["discovered"] for v in pair.show("m")] == [False, True]


@pytest.mark.long
def test_issue27_g10_versions_semver_ranks_equal_the_later_registered_first(pair):
    for d in (pair.g, pair.t):
        git(d, "commit", "-q", "--allow-empty", "-m", "c3")
    pair.step("register", "m", "HEAD~1", "--version", "v1.0.0+b2")
    pair.step("register", "m", "HEAD", "--version", "v1.0.0+b1")
    pair.step("register", "m", "HEAD~2", "--version", "v1.0.0")
    assert pair.check()["m"]["version"] == "v1.0.0"
    assert [v["version"] for v in pair.show("m")] == ["v1.0.0", "v1.0.0+b1", "v1.0.0+b2"]


def test_issue27_g11_deprecation_tags_the_newest_event_commit(pair):
    pair.step("register", "m", "HEAD~1")
    time.sleep(1.05)
    for d in (pair.g, pair.t):  # HEAD declares m and is newer than m's tags: GTO deprecates at HEAD
        (d / "artifacts.yaml").write_text("m: {}\n")
        git(d, "add", "artifacts.yaml")
        git(d, "commit", "-q", "-m", "declare")
    pair.step("deprecate", "m")
    assert git(pair.t, "rev-parse", "m@deprecated^{commit}") == git(pair.t, "rev-parse", "HEAD")
    pair.check()
