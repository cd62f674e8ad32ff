"""The differential tester against real dvc (and gto), on a fixed-seed slice: every divergence a slice
finds that is not a listed one (known.py: being fixed, or deliberate) fails the test with a shell script that
reproduces it. ``make torture`` runs the same machinery with a fresh seed (tests/differential/torture.py).
"""

from __future__ import annotations

import hashlib
import random
import re
import sqlite3
import subprocess

import pytest

from tests.conftest import dvc_bin

from . import engine, gtodiff, known, ops, snapshot, tools, torture
from .engine import Divergence
from .ops import Line, Op

SEED = 20260527
# The dvc-vs-tide slice's seed (make test runs its first 3 sequences; make torture draws fresh seeds): 6 sequences,
# 61 steps of which 45 change the repository, 0 divergences with
# the state-driven generator (ops.py). SEED's sequences find two new divergences since that generator
# (notes/diffgen.md: dvc.yaml rewritten by `remove dvc.yaml:<stage>`; clone+pull of metrics/plots, symlink).
SLICE_SEED = 11
MIXED_SEED = 13   # 2 mixed sequences, 22 steps (17 effective), 0 divergences (SEED + 1 finds one, notes)


@pytest.fixture
def difftest_env(monkeypatch):
    monkeypatch.setenv("TIDE_TEST_DVC", dvc_bin())


def _fail_on(res: dict) -> None:
    if res["failures"]:
        pytest.fail(f"{len(res['failures'])} new divergence(s) from dvc/gto, counts {res['counts']}:\n\n"
                    + "\n\n".join(res["failures"]))


def test_differential_dvc_vs_tide_fixed_seed(tmp_path, difftest_env):
    res = torture.run(3, SLICE_SEED, tmp_path, shrink_budget_s=20, mixed=0.0, log=lambda s: None)
    assert res["counts"]["steps"] >= 15
    assert res["counts"]["effective_steps"] >= res["counts"]["steps"] // 2, res["counts"]
    assert res["counts"].get("ok:add", 0) >= 3, res["counts"]
    _fail_on(res)


def test_differential_mixed_one_repository_fixed_seed(tmp_path, difftest_env):
    res = torture.run(1, MIXED_SEED, tmp_path, shrink_budget_s=20, mixed=1.0, log=lambda s: None)
    assert res["counts"]["mixed_sequences"] == 1
    _fail_on(res)


def test_differential_gto_registry_fixed_seed(tmp_path, difftest_env):
    res = gtodiff.run(2, SEED, tmp_path, steps=(3, 6), shrink_budget_s=20, log=lambda s: None)
    assert res["counts"]["steps"] >= 6
    _fail_on(res)


def test_dvc_against_itself_shows_no_divergence(tmp_path, difftest_env):
    """The comparison is only as good as its normalisations: dvc against dvc, in two directories, on random
    sequences over every cache type, must differ in nothing."""
    r = engine.Runner(tmp_path)
    r.tide.close()
    r.tide = tools.dvc_tool(r.env, tmp_path)   # both sides real dvc (two servers: the sides run concurrently)
    try:
        rng = random.Random(SEED)
        for ct in ("symlink",):
            _, divs, steps = r.generate_and_run(rng, 6, ct, mixed=False)
            assert steps == 6 and not divs, [d.describe() for d in divs]
    finally:
        r.close()


def test_write_lines_renders_every_byte(tmp_path):
    data = bytes(range(256)) + b"%s\\'\"$x`"
    for content in (data, b"", b"x" * 100, "ünï\n".encode()):
        subprocess.run(["sh", "-c", ops.write_lines("d/-f 'q'", content)], cwd=tmp_path, check=True)
        assert (tmp_path / "d" / "-f 'q'").read_bytes() == content


def test_ddmin_keeps_only_the_ops_the_divergence_needs():
    seq = [Op(f"k{i}", ()) for i in range(9)] + [Op("add", ())]

    def replay(cand):  # diverges at the last op when ops k2 and k6 both ran
        kinds = {o.kind for o in cand}
        return Divergence(len(cand) - 1, cand[-1], exits=[("$T add", 1, 0)]) if {"k2", "k6"} <= kinds else None

    target = Divergence(9, seq[-1], exits=[("$T add", 1, 0)])
    small, d = engine.ddmin(seq, target, replay, budget_s=10)
    assert [o.kind for o in small] == ["k2", "k6", "add"] and d.step == 2


