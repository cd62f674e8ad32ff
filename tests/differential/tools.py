"""The two tools under comparison, each behind a fork server (tests/differential/forkserver.py) so a command
costs its work, not its imports. ``Tool.run(argv, cwd)`` -> (exit status, stdout, stderr)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
FORKSERVER = str(HERE / "forkserver.py")
GIT_ENV = {
    "GIT_AUTHOR_NAME": "difftest", "GIT_AUTHOR_EMAIL": "difftest@example.com",
    "GIT_COMMITTER_NAME": "difftest", "GIT_COMMITTER_EMAIL": "difftest@example.com",
    "GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_DATE": "2026-01-01T00:00:00+0000",
    "GIT_COMMITTER_DATE": "2026-01-01T00:00:00+0000",
}
# what a developer's shell or a CI runner may set and tide or dvc would read
_OUTSIDE = ("GITHUB_", "GITLAB_", "CI_", "AWS_", "AZURE_", "GOOGLE_", "TIDE_", "DVC_", "CML_", "GTO_")


def dvc_path() -> str:
    return os.environ.get("TIDE_TEST_DVC") or str(ROOT / ".venv-dvc" / "bin" / "dvc")


def gto_path() -> str:
    return os.environ.get("TIDE_TEST_GTO") or str(ROOT / ".venv-gto" / "bin" / "gto")


def isolated_env(home: Path) -> dict[str, str]:
    """One environment for both tools and for the shell steps: no global git/dvc config, fixed git identity
    and dates (so equal trees give equal commit ids in both repositories), no analytics."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_OUTSIDE) or k.startswith("TIDE_TEST_")}
    env.pop("CI", None)
    env.update(GIT_ENV)
    home.mkdir(parents=True, exist_ok=True)
    env.update({
        "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
        "DVC_GLOBAL_CONFIG_DIR": str(home / ".config" / "dvc"), "DVC_SYSTEM_CONFIG_DIR": str(home / "etc-dvc"),
        "DVC_NO_ANALYTICS": "1", "DVC_SITE_CACHE_DIR": str(home / "dvc-site-cache"), "LC_ALL": "C.UTF-8",
        "PYTHONPATH": str(ROOT / "src"), "GTO_NO_UPDATE_CHECK": "1",
    })
    return env


@dataclass
class Result:
    rc: int
    out: str
    err: str


def _plant_add_dvc_comment(argv: list[str], cwd: Path, r: Result) -> None:
    """After a successful ``add``, each target's .dvc file gains a comment line (the tester must see it)."""
    if argv[:1] == ["add"] and r.rc == 0:
        for t in (a for a in argv[1:] if not a.startswith("-")):
            f = cwd / f"{t.rstrip('/')}.dvc"
            if f.is_file():
                with open(f, "a") as fh:
                    fh.write("# planted\n")


# A divergence planted on purpose (TIDE_DIFFTEST_PLANT=<name>, tide's side only), to check the tester finds,
# shrinks and reports one: tests/differential/test_differential.py::test_planted_divergence_*.
PLANTS = {"add-dvc-comment": _plant_add_dvc_comment}


class Tool:
    """One CLI (``name`` is what the repro scripts call it: dvc, tide or gto)."""

    def __init__(self, name: str, python: str, entry: str, env: dict[str, str], scratch: Path,
                 forkserver: bool | None = None, warm: tuple[str, ...] = ()):
        self.name, self.python, self.entry, self.env = name, python, entry, env
        self.scratch = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=scratch))
        if forkserver is None:
            forkserver = not os.environ.get("TIDE_DIFFTEST_NO_FORKSERVER")
        self._lock = threading.Lock()
        plant = os.environ.get("TIDE_DIFFTEST_PLANT", "") if name == "tide" else ""
        if plant and plant not in PLANTS:
            raise ValueError(f"TIDE_DIFFTEST_PLANT={plant!r}: not one of {sorted(PLANTS)}")
        self._plant = PLANTS.get(plant)
        self.stats: dict[str, list] = {}      # command -> [runs, child CPU seconds] (fork server only)
        self._srv: subprocess.Popen | None = None
        if forkserver:
            self._srv = subprocess.Popen(
                [python, FORKSERVER, entry, str(self.scratch / "modules"), ",".join(warm)], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, text=True, env=env, cwd=self.scratch)
            line = self._srv.stdout.readline()
            if '"ready"' not in line:
                raise RuntimeError(f"fork server for {name} did not start")

    def run(self, argv: list[str], cwd: Path) -> Result:
        r = self._run(argv, cwd)
        if self._plant is not None:
            self._plant(argv, cwd, r)
        return r

    def _run(self, argv: list[str], cwd: Path) -> Result:
        with self._lock:
            out, err = self.scratch / "out", self.scratch / "err"
            if self._srv is None:
                mod, _, fn = self.entry.partition(":")
                code = f"import sys; from {mod} import {fn} as m; sys.argv[0] = {self.name!r}; sys.exit(m())"
                p = subprocess.run([self.python, "-c", code, *argv], cwd=cwd, env=self.env,
                                   stdin=subprocess.DEVNULL, capture_output=True, text=True)
                return Result(p.returncode, p.stdout, p.stderr)
            req = {"argv": argv, "cwd": str(cwd), "env": self.env, "out": str(out), "err": str(err),
                   "prog": self.name}
            self._srv.stdin.write(json.dumps(req) + "\n")
            self._srv.stdin.flush()
            ans = self._srv.stdout.readline()
            if not ans:
                raise RuntimeError(f"fork server for {self.name} died")
            ans = json.loads(ans)
            rc = ans["rc"]
            st = self.stats.setdefault(argv[0] if argv else "", [0, 0.0])
            st[0] += 1
            st[1] += ans.get("cpu", 0.0)
            return Result(rc, out.read_text(errors="replace"), err.read_text(errors="replace"))

    def close(self) -> None:
        if self._srv is not None:
            self._srv.stdin.close()
            self._srv.wait(timeout=30)
            self._srv = None
        shutil.rmtree(self.scratch, ignore_errors=True)


def dvc_tool(env: dict[str, str], scratch: Path) -> Tool:
    exe = dvc_path()
    # what dvc builds once per process and memoizes, from its own code alone: its whole argparse tree
    # (lru_cache) and its compiled config schema (funcy memoize). Warmed once in the fork server.
    return Tool("dvc", str(Path(exe).parent / "python"), "dvc.cli:main", env, scratch,
                warm=("dvc.cli.parser:get_main_parser", "dvc.config:get_compiled_schema"))


def tide_tool(env: dict[str, str], scratch: Path) -> Tool:
    return Tool("tide", sys.executable, "tide.cli.main:main", env, scratch)


def gto_tool(env: dict[str, str], scratch: Path) -> Tool:
    exe = gto_path()
    return Tool("gto", str(Path(exe).parent / "python"), "gto.cli:app", env, scratch)
