"""``make torture``: the long reliability suite. One line of counts per part; exit 1 only on a finding.

    python scripts/torture.py [--quick] [--only crash,fuzz,net,canaries,retrain,differential,gto] [--seed N]
                              [--trials N] [--fuzz N] [--net-rounds N] [--canary-tests PATHS]
                              [--retrain-trials N] [--sequences N] [--gto-sequences N]
                              [--jobs N] [--out torture-results.json]

Parts (each a function ``part(size, seed, work) -> {"counts": {...}, "failures": [...]}``; a part that
cannot run, e.g. a module that is missing, is a failure, never a skip):

* crash:        SIGKILL trials over every scenario (add, commit, checkout, gc, push, pull, fetch, gc -c,
                repro) and three cache link types; each trial checks fsck, lost files and the re-run.
* fuzz:         the hypothesis fuzzers of tests/reliability/test_fuzz.py with N inputs per parser.
* net:          push/pull/fetch rounds through the fault proxy in front of moto S3 (DVC's layout and the
                chunked format) and OpenSSH sshd.
* canaries:     the test suite (or the listed tests) under tests/reliability/canary_plugin.py: canaries in
                every credential variable of the environment; passes when every test passes and no canary
                shows in an output or a file.
* retrain:      kills during the retrain loop (tests/reliability/retrainkill.py).
* differential: random command sequences run by dvc and tide, compared (tests/differential/torture.py).
* gto:          random registry sequences run by gto and `tide model`, tags and show --json compared.

``--quick`` (``make torture QUICK=1``) is the profile to run before resolving an issue that touches
storage, the cache, the registry or the loop: the same parts, smaller (under 10 minutes on two cores).
"""

from __future__ import annotations

import argparse
import collections
import importlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.reliability import crashlib  # noqa: E402

LINK_TYPES = ("default", "hardlink", "symlink")
# the canary part of the quick profile: every test that hands tide a credential, the forge and Google
# Drive suites (which read tokens and keys), the runners (which must scrub them from a job)
CANARY_QUICK = (
    "tests/reliability/test_secrets.py", "tests/forge/test_secrets_and_errors.py", "tests/forge/test_detect.py",
    "tests/forge/test_ssh_push.py", "tests/storage/test_conformance.py::test_put_exists_size_read",
    "tests/runners/test_watchdog.py", "tests/test_hermetic.py",
)
PROFILES = {
    "full": {"crash": 240, "fuzz": 10_000, "net": 6, "canaries": ("tests",), "retrain": 60, "differential": 2000,
             "gto": 500},
    "quick": {"crash": 33, "fuzz": 300, "net": 1, "canaries": CANARY_QUICK, "retrain": 12, "differential": 5,
              "gto": 3},
}
_CANARY_RE = re.compile(r"(tidecanary|tideuserpw)[A-Za-z0-9]*", re.IGNORECASE)
OPTIONS: dict = {"jobs": 2, "scenarios": None, "link_types": LINK_TYPES, "logs": ROOT}


def redact(text: str) -> str:
    """What torture prints or writes never repeats a canary (a leak found is reported, not copied)."""
    return _CANARY_RE.sub("<canary>", text)