def test_known_predicates_match_one_shape_each(tmp_path):
    """Each listed entry matches its own shape and not a neighbour's: a file only tide keeps after
    ``checkout`` is deliberate N12 when no .dvc tracks it, NEW when one does, and NEW after any other op; a
    step with a listed and an unlisted part is new, with the listed part named."""
    for side in ("dvc", "tide"):
        (tmp_path / side / "repo").mkdir(parents=True)

    class P:
        a = engine.Side(tmp_path / "dvc", {}, {})
        b = engine.Side(tmp_path / "tide", {}, {})
        cache_type = "copy"

    def names(div, dvcfiles=()):
        div.classify(known.Ctx(P, ops.View([], [], list(dvcfiles), [], [], 1)))
        return [k.name.split(":")[0] for k in div.known], div.new

    checkout = Op("checkout", (Line(argv=("checkout", "-q")),))
    kept = ("ws:h", None, "file 644 n1 6B md5=0")
    assert names(Divergence(0, checkout, state=[kept])) == (["deliberate N12"], False)
    (tmp_path / "dvc" / "repo" / "h.dvc").write_text("outs:\n- md5: d751\n  path: h\n")
    assert names(Divergence(0, checkout, state=[kept])) == ([], True)  # dvc still tracks it: new
    (tmp_path / "dvc" / "repo" / "h.dvc").unlink()
    state = tmp_path / "tide" / "repo" / ".dvc" / "tmp" / "tide"
    state.mkdir(parents=True)
    with sqlite3.connect(state / "state.db") as db:
        db.execute("CREATE TABLE links (path TEXT, md5 TEXT, stamp TEXT)")
        db.execute("INSERT INTO links VALUES ('h', 'd751', NULL)")
    assert names(Divergence(0, checkout, state=[kept])) == (["deliberate N12"], False)  # its data in no cache
    (tmp_path / "tide" / "repo" / "h").write_text("hello\n")  # ... in tide's cache (seed 62001 sequence 161)
    obj = tmp_path / "tide" / "repo" / ".dvc" / "cache" / "files" / "md5" / "b1" / "946ac92492d2347c6235b4d2611184"
    obj.parent.mkdir(parents=True)
    obj.write_text("hello\n")
    assert names(Divergence(0, checkout, state=[kept])) == ([], True)  # tide wrote it and kept it: new
    (tmp_path / "tide" / "repo" / "h").unlink()
    (state / "state.db").unlink()
    pull_op = Op("pull", (Line(argv=("pull", "-q", "--force")),))
    assert names(Divergence(0, pull_op, state=[kept])) == (["deliberate N12"], False)
    add = Op("add", (Line(argv=("add", "-q", "h")),), info={"targets": ["h"]})
    assert names(Divergence(0, add, state=[kept])) == ([], True)
    both = Divergence(0, checkout, state=[kept, ("ws:g", "file 644 n1 1B md5=1", None)])
    assert names(both) == (["deliberate N12"], True)
    pull = Op("pull", (Line(argv=("pull", "-q")),))
    P.cache_type = "symlink"
    assert names(Divergence(0, pull, exits=[("$T pull -q", 0, 1)])) == ([], True)  # no dangling link on dvc's side
    (tmp_path / "dvc" / "repo" / "d").symlink_to(tmp_path / "dvc" / "nowhere")
    assert names(Divergence(0, pull, exits=[("$T pull -q", 0, 1)])) == (["deliberate N7"], False)
    assert names(Divergence(0, pull, exits=[("$T pull -q", 1, 0)])) == ([], True)
    add2 = Op("add", (Line(argv=("add", "-q", "d", "m")),), info={"targets": ["d", "m"]})
    only_dvc = [("ws:d.dvc", "file 644 n1 9B md5=0", None)]
    assert names(Divergence(0, add2, rcs=[(1, 1)], state=only_dvc)) == (["deliberate N15"], False)
    assert names(Divergence(0, add2, rcs=[(0, 0)], state=only_dvc)) == ([], True)  # both succeeded: new
    # hardlink cache: a file elsewhere whose object d's files now link too (seed 69101 sequence 1499)
    in_d = ("ws:d/b", "file 444 n3 6B md5=72", "file 644 n1 6B md5=72")
    more = ("ws:a", "file 444 n3 6B md5=72", "file 444 n2 6B md5=72")
    assert names(Divergence(0, add2, rcs=[(1, 1)], state=[*only_dvc, in_d, more])) == (["deliberate N15"], False)
    other_obj = ("ws:a", "file 444 n3 6B md5=99", "file 444 n2 6B md5=99")
    assert names(Divergence(0, add2, rcs=[(1, 1)], state=[*only_dvc, in_d, other_obj])) == ([], True)
    twice = ("ws:a", "file 444 n4 6B md5=72", "file 444 n2 6B md5=72")  # one file of d: one link more, not two
    assert names(Divergence(0, add2, rcs=[(1, 1)], state=[*only_dvc, in_d, twice])) == ([], True)
    fewer = ("ws:a", "file 444 n2 6B md5=72", "file 444 n3 6B md5=72")
    assert names(Divergence(0, add2, rcs=[(1, 1)], state=[*only_dvc, in_d, fewer])) == ([], True)
    # N47: a target written first, --no-commit, and the reports naming what dvc tracked before failing
    pre = Op("add", (Line(sh="printf x > n"), Line(argv=("add", "-q", "--no-commit", "n", "m"))))
    st, df = "$T status --json", "$T diff --json"
    n_dvc = [("ws:n.dvc", "file 644 n1 9B md5=0", None)]
    reports = [(st, {"n.dvc": [{"changed outs": {"n": "not in cache"}}]}, {}), (df, {"added": [{"path": "n"}]}, {})]
    assert names(Divergence(0, pre, rcs=[(0, 0), (1, 1)], state=n_dvc, outputs=reports)) == (["deliberate N15"], False)
    other = [(df, {"added": [{"path": "q"}]}, {})]  # a path dvc did not track in this step: new
    assert names(Divergence(0, pre, rcs=[(0, 0), (1, 1)], state=n_dvc, outputs=other)) == ([], True)
    move = Op("move", (Line(argv=("move", "-q", "d", "e")),))
    tree = [("cache:files/md5/d7/51.dir", "444 ok md5=0", None)]
    assert names(Divergence(0, move, state=tree)) == (["deliberate N16"], False)
    # N48: a changed file's object too, and the workspace linked to it (same content)
    obj = ("cache:files/md5/d7/51", "444 ok md5=0", None)
    linked = ("ws:e", "file 444 n2 2B md5=x", "file 644 n1 2B md5=x")
    assert names(Divergence(0, move, state=[obj, linked])) == (["deliberate N16"], False)
    assert names(Divergence(0, move, state=[linked])) == ([], True)  # nothing cached: new
    (tmp_path / "tide" / "repo" / "e").write_bytes(b"x")  # symlink cache, written through the link (seed 61301)
    through = ("ws:e", "link -> <ROOT>/repo/.dvc/cache/files/md5/9d/d4e461268c8034f5c8564e155c67a6",
               "link -> <ROOT>/repo/.dvc/cache/files/md5/b0/26324c6904b2a9cb4b88d6d61c81d1")
    assert names(Divergence(0, move, state=[obj, through])) == (["deliberate N16"], False)
    (tmp_path / "tide" / "repo" / "e").write_bytes(b"y")
    assert names(Divergence(0, move, state=[obj, through])) == ([], True)  # another content: new
    named = tmp_path / "dvc" / "repo" / "e.dvc"
    named.write_text("outs:\n- md5: d751\n  path: e\n")
    assert names(Divergence(0, move, state=[obj])) == ([], True)  # an object a .dvc file names: new
    named.unlink()
    protect = ("cache:files/md5/b1/94", "444 ok md5=b194", "644 ok md5=b194")
    assert names(Divergence(0, move, state=[protect])) == ([], True)  # no tracked directory holds it: new
    dvc_repo = tmp_path / "dvc" / "repo"
    text = '[{"md5": "b194", "relpath": "in/f"}]'
    oid = hashlib.md5(text.encode()).hexdigest()  # a manifest named by its content (else N54's shape)
    (dvc_repo / "d.dvc").write_text(f"outs:\n- md5: {oid}.dir\n  path: d\n")
    listing = dvc_repo / ".dvc" / "cache" / "files" / "md5" / oid[:2] / f"{oid[2:]}.dir"
    listing.parent.mkdir(parents=True)
    listing.write_text(text)
    assert names(Divergence(0, move, state=[protect])) == (["deliberate N17"], False)  # a file of d
    (dvc_repo / "e.dvc").write_text("outs:\n- md5: b194\n  path: e\n")
    assert names(Divergence(0, move, state=[protect])) == ([], True)  # also a file output's own object: new
    (dvc_repo / "e.dvc").unlink()
    (dvc_repo / "d.dvc").unlink()  # a stage's directory output (seed 69101 sequence 504): the same
    (dvc_repo / "dvc.lock").write_text(f"schema: '2.0'\nstages:\n  s:\n    cmd: x\n    outs:\n    - path: d\n"
                                       f"      md5: {oid}.dir\n")
    assert names(Divergence(0, move, state=[protect])) == (["deliberate N17"], False)
    for f in (dvc_repo / "dvc.lock", listing):
        f.unlink()
    assert names(Divergence(0, move, state=[("cache:files/md5/b1/94", "444 ok md5=b194", "644 CORRUPT md5=c")])) \
        == ([], True)
    mode = ("ws:e", "file 744 n1 2B md5=x", "file 755 n1 2B md5=x")  # N31: add keeps the file's mode
    assert names(Divergence(0, add, state=[mode])) == (["deliberate N31"], False)
    assert names(Divergence(0, add, state=[("ws:e", "file 644 n1 2B md5=x", "file 755 n1 2B md5=x")])) == ([], True)
    assert names(Divergence(0, checkout, state=[mode])) == ([], True)
    assert names(Divergence(0, move, state=[mode])) == (["deliberate N31"], False)  # move re-saves (67001, 63)
    assert names(Divergence(0, move, state=[("ws:e", "file 744 n1 2B md5=x", "file 755 n1 2B md5=y")])) \
        == ([], True)  # other content: new
    cloud = Op("clone", (Line(argv=("status", "-c", "--json"), cwd="c1", json=True),), clone="c1")
    line = cloud.lines[0].render()
    seen = [(line, {"x": "missing"}, {"x": "missing", "d": "missing"})]
    assert names(Divergence(0, cloud, outputs=seen)) == ([], True)  # d is no directory output
    (tmp_path / "dvc" / "c1").mkdir()
    (tmp_path / "dvc" / "c1" / "d.dvc").write_text("outs:\n- md5: 0123456789abcdef0123456789abcdef.dir\n  path: d\n")
    assert names(Divergence(0, cloud, outputs=seen)) == (["deliberate N28"], False)
    assert names(Divergence(0, cloud, outputs=[(line, {"x": "missing"}, {"d": "missing"})])) == ([], True)
    back = (Line(sh="git checkout -q main~1"), Line(argv=("checkout", "-q")))
    gone = [("ws:ü/a", None, "file 644 n1 6B md5=0")]
    P.mixed = True
    assert names(Divergence(0, Op("git_checkout", back, tool="tide"), state=gone)) == (["deliberate N27"], False)
    assert names(Divergence(0, Op("git_checkout", back, tool="dvc"), state=gone)) == (["deliberate N27"], False)
    P.mixed = False
    with sqlite3.connect(state / "state.db") as db:  # pure mode: tide wrote it (a link record) and kept it
        db.execute("CREATE TABLE links (path TEXT, md5 TEXT, stamp TEXT)")
        db.execute("INSERT INTO links VALUES ('ü', '0', NULL)")
    (tmp_path / "tide" / "repo" / "ü").mkdir()
    (tmp_path / "tide" / "repo" / "ü" / "a").write_text("hello\n")  # its content in tide's cache
    assert names(Divergence(0, Op("git_checkout", back), state=gone)) == ([], True)
    (state / "state.db").unlink()
    assert names(Divergence(0, Op("git_checkout", back), state=gone)) == (["deliberate N12"], False)  # no record
    # N49: the status report of the file N12 kept differs only there; anything else is new
    st = Line(argv=("status", "--json"), json=True).render()
    a = {"s1": [{"changed deps": {"h": "deleted"}}, {"changed outs": {"u1": "deleted"}}]}
    b = {"s1": [{"changed deps": {"h": "modified"}}, {"changed outs": {"u1": "deleted"}}]}
    n49 = Divergence(0, checkout, state=[kept], outputs=[(st, a, b)])
    assert names(n49) == (["deliberate N49", "deliberate N12"], False)
    b2 = {"s1": [{"changed deps": {"h": "modified"}}, {"changed outs": {"u1": "modified"}}]}
    assert names(Divergence(0, checkout, state=[kept], outputs=[(st, a, b2)])) == (["deliberate N12"], True)
    assert names(Divergence(0, checkout, outputs=[(st, a, b)])) == ([], True)  # no kept file: new
    # N46: a directory whose manifest is not in dvc's cache, kept by tide only, both failing
    P.cache_type = "copy"  # (with symlink, the dangling link made above would make a checkout dvc passes N7)
    (tmp_path / "dvc" / "repo" / "d.dvc").write_text("outs:\n- md5: d751713988987e9331980363e24189ce.dir\n  path: d\n")
    kept_dir = [("ws:d", None, "dir 755"), ("ws:d/a", None, "file 644 n1 2B md5=0")]
    df = Line(argv=("diff", "--json"), json=True).render()
    added = (df, {}, {"added": [{"path": "d/"}, {"path": "d/a"}], "deleted": [], "modified": []})
    force = Op("checkout", (Line(argv=("checkout", "-q", "--force")),))
    d_dvc = ["d.dvc"]
    assert names(Divergence(0, force, state=kept_dir, outputs=[added]), d_dvc) == (["deliberate N46"], False)
    assert names(Divergence(0, force, exits=[("$T checkout -q --force", 0, 1)], state=kept_dir), d_dvc) == ([], True)
    shard = tmp_path / "dvc" / "repo" / ".dvc" / "cache" / "files" / "md5" / "d7"
    shard.mkdir(parents=True)
    (shard / "51713988987e9331980363e24189ce.dir").write_text("[]")
    assert names(Divergence(0, force, state=kept_dir), d_dvc) == ([], True)  # its manifest is in the cache: new


def _fake_pair(tmp_path, cache_type: str = "copy", mixed: bool = False):
    """A pair as ``known`` sees it: the two repositories under ``tmp_path`` (created), no tools."""
    for side in ("dvc", "tide"):
        (tmp_path / side / "repo").mkdir(parents=True, exist_ok=True)

    class P:
        a = engine.Side(tmp_path / "dvc", {}, {})
        b = engine.Side(tmp_path / "tide", {}, {})
        corrupted = False

    P.cache_type, P.mixed = cache_type, mixed
    return P


