"""Issue 27: divergences N26-N31 and N17 that the differential tester found (RELIABILITY.md), each
reproduced on both tools in fresh repositories (``git init; T init; T remote add -d r ../remote;
commit``) and compared. Deliberate ones (docs/versioning.md, ``tests.differential.known.DELIBERATE``)
assert the difference itself, so a change of either side shows."""

from __future__ import annotations

import json
import os
import stat

import pytest


def _mode(path: str) -> str:
    return f"{stat.S_IMODE(os.stat(path).st_mode):o}"


def _obj(r, md5: str) -> str:
    return r.p(f".dvc/cache/files/md5/{md5[:2]}/{md5[2:]}")


def _md5(r, rel: str) -> str:
    import yaml

    with open(r.p(rel + ".dvc")) as f:
        return yaml.safe_load(f)["outs"][0]["md5"]


def test_n31_n17_executable_outputs_and_their_objects_get_dvcs_modes(both):
    """An executable output is written ``u+x`` only (744; seed 123, sequence 24), with a hardlink (or
    symlink: the same code) cache through the link onto its object (544); the next ``status`` checks the
    object and makes it 444 again (N17, as dvc-data's ``check``), also after ``chmod u+w`` through a link.
    ``add`` with a copying cache keeps the user's file and its mode (deliberate N31: dvc re-copies it)."""
    seen = {}
    for r in both:
        modes = []
        for ct in ("copy", "hardlink"):
            f = f"e-{ct}"
            r.t("config", "cache.type", ct)
            r.sh(f"printf '{ct}\\n' > {f}; chmod 755 {f}; echo w-{ct} > w-{ct}")
            r.t("add", "-q", f, f"w-{ct}")
            obj = _obj(r, _md5(r, f))
            row = [_mode(r.p(f)), _mode(obj)]
            r.sh(f"rm {f}")
            r.t("checkout", "-q", f"{f}.dvc")
            modes.append(row + [_mode(r.p(f)), _mode(obj)])
        r.sh("printf 'stages:\\n  s:\\n    cmd: printf x > o && chmod +x o\\n    outs: [o]\\n' > dvc.yaml")
        r.t("repro", "-q")  # the output already is its object (hardlinked): u+x set through the link too
        modes.append([_mode(r.p("o"))])
        r.sh("chmod u+w w-hardlink")  # through the hardlink: the object is writable now
        w = _obj(r, _md5(r, "w-hardlink"))
        modes.append([_mode(w)])
        r.t("status", "-q")
        modes.append([_mode(_obj(r, _md5(r, f"e-{ct}"))) for ct in ("copy", "hardlink")] + [_mode(w)])
        seen[r.name] = modes
    assert seen["dvc"][0][0] == "744" and seen["tide"][0][0] == "755"  # deliberate: add keeps the mode
    seen["tide"][0][0] = "744"
    assert seen["dvc"] == seen["tide"], seen
    assert seen["tide"][:2] == [["744", "444", "744", "444"], ["544", "544", "544", "544"]]
    assert seen["tide"][2:] == [["544"], ["644"], ["444", "444", "444"]]


def test_n30_a_file_a_reflink_only_cache_could_not_link_is_never_removed_as_stale(both, tmp_path):
    """``add .hidden ü`` with ``cache.type reflink`` where reflinks fail, commit, ``git checkout HEAD~1``,
    ``checkout``: dvc keeps .hidden (its link was never made) and removes the directory (its files need
    no link); tide removed both (seed 123, sequence 16)."""
    from tide.objects.cache import ObjectCache

    if not ObjectCache(str(tmp_path / "cache"), ("reflink",)).reflink_only_unsupported(str(tmp_path)):
        pytest.skip("this file system supports reflinks: the case cannot arise here")
    seen = {}
    for r in both:
        r.t("config", "cache.type", "reflink")
        r.sh("git add -A && git commit -qm c0; printf 'a\\n' > .hidden; mkdir ü; printf 'b\\n' > ü/a;"
             "printf 'c\\n' > one")
        r.t("add", "-q", ".hidden", "ü", "one")
        r.sh("git add -A && git commit -qm c && git checkout -q HEAD~1")
        rc = r.t("checkout", "-q", check=False).returncode
        seen[r.name] = (rc, sorted(os.listdir(r.path)))
    assert seen["dvc"] == seen["tide"], seen
    assert ".hidden" in seen["tide"][1] and "one" in seen["tide"][1] and "ü" not in seen["tide"][1]


def test_n26_n28_a_clone_of_never_pushed_outputs(both, tmp_path):
    """A clone whose outputs were never pushed (symlink cache): ``fetch`` then ``checkout`` fails in both,
    dvc leaving a dangling symlink, tide no file (deliberate N7/N26); ``status -c --json`` names the file
    ``missing`` in both and the directory whose manifest is nowhere ``missing`` in tide only, where dvc
    warns and leaves it out (deliberate N28)."""
    from tests.conftest import git

    seen = {}
    for r in both:
        r.t("config", "cache.type", "symlink")
        r.sh("echo a > x; mkdir d; echo b > d/f")
        r.t("add", "-q", "x", "d")
        r.sh("git add -A && git commit -qm c")
        clone = str(tmp_path / f"clone-{r.name}")
        git(r.path, "clone", "-q", ".", clone)
        fetch = r.run("fetch", "-q", cwd=clone, check=False).returncode
        co = r.run("checkout", "-q", cwd=clone, check=False).returncode
        x = os.path.join(clone, "x")
        cloud = json.loads(r.run("status", "-c", "--json", cwd=clone, check=False).stdout)
        seen[r.name] = (fetch, co != 0, os.path.islink(x), os.path.exists(x), cloud)
    assert seen == {"dvc": (0, True, True, False, {"x": "missing"}),
                    "tide": (0, True, False, False, {"x": "missing", "d": "missing"})}, seen


