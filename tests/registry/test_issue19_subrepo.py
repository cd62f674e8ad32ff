"""issue 19: a source with a dvc subrepo (``dvc init --subdir``): ls, get, import and tide.api read paths
inside it as dvc does, its data from the subrepo's own remote (the top has none)."""

from __future__ import annotations

import shutil
import subprocess
import sys

from tests.foundation.conftest import make_tree
from tests.registry.conftest import git


def test_issue19_subrepo_ls_get_import_api(tmp_path, tide, dvc):
    mono = tmp_path / "mono"
    make_tree(mono, {"top.txt": b"top\n", "proj/data/a.txt": b"a\n", "proj/data/s/b.txt": b"b\n",
                     "proj/m.bin": b"m\n"})
    git(mono, "init", "-q", "-b", "main")
    tide("init", cwd=mono)
    tide("add", "top.txt", cwd=mono)
    proj = mono / "proj"
    tide("init", "--subdir", cwd=proj)
    tide("add", "data", "m.bin", cwd=proj)
    tide("remote", "add", "-d", "r", str(tmp_path / "sub-remote"), cwd=proj)  # (dvc resolves a relative one wrong)
    tide("push", cwd=proj)
    git(mono, "add", "-A")
    git(mono, "commit", "-qm", "one")
    shutil.rmtree(proj / ".dvc" / "cache")  # the subrepo's data only on its remote
    url = f"file://{mono}"
    for args in ([], ["proj", "-R", "--show-hash"], ["proj/data", "--json"]):
        assert tide("ls", url, *args).stdout == dvc("ls", url, *args).stdout, args
    tide("get", url, "proj/data", "-o", str(tmp_path / "got"))
    assert (tmp_path / "got" / "s" / "b.txt").read_bytes() == b"b\n"
    dests = {}
    for name, tool in (("d", dvc), ("t", tide)):
        d = dests[name] = tmp_path / name
        d.mkdir()
        git(d, "init", "-q", "-b", "main")
        tool("init", cwd=d)
        tool("import", url, "proj/data", cwd=d)
    assert (dests["t"] / "data.dvc").read_bytes() == (dests["d"] / "data.dvc").read_bytes()
    assert (dests["t"] / "data" / "a.txt").read_bytes() == b"a\n"
    code = f"import tide.api; print(tide.api.read('proj/m.bin', repo={url!r}), end='')"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "m\n"