def _classified(pair, div) -> tuple[list[str], bool]:
    """(the known classes explaining ``div``, whether any part of it is new)."""
    div.classify(known.Ctx(pair, ops.View([], [], [], [], [], 1)))
    return [k.name.split(":")[0] for k in div.known], div.new


def test_n52_names_a_file_inside_a_directory_output(tmp_path):
    """N52 widened (seed 61801 sequence 187): dvc names the shared object by a file inside a directory output
    (read from the directory's manifest), tide by a file output of the same content."""
    import hashlib
    import json

    pair = _fake_pair(tmp_path)
    dvc_repo = tmp_path / "dvc" / "repo"
    one, two = "b026324c6904b2a9cb4b88d6d61c81d1", "26ab0db90d72e28ad0ba1e22ee510510"
    text = json.dumps([{"md5": one, "relpath": "f"}, {"md5": two, "relpath": "in/g"}])
    manifest = hashlib.md5(text.encode()).hexdigest() + ".dir"  # an intact object (else N54's class)
    where = dvc_repo / ".dvc" / "cache" / "files" / "md5" / manifest[:2]
    where.mkdir(parents=True)
    (where / manifest[2:]).write_text(text)
    (dvc_repo / "dvc.lock").write_text(
        f"schema: '2.0'\nstages:\n  s:\n    cmd: x\n    outs:\n    - path: d\n      md5: {manifest}\n"
        f"    - path: o\n      md5: {one}\n")

    def names(a, b):
        cloud = Op("status_cloud", (Line(argv=("status", "-c", "--json"), json=True),))
        return _classified(pair, Divergence(0, cloud, outputs=[(cloud.lines[0].render(), a, b)]))

    assert names({"d/f": "new", "d": "new"}, {"o": "new", "d": "new"}) == (["deliberate N52"], False)
    assert names({"d/in/g": "new", "d": "new"}, {"o": "new", "d": "new"}) == ([], True)  # another object
    assert names({"d/nope": "new", "d": "new"}, {"o": "new", "d": "new"}) == ([], True)  # not in the manifest


def test_n74_corrupt_metrics_file_message_only(tmp_path):
    """N74 (seed 63001 sequence 43): only the message of a corrupt metrics/params file's error differs."""
    class P:
        a = engine.Side(tmp_path / "dvc", {}, {})
        b = engine.Side(tmp_path / "tide", {}, {})
        cache_type = ""
        mixed = False

    def err(t, m):
        return {"": {"data": {"m2.json": {"error": {"type": t, "msg": m}}}}}

    def names(line, a, b):
        op = Op("pm_diff", (Line(argv=tuple(line.split()), json=True),))
        div = Divergence(0, op, outputs=[(op.lines[0].render(), a, b)])
        div.classify(known.Ctx(P, ops.View([], [], [], [], [], 1)))
        return [k.name.split(":")[0] for k in div.known], div.new

    dvc = err("JSONFileCorruptedError", "unable to read: '../../../m2.json', JSON file structure is corrupted")
    tide = err("JSONFileCorruptedError", "m2.json: invalid JSON (line 2): Extra data")
    assert names("metrics show --json", dvc, tide) == (["deliberate N74"], False)
    assert names("params diff --json", dvc, tide) == (["deliberate N74"], False)
    assert names("metrics show --json", dvc, err("YAMLFileCorruptedError", "x")) == ([], True)  # another type
    assert names("metrics show --json", err("FileNotFoundError", "a"), err("FileNotFoundError", "b")) == ([], True)
    other = {"": {"data": {"m2.json": {"data": {"m": 1}}}}}
    assert names("metrics show --json", {**dvc, "x": 1}, {**tide, "x": 2}) == ([], True)  # more than the message
    assert names("metrics show --json", other, tide) == ([], True)
    assert names("status --json", dvc, tide) == ([], True)
    sane = err("JSONFileCorruptedError", "unable to read: 'm2.json', JSON file structure is corrupted")
    assert names("metrics show --json", sane, tide) == ([], True)  # dvc's message naming the file rightly


def test_n54_holds_once_a_corrupt_object_was_seen(tmp_path):
    """N54 (seed 63501 sequence 25): dvc's status deleted the corrupt object in the step that diverged; the
    pair remembers it was seen (engine.Pair.step), so the step is still N54's, and only then."""
    pair = _fake_pair(tmp_path, "symlink", mixed=True)

    def names():
        op = Op("chmod", (Line(sh="chmod +x b"),))
        diff = Line(argv=("diff", "--json"), json=True).render()
        return _classified(pair, Divergence(0, op, outputs=[(diff, {"added": [{"path": "b"}]}, {"added": []})]))

    assert names() == ([], True)
    pair.corrupted = True
    assert names() == (["deliberate N54"], False)


def test_n16_move_relinks_a_changed_file_to_an_object_dvc_had(tmp_path):
    """N16 widened (seed 62001 sequence 753): ``move`` of a file changed since ``add --no-commit``, whose new
    content another output already has in the cache: dvc links it to that object (no extra object), tide
    leaves the file as it is. Only when the content is not what the .dvc file records."""
    pair = _fake_pair(tmp_path, "symlink")
    dvc_repo, tide_repo = tmp_path / "dvc" / "repo", tmp_path / "tide" / "repo"
    two, a = "26ab0db90d72e28ad0ba1e22ee510510", "60b725f10c9c85c70d97880dfe8191b3"  # "2\n", "a\n"

    def names(recorded):
        (dvc_repo / "y.dvc").write_text(f"outs:\n- md5: {recorded}\n  path: y\n")
        (tide_repo / "y").write_text("a\n")
        move = Op("move", (Line(argv=("move", "-q", "x", "y")),))
        state = [("ws:y", f"link -> <ROOT>/repo/.dvc/cache/files/md5/{a[:2]}/{a[2:]}", f"file 644 n1 2B md5={a}")]
        return _classified(pair, Divergence(0, move, state=state))

    assert names(two) == (["deliberate N16"], False)
    assert names(a) == ([], True)  # the recorded content: dvc's link is no move-time commit


def test_n43_gc_keeps_what_an_uncached_manifest_may_name(tmp_path):
    """Seed 62001 sequences 952 and 519: gc -w -f while a directory's manifest is in no cache (add --no-commit):
    dvc deleted objects tide kept, or tide refused; only while such a manifest is missing."""
    import hashlib

    pair = _fake_pair(tmp_path)
    dvc_repo = tmp_path / "dvc" / "repo"
    manifest = hashlib.md5(b"[]").hexdigest() + ".dir"
    (dvc_repo / "d.dvc").write_text(f"outs:\n- md5: {manifest}\n  path: d\n")

    def names(**kw):
        return _classified(pair, Divergence(0, Op("gc", (Line(argv=("gc", "-w", "-f", "-q")),)), **kw))

    kept = [("cache:files/md5/60/b725f10c9c85c70d97880dfe8191b3", None, "444 ok md5=60b725f10c9c85c70d97880dfe8191b3")]
    refused = [("$T gc -w -f -q", 0, 1)]
    assert names(state=kept) == (["deliberate N43"], False)
    assert names(exits=refused, state=kept) == (["deliberate N43"], False)
    assert names(exits=[("$T gc -w -f -q", 1, 0)]) == ([], True)  # dvc failing: new
    assert names(state=[(kept[0][0], kept[0][2], None)]) == ([], True)  # dvc kept more: new
    where = dvc_repo / ".dvc" / "cache" / "files" / "md5" / manifest[:2]
    where.mkdir(parents=True)
    (where / manifest[2:]).write_text("[]")
    assert names(state=kept) == ([], True)  # the manifest is in the cache: new


