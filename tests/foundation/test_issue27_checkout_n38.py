"""Issue 27: checkout divergences the differential tester found (seed 61201, RELIABILITY.md N38-N46).

N38: an output whose workspace content is the recorded one is left as it is by dvc's checkout/pull
(dvc-data ``compare``: unchanged unless ``--relink``), a plain copy in a symlink cache included, its object
in the cache or not; tide failed (object missing) or replaced the copy by a link. N42: a target naming a
stage with no tracked output (only uncached outputs, never ran) selects nothing: exit 0. N43: ``gc -w -f``
after ``add --no-commit D``: the workspace directory is the tree its missing manifest names. N44: an
uncached output the run cache saved is one of dvc's links: once no stage declares it, checkout removes it.
N45: a link touched after it was written stays, although ``status`` hashed it again since. N46
(deliberate): checkout of a directory whose manifest is not in the cache: both fail, dvc deletes the
directory (its files may exist nowhere else), tide keeps it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

STAGE = """stages:
  s3:
    cmd: cat in > u3
    deps: [in]
    outs:
    - u3:
        cache: false
"""


def test_n38_n42_n43_n46_uncommitted_outputs_symlink_cache(both):
    seen = {}
    for r in both:
        got = []
        r.t("config", "cache.type", "symlink")
        r.sh("git add -A && git commit -qm symlink")
        r.sh("printf 'a\\n' > a")
        r.t("add", "-q", "--no-commit", "a")  # N38: not in the cache, unchanged
        got.append(r.t("checkout", "-q", "--force", check=False).returncode)
        got.append(os.path.islink(r.p("a")))
        r.sh("printf 'x\\n' > x && mkdir u && cp x u/x")
        r.t("add", "-q", "x")
        r.t("add", "-q", "--no-commit", "u/x")  # N38: its object in the cache (from x), a plain copy
        got.append(r.t("pull", "-q", "--force", check=False).returncode)
        got.append((os.path.islink(r.p("x")), os.path.islink(r.p("u/x"))))
        Path(r.p("dvc.yaml")).write_text(STAGE)  # N42: a stage that never ran, only an uncached output
        got.append([r.t(c, "-q", t, check=False).returncode for c, t in (("checkout", "s3"), ("pull", "u3"))])
        got.append(r.t("checkout", "-q", "nosuch", check=False).returncode != 0)
        r.sh("rm dvc.yaml && mkdir d && printf '2\\n' > d/a")
        r.t("add", "-q", "--no-commit", "d")  # its .dir manifest is not in the cache
        got.append(r.t("gc", "-w", "-f", "-q", check=False).returncode)  # N43
        got.append(r.t("checkout", "-q", "--force", check=False).returncode != 0)  # N46: both fail
        got.append(r.cache_files())
        seen[r.name] = got
        seen[r.name + " d"] = os.path.exists(r.p("d/a"))
    assert seen["tide"] == seen["dvc"], seen
    assert seen["dvc"][:4] == [0, False, 0, (True, False)], seen
    assert seen["tide d"] and not seen["dvc d"], seen  # N46, deliberate: tide keeps d/a, dvc deletes it


PIPE = """stages:
  s:
    cmd: cat in > o && cat in > m.json
    deps: [in]
    outs: [o]
    metrics:
    - m.json:
        cache: false
"""


def test_n44_n45_unused_links_hardlink_cache(both):
    seen = {}
    for r in both:
        r.t("config", "cache.type", "hardlink")
        r.sh("echo 1 > in")
        Path(r.p("dvc.yaml")).write_text(PIPE)
        r.t("repro", "-q")
        r.sh("printf '2\\n' > f")
        r.t("add", "-q", "f")
        r.sh("git add f.dvc .gitignore && git commit -qm f")
        # N45: touched after tide linked it (same bytes), then hashed again by status
        r.sh("sleep 0.01 && touch f")
        r.t("status", "--json")
        # no stage s any more, no f.dvc: o, m.json (N44, uncached, in git's eyes untracked) and f are unused
        r.sh("rm dvc.yaml dvc.lock && git checkout -q main~1")
        r.t("checkout", "-q", "--force", check=False)
        seen[r.name] = sorted(n for n in r.ls() if n != "in")
    assert seen["tide"] == seen["dvc"] == ["f"], seen


def test_a_failed_checkout_of_a_directory_leaves_no_directory_it_made(repo_dir, tide, monkeypatch):
    """Seed 66401, 422 (reflink-only cache on a file system without reflinks, `pull` in a clone): every link
    of a directory output failed; dvc leaves no directory, tide left the empty one it had made, so its
    `status` said `modified` where dvc says `deleted`. A directory the checkout made is removed on failure;
    one that existed stays, with what it held."""
    import shutil

    from tide.core.errors import CacheError
    from tide.objects.cache import ObjectCache
    from tide.ops.checkout import checkout
    from tide.workspace.repo import Repo

    (repo_dir / "D" / "sub").mkdir(parents=True)
    for name in ("a", "b", "sub/c"):
        (repo_dir / "D" / name).write_text(name)
    tide("add", "-q", "D", cwd=repo_dir)
    real = ObjectCache.link_many

    def fail_after_one(self, items, legacy=False, jobs=None, stat=None):
        real(self, items[:1], legacy, jobs, stat)  # one file written, then the link type fails
        raise CacheError("no link type works here (planted)")

    def failed_checkout():
        repo = Repo.find(str(repo_dir))
        try:
            with pytest.raises(CacheError):
                checkout(repo, None, cwd=str(repo_dir))
        finally:
            repo.close()

    shutil.rmtree(repo_dir / "D")
    with monkeypatch.context() as m:
        m.setattr(ObjectCache, "link_many", fail_after_one)
        failed_checkout()
        assert not (repo_dir / "D").exists()
        (repo_dir / "D").mkdir()
        (repo_dir / "D" / "a").write_text("a")
        failed_checkout()
        assert (repo_dir / "D" / "a").read_text() == "a"  # it existed: kept
    tide("checkout", "-q", cwd=repo_dir)
    assert (repo_dir / "D" / "sub" / "c").read_text() == "sub/c"