def test_n27_tide_checkout_keeps_an_output_dvc_wrote(tmp_path, tide, dvc):
    """Mixed use: ``dvc add ü``, commit, ``git checkout main~1``: ``tide checkout`` keeps ü (it never wrote
    it and does not read dvc's link database in a shared directory: deliberate N27); ``dvc checkout``
    removes it; an output tide wrote is removed by tide as by dvc (issue 27's fifth finding)."""
    from tests.conftest import git

    d = tmp_path / "repo"
    d.mkdir()
    git(d, "init", "-q", "-b", "main")
    dvc("init", "-q", cwd=d)
    git(d, "add", "-A")
    git(d, "commit", "-qm", "init")
    (d / "ü").mkdir()
    (d / "ü" / "a").write_text("x\n")
    (d / "t").write_text("t\n")
    dvc("add", "-q", "ü", cwd=d)
    tide("add", "-q", "t", cwd=d)
    git(d, "add", "-A")
    git(d, "commit", "-qm", "c")
    git(d, "checkout", "-q", "main~1")
    tide("checkout", "-q", cwd=d)
    kept = sorted(n for n in os.listdir(d) if not n.startswith("."))
    dvc("checkout", "-q", cwd=d)
    assert (kept, sorted(n for n in os.listdir(d) if not n.startswith("."))) == (["ü"], [])


def test_checkout_of_an_output_without_hash_names_what_records_it(repo_dir, tide):
    """``checkout`` of outputs with no hash advises per kind: a stage ``repro``, an import ``update``, a
    plain .dvc file ``commit`` (it advised ``tide repro`` for all)."""
    (repo_dir / "data.dvc").write_text("deps:\n- path: data\n  repo:\n    url: https://example.com/x\n"
                                       "outs:\n- path: data\n")
    (repo_dir / "y.dvc").write_text("outs:\n- path: y\n")
    (repo_dir / "dvc.yaml").write_text("stages:\n  s:\n    cmd: echo\n    outs: [o]\n")
    errs = [tide("checkout", *t, cwd=repo_dir, check=False) for t in ((), ("y.dvc",), ("s",))]
    assert [p.returncode for p in errs] == [1, 1, 1]
    assert errs[0].stderr.strip().endswith(
        "no hash recorded in its .dvc file or dvc.lock (run 'tide update data.dvc'; run 'tide commit y.dvc';"
        " run 'tide repro')"), errs[0].stderr
    assert errs[1].stderr.strip().endswith("no hash recorded in its .dvc file (run 'tide commit y.dvc')")
    assert errs[2].stderr.strip().endswith("no hash recorded in dvc.lock (run 'tide repro')")


def test_n32_n33_objects_written_through_a_link(both):
    """Found by the tester's fresh run (seed 27061): N32 (sequences 39, symlink): an output written
    through its symlink, then ``add`` again: tide stored the symlink itself as the new object (link() does
    not follow it) and left the workspace pointing at the old, overwritten object; dvc copies the bytes
    and relinks. N33 (sequence 42, hardlink): ``chmod u+w`` and a write through the hardlink, then
    ``status``: dvc finds the object's content no longer matches its name, deletes it and says ``not in
    cache``; tide said ``modified`` and kept the corrupt object (which a push would upload)."""
    seen = {}
    for r in both:
        r.t("config", "cache.type", "symlink")
        r.sh("printf 'hello\\n' > s")
        r.t("add", "-q", "s")
        r.sh("chmod u+w s && printf 'no newline' > s")  # through the link into the object
        r.t("add", "-q", "s")
        target = os.path.relpath(os.path.realpath(r.p("s")), r.p(".dvc/cache"))
        s_md5 = _md5(r, "s")
        r.t("config", "cache.type", "hardlink")
        r.sh("printf 'b\\n' > h")
        r.t("add", "-q", "h")
        r.sh("chmod u+w h && printf 'a\\n' > h")
        st = json.loads(r.t("status", "--json").stdout)
        seen[r.name] = (target, s_md5, os.path.isfile(_obj(r, s_md5)) and not os.path.islink(_obj(r, s_md5)),
                        st.get("h.dvc"), os.path.exists(_obj(r, _md5(r, "h"))), os.stat(r.p("h")).st_nlink)
    assert seen["dvc"] == seen["tide"], seen
    assert seen["tide"][0] == "files/md5/f9/87902b9cd833463c4dd0f5ebf6bd86"
    assert seen["tide"][2:] == (True, [{"changed outs": {"h": "not in cache"}}], False, 1)


def test_diff_sets_no_mode_on_the_objects_it_looks_for(both):
    """Seed 68001 sequence 231: ``chmod +x`` of a hardlinked output makes its object 555 (still read-only);
    dvc's ``diff`` only asks whether the objects of HEAD's outputs exist, so the object and the user's file
    keep 555. tide's diff checked and re-protected them (444), taking the user's executable bit away."""
    seen = {}
    for r in both:
        r.t("config", "cache.type", "hardlink")
        r.sh("mkdir d; echo a > d/f; echo b > g")
        r.t("add", "-q", "d", "g")
        r.sh("git add -A && git commit -qm c && chmod +x d/f g")
        assert r.t("diff", "--json").returncode == 0
        seen[r.name] = [_mode(r.p("d/f")), _mode(r.p("g")), _mode(_obj(r, _md5(r, "g")))]
    assert seen["dvc"] == seen["tide"] == ["555", "555", "555"], seen