def test_known_predicates_of_session_12_match_one_shape_each(tmp_path):
    """N52-N62 and the widened N7, N15, N17, N31 (seeds 61601 and 61701): each matches its own shape only."""
    dvc_repo = tmp_path / "dvc" / "repo"
    (tmp_path / "tide" / "repo").mkdir(parents=True)
    objects = dvc_repo / ".dvc" / "cache" / "files" / "md5"
    objects.mkdir(parents=True)

    class P:
        a = engine.Side(tmp_path / "dvc", {}, {})
        b = engine.Side(tmp_path / "tide", {}, {})
        cache_type = "copy"
        mixed = False

    def names(div):
        div.classify(known.Ctx(P, ops.View([], [], [], [], [], 1)))
        return [k.name.split(":")[0] for k in div.known], div.new

    one = "b026324c6904b2a9cb4b88d6d61c81d1"  # md5 of "1\n"
    (dvc_repo / "a.dvc").write_text(f"outs:\n- md5: {one}\n  path: a\n")
    (dvc_repo / "b.dvc").write_text(f"outs:\n- md5: {one}\n  path: b\n")
    cloud = Op("status_cloud", (Line(argv=("status", "-c", "--json"), json=True),))
    line = cloud.lines[0].render()
    assert names(Divergence(0, cloud, outputs=[(line, {"a": "new"}, {"b": "new"})])) == (["deliberate N52"], False)
    assert names(Divergence(0, cloud, outputs=[(line, {"a": "new"}, {"b": "missing"})])) == ([], True)
    assert names(Divergence(0, cloud, outputs=[(line, {"a": "new"}, {"c": "new"})])) == ([], True)
    # N54: a corrupt object behind the output tide reports modified
    st = Line(argv=("status", "--json"), json=True).render()
    report = (st, {}, {"a.dvc": [{"changed outs": {"a": "modified"}}]})
    assert names(Divergence(0, cloud, outputs=[report])) == ([], True)  # no corrupt object: new
    (objects / one[:2]).mkdir()
    (objects / one[:2] / one[2:]).write_text("2\n")
    assert names(Divergence(0, cloud, outputs=[report])) == (["deliberate N54"], False)
    other = (st, {}, {"c.dvc": [{"changed outs": {"c": "modified"}}]})
    assert names(Divergence(0, cloud, outputs=[other])) == (["deliberate N54"], False)  # whole step: any entry
    commit_fails = Op("commit", (Line(argv=("commit", "-q", "-f")),))
    assert names(Divergence(0, commit_fails, exits=[("$T commit -q -f", 1, 0)])) == (["deliberate N54"], False)
    (objects / one[:2] / one[2:]).write_text("1\n")
    assert names(Divergence(0, commit_fails, exits=[("$T commit -q -f", 1, 0)])) == ([], True)  # intact: new
    # N53: reflink only, a file dvc copied after its first failed link
    checkout = Op("checkout", (Line(argv=("checkout", "-q")),))
    copied = [("ws:c", "file 644 n1 2B md5=0", None)]
    P.cache_type = "reflink"
    assert names(Divergence(0, checkout, state=copied)) == (["deliberate N53"], False)
    P.cache_type = "copy"
    assert names(Divergence(0, checkout, state=copied)) == ([], True)
    # N58: dvc left an emptied directory of a stale output
    (dvc_repo / "d" / "e").mkdir(parents=True)
    emptied = [("ws:d", "dir 755", None), ("ws:d/e", "dir 755", None)]
    assert names(Divergence(0, checkout, state=emptied)) == (["deliberate N58"], False)
    (dvc_repo / "d" / "e" / "f").write_text("x")
    assert names(Divergence(0, checkout, state=emptied)) == ([], True)  # a file left in it: new
    (objects / "9d").mkdir()
    (objects / "9d" / "d4e461268c8034f5c8564e155c67a6").write_text("x")  # ... whose object dvc's cache holds
    left = [*emptied, ("ws:d/e/f", "file 644 n1 1B md5=9dd4e461268c8034f5c8564e155c67a6", None)]
    assert names(Divergence(0, checkout, state=left)) == (["deliberate N58"], False)  # seed 64001, 126
    (dvc_repo / "d.dvc").write_text("outs:\n- md5: 9dd4e461268c8034f5c8564e155c67a6\n  path: d\n")
    assert names(Divergence(0, checkout, state=left)) == ([], True)  # dvc still tracks d: new
    (dvc_repo / "d.dvc").unlink()
    # N59: dvc's diff also lists the files of a directory tide reports not in cache
    df = Line(argv=("diff", "--json"), json=True).render()
    a = {"deleted": [{"path": "d/"}, {"path": "d/x"}], "not in cache": [{"path": "d/"}, {"path": "d/x"}]}
    b = {"deleted": [{"path": "d/"}], "not in cache": [{"path": "d/"}]}
    assert names(Divergence(0, checkout, outputs=[(df, a, b)])) == (["deliberate N59"], False)
    b2 = {"deleted": [{"path": "d/"}], "not in cache": []}
    assert names(Divergence(0, checkout, outputs=[(df, a, b2)])) == ([], True)
    # N7: dvc's status fails on its dangling link, tide's does not
    P.cache_type = "symlink"
    fail = [(st, 255, 0)]
    assert names(Divergence(0, checkout, exits=fail)) == ([], True)  # no dangling link: new
    (dvc_repo / "x").symlink_to(tmp_path / "nowhere")
    assert names(Divergence(0, checkout, exits=fail)) == (["deliberate N7"], False)
    assert names(Divergence(0, checkout, exits=[(st, 0, 255)])) == ([], True)
    force = Op("checkout", (Line(argv=("checkout", "-q", "--force")),))  # N7 through checkout (61801, 470)
    assert names(Divergence(0, force, exits=[("$T checkout -q --force", 0, 1)])) == (["deliberate N7"], False)
    kept_file = [("ws:x", "link -> <ROOT>/repo/.dvc/cache/files/md5/26/ab", "file 644 n1 8B md5=5")]
    assert names(Divergence(0, force, state=kept_file)) == (["deliberate N7"], False)
    assert names(Divergence(0, force, state=[("ws:x", "link -> <ROOT>/repo/.dvc/cache/files/md5/26/ab",
                                              "link -> <ROOT>/repo/.dvc/cache/files/md5/27/ab")])) == ([], True)
    # N17: the hard-linked workspace file of a tracked directory shares its object's mode
    P.cache_type = "hardlink"
    chmod = Op("chmod", (Line(sh="chmod u+w d/a"),))
    text = '[{"md5": "b194", "relpath": "a"}]'
    oid = hashlib.md5(text.encode()).hexdigest()
    (dvc_repo / "d.dvc").write_text(f"outs:\n- md5: {oid}.dir\n  path: d\n")
    (objects / oid[:2]).mkdir(exist_ok=True)
    (objects / oid[:2] / f"{oid[2:]}.dir").write_text(text)
    assert names(Divergence(0, chmod, state=[("ws:d/a", "file 444 n2 2B md5=0", "file 644 n2 2B md5=0")])) \
        == (["deliberate N17"], False)
    assert names(Divergence(0, chmod, state=[("ws:d/a", "file 444 n1 2B md5=0", "file 644 n1 2B md5=0")])) \
        == ([], True)
    # a file output (tide protects its object again): new
    assert names(Divergence(0, chmod, state=[("ws:a", "file 444 n2 2B md5=0", "file 644 n2 2B md5=0")])) == ([], True)
    (dvc_repo / "d.dvc").unlink()
    # N31: an empty file is copied by a hardlink cache too
    add = Op("add", (Line(argv=("add", "-q", "e")),))
    assert names(Divergence(0, add, state=[("ws:e", "file 644 n1 0B md5=0", "file 755 n1 0B md5=0")])) \
        == (["deliberate N31"], False)
    assert names(Divergence(0, add, state=[("ws:e", "file 644 n1 2B md5=0", "file 755 n1 2B md5=0")])) == ([], True)
    remove = Op("remove", (Line(argv=("remove", "-q", "e.dvc")),))  # N31 through remove's unprotect (1174)
    assert names(Divergence(0, remove, state=[("ws:e", "file 644 n1 2B md5=0", "file 755 n1 2B md5=0")])) \
        == (["deliberate N31"], False)
    assert names(Divergence(0, remove, state=[("ws:e", "file 600 n1 2B md5=0", "file 755 n1 2B md5=0")])) == ([], True)
    # N15: `add --no-commit d` earlier, then `add d m` failing: dvc committed d first (1305)
    add_dm = Op("add", (Line(argv=("add", "-q", "d", "m")),), info={"targets": ["d", "./m"]})
    (dvc_repo / "d.dvc").write_text("outs:\n- md5: d751.dir\n  path: d\n")
    objs = [("cache:files/md5/d7/51.dir", "444 ok md5=d751", None)]
    seen_d = [(st, {}, {"d.dvc": [{"changed outs": {"d": "not in cache"}}]})]
    assert names(Divergence(0, add_dm, rcs=[(1, 1)], state=objs, outputs=seen_d)) == (["deliberate N15"], False)
    (dvc_repo / "d.dvc").unlink()
    assert names(Divergence(0, add_dm, rcs=[(1, 1)], state=objs, outputs=seen_d)) == ([], True)
    # N62 (N15): a failed commit, dvc having rewritten a.dvc and cached its object first
    commit = Op("commit", (Line(argv=("commit", "-q", "-f")),))
    wrote = [("ws:a.dvc", "file 644 n1 78B md5=1", "file 644 n1 78B md5=2"),
             ("cache:files/md5/10/f7", "444 ok md5=10f7", None)]
    rep = (st, {"s2": [1]}, {"a.dvc": [1], "s2": [1]})
    assert names(Divergence(0, commit, rcs=[(1, 1)], state=wrote, outputs=[rep])) == (["deliberate N15"], False)
    assert names(Divergence(0, commit, rcs=[(0, 1)], state=wrote)) == ([], True)
    rep2 = (st, {"s2": [1]}, {"a.dvc": [1], "s2": [2]})
    assert names(Divergence(0, commit, rcs=[(1, 1)], state=wrote, outputs=[rep2])) == ([], True)


def test_known_predicates_of_session_13_match_one_shape_each(tmp_path):
    """N27's consequence in the reports (seed 61801, 1228): matches only where the kept paths explain all."""
    (tmp_path / "dvc" / "repo").mkdir(parents=True)
    (tmp_path / "tide" / "repo").mkdir(parents=True)

    class P:
        a = engine.Side(tmp_path / "dvc", {}, {})
        b = engine.Side(tmp_path / "tide", {}, {})
        cache_type = "copy"
        mixed = True

    def names(div):
        div.classify(known.Ctx(P, ops.View([], [], [], [], [], 1)))
        return sorted({k.name.split(":")[1].strip() for k in div.known}), div.new

    checkout = Op("checkout", (Line(argv=("checkout", "-q")),))
    st = Line(argv=("status", "--json"), json=True).render()
    kept = [("ws:o1d", None, "dir 755"), ("ws:o1d/in/g", None, "file 644 n1 0B md5=d41d")]
    dep = {"s2": [{"changed deps": {"o1d/in/g": "deleted"}}, {"changed outs": {"u2": "deleted"}}]}
    seen = {"s2": [{"changed deps": {"o1d/in/g": "modified"}}, {"changed outs": {"u2": "deleted"}}]}
    both = ["checkout keeps an output the other tool wrote (mixed)", "status/diff report the output N27 kept (mixed)"]
    assert names(Divergence(0, checkout, state=kept, outputs=[(st, dep, seen)])) == (both, False)
    other = {"s2": [{"changed deps": {"o1d/in/g": "modified"}}, {"changed outs": {"u2": "modified"}}]}
    assert names(Divergence(0, checkout, state=kept, outputs=[(st, dep, other)]))[1]  # u2 not kept: new
    assert names(Divergence(0, checkout, outputs=[(st, dep, seen)])) == ([], True)  # nothing kept: new
    P.mixed = False
    assert both[1] not in names(Divergence(0, checkout, state=kept, outputs=[(st, dep, seen)]))[0]  # not mixed
    # seed 69001 sequence 1263 (hardlink): the kept m3.json links the object m2.json links too
    P.mixed, P.cache_type = True, "hardlink"
    m3 = ("ws:m3.json", None, "file 444 n3 9B md5=e451")
    m2 = ("ws:m2.json", "file 444 n2 9B md5=e451", "file 444 n3 9B md5=e451")
    links = "a kept output's link to a shared object (mixed)"
    assert names(Divergence(0, checkout, state=[m3, m2])) == (sorted([both[0], links]), False)
    assert names(Divergence(0, checkout, state=[m2]))[1]  # nothing kept: new
    other = ("ws:m3.json", None, "file 444 n3 9B md5=0000")
    assert names(Divergence(0, checkout, state=[other, m2]))[1]  # the kept file is another object: new
    mode = ("ws:m2.json", "file 644 n2 9B md5=e451", "file 444 n3 9B md5=e451")
    assert names(Divergence(0, checkout, state=[m3, mode]))[1]  # the mode differs too: new
    twice = ("ws:m2.json", "file 444 n2 9B md5=e451", "file 444 n4 9B md5=e451")
    assert names(Divergence(0, checkout, state=[m3, twice]))[1]  # one kept link cannot explain two