def crash(trials: int, seed: int, work: Path) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    env = crashlib.isolated_env(str(work / "home"))
    (work / "home").mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    wanted = OPTIONS["scenarios"] or list(crashlib.SCENARIOS)
    scenarios = [crashlib.SCENARIOS[n] for n in wanted if crashlib.available(crashlib.SCENARIOS[n])]
    counts: collections.Counter[str] = collections.Counter()
    failures = [f"scenario {n}: the command is not available" for n in wanted
                if not crashlib.available(crashlib.SCENARIOS[n])]
    links = OPTIONS["link_types"]
    per = max(1, trials // (len(scenarios) * len(links)))
    for li, link in enumerate(links):
        cache_type = "" if link == "default" else link
        lw = work / f"link-{link}"
        lw.mkdir()
        t = crashlib.make_template(lw, env, seed=seed + li, scale=0.5, cache_type=cache_type)
        for s in scenarios:
            if s.pipeline and not t.pipeline:
                failures.append(f"scenario {s.name}: the template has no pipeline")
                continue
            mutations, seconds = crashlib.calibrate(s, t, lw, env, seed)
            for i in range(per):
                mode = "point" if i % 2 == 0 else "time"
                at = rng.randint(1, max(1, mutations)) if mode == "point" else rng.uniform(0.08, seconds * 1.1)
                tr = crashlib.run_trial(s, t, lw, env, rng, mode, at)
                counts["trials"] += 1
                counts["killed"] += tr.killed
                if tr.problems:
                    counts["failed"] += 1
                    failures.append(f"[cache.type={link}] {tr.describe()}")
                    print("  FAIL", failures[-1], flush=True)
        if not failures:
            shutil.rmtree(lw, ignore_errors=True)
        print(f"  crash: cache.type={link} done, {counts['trials']} trials so far, {counts['failed']} failed",
              flush=True)
    counts["scenarios"] = len(scenarios)
    counts["link_types"] = len(links)
    return {"counts": dict(counts), "failures": failures}


def _pytest(args: list[str], env: dict[str, str], log: str) -> tuple[subprocess.CompletedProcess, list[str]]:
    """Run pytest; its output goes (redacted) to a log file; returns the process and its FAILED/ERROR lines."""
    p = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args], cwd=ROOT,
                       env=env, capture_output=True, text=True)
    out = redact(p.stdout + p.stderr)
    (OPTIONS["logs"] / log).write_text(out)
    bad = [ln for ln in out.splitlines() if ln.startswith(("FAILED ", "ERROR "))]
    if p.returncode and not bad:
        bad = [f"pytest exited {p.returncode}: " + " | ".join(out.strip().splitlines()[-3:])]
    return p, bad


def _workers() -> list[str]:
    return ["-n", str(OPTIONS["jobs"])] if OPTIONS["jobs"] > 1 else []


def _passed(out: str) -> int:
    m = re.search(r"(\d+) passed", out)
    return int(m.group(1)) if m else 0


def fuzz(examples: int, seed: int, work: Path) -> dict:
    from tests.reliability.fuzzlib import all_targets

    env = dict(os.environ, TIDE_FUZZ_EXAMPLES=str(examples))
    p, bad = _pytest([*_workers(), "tests/reliability/test_fuzz.py", "-k", "not regression",
                      f"--hypothesis-seed={seed}"], env, "torture-fuzz.log")
    targets = [t.name for t in all_targets()]
    if bad:
        print(f"  fuzz: failing inputs and tracebacks in {OPTIONS['logs'] / 'torture-fuzz.log'}", flush=True)
    return {"counts": {"inputs": examples * len(targets), "parsers": len(targets), "fuzz_tests": _passed(p.stdout),
                       "failed": len(bad)}, "failures": bad}


