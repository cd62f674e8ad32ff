"""Push/pull/fetch through a faulty network: shared by test_network_faults.py and scripts/torture.py.

``fault_round`` runs tide push, then pull in a fresh clone, then fetch, with the fault proxy in front
of the remote's server: every attempt must complete or fail with one clear line, no corrupt object
may enter the cache or stay on the remote, and with the network healthy again a re-run completes.
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.reliability import crashlib
from tests.reliability.faultproxy import FaultProxy


@dataclass
class RoundResult:
    attempts: int = 0
    failed_cleanly: int = 0
    problems: list[str] = field(default_factory=list)


def tide(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tide", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=600)


def one_line_or_ok(p: subprocess.CompletedProcess, what: str, res: RoundResult) -> bool:
    res.attempts += 1
    if p.returncode == 0:
        return True
    lines = [ln for ln in p.stderr.splitlines() if ln.strip() and not ln.startswith("WARNING")]
    if "Traceback" in p.stderr or len(lines) != 1 or not lines[0].startswith("ERROR: "):
        res.problems.append(f"{what} failed without one clear error line (rc {p.returncode}): {p.stderr[-800:]}")
    else:
        res.failed_cleanly += 1
    return False


def fsck_corrupt(root: Path, env: dict[str, str]) -> list[str]:
    p = tide(["fsck", "--json"], root, env)
    try:
        return json.loads(p.stdout.strip().splitlines()[-1])["corrupt"]
    except (ValueError, IndexError, KeyError):
        return [f"fsck gave no report: {p.stderr[-300:]}"]


def make_repo(root: Path, env: dict[str, str], url: str, options: dict[str, str], seed: int,
              tide_yaml: str = "") -> crashlib.State:
    root.mkdir(parents=True)
    crashlib.git(root, "init", "-q", "-b", "main", env=env)
    crashlib.tide(["init", "-q"], root, env)
    rng = random.Random(seed)
    state = {f"data/{d}f{i}.bin": rng.randbytes(rng.choice([10, 3000, 60_000, 250_000]))
             for i, d in enumerate(["", "a/", "b/"] * 5)}
    state["model.bin"] = rng.randbytes(700_000)
    crashlib.write_state(root, {}, state)
    crashlib.tide(["add", "-q", *crashlib.TOPS], root, env)
    crashlib.tide(["remote", "add", "-d", "store", url], root, env)
    for k, v in options.items():
        crashlib.tide(["remote", "modify", "store", k, v], root, env)
    if tide_yaml:
        (root / "tide.yaml").write_text(tide_yaml)
    crashlib.git(root, "add", "-A", env=env)
    crashlib.git(root, "commit", "-q", "-m", "data", env=env)
    return state


def fault_round(work: Path, env: dict[str, str], proxy: FaultProxy, url: str, options: dict[str, str],
                remote_objects: Callable[[], dict[str, bytes]], seed: int, faulty_attempts: int = 3,
                rate: float = 0.5, verbs: tuple[str, ...] = ("push", "pull", "fetch"),
                tide_yaml: str = "") -> RoundResult:
    """``remote_objects()`` reads every object on the remote behind the proxy's back (oid -> bytes).
    ``tide_yaml``: the repository's tide.yaml (e.g. the remote in the chunked format)."""
    res = RoundResult()
    a = work / "a"
    state = make_repo(a, env, url, options, seed, tide_yaml)
    steps = [("push", a, ["push"]), ("pull", work / "b", ["pull"]), ("fetch", work / "c", ["fetch"])]
    steps = [st for st in steps if st[0] in verbs]
    for what, root, args in steps:
        if not root.exists():
            crashlib.git(work, "clone", "-q", str(a), root.name, env=env)
        proxy.rate = rate
        for _ in range(faulty_attempts):
            ok = one_line_or_ok(tide(args, root, env), f"{what} with faults", res)
            bad = fsck_corrupt(root, env)
            if bad:
                res.problems.append(f"after a faulty {what}, the cache holds corrupt objects: {bad[:3]}")
            if ok:
                break
        proxy.rate = 0.0
        p = tide(args, root, env)
        if p.returncode != 0:
            res.problems.append(f"{what} on a healthy network failed: {p.stderr[-500:]}")
            continue
        if what == "push":
            for oid, data in remote_objects().items():
                if hashlib.md5(data).hexdigest() != oid.removesuffix(".dir"):
                    res.problems.append(f"the remote holds a corrupt object {oid}")
        elif what == "pull" and crashlib.read_state(root) != state:
            res.problems.append("the workspace after pull differs from what was pushed")
        elif what == "fetch":
            p = tide(["checkout", "-q"], root, env)
            if p.returncode != 0 or crashlib.read_state(root) != state:
                res.problems.append(f"checkout after fetch failed or differs: {p.stderr[-300:]}")
        if fsck_corrupt(root, env):
            res.problems.append(f"after {what}, fsck finds corrupt objects")
    for root in (a, work / "b", work / "c"):
        shutil.rmtree(root, ignore_errors=True)
    return res


def s3_objects(client, bucket: str, prefix: str) -> Callable[[], dict[str, bytes]]:
    def read() -> dict[str, bytes]:
        out = {}
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                parts = obj["Key"][len(prefix):].strip("/").split("/")
                if len(parts) == 4 and parts[:2] == ["files", "md5"]:
                    out[parts[2] + parts[3]] = client.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
        return out

    return read


CHUNKED_YAML = "remotes:\n  store:\n    format: chunked\n    chunk_size: 16384\n    pack_size: 262144\n"


def chunked_objects(backend, local: Path) -> Callable[[], dict[str, bytes]]:
    """Every object of a chunked remote, reassembled (``backend``: the remote behind the proxy's back)."""
    def read() -> dict[str, bytes]:
        from tide.objects.chunked import ChunkedStore

        store = ChunkedStore(backend, str(local))
        out = {}
        for ref in store.iter_refs():
            with store.open(ref) as f:
                out[ref.oid] = f.read()
        return out

    return read


def dir_objects(root: Path) -> Callable[[], dict[str, bytes]]:
    def read() -> dict[str, bytes]:
        base = root / "files" / "md5"
        if not base.is_dir():
            return {}
        return {pre.name + f.name: f.read_bytes() for pre in base.iterdir() for f in pre.iterdir()
                if not f.name.endswith(".tmp")}

    return read