def test_known_predicates_n7_n53_checkout_shapes_of_seed_61801(tmp_path):
    """N67 (N53 widened): reflink only, ``checkout --force`` over a changed file; both fail, dvc deleted the
    file before its link failed, tide kept it (seed 61801, 47). N7 through ``git checkout -f`` then
    ``checkout`` of an ``add --no-commit`` output git had removed (775). Each matches its own shape only."""
    P = _fake_pair(tmp_path, "reflink")
    dvc_repo = tmp_path / "dvc" / "repo"

    def names(div):
        return _classified(P, div)

    (dvc_repo / "x.dvc").write_text("outs:\n- md5: 26ab\n  path: x\n")
    force = Op("checkout", (Line(argv=("checkout", "-q", "--force")),))
    st, df = Line(argv=("status", "--json"), json=True).render(), Line(argv=("diff", "--json"), json=True).render()
    kept = [("ws:x", None, "file 644 n1 12B md5=b4")]
    reports = [(st, {"x.dvc": [{"changed outs": {"x": "deleted"}}]}, {"x.dvc": [{"changed outs": {"x": "modified"}}]}),
               (df, {}, {"added": [{"path": "x"}], "deleted": [], "modified": [], "not in cache": []})]
    assert names(Divergence(0, force, rcs=[(1, 1)], state=kept, outputs=reports)) == (["deliberate N53"], False)
    assert names(Divergence(0, force, rcs=[(0, 0)], state=kept)) == ([], True)  # nothing failed: new
    assert names(Divergence(0, force, rcs=[(1, 0)], exits=[("$T checkout -q --force", 1, 0)], state=kept)) \
        == ([], True)  # tide succeeded
    other = [(df, {}, {"added": [{"path": "x"}, {"path": "y"}]})]  # a report naming another path: new
    assert names(Divergence(0, force, rcs=[(1, 1)], state=kept, outputs=other)) == (["deliberate N53"], True)
    P.cache_type = "copy"
    assert names(Divergence(0, force, rcs=[(1, 1)], state=kept)) == ([], True)  # links work there: new
    P.cache_type = "reflink"
    (dvc_repo / "x.dvc").unlink()
    assert "deliberate N53" not in names(Divergence(0, force, rcs=[(1, 1)], state=kept))[0]  # untracked
    # N7: dvc's checkout makes a dangling link to an object its cache lacks, tide fails
    P.cache_type = "symlink"
    back = Op("git_checkout", (Line(sh="git checkout -q -f main"), Line(argv=("checkout", "-q"))))
    fails = [("$T checkout -q", 0, 1)]
    assert names(Divergence(0, back, rcs=[(0, 0), (0, 1)], exits=fails)) == ([], True)  # no dangling link: new
    (dvc_repo / ".hidden").symlink_to(tmp_path / "nowhere")
    assert names(Divergence(0, back, rcs=[(0, 0), (0, 1)], exits=fails)) == (["deliberate N7"], False)
    (dvc_repo / ".hidden.dvc").write_text("outs:\n- md5: 26ab\n  path: .hidden\n")
    assert names(Divergence(0, back, rcs=[(0, 0), (1, 0)], exits=[("$T checkout -q", 1, 0)])) == ([], True)
    (dvc_repo / ".hidden.dvc").unlink()  # seed 62001, 1894: dvc's checkout trips over a link nothing tracks
    assert names(Divergence(0, back, rcs=[(0, 0), (1, 0)], exits=[("$T checkout -q", 1, 0)])) == (
        ["deliberate N7"], False)


def test_known_predicates_n70_n72_match_one_shape_each(tmp_path):
    """N70 (move onto an existing directory: dvc leaves its temporary name) and N72 (a 2.x-layout manifest
    only dvc's status wrote), seed 61801 sequences 59 and 603: each matches its own shape only."""
    import json

    dvc_repo = tmp_path / "dvc" / "repo"
    (tmp_path / "tide" / "repo").mkdir(parents=True)
    dvc_repo.mkdir(parents=True)

    class P:
        a = engine.Side(tmp_path / "dvc", {}, {})
        b = engine.Side(tmp_path / "tide", {}, {})
        cache_type = "copy"
        mixed = False

    def names(div):
        div.classify(known.Ctx(P, ops.View([], [], [], [], [], 1)))
        return [k.name.split(":")[0] for k in div.known], div.new

    move = Op("move", (Line(argv=("move", "-q", "h", "dd")),), info={"src": "h", "dst": "dd"})
    refused = [("$T move -q h dd", 0, 1)]
    (dvc_repo / "dd" / "h").mkdir(parents=True)
    assert names(Divergence(0, move, rcs=[(0, 1)], exits=refused)) == ([], True)  # no temporary name: new
    (dvc_repo / "dd" / "h" / "h.1lturv4qH-fEFAXg_vnouA.tmp").write_text("y\n")
    assert names(Divergence(0, move, rcs=[(0, 1)], exits=refused)) == (["deliberate N70"], False)
    assert names(Divergence(0, move, rcs=[(1, 0)], exits=[("$T move -q h dd", 1, 0)])) == ([], True)  # tide moved
    # a directory moved onto a file: both fail, dvc left the directory under a temporary name beside it
    onto = Op("move", (Line(argv=("move", "-q", "D", "E")),), info={"src": "D", "dst": "E"})
    (dvc_repo / "E").write_text("z\n")
    left = [("ws:E.Szng25iLkleSqJ5CJyG8TQ.tmp/1", "file 644 n1 2B md5=1", None)]
    assert names(Divergence(0, onto, rcs=[(255, 1)], state=left)) == ([], True)
    (dvc_repo / "E.Szng25iLkleSqJ5CJyG8TQ.tmp").mkdir()
    assert names(Divergence(0, onto, rcs=[(255, 1)], state=left)) == (["deliberate N70"], False)
    # N72: a 2.x-layout manifest only dvc has
    manifest = json.dumps([{"md5": "b1946ac92492d2347c6235b4d2611184", "relpath": "f"}]).encode()
    import hashlib

    oid = hashlib.md5(manifest).hexdigest()
    key = f"cache:{oid[:2]}/{oid[2:]}.dir"
    stray = [(key, f"444 run-cache md5={oid}", None)]
    step = Op("pipeline", (Line(sh="cat > dvc.yaml <<'EOF'\nstages: {}\nEOF"),))
    assert names(Divergence(0, step, state=stray)) == ([], True)  # not in dvc's cache: new
    (dvc_repo / ".dvc" / "cache" / oid[:2]).mkdir(parents=True)
    (dvc_repo / ".dvc" / "cache" / oid[:2] / f"{oid[2:]}.dir").write_bytes(manifest)
    assert names(Divergence(0, step, state=stray)) == (["deliberate N72"], False)
    assert names(Divergence(0, step, state=[(key, f"444 run-cache md5={oid}", "444 run-cache md5=0")])) == ([], True)
    files = [(f"cache:files/md5/{oid[:2]}/{oid[2:]}.dir", f"444 ok md5={oid}", None)]
    assert names(Divergence(0, step, state=files)) == ([], True)  # the 3.x layout: new


def test_snapshot_normalises_symlink_targets_only(tmp_path):
    for side in ("a", "b"):
        repo = tmp_path / side / "repo"
        (repo / ".dvc" / "cache").mkdir(parents=True)
        (repo / ".dvc" / "cache" / "o").write_text("x")
        (repo / "l").symlink_to(repo / ".dvc" / "cache" / "o")
        (repo / "f").write_text(side)
    d = snapshot.diff(snapshot.side(tmp_path / "a", []), snapshot.side(tmp_path / "b", []))
    assert [k for k, _, _ in d] == ["ws:f"]