def net(rounds: int, seed: int, work: Path) -> dict:
    from tests.fakes.servers import S3_ENV, MotoS3, Sshd
    from tests.reliability import netlib
    from tests.reliability.faultproxy import FaultProxy

    work.mkdir(parents=True, exist_ok=True)
    counts: collections.Counter[str] = collections.Counter()
    failures: list[str] = []
    moto, sshd = MotoS3(), Sshd(str(work / "sshd"))
    try:
        for r in range(rounds):
            for kind in ("s3", "ssh", "s3-chunked"):
                rw = work / f"net-{kind}-{r}"
                (rw / "home").mkdir(parents=True)
                env = crashlib.isolated_env(str(rw / "home"), S3_ENV)
                if kind.startswith("s3"):
                    bucket = moto.new_bucket("torture")
                    port = int(moto.endpoint.rsplit(":", 1)[1])
                else:
                    port = sshd.port
                with FaultProxy(("127.0.0.1", port), seed=seed + r, stall_s=1.0) as proxy:
                    yaml = ""
                    if kind == "s3":
                        url, opts = f"s3://{bucket}/store", {"endpointurl": f"http://127.0.0.1:{proxy.port}"}
                        reader = netlib.s3_objects(moto.client(), bucket, "store")
                    elif kind == "s3-chunked":  # issue 23: packs, index files and locks through the faults
                        from tide.core.config import Env
                        from tide.storage.base import RemoteSpec
                        from tide.storage.registry import open_backend

                        url, opts = f"s3://{bucket}/store", {"endpointurl": f"http://127.0.0.1:{proxy.port}"}
                        direct = open_backend(RemoteSpec("", url, (("endpointurl", moto.endpoint),)), Env(env))
                        reader, yaml = netlib.chunked_objects(direct, rw / "reader"), netlib.CHUNKED_YAML
                    else:
                        sroot = rw / "sftp"
                        url, opts = f"ssh://{sshd.user}@127.0.0.1:{proxy.port}{sroot}", {"keyfile": sshd.client_key}
                        reader = netlib.dir_objects(sroot)
                    res = netlib.fault_round(rw, env, proxy, url, opts, reader, seed=seed + r, faulty_attempts=4,
                                             rate=0.6, tide_yaml=yaml)
                    for fault in ("reset", "truncate", "stall", "latency", "corrupt"):
                        counts["faults"] += proxy.stats.get(fault, 0)
                counts["rounds"] += 1
                counts["attempts"] += res.attempts
                counts["failed_cleanly"] += res.failed_cleanly
                failures += [f"{kind} round {r}: {p}" for p in res.problems]
                for p in res.problems:
                    print("  FAIL", kind, r, p[:500], flush=True)
                shutil.rmtree(rw, ignore_errors=True)
            print(f"  net: round {r + 1}/{rounds} done, {len(failures)} problems", flush=True)
    finally:
        moto.stop()
        sshd.stop()
    return {"counts": dict(counts), "failures": failures}


def canaries(tests: tuple[str, ...], seed: int, work: Path) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    report = work / "canary-report.jsonl"
    env = dict(os.environ, TIDE_CANARY_REPORT=str(report),
               PYTHONPATH=os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]))
    p, bad = _pytest([*_workers(), "-p", "tests.reliability.canary_plugin", f"--basetemp={work / 'tmp'}", *tests],
                     env, "torture-canaries.log")
    lines = [json.loads(x) for x in report.read_text().splitlines()] if report.exists() else []
    leaks = {k: v for rec in lines for k, v in rec["output_leaks"].items()}
    inherited = {k: v for rec in lines for k, v in rec.get("not_hermetic", {}).items()}
    files = sorted({f for rec in lines for f in rec["file_leaks"]})
    failures = list(bad)
    failures += [f"canary in the output of {test}: {'; '.join(where[:3])}" for test, where in leaks.items()]
    failures += [f"canary written to {f}" for f in files]
    if not lines:
        failures.append("the canary plugin did not report (was it loaded?)")
    counts = {"tests_passed": _passed(p.stdout), "tests_failed": len(bad),
              "subprocess_outputs": sum(r["subprocesses"] for r in lines), "output_leaks": len(leaks),
              "not_hermetic": len(inherited), "file_leaks": len(files)}
    return {"counts": counts, "failures": failures}


def _module_part(module: str, what: str, func: str = "run", jobs: bool = False) -> Callable[[int, int, Path], dict]:
    """A part another module provides as ``func(size, seed, work)`` (``jobs``: also ``jobs=--jobs``, worker
    processes); a missing module is a failure."""

    def part(size: int, seed: int, work: Path) -> dict:
        work.mkdir(parents=True, exist_ok=True)
        try:
            mod = importlib.import_module(module)
        except ImportError as exc:
            return {"counts": {}, "failures": [f"{what}: cannot import {module} ({exc}): the part did not run"]}
        res = getattr(mod, func)(size, seed, work, **({"jobs": OPTIONS["jobs"]} if jobs else {}))
        return {"counts": dict(res.get("counts") or {}), "failures": list(res.get("failures") or [])}

    return part


PARTS: dict[str, Callable[..., dict]] = {
    "crash": crash,
    "fuzz": fuzz,
    "net": net,
    "canaries": canaries,
    "retrain": _module_part("tests.reliability.retrainkill", "retrain kills"),
    "differential": _module_part("tests.differential.torture", "differential", jobs=True),
    "gto": _module_part("tests.differential.torture", "registry vs gto", "run_gto", jobs=True),
}
ALIASES = {"suite": "canaries"}


