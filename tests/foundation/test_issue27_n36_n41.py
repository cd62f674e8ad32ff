"""Issue 27: divergences N36, N37, N39, N40 and N41 that the differential tester found (seed 61201,
RELIABILITY.md), each compared with real dvc 3.67.1.

* N36: ``move`` is dvc's ``Output.move``: save and commit, so an output added with ``--no-commit`` gets its
  object into the cache and its link (tide left it uncommitted).
* N37: ``repro`` verifies the ``.dvc`` files upstream of its stages (dvc's graph holds them as data
  sources): a changed one is recorded, cached and linked; a missing one fails the run; ``-s`` skips them.
* N39: dvc rewrites an existing ``.dvc`` file by applying the new data onto its own parse (``apply_diff``):
  keys keep their order (``isexec`` set later comes after ``path``), comments stay.
* N40: a 0-byte file is never hard-linked (dvc copies it), also when a re-``add`` finds it hard-linked to
  an object emptied through the link.
* N50 (seed 61301): ``add D/f`` into a tracked directory D where f is new keeps D's size, grown by f's
  (dvc's ``Output.apply``); tide dropped it.
* N41: with ``cache.type reflink`` on a file system that cannot reflink, ``commit`` of a file output fails
  as dvc's relink does, writing neither the ``.dvc`` file nor ``dvc.lock``.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


def _st(path: str) -> tuple:
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode):
        return ("link", os.path.basename(os.readlink(path)))
    with open(path, "rb") as f:
        return (oct(stat.S_IMODE(st.st_mode)), st.st_nlink, f.read())


def test_n36_n40_hardlink_cache_move_commits_and_empty_files_are_copies(both):
    seen = {}
    for r in both:
        got = []
        r.t("config", "cache.type", "hardlink")
        # N36: add --no-commit, then move: committed and linked, as dvc
        r.sh("mkdir -p d && printf 'no newline' > n && printf 'x' > d/f")
        r.t("add", "-q", "--no-commit", "n", "d")
        r.t("move", "-q", "n", "m")
        r.t("move", "-q", "d", "e")
        got += [_st(r.p("m")), _st(r.p("e/f")), r.cache_files(), r.j("status", "--json")]
        # N40: a tracked file (and a file of a tracked directory) emptied through its link, then added again
        r.sh("printf 'data' > z && mkdir -p D && printf 'q' > D/y")
        r.t("add", "-q", "z", "D")
        r.sh(": > z && : > D/y")
        r.t("add", "-q", "z", "D")
        got += [_st(r.p("z")), _st(r.p("D/y")), r.cache_files(), r.j("status", "--json")]
        seen[r.name] = got
    assert seen["tide"] == seen["dvc"], seen
    assert seen["tide"][0][:2] == ("0o444", 2) and seen["tide"][4][:2] == ("0o644", 1), seen["tide"]


def test_n37_repro_verifies_the_data_sources_of_its_stages(both):
    yaml = ("stages:\n  s1:\n    cmd: cat d/sub/f d/sub/f > o1\n    deps:\n    - d/sub/f\n    outs:\n    - o1\n"
            "  s2:\n    cmd: cat g g g > o2\n    deps:\n    - g\n    outs:\n    - o2\n")
    seen = {}
    for r in both:
        got = []
        r.t("config", "cache.type", "symlink")
        r.sh(f"mkdir -p d/sub && echo 0 > d/sub/f && echo gg > g && printf '{yaml}' > dvc.yaml")
        r.t("add", "-q", "d/sub", "g")
        r.t("repro", "-q")
        # d/sub/f changed, g deleted: -s checks neither
        r.sh("rm d/sub/f g && echo 1 > d/sub/f")
        got.append(r.t("repro", "-q", "-s", "s1").returncode)
        got.append(r.j("status", "--json"))
        got.append(r.t("repro", "-q", "s2", check=False).returncode != 0)  # missing data source g
        got.append(r.t("repro", "-q", "s1").returncode)  # d/sub.dvc recorded, cached and linked, then s1
        got.append(Path(r.p("d/sub.dvc")).read_bytes())
        got += [_st(r.p("d/sub/f")), r.cache_files(), r.j("status", "--json")]
        seen[r.name] = got
    assert seen["tide"] == seen["dvc"], seen
    assert "d/sub.dvc" not in seen["tide"][-1] and "s1" not in seen["tide"][-1], seen["tide"]


def test_n39_n41_dvc_file_rewrites_keep_their_text_and_unlinkable_commits_fail(both):
    seen = {}
    for r in both:
        got = []
        # N39: isexec set by a re-add and by commit -f lands after path; a comment and a desc stay
        r.sh("echo a > a && echo b > b")
        r.t("add", "-q", "a", "b")
        r.sh("sed -i 's/^outs:/# top comment\\nouts:  # c2/' a.dvc && printf 'desc: hi\\n' >> b.dvc && chmod +x a b")
        r.t("add", "-q", "a")
        r.t("commit", "-q", "-f", "b.dvc")
        got += [Path(r.p("a.dvc")).read_bytes(), Path(r.p("b.dvc")).read_bytes()]
        # N50: a file or directory appended to a tracked directory adds its size to the recorded one
        r.sh("mkdir -p D && echo 123 > D/x")
        r.t("add", "-q", "D")
        r.sh("echo 2 > D/new && mkdir D/n && echo abc > D/n/q")
        r.t("add", "-q", "D/n")
        r.t("add", "-q", "--no-commit", "D/new")
        got.append(Path(r.p("D.dvc")).read_bytes())
        # N41: reflink only (this file system cannot reflink): commit of a file output fails, nothing written
        r.t("config", "cache.type", "reflink")
        r.sh("printf 'stages:\\n  s:\\n    cmd: echo 1 > o\\n    outs: [o]\\n' > dvc.yaml && echo 1 > o && echo c > a")
        got.append(r.t("commit", "-q", "b.dvc", check=False).returncode != 0)
        got.append(r.t("commit", "-q", "-f", "a.dvc", check=False).returncode != 0)
        got.append(r.t("commit", "-q", "-f", "s", check=False).returncode != 0)
        got += [Path(r.p("a.dvc")).read_bytes(), os.path.exists(r.p("dvc.lock")), r.cache_files()]
        seen[r.name] = got
    assert seen["tide"] == seen["dvc"], seen
    assert seen["tide"][0].endswith(b"  path: a\n  isexec: true\n"), seen["tide"][0]
