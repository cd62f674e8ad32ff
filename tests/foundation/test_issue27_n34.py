"""Issue 27: divergence N34 that the differential tester found (seed 27063, RELIABILITY.md): an output
dvc.yaml no longer declares while the committed dvc.lock still lists it. dvc takes a stage's outputs from
dvc.yaml and only their hashes from dvc.lock (``StageLoader.fill_from_lock``), so every command of its
index (status, push, fetch, pull, checkout, diff, data status, gc) ignores such an output; tide took every
output of dvc.lock (``tide.ops.index.collect``/``outs_at_rev``, now ``lock_outs``)."""

from __future__ import annotations

import json
import os

V1 = """stages:
  s1:
    cmd: echo one > o1 && echo two > o2
    outs: [o1, o2]
  s2:
    wdir: sub
    cmd: echo three > o3
    outs: [o3]
"""
V2 = """stages:
  s1:
    cmd: echo one > o1 && echo two > o2
    outs: [o1]
"""


def _files(base: str) -> list[str]:
    return sorted(os.path.relpath(os.path.join(d, f), base) for d, _, fs in os.walk(base) for f in fs)


def test_n34_outputs_only_the_lock_lists_count_for_no_command(both, tmp_path):
    """o2 (dropped from its stage) and sub/o3 (its stage, with a ``wdir``, dropped) stay in the committed
    dvc.lock: status (-c), push, a clone's pull and status -c, checkout, diff and data status leave them
    out as dvc does; ``gc -A`` keeps their objects (the first commit declares them), ``gc -w`` removes them."""
    from tests.conftest import git

    seen = {}
    for r in both:
        got = []
        r.sh(f"mkdir sub; printf '{V1}' > dvc.yaml")
        r.t("repro", "-q")
        r.sh(f"git add -A && git commit -qm c1 && printf '{V2}' > dvc.yaml && git add -A && git commit -qm c2")
        got.append(r.j("status", "--json"))
        got.append(r.j("status", "-c", "--json"))
        r.t("push", "-q")
        got.append(_files(str(tmp_path / f"remote-{r.name}")))
        clone = str(tmp_path / f"clone-{r.name}")
        git(r.path, "clone", "-q", ".", clone)
        got.append(r.run("pull", "-q", cwd=clone, check=False).returncode)
        got.append(sorted(os.listdir(clone)) + sorted(os.listdir(os.path.join(clone, "sub"))))
        got.append(json.loads(r.run("status", "-c", "--json", cwd=clone).stdout))
        r.sh("rm -f o1 o2 sub/o3")
        got.append(r.t("checkout", "-q", check=False).returncode)
        got.append(r.ls() + sorted(os.listdir(r.p("sub"))))
        got.append(r.j("diff", "--json", "HEAD~1"))
        ds = r.j("data", "status", "--json")
        ds.pop("git", None)
        got.append(ds)
        r.t("gc", "-f", "-q", "-A")
        got.append(r.cache_files())
        r.t("gc", "-f", "-q", "-w")
        got.append(r.cache_files())
        seen[r.name] = got
    assert seen["dvc"] == seen["tide"], seen
    assert len(seen["tide"][-2]) == 3 and len(seen["tide"][-1]) == 1, seen["tide"]  # o1, o2, o3; then o1
    assert seen["tide"][:2] == [{}, {"o1": "new"}] and "o2" not in seen["tide"][7], seen["tide"]