def summary(name: str, res: dict) -> str:
    counts = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in res["counts"].items())
    verdict = f"{len(res['failures'])} FAILURES" if res["failures"] else "ok"
    return f"{name}: {counts or 'no counts'}; {verdict}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="the quick profile (under 10 minutes)")
    ap.add_argument("--only", default=",".join(PARTS), help="parts to run, comma-separated")
    ap.add_argument("--seed", type=int, default=int(time.time()) % 100_000)
    ap.add_argument("--trials", type=int, help="crash trials")
    ap.add_argument("--fuzz", type=int, help="fuzz inputs per parser")
    ap.add_argument("--net-rounds", type=int, help="faulty network rounds (each on S3 and SSH)")
    ap.add_argument("--canary-tests", help="test paths the canary part runs (space-separated; default: all)")
    ap.add_argument("--retrain-trials", type=int, help="retrain kill trials")
    ap.add_argument("--sequences", type=int, help="differential sequences")
    ap.add_argument("--gto-sequences", type=int, help="registry sequences against gto")
    ap.add_argument("--crash-scenarios", help="crash scenarios, comma-separated (default: all)")
    ap.add_argument("--link-types", default=",".join(LINK_TYPES), help="cache link types of the crash part")
    ap.add_argument("--jobs", type=int, default=len(os.sched_getaffinity(0)),
                    help="parallel workers: pytest workers of the fuzz and canary parts, worker processes of the "
                         "differential and gto parts (default: the number of CPUs)")
    ap.add_argument("--out", default=str(ROOT / "torture-results.json"))
    ap.add_argument("--work", help="work directory (default: a new temporary one; removed when all is well)")
    args = ap.parse_args(argv)
    sizes = dict(PROFILES["quick" if args.quick else "full"])
    for part, value in (("crash", args.trials), ("fuzz", args.fuzz), ("net", args.net_rounds),
                        ("retrain", args.retrain_trials), ("differential", args.sequences),
                        ("gto", args.gto_sequences)):
        if value is not None:
            sizes[part] = value
    if args.canary_tests:
        sizes["canaries"] = tuple(args.canary_tests.split())
    out = Path(args.out).resolve()
    OPTIONS.update(jobs=args.jobs, logs=out.parent, link_types=tuple(args.link_types.split(",")),
                   scenarios=args.crash_scenarios.split(",") if args.crash_scenarios else None)
    parts = [ALIASES.get(p, p) for p in args.only.split(",") if p]
    unknown = [p for p in parts if p not in PARTS]
    if unknown:
        ap.error(f"unknown part(s) {', '.join(unknown)}; parts: {', '.join(PARTS)}")
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="tide-torture-"))
    work.mkdir(parents=True, exist_ok=True)
    results: dict = {"seed": args.seed, "profile": "quick" if args.quick else "full",
                     "started": time.strftime("%Y-%m-%d %H:%M:%S"), "parts": {}}
    print(f"torture: {results['profile']} profile, seed {args.seed}, work dir {work}", flush=True)
    lines = []
    for name in parts:
        start = time.monotonic()
        print(f"{name}: running (size {sizes[name]})...", flush=True)
        try:
            res = PARTS[name](sizes[name], args.seed, work / name)
        except Exception:  # a part that breaks is a finding, reported like one
            res = {"counts": {}, "failures": [f"{name} crashed:\n{traceback.format_exc()}"]}
        res["counts"]["seconds"] = round(time.monotonic() - start)
        res = json.loads(redact(json.dumps(res, default=str)))
        results["parts"][name] = res
        lines.append(summary(name, res))
        print(lines[-1], flush=True)
        for f in res["failures"][:10]:
            print("  " + f.strip().replace("\n", "\n  ")[:2000], flush=True)
    ok = not any(r["failures"] for r in results["parts"].values())
    results["ok"] = ok
    out.write_text(json.dumps(results, indent=2) + "\n")
    print("\n".join(["", "torture summary:", *lines]))
    if ok:
        shutil.rmtree(work, ignore_errors=True)
    print(f"torture: {'OK' if ok else 'FAILURES (work dir kept: ' + str(work) + ')'} (results in {out})")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
