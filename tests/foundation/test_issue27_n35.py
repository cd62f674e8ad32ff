"""Issue 27: divergence N35 that the differential tester found (seed 5151, RELIABILITY.md). With
``cache.type symlink`` an output written through its link (root ignores the object's read-only mode, a user
after ``chmod``) changes the cache object itself. After ``git checkout`` to a commit that no longer tracks the
output, ``checkout`` removes unused links only when unchanged: dvc sees the object's new mtime and keeps the
link; tide removed it (the link still pointed at the right object name), leaving the new data only in a
misnamed object that the next ``gc`` deletes. An untouched link is removed by both."""

from __future__ import annotations

import os
from pathlib import Path


def test_n35_a_link_written_through_stays_after_git_checkout(both):
    seen = {}
    for r in both:
        r.t("config", "cache.type", "symlink")
        r.sh("echo a > kept && echo b > gone")
        r.t("add", "-q", "kept", "gone")
        r.sh("git add -A && git commit -qm outs")
        # write through the link: make the object writable first, as a user who is not root must
        r.sh("chmod u+w \"$(readlink kept)\" && sleep 0.01 && echo new > kept")
        r.sh("git checkout -q main~1")
        r.t("checkout", "-q", check=False)
        seen[r.name] = (os.path.islink(r.p("kept")), os.path.lexists(r.p("gone")),
                        Path(r.p("kept")).read_text() if os.path.exists(r.p("kept")) else None)
    assert seen["tide"] == seen["dvc"] == (True, False, "new\n"), seen
