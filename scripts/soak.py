"""``make soak``: ``tide retrain`` once a simulated day for DAYS days (365 by default) with faults on about
10% of them; writes SOAK.md and soak.png; exit 1 when a check at the end fails or a day misbehaved.

    python scripts/soak.py [--days N] [--seed N] [--fault-share F] [--faults DAY=KIND,...] [--rows-per-day N]
                           [--runner local|aws] [--out DIR] [--keep] [--cold-python]
                           [--remote-format dvc|chunked]

Fault kinds: forge-5xx, forge-push, runner-start, kill (or kill:POINT, e.g. kill:after:Registry.assign),
remote-down, disk-full (tests/reliability/soak.py, soakrun.py).

The work happens in a temporary directory (``--keep``: in DIR/soak-work, kept); the harness is
tests/reliability/soak.py, its checks tests/reliability/soakcheck.py.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    from tests.reliability import soak, soakreport

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--fault-share", type=float, default=0.1)
    ap.add_argument("--faults", help="DAY=KIND,... (days from 1) instead of the seeded plan")
    ap.add_argument("--rows-per-day", type=int, default=10)
    ap.add_argument("--runner", choices=("local", "aws"), default="local",
                    help="aws: every 7th day on moto's EC2 (a moto server started here)")
    ap.add_argument("--out", default=str(ROOT), help="where SOAK.md, soak.png and soak-results.json go")
    ap.add_argument("--keep", action="store_true", help="keep the soak's project, forge and storage")
    ap.add_argument("--remote-format", choices=("dvc", "chunked"), default="dvc",
                    help="the remote's format (tide.yaml remotes.storage.format); chunked: <= 1.2x the distinct bytes")
    ap.add_argument("--cold-python", action="store_true",
                    help="start every stage's python from scratch (default: forked from a warm interpreter "
                         "with the example's imports done)")
    args = ap.parse_args(argv)
    if args.days < 3:
        ap.error("--days: at least 3 (a first day, a faulted day, a day that repairs)")
    faults = None
    if args.faults:
        try:
            faults = {int(d) - 1: k for d, _, k in (item.partition("=") for item in args.faults.split(","))}
        except ValueError:
            ap.error("--faults: DAY=KIND,... e.g. 3=kill,7=disk-full")
        bad = [k for k in faults.values() if k.split(":")[0] not in soak.FAULTS]
        if bad:
            ap.error(f"--faults: unknown kind {bad[0]} (one of {', '.join(soak.FAULTS)})")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    partial = out / "soak-results.partial.json"  # the rows so far, rewritten after every day
    moto, extra = None, {}
    if args.runner == "aws":
        from tests.fakes import servers

        moto = servers.MotoS3()
        extra = {"AWS_ENDPOINT_URL": moto.endpoint, "AWS_ACCESS_KEY_ID": "testing",
                 "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
    try:
        with tempfile.TemporaryDirectory(prefix="tide-soak-") as tmp:
            work = out / "soak-work" if args.keep else Path(tmp) / "w"
            res = soak.run(args.days, args.seed, work, args.fault_share, faults, rows_per_day=args.rows_per_day,
                           say=lambda line: print(line, flush=True), runner=args.runner, extra_env=extra,
                           on_day=lambda rows: partial.write_text(json.dumps(rows) + "\n"),
                           warm=not args.cold_python, remote_format=args.remote_format)
    finally:
        if moto is not None:
            moto.stop()
    path = soakreport.write(res, out)
    (out / "soak-results.json").write_text(json.dumps(res, indent=1) + "\n")
    for c in res["checks"]:
        print(("ok      " if c["ok"] else "FAILED  ") + c["detail"])
    for f in res["failures"]:
        print("FINDING:", f)
    print(f"report: {path}")
    return 1 if res["failures"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