def test_printed_script_reproduces_what_ran(tmp_path, difftest_env):
    """The repro script is the sequence itself: run by sh with T=dvc it leaves exactly the state the engine's
    dvc side reached (workspace, cache, remote, clones)."""
    r = engine.Runner(tmp_path / "engine")
    try:
        p = r.pair("symlink", mixed=False)
        gen = ops.Generator(random.Random(SEED + 2))
        seq = []
        kinds = ("write", "mkdir", "add", "pipeline", "repro", "git_commit", "push", "clone", "move")
        for i, kind in enumerate(kinds):
            seq.append(getattr(gen, f"op_{kind}")(ops.scan(p.a.root / "repo")))
            p.step(i, seq[-1], observe=False)
        assert any(k.startswith("cache:") for k in snapshot.side(p.a.root, []))
        want = snapshot.side(p.a.root, p.a.clones)
        text = engine.script(seq, Divergence(len(seq) - 1, seq[-1]), "symlink", False, "replay")
        bindir = tmp_path / "bin"
        bindir.mkdir()
        (bindir / "dvc").symlink_to(dvc_bin())
        out = tmp_path / "script"
        out.mkdir()
        env = dict(r.env, T="dvc", PATH=f"{bindir}:{r.env['PATH']}")
        subprocess.run(["sh", "-c", text], cwd=out, env=env, capture_output=True, check=False)
        got = snapshot.side(out, p.a.clones)
        assert snapshot.diff(want, got) == [], [op.render() for op in seq]
        p.close()
    finally:
        r.close()


def test_simpler_drops_one_stage_or_one_line_at_a_time():
    gen = ops.Generator(random.Random(3))
    view = ops.View(["a"], [], [], [], [], 1)
    op = next(o for o in (gen.op_pipeline(view) for _ in range(50)) if len(o.info["stages"]) == 3 and len(o.lines) > 1)
    variants = ops.simpler(op)
    staged = [v for v in variants if len(v.info["stages"]) == 2]
    assert len(staged) == 3
    for v in staged:
        yaml_text = next(ln.sh for ln in v.lines if ln.sh.startswith("cat > dvc.yaml"))
        assert yaml_text.count("    cmd: ") == 2
    assert sum(len(v.lines) == len(op.lines) - 1 for v in variants) == len(op.lines)


def test_planted_divergence_is_found_shrunk_and_reported_alike_for_any_jobs(tmp_path, difftest_env, monkeypatch):
    """The tester can fail: tide's side made to write one extra line into each .dvc file ``add`` writes
    (tools.PLANTS) is found, shrunk to a script ending in that ``add``, and reported the same - counts and
    scripts - whether the sequences run in this process or in two workers (sequence n depends on the seed
    alone; results merge in sequence order; the shrinker's budget is in replays, not seconds)."""
    monkeypatch.setenv("TIDE_DIFFTEST_PLANT", "add-dvc-comment")
    seed = 2   # its sequences add files and directories from their first steps
    runs = [torture.run(2, seed, tmp_path / f"j{jobs}", mixed=0.0, log=lambda s: None, jobs=jobs,
                        shrink_replays=6) for jobs in (1, 2)]
    for res in runs:
        res["counts"].pop("seconds")
    one, two = runs
    assert one["counts"]["new_divergences"] >= 1 and one["failures"], one["counts"]
    script = one["failures"][0]
    assert ".dvc: dvc file" in script and script.rstrip().splitlines()[-1].startswith("$T add"), script
    assert one == two


def test_n73_persist_outputs_keep_their_history_alike(tmp_path, difftest_env):
    """N73's class in the tester: a generated pipeline with ``persist`` outputs (commands appending to them)
    reproduced again and again under a hardlink cache, then committed and checked out; dvc and tide must
    keep the same history in the workspace and leave the same cache (no write through a link into an
    object). The fixed-seed slices need not draw a persist output; this slice always does."""
    gen = ops.Generator(random.Random(SEED))
    view = ops.View(["a"], [], [], [], [], 1)
    pipeline = next(o for o in (gen.op_pipeline(view) for _ in range(200))
                    if any(re.search(r"- k\d+d?:\n +persist: true", s) for s in o.info["stages"]))
    seq = [Op("data", (Line(sh=ops.write_lines("a", b"a\n")),)), pipeline,
           Op("repro", (Line(argv=("repro", "-q")),)),
           Op("repro", (Line(argv=("repro", "-q", "-f")),)),
           Op("append", (Line(sh=ops.write_lines("a", b"2\n", append=True)),)),
           Op("repro", (Line(argv=("repro", "-q")),)),
           Op("git_commit", (Line(sh="git add -A && git commit -qm c"),)),
           Op("checkout", (Line(argv=("checkout", "-q", "--force")),)),
           Op("repro", (Line(argv=("repro", "-q", "-f")),))]
    r = engine.Runner(tmp_path / "engine")
    try:
        p = r.pair("hardlink", mixed=False)
        for i, op in enumerate(seq):
            div = p.step(i, op, observe=i == len(seq) - 1)
            assert not div, engine.script(seq[:i + 1], div, "hardlink", False, "persist") + "\n".join(div.describe())
        grown = [f for f in (p.a.root / "repo").rglob("k*") if f.is_file() and f.read_bytes().count(b"\n") >= 3]
        assert grown, "no persist output kept its history on the dvc side"
        p.close()
    finally:
        r.close()


def test_known_predicates_n15_n67_widened_by_seed_63101(tmp_path):
    """N67 for a directory output (seed 63101, 22): the directories holding the kept file are kept too, and
    the reports name the output. N62 (N15) where dvc's failed ``commit -f`` stored an ``add --no-commit``
    directory's manifest first and rewrote nothing (25): tide's ``status`` names the unchanged ``.dvc`` file
    (not in cache). Each matches its own shape only."""
    P = _fake_pair(tmp_path, "reflink")
    dvc_repo = tmp_path / "dvc" / "repo"

    def names(div):
        return _classified(P, div)

    st, df = Line(argv=("status", "--json"), json=True).render(), Line(argv=("diff", "--json"), json=True).render()
    (dvc_repo / "d.dvc").write_text("outs:\n- md5: d751713988987e9331980363e24189ce.dir\n  path: d\n")
    shard = dvc_repo / ".dvc" / "cache" / "files" / "md5" / "d7"
    shard.mkdir(parents=True)
    (shard / "51713988987e9331980363e24189ce.dir").write_text("[]")  # in the cache (else N46's shape)
    force = Op("checkout", (Line(argv=("checkout", "-q", "--force")),))
    kept = [("ws:d", None, "dir 755"), ("ws:d/sub", None, "dir 755"), ("ws:d/sub/f", None, "file 644 n1 2B md5=b0")]
    reports = [(st, {"d.dvc": [{"changed outs": {"d": "deleted"}}]}, {"d.dvc": [{"changed outs": {"d": "modified"}}]}),
               (df, {}, {"added": [{"path": "d/"}, {"path": "d/sub/f"}], "deleted": [], "modified": []})]
    assert names(Divergence(0, force, rcs=[(1, 1)], state=kept, outputs=reports)) == (["deliberate N53"], False)
    extra = [("ws:d/other", None, "dir 755")]  # a directory of the output holding no kept file: new
    assert names(Divergence(0, force, rcs=[(1, 1)], state=kept + extra)) == (["deliberate N53"], True)
    assert names(Divergence(0, force, rcs=[(1, 1)], state=kept[:2])) == ([], True)  # no kept file: new
    # N62: dvc stored d's manifest before failing; d.dvc itself is the same on both sides
    P.cache_type = "symlink"
    commit = Op("commit", (Line(argv=("commit", "-q", "-f")),))
    obj = [("cache:files/md5/d7/51713988987e9331980363e24189ce.dir", "444 ok md5=d751", None)]
    seen = [(st, {"s3": [1]}, {"d.dvc": [{"changed outs": {"d": "not in cache"}}], "s3": [1]})]
    assert names(Divergence(0, commit, rcs=[(1, 1)], state=obj, outputs=seen)) == (["deliberate N15"], False)
    other = [("cache:files/md5/aa/bb.dir", "444 ok md5=aabb", None)]  # another object: d.dvc not explained
    assert names(Divergence(0, commit, rcs=[(1, 1)], state=other, outputs=seen)) == ([], True)
    assert names(Divergence(0, commit, rcs=[(0, 0)], state=obj, outputs=seen)) == ([], True)  # nothing failed


def test_n7_pull_in_a_clone_then_its_status_is_one_shape(tmp_path):
    """N7 through ``clone`` (seed 66001, 387): in the clone, dvc's ``pull`` of objects never pushed exits 0 and
    leaves dangling symlinks, tide's fails; the clone's ``(cd ../c1 && $T status --json)`` that follows is a
    report, not the op's own line (dvc's fails on its dangling link). The op's exits alone decide."""
    P = _fake_pair(tmp_path, "symlink")
    P.a.clones = ["c1"]
    (tmp_path / "dvc" / "c1").mkdir()
    pull, st = Line(argv=("pull", "-q"), cwd="c1"), Line(argv=("status", "--json"), cwd="c1", json=True)
    clone = Op("clone", (Line(sh=ops.COMMIT_IF_CHANGED), Line(sh="git clone -q . ../c1"), pull, st))
    exits = [(pull.render(), 0, 1), (st.render(), 255, 0)]
    assert st.render() == "(cd ../c1 && $T status --json)"

    def div():
        return Divergence(0, clone, rcs=[(0, 0), (0, 0), (0, 1), (255, 0)], exits=list(exits))

    assert _classified(P, div()) == ([], True)  # no dangling link: new
    (tmp_path / "dvc" / "c1" / "o1").symlink_to(tmp_path / "nowhere")
    assert _classified(P, div()) == (["deliberate N7"], False)
    exits[0] = (pull.render(), 1, 0)  # dvc's pull failed and tide's did not: not N7's shape
    assert _classified(P, div())[1] is True


