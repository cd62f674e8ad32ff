"""``make torture``: the long reliability suite. Prints counts and writes them to a JSON file.

    python scripts/torture.py [--trials 240] [--fuzz 10000] [--net-rounds 6] [--only crash,fuzz,net,suite]
                              [--seed N] [--out torture-results.json]

* crash: SIGKILL trials over every available scenario (add, commit, checkout, gc, push, pull, fetch,
  gc -c, repro) and three cache link types; each trial checks fsck, lost files and the re-run.
* fuzz:  the hypothesis fuzzers of tests/reliability/test_fuzz.py with --fuzz inputs per parser.
* net:   push/pull/fetch rounds through the fault proxy in front of moto S3 and OpenSSH sshd.
* suite: the whole test suite with canary credentials (tests/reliability/canary_plugin.py).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.reliability import crashlib, netlib  # noqa: E402
from tests.reliability.faultproxy import FaultProxy  # noqa: E402

LINK_TYPES = ("", "hardlink", "symlink")


def crash(trials: int, seed: int, work: Path) -> dict:
    env = crashlib.isolated_env(str(work / "home"))
    (work / "home").mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    scenarios = [s for s in crashlib.SCENARIOS.values() if crashlib.available(s)]
    missing = sorted(set(crashlib.SCENARIOS) - {s.name for s in scenarios})
    counts: collections.Counter[str] = collections.Counter()
    failures: list[str] = []
    per = max(1, trials // (len(scenarios) * len(LINK_TYPES)))
    for li, link in enumerate(LINK_TYPES):
        lw = work / f"link-{link or 'default'}"
        lw.mkdir()
        t = crashlib.make_template(lw, env, seed=seed + li, scale=0.5, cache_type=link)
        for s in scenarios:
            if s.pipeline and not t.pipeline:
                continue
            mutations, seconds = crashlib.calibrate(s, t, lw, env, seed)
            for i in range(per):
                mode = "point" if i % 2 == 0 else "time"
                at = rng.randint(1, max(1, mutations)) if mode == "point" else rng.uniform(0.08, seconds * 1.1)
                tr = crashlib.run_trial(s, t, lw, env, rng, mode, at)
                counts["trials"] += 1
                counts["killed"] += tr.killed
                counts[f"trials:{s.name}"] += 1
                if tr.problems:
                    counts["failed"] += 1
                    failures.append(f"[cache.type={link or 'default'}] {tr.describe()}")
                    print("  FAIL", failures[-1], flush=True)
        shutil.rmtree(lw, ignore_errors=True)
        print(f"crash: cache.type={link or 'default'} done, {counts['trials']} trials so far, "
              f"{counts['failed']} failed", flush=True)
    return {"counts": dict(counts), "failures": failures, "scenarios": [s.name for s in scenarios],
            "unavailable": missing}


def fuzz(examples: int) -> dict:
    env = dict(os.environ, TIDE_FUZZ_EXAMPLES=str(examples))
    start = time.monotonic()
    p = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2",
                        str(ROOT / "tests" / "reliability" / "test_fuzz.py"), "-k", "not regression"],
                       cwd=ROOT, env=env, capture_output=True, text=True)
    tail = "\n".join(p.stdout.strip().splitlines()[-15:])
    print(tail, flush=True)
    log = ROOT / "torture-fuzz.log"
    log.write_text(p.stdout + p.stderr)
    if p.returncode:
        print(f"fuzz: failing inputs and tracebacks in {log}", flush=True)
    from tests.reliability.fuzzlib import available_targets

    targets = [t.name for t in available_targets()]
    return {"parsers": targets, "inputs_per_parser": examples, "inputs": examples * len(targets),
            "passed": p.returncode == 0, "seconds": round(time.monotonic() - start), "summary": tail[-2000:]}


def net(rounds: int, seed: int, work: Path) -> dict:
    from tests.storage.servers import S3_ENV, MotoS3, Sshd

    out: dict = {"rounds": 0, "attempts": 0, "failed_cleanly": 0, "faults": collections.Counter(), "problems": []}
    moto, sshd = MotoS3(), Sshd(str(work / "sshd"))
    try:
        for r in range(rounds):
            for kind in ("s3", "ssh"):
                rw = work / f"net-{kind}-{r}"
                rw.mkdir()
                (rw / "home").mkdir()
                env = crashlib.isolated_env(str(rw / "home"), S3_ENV)
                if kind == "s3":
                    bucket = moto.new_bucket("torture")
                    port = int(moto.endpoint.rsplit(":", 1)[1])
                else:
                    port = sshd.port
                with FaultProxy(("127.0.0.1", port), seed=seed + r, stall_s=1.0) as proxy:
                    if kind == "s3":
                        url, opts = f"s3://{bucket}/store", {"endpointurl": f"http://127.0.0.1:{proxy.port}"}
                        reader = netlib.s3_objects(moto.client(), bucket, "store")
                    else:
                        sroot = rw / "sftp"
                        url, opts = f"ssh://{sshd.user}@127.0.0.1:{proxy.port}{sroot}", {"keyfile": sshd.client_key}
                        reader = netlib.dir_objects(sroot)
                    res = netlib.fault_round(rw, env, proxy, url, opts, reader, seed=seed + r, faulty_attempts=4,
                                             rate=0.6)
                    out["faults"].update({k: v for k, v in proxy.stats.items()})
                out["rounds"] += 1
                out["attempts"] += res.attempts
                out["failed_cleanly"] += res.failed_cleanly
                out["problems"] += [f"{kind} round {r}: {p}" for p in res.problems]
                for p in res.problems:
                    print("  FAIL", kind, r, p[:500], flush=True)
                shutil.rmtree(rw, ignore_errors=True)
            print(f"net: round {r + 1}/{rounds} done, {len(out['problems'])} problems", flush=True)
    finally:
        moto.stop()
        sshd.stop()
    out["faults"] = dict(out["faults"])
    return out


def suite(work: Path) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    report = work / "canary-report.jsonl"
    env = dict(os.environ, TIDE_CANARY_REPORT=str(report))
    start = time.monotonic()
    p = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2",
                        "-p", "tests.reliability.canary_plugin", "tests"], cwd=ROOT, env=env,
                       capture_output=True, text=True)
    tail = "\n".join(p.stdout.strip().splitlines()[-25:])
    print(tail, flush=True)
    (ROOT / "torture-suite.log").write_text(p.stdout + p.stderr)
    failed = [ln.split(" ")[1] for ln in p.stdout.splitlines() if ln.startswith("FAILED ")]
    lines = [json.loads(x) for x in report.read_text().splitlines()] if report.exists() else []
    output_leaks = {k: v for rec in lines for k, v in rec["output_leaks"].items()}
    files = sorted({f for rec in lines for f in rec["file_leaks"]})
    return {"passed": p.returncode == 0, "failed_tests": failed,
            "subprocesses_watched": sum(r["subprocesses"] for r in lines),
            "output_leaks": output_leaks, "file_leaks": files, "seconds": round(time.monotonic() - start),
            "summary": tail[-3000:]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=240)
    ap.add_argument("--fuzz", type=int, default=10_000)
    ap.add_argument("--net-rounds", type=int, default=6)
    ap.add_argument("--only", default="crash,fuzz,net,suite")
    ap.add_argument("--seed", type=int, default=int(time.time()) % 100_000)
    ap.add_argument("--out", default=str(ROOT / "torture-results.json"))
    args = ap.parse_args()
    parts = set(args.only.split(","))
    work = Path(tempfile.mkdtemp(prefix="tide-torture-"))
    results: dict = {"seed": args.seed, "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    ok = True
    print(f"torture: seed {args.seed}, work dir {work}", flush=True)
    if "crash" in parts:
        results["crash"] = crash(args.trials, args.seed, work / "crash")
        c = results["crash"]["counts"]
        print(f"crash: {c.get('trials', 0)} trials, {c.get('killed', 0)} killed, {c.get('failed', 0)} failed",
              flush=True)
        ok &= not results["crash"]["failures"]
    if "fuzz" in parts:
        results["fuzz"] = fuzz(args.fuzz)
        print(f"fuzz: {results['fuzz']['inputs']} inputs over {len(results['fuzz']['parsers'])} parsers, "
              f"{'no failure' if results['fuzz']['passed'] else 'FAILURES'}", flush=True)
        ok &= results["fuzz"]["passed"]
    if "net" in parts:
        results["net"] = net(args.net_rounds, args.seed, work / "net")
        n = results["net"]
        print(f"net: {n['rounds']} rounds, {n['attempts']} attempts, {sum(n['faults'].get(f, 0) for f in ('reset', 'truncate', 'stall', 'latency', 'corrupt'))} faults injected, "  # noqa: E501
              f"{n['failed_cleanly']} clean failures, {len(n['problems'])} problems", flush=True)
        ok &= not n["problems"]
    if "suite" in parts:
        results["suite"] = suite(work / "suite")
        s = results["suite"]
        print(f"suite with canaries: {'passed' if s['passed'] else 'FAILED'}, {s['subprocesses_watched']} subprocess "
              f"outputs watched, {len(s['output_leaks'])} leaking tests, {len(s['file_leaks'])} leaking files",
              flush=True)
        ok &= s["passed"] and not s["output_leaks"] and not s["file_leaks"]
    results["ok"] = bool(ok)
    Path(args.out).write_text(json.dumps(results, indent=2, default=str) + "\n")
    shutil.rmtree(work, ignore_errors=True)
    print(f"torture: {'OK' if ok else 'FAILURES'} (results in {args.out})")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
