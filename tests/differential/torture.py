"""Entry points: ``run(sequences, seed, work)`` (dvc vs tide, pure and mixed) and ``run_gto`` (the registry
vs gto), each returning {"counts": {...}, "failures": [shell scripts]} and writing every new divergence
to ``work/differential-divergences.md`` (ready to paste into RELIABILITY.md).

    python -m tests.differential.torture [--sequences 50] [--seed N] [--work DIR] [--gto] [--jobs N]
"""

from __future__ import annotations

import argparse
import collections
import random
import time
from pathlib import Path

from . import engine, pool

CACHE_TYPES = ("", "copy", "hardlink", "symlink", "reflink")
CACHE_WEIGHTS = (3, 3, 3, 3, 1)   # reflink is not supported on most test file systems: every link fails alike


def plan(rng: random.Random, mixed: float) -> tuple[str, bool, int]:
    """(cache type, mixed?, steps) of one sequence."""
    ct = rng.choices(CACHE_TYPES, CACHE_WEIGHTS)[0]
    return ct, rng.random() < mixed, rng.randint(6, 16)


def run(sequences: int, seed: int, work: Path, shrink_budget_s: float = 600.0, mixed: float = 0.25,
        log=print, jobs: int = 1, shrink_replays: int = 32) -> dict:
    """``sequences`` random sequences from ``seed`` (a fraction ``mixed`` of them in mixed mode), run by
    ``jobs`` worker processes. Sequence n is drawn from ``seed:n`` alone and the results are merged in
    sequence order, so the counts and the divergences reported (which shapes, found in which sequence, shrunk
    how) are the same for any ``jobs``. The first sequence showing a new shape (op kind and categories) is
    shrunk, within ``shrink_replays`` replays (a budget in replays keeps the result deterministic) and
    ``shrink_budget_s`` seconds (a safety cap only); a shape seen again is counted, not shrunk twice."""
    work = Path(work)
    work.mkdir(parents=True, exist_ok=True)
    counts: collections.Counter[str] = collections.Counter()
    failures: list[str] = []
    seen: set = set()
    shrinks: list = []
    start = time.monotonic()
    with pool.scratch(work, "runs") as runs, pool.Pool(jobs, "tests.differential.engine:Runner", runs) as workers:
        futures = [workers.submit(_sequence, seed, n, mixed) for n in range(sequences)]
        for n, fut in enumerate(futures):
            seq, divs, ran, ct, is_mixed, setup_divs, stats = fut.result()
            counts.update(stats)
            counts["sequences"] += 1
            counts["mixed_sequences"] += is_mixed
            counts["steps"] += ran
            for d in divs:
                counts["divergences"] += 1
                for k in d.known:
                    counts[f"known: {k.name}"] += 1
                if not d.new:
                    continue
                counts["new_divergences"] += 1
                key = (d.op.kind, d.categories())
                if key in seen:       # the same shape again: counted, not shrunk twice
                    continue
                seen.add(key)
                title = (f"difftest seed {seed} sequence {n} ({'mixed' if is_mixed else 'dvc vs tide'}, "
                         f"cache.type {ct or 'default'})")
                shrinks.append((title, d, workers.submit(_shrink, seq, d, ct, is_mixed, shrink_budget_s,
                                                         shrink_replays)))
            for ct_, d in setup_divs:
                if ("setup", ct_) in seen:    # each worker meets it once per cache type: counted once
                    continue
                seen.add(("setup", ct_))
                counts["divergences"] += 1
                counts["new_divergences"] += 1
                if ("setup",) in seen:
                    continue
                seen.add(("setup",))
                failures.append(engine.script([], d, ct_, False,
                                              f"difftest seed {seed}: setup (cache.type {ct_ or 'default'})"))
                log(failures[-1])
            if (n + 1) % 10 == 0:
                log(f"difftest: {n + 1} sequences, {counts['steps']} steps, {counts['new_divergences']} new, "
                    f"{counts['divergences']} in all, {time.monotonic() - start:.0f}s")
        for title, d, fut in shrinks:
            small, sdiv, cmp = fut.result()
            failures.append(engine.script(small, sdiv, cmp["cache_type"], cmp["mixed"],
                                          f"{title}: {len(small)} of {d.step + 1} steps"))
            log(failures[-1])
    counts["seconds"] = round(time.monotonic() - start)
    _write(work, "differential-divergences.md", seed, failures)
    return {"counts": dict(counts), "failures": failures}


def _sequence(runner: engine.Runner, seed: int, n: int, mixed: float):
    """Sequence n of ``seed`` in a worker: (ops, divergences, steps run, cache type, mixed?, setup ones)."""
    rng = random.Random(f"{seed}:{n}")
    ct, is_mixed, steps = plan(rng, mixed)
    seq, divs, ran = runner.generate_and_run(rng, steps, ct, is_mixed)
    setup = list(runner.setup_divergences)
    runner.setup_divergences.clear()
    stats = dict(runner.stats)
    runner.stats.clear()
    return seq, divs, ran, ct, is_mixed, setup, stats


def _shrink(runner: engine.Runner, seq, d, ct: str, is_mixed: bool, budget_s: float, replays: int):
    small, sdiv = runner.shrink(seq, d, ct, is_mixed, budget_s=budget_s, replays=replays)
    return small, sdiv, {"cache_type": ct, "mixed": is_mixed}


def _write(work: Path, name: str, seed: int, failures: list[str]) -> None:
    out = work / name
    parts = [f"## Differential divergences (seed {seed}): {len(failures)} new\n"]
    for f in failures:
        parts.append("```sh\n" + f.rstrip() + "\n```\n")
    out.write_text("\n".join(parts))


# A registry step waits for a fresh wall-clock second (gtodiff's docstring), so a gto worker sleeps about
# half of its time: the gto part runs this many workers per job.
GTO_WORKERS_PER_JOB = 2


def run_gto(sequences: int, seed: int, work: Path, log=print, jobs: int = 1) -> dict:
    from . import gtodiff

    return gtodiff.run(sequences, seed, Path(work), log=log, jobs=jobs * GTO_WORKERS_PER_JOB if jobs > 1 else 1)


def effectiveness(counts: dict) -> list[str]:
    """The generator's yield, from a report's counts: the share of steps that changed the dvc side, and of
    each op kind's steps whose every line succeeded on the dvc side."""
    steps = counts.get("steps", 0) or 1
    out = [f"effective steps: {counts.get('effective_steps', 0)} of {counts.get('steps', 0)} "
           f"({100 * counts.get('effective_steps', 0) / steps:.0f}%)"]
    for k in sorted(x[4:] for x in counts if x.startswith("ops:")):
        n, ok = counts[f"ops:{k}"], counts.get(f"ok:{k}", 0)
        out.append(f"  {k:13} {ok:4} of {n:4} succeeded ({100 * ok / n:.0f}%)")
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sequences", type=int, default=50)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--work", default=None)
    ap.add_argument("--gto", action="store_true")
    ap.add_argument("--jobs", type=int, default=pool.default_jobs(), help="worker processes (default: CPUs)")
    a = ap.parse_args()
    import tempfile

    seed = a.seed if a.seed is not None else random.SystemRandom().randrange(1 << 30)
    work = Path(a.work or tempfile.mkdtemp(prefix="difftest-"))
    res = (run_gto if a.gto else run)(a.sequences, seed, work, jobs=a.jobs)
    print(res["counts"])
    if not a.gto:
        print("\n".join(effectiveness(res["counts"])))
    print(f"seed {seed}; divergences written to {work}")


if __name__ == "__main__":
    main()