def test_n52_with_n28_in_the_same_report(tmp_path):
    """Seed 66101, 888: a clone's ``status -c --json`` names two same-content outputs by different names (N52:
    dvc ``o2``, tide ``k2``) and tide alone names a directory whose manifest is nowhere (N28: ``o3d``). Both
    classes in one report are explained; a directory whose manifest the cache holds is not N28's."""
    pair = _fake_pair(tmp_path)
    c2 = tmp_path / "dvc" / "c2"
    c2.mkdir()
    one, manifest = "b026324c6904b2a9cb4b88d6d61c81d1", "d751713988987e9331980363e24189ce.dir"
    (c2 / "dvc.lock").write_text(
        f"schema: '2.0'\nstages:\n  s2:\n    cmd: x\n    outs:\n    - path: o2\n      md5: {one}\n"
        f"    - path: k2\n      md5: {one}\n  s3:\n    cmd: y\n    outs:\n    - path: o3d\n      md5: {manifest}\n")
    line = Line(argv=("status", "-c", "--json"), cwd="c2", json=True)
    cloud = Op("clone", (Line(sh="git clone -q . ../c2"), line))
    a = {"p2.csv": "missing", "o2": "missing", "b.txt": "missing"}
    b = {"b.txt": "missing", "k2": "missing", "p2.csv": "missing", "o3d": "missing"}

    def names(b):
        return _classified(pair, Divergence(0, cloud, outputs=[(line.render(), a, b)]))

    assert names(b) == (["deliberate N52"], False)
    assert names({**b, "o9": "missing"}) == ([], True)  # an output dvc.lock does not name: new
    assert names({**b, "o3d": "new"}) == ([], True)  # not what N28 says
    shard = c2 / ".dvc" / "cache" / "files" / "md5" / manifest[:2]
    shard.mkdir(parents=True)
    (shard / manifest[2:]).write_text("[]")
    assert names(b) == ([], True)  # the manifest is in the cache: dvc could have listed o3d


def test_n62_commit_diff_names_what_only_dvc_stored(tmp_path):
    """N62 (N15's class, seed 66401, 189): ``commit -f`` fails in both on a deleted output; dvc first stored an
    ``add --no-commit`` directory ``d`` (objects, files linked), tide nothing. tide's ``diff --json`` then
    lists ``d/`` under "not in cache" where dvc's lists nothing: explained; another path there is not."""
    P = _fake_pair(tmp_path, "hardlink")
    dvc_repo = tmp_path / "dvc" / "repo"
    manifest, obj = "f39263d3297f1aa5d4470df666ff9f1a.dir", "f987902b9cd833463c4dd0f5ebf6bd86"
    (dvc_repo / "d.dvc").write_text(f"outs:\n- md5: {manifest}\n  path: d\n")
    (dvc_repo / "a.dvc").write_text("outs:\n- md5: b1946ac92492d2347c6235b4d2611184\n  path: a\n")
    commit = Op("commit", (Line(argv=("commit", "-q", "-f")),))
    st, df = Line(argv=("status", "--json"), json=True).render(), Line(argv=("diff", "--json"), json=True).render()
    state = [(f"cache:files/md5/{manifest[:2]}/{manifest[2:]}", f"444 ok md5={manifest[:-4]}", None),
             (f"cache:files/md5/{obj[:2]}/{obj[2:]}", f"444 ok md5={obj}", None),
             ("ws:d/sub/x", f"file 444 n4 10B md5={obj}", f"file 644 n1 10B md5={obj}")]
    deleted = {"a.dvc": [{"changed outs": {"a": "deleted"}}]}
    empty = {"added": [], "deleted": [{"path": "a"}], "modified": [], "renamed": [], "not in cache": []}

    def names(not_in_cache):
        outputs = [(st, deleted, {**deleted, "d.dvc": [{"changed outs": {"d": "not in cache"}}]}),
                   (df, empty, {**empty, "not in cache": not_in_cache})]
        return _classified(P, Divergence(0, commit, rcs=[(1, 1)], state=state, outputs=outputs))

    assert names([{"path": "d/"}]) == (["deliberate N15"], False)
    assert names([{"path": "d/"}, {"path": "e/"}]) == ([], True)  # e: nothing dvc stored
    assert names([{"path": "a"}]) == ([], True)


def test_n6_n53_reflink_only_shapes_of_seed_66401(tmp_path):
    """N6 widened (seed 66401 sequences 1664, 1946): reflink only, both ``repro`` fail, dvc at its first link
    (a ``.dvc`` stage's "Verifying data sources"), tide later (a stage's command or a missing dependency):
    what only tide's further progress wrote is explained, anything else is new. N53 widened (1953): dvc's
    ``pull`` in a fresh clone copies after its first failed link, as in the repository."""
    P = _fake_pair(tmp_path, "reflink")

    def names(div):
        return _classified(P, div)

    repro = Op("repro", (Line(argv=("repro", "-q", "-f")),))
    st, df = Line(argv=("status", "--json"), json=True).render(), Line(argv=("diff", "--json"), json=True).render()
    further = [("ws:o1", None, "file 644 n1 7B md5=5b"), ("ws:dvc.lock", None, "file 644 n1 409B md5=10"),
               ("ws:.gitignore", "file 644 n1 6B md5=aa", "file 644 n1 9B md5=bb"),
               ("cache:files/md5/5b/ae", None, "444 ok md5=5bae")]
    reports = [(st, {"s1": [{"changed outs": {"o1": "deleted"}}]}, {"s1": [{"changed outs": {"o1": "modified"}}]}),
               (df, {}, {"added": [{"path": "o1"}]})]
    assert names(Divergence(0, repro, rcs=[(255, 1)], state=further, outputs=reports)) == (["deliberate N6"], False)
    assert names(Divergence(0, repro, rcs=[(0, 0)], state=further)) == ([], True)  # nothing failed: new
    assert names(Divergence(0, repro, rcs=[(255, 1)], outputs=reports)) == ([], True)  # reports alone: new
    for odd in [("ws:o1", "file 644 n1 7B md5=5b", None),           # a file only dvc has
                ("ws:o1", "file 644 n1 7B md5=5b", "file 644 n1 7B md5=99"),  # a file both have, differing
                ("cache:files/md5/5b/ae", None, "444 CORRUPT md5=00"),      # a corrupt object
                ("remote:files/md5/5b/ae", None, "md5=5bae")]:               # a pushed object
        got, new = names(Divergence(0, repro, rcs=[(255, 1)], state=[*further, odd]))
        assert new and "deliberate N6" not in got, odd
    P.cache_type = "copy"
    assert names(Divergence(0, repro, rcs=[(255, 1)], state=further)) == ([], True)  # links work there: new
    # N53 in a clone: dvc's pull copied a file after its first failed link, tide's failed for each
    P.cache_type = "reflink"
    clone = Op("clone", (Line(sh="git clone -q . ../c1"), Line(argv=("pull", "-q"), cwd="c1")), clone="c1")
    copied = [("c1/ws:dir two/.hidden", "file 644 n1 6B md5=b1", None)]
    assert names(Divergence(0, clone, rcs=[(0, 0), (1, 1)], state=copied)) == (["deliberate N53"], False)
    only_tide = [("c1/ws:dir two/.hidden", None, "file 644 n1 6B md5=b1")]
    assert names(Divergence(0, clone, rcs=[(0, 0), (1, 1)], state=only_tide)) == ([], True)  # the reverse: new
    assert known._ws_path("c12/ws:a b") == "a b" and known._ws_path("ws:x") == "x"
    assert known._ws_path("cache:ws:x") is None and known._ws_path("xc1/ws:y") is None


def test_n53_diff_after_a_kept_directory_unpairs_its_renames(tmp_path):
    """Seed 68001 sequence 1268: reflink only, ``move 'dir two' x3``, a file of x3 changed, ``pull``: both fail
    to link, dvc after deleting x3, tide keeping it (N67). tide's ``diff`` pairs x3's files with the deleted
    ones of ``dir two`` as renames; dvc, without x3, reports those deletions alone."""
    P = _fake_pair(tmp_path, "reflink")
    (tmp_path / "dvc" / "repo" / "x3.dvc").write_text("outs:\n- md5: 0123.dir\n  path: x3\n")
    pull = Op("pull", (Line(argv=("pull", "-q")),))
    df = Line(argv=("diff", "--json"), json=True).render()
    kept = [("ws:x3", None, "dir 755"), ("ws:x3/a", None, "file 644 n1 2B md5=60"),
            ("ws:x3/-dash", None, "file 644 n1 2B md5=60"), ("ws:x3/with space", None, "file 644 n1 7B md5=1b")]
    gone = [{"path": "dir two/"}, {"path": "dir two/-dash"}, {"path": "dir two/a"}, {"path": "dir two/with space"}]
    dvc = {"added": [], "deleted": gone, "modified": [], "renamed": [], "not in cache": []}
    renamed = [{"path": {"old": "dir two/-dash", "new": "x3/-dash"}},
               {"path": {"old": "dir two/with space", "new": "x3/with space"}}]
    tide = {"added": [{"path": "x3/"}, {"path": "x3/a"}], "deleted": [gone[0], gone[2]], "modified": [],
            "renamed": renamed, "not in cache": []}

    def names(report, state=kept):
        return _classified(P, Divergence(0, pull, rcs=[(1, 1)], state=state, outputs=[(df, dvc, report)]))

    assert names(tide) == (["deliberate N53"], False)
    elsewhere = {**tide, "renamed": [*renamed, {"path": {"old": "b", "new": "y/b"}}]}
    assert names(elsewhere) == (["deliberate N53"], True)  # a rename to a path nothing kept: new
    assert names({**tide, "deleted": [gone[0]]}) == (["deliberate N53"], True)  # a deletion missing: new
    assert names(tide, state=kept[:1]) == ([], True)  # x3's files not kept: nothing explained


def test_n79_uncached_output_restored_from_the_run_cache(tmp_path):
    """Seed 68001 sequence 1895: ``repro`` restores s1 from the run cache; dvc links its ``cache: false`` output
    u1 from the cache (symlink, or a read-only hardlink), tide writes it as a plain copy."""
    P = _fake_pair(tmp_path, "symlink")
    md5 = "f2160c8ffedf48068f2e1137e0a3a7e7"
    (tmp_path / "dvc" / "repo" / "dvc.yaml").write_text(
        "stages:\n  s1:\n    cmd: cat d d > u1\n    deps: [d]\n    outs:\n    - u1:\n        cache: false\n"
        "    - o\n")
    repro = Op("repro", (Line(argv=("repro", "-q")),))
    tide = f"file 644 n1 4B md5={md5}"
    link = f"link -> <ROOT>/repo/.dvc/cache/files/md5/{md5[:2]}/{md5[2:]}"

    def names(key, a, b=tide, op=repro):
        return _classified(P, Divergence(0, op, state=[(key, a, b)]))

    assert names("ws:u1", link) == (["deliberate N79"], False)
    assert names("ws:o", link) == ([], True)  # a cached output: new
    assert names("ws:u1", link.replace("f2/", "f3/")) == ([], True)  # another object: new
    assert names("ws:u1", link, op=Op("checkout", (Line(argv=("checkout", "-q")),))) == ([], True)  # not repro
    P.cache_type = "hardlink"
    assert names("ws:u1", f"file 444 n3 4B md5={md5}") == (["deliberate N79"], False)
    assert names("ws:u1", f"file 444 n1 4B md5={md5}") == ([], True)  # not a link: new
    assert names("ws:u1", "file 444 n3 5B md5=00") == ([], True)  # other content: new
    P.cache_type = "copy"
    assert names("ws:u1", link) == ([], True)


def test_n80_independent_stages_in_another_lock_order_only(tmp_path):
    """Seed 68001 sequence 1802: dvc.lock's entries of two stages that do not depend on each other, in dvc's
    run order (it varies with Python's hash seed) and in tide's (dvc.yaml's)."""
    P = _fake_pair(tmp_path)
    s1 = "  s1:\n    cmd: a\n    deps:\n    - path: in\n      md5: 1\n    outs:\n    - path: u1\n      md5: 2\n"
    s2 = "  s2:\n    cmd: b\n    deps:\n    - path: in\n      md5: 1\n    outs:\n    - path: o2d\n      md5: 3\n"
    s3 = "  s3:\n    cmd: c\n    deps:\n    - path: u1\n      md5: 2\n    outs:\n    - path: o3\n      md5: 4\n"
    repro = Op("repro", (Line(argv=("repro", "-q")),))

    def names(dvc: str, tide: str):
        for side, text in (("dvc", dvc), ("tide", tide)):
            (tmp_path / side / "repo" / "dvc.lock").write_text(f"schema: '2.0'\nstages:\n{text}")
        state = [("ws:dvc.lock", "file 644 n1 9B md5=a", "file 644 n1 9B md5=b")]
        return _classified(P, Divergence(0, repro, state=state))

    assert names(s2 + s1, s1 + s2) == (["deliberate N80"], False)
    assert names(s1 + s2, s1 + s2) == ([], True)  # the same order: the bytes differ otherwise, new
    assert names(s3 + s1, s1 + s3) == ([], True)  # s3 depends on s1's output: its order is fixed, new
    assert names(s2 + s1, s1 + s2.replace("md5: 3", "md5: 5")) == ([], True)  # an entry differs: new
    assert names(s2 + s1, s1) == ([], True)  # a stage missing: new


def test_n78_gitignore_lines_in_another_order_only(tmp_path):
    """N78 (seed 67001 sequence 165's fix): ``commit`` writes missing ``.gitignore`` entries back in path order,
    dvc in directory-listing order. The same lines in another order only; other lines, or another op: new."""
    P = _fake_pair(tmp_path)
    commit = Op("commit", (Line(argv=("commit", "-q", "-f")),))
    entry = ("ws:.gitignore", "file 644 n1 6B md5=aa", "file 644 n1 6B md5=bb")
    (tmp_path / "dvc" / "repo" / ".gitignore").write_bytes(b"/p\n/f\n")
    (tmp_path / "tide" / "repo" / ".gitignore").write_bytes(b"/f\n/p\n")
    assert _classified(P, Divergence(0, commit, state=[entry])) == (["deliberate N78"], False)
    assert _classified(P, Divergence(0, Op("add", (Line(argv=("add", "f")),)), state=[entry])) == ([], True)
    (tmp_path / "tide" / "repo" / ".gitignore").write_bytes(b"/f\n")
    assert _classified(P, Divergence(0, commit, state=[entry])) == ([], True)  # a line missing: new


def test_n15_add_whose_target_dvc_paired_as_a_rename(tmp_path):
    """N15 widened (seed 67001 sequence 547, mixed): ``add new0 tracked`` fails in both, dvc tracked new0
    first; its ``diff`` pairs new0 with a deleted output of the same content as a rename, where tide reports
    the deletion alone. A rename to a path dvc did not just track stays new."""
    P = _fake_pair(tmp_path, "reflink", mixed=True)
    add = Op("add", (Line(argv=("add", "-q", "new0", "ü/a.b.c")),), tool="tide",
             info={"targets": ("new0", "ü/a.b.c")})
    df = "dvc diff --json"
    state = [("ws:new0.dvc", "file 644 n1 81B md5=8a", None)]
    empty = {"added": [], "deleted": [], "modified": [], "renamed": [], "not in cache": []}

    def report(renamed_to):
        return (df, dict(empty, renamed=[{"path": {"old": "with space", "new": renamed_to}}]),
                dict(empty, deleted=[{"path": "with space"}]))

    assert _classified(P, Divergence(0, add, rcs=[(1, 1)], state=state, outputs=[report("new0")])) \
        == (["deliberate N15"], False)
    assert _classified(P, Divergence(0, add, rcs=[(1, 1)], state=state, outputs=[report("other")])) == ([], True)
    assert known._unpair_renames(empty, lambda p: True) is empty


def test_n15_add_stores_the_object_of_an_uncommitted_output(tmp_path):
    """N15 widened (seed 67001 sequence 1403): ``add A missing`` fails in both; dvc tracked A first, storing
    its object, which is also the object of an ``add --no-commit`` output (new0): tide's ``status`` then names
    new0.dvc "not in cache", dvc's does not. Only a .dvc file whose object dvc stored in that step."""
    P = _fake_pair(tmp_path)
    repo = tmp_path / "dvc" / "repo"
    (repo / "new0.dvc").write_text("outs:\n- md5: 5bae743c43e09bd0a7d3aaf73f2af19f\n  path: new0\n")
    (repo / "data" / "e1").mkdir(parents=True)
    (repo / "data" / "e1" / "new0.dvc").write_text("outs:\n- md5: 5bae743c43e09bd0a7d3aaf73f2af19f\n  path: new0\n")
    add = Op("add", (Line(argv=("add", "-q", "data/e1/new0", "sp ace missing")),),
             info={"targets": ("data/e1/new0", "sp ace missing")})
    state = [("cache:files/md5/5b/ae743c43e09bd0a7d3aaf73f2af19f", "444 ok md5=5bae", None),
             ("ws:data/e1/new0.dvc", "file 644 n1 81B md5=4b", None)]
    st = Line(argv=("status", "--json"), json=True).render()
    seen = [(st, {"s1": [1]}, {"new0.dvc": [{"changed outs": {"new0": "not in cache"}}], "s1": [1]})]
    assert _classified(P, Divergence(0, add, rcs=[(1, 1)], state=state, outputs=seen)) == (["deliberate N15"], False)
    other = [(st, {"s1": [1]}, {"other.dvc": [{"changed outs": {"other": "not in cache"}}], "s1": [1]})]
    assert _classified(P, Divergence(0, add, rcs=[(1, 1)], state=state, outputs=other)) == ([], True)
    assert _classified(P, Divergence(0, add, rcs=[(1, 1)], state=state[1:], outputs=seen)) == ([], True)  # not stored


def test_n15_add_tracks_again_what_remove_outs_left(tmp_path):
    """N15 widened (seed 67001 sequence 1908): after ``remove --outs d.dvc``, ``add d missing`` fails in both;
    dvc tracked d again first, so its ``diff`` says d/ modified where tide's says deleted. A deleted path
    dvc does not report modified stays new."""
    P = _fake_pair(tmp_path, "hardlink")
    add = Op("add", (Line(argv=("add", "-q", "d", "ünï-missing")),), info={"targets": ("d", "ünï-missing")})
    state = [("ws:d.dvc", "file 644 n1 94B md5=bb", None),
             ("cache:files/md5/9d/c24c76ee55eeba3886d11bdd6fc49c.dir", "444 ok md5=9dc2", None),
             ("ws:d/sub/x", "file 444 n2 6B md5=72", "file 644 n1 6B md5=72")]
    df = Line(argv=("diff", "--json"), json=True).render()
    empty = {"added": [], "deleted": [], "modified": [], "renamed": [], "not in cache": []}
    dvc = dict(empty, added=[{"path": "d/sub/x"}], deleted=[{"path": "d/sub/a"}], modified=[{"path": "d/"}])
    tide = dict(empty, deleted=[{"path": "d/"}, {"path": "d/sub/a"}])
    assert _classified(P, Divergence(0, add, rcs=[(1, 1)], state=state, outputs=[(df, dvc, tide)])) \
        == (["deliberate N15"], False)
    tide2 = dict(empty, deleted=[{"path": "d/"}, {"path": "d/sub/a"}, {"path": "e"}])
    assert _classified(P, Divergence(0, add, rcs=[(1, 1)], state=state, outputs=[(df, dvc, tide2)])) == ([], True)
