"""SOAK.md and soak.png from a soak's result (soak.run): one table row per day, the checks, a chart of
every series over the days (matplotlib, Agg)."""

from __future__ import annotations

import os
from pathlib import Path

from tide.core.fsutil import atomic_write_text

STEPS = ("prepare", "runner", "push", "pr", "register", "gate", "report")


def write(res: dict, out_dir: Path, png_name: str = "soak.png") -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    chart(res["rows"], out_dir / png_name)
    path = out_dir / "SOAK.md"
    atomic_write_text(str(path), markdown(res, png_name))
    return path


def markdown(res: dict, png_name: str) -> str:
    rows = res["rows"]
    ok = not res["failures"]
    lines = [
        "# Soak: tide retrain, one simulated day after another",
        "",
        f"{res['days']} days, seed {res['seed']}, runner {res.get('runner', 'local')}"
        + (" (moto's EC2 every 7th day)" if res.get("runner") == "aws" else "")
        + f", remote format {res.get('remote_format', 'dvc')}, {res['rows_per_day']} new training rows a day, "
        f"{res['seconds']:.0f} s in all; faults on days "
        + (", ".join(f"{d} ({f})" for d, f in res["plan"].items()) or "none") + ".",
        f"Setup {res.get('setup_s', 0):.0f} s, checks at the end {res.get('checks_s', 0):.0f} s. The stages' "
        + ("`python X.py` forked from a warm interpreter with the example's imports done"
           if res.get("warm_python") else "python started cold every time")
        + ".",
        f"Result: **{'PASS' if ok else 'FAIL'}** ({len(res['failures'])} finding(s)).",
        "",
        f"![every series over the days]({png_name})",
        "",
        "## Checks at the end",
        "",
        *[f"- {'ok' if c['ok'] else '**FAILED**'}: {c['detail']}" for c in res["checks"]],
        "",
    ]
    if res["failures"]:
        lines += ["## Findings", "", *[f"- {f.splitlines()[0]}" for f in res["failures"]], ""]
    head = ("| day | runner | fault | exit | gate | cycle s | day s | " + " | ".join(STEPS)
            + " | remote obj | remote MB | cache MB | tags | PRs | comments | records | alive | repairs |")
    lines += ["## Per day", "", "Step times in seconds (`runner` holds get-data and repro on the local runner); "
              "`day s`: the cycle plus the reviewer and the measurements.",
              "", head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        fault = r["fault"] + (f" ({r['kill']})" if r["kill"] else "")
        steps = " | ".join(f"{r['steps'][s]:.2f}" if s in r["steps"] else "" for s in STEPS)
        lines.append(f"| {r['day']} | {r.get('runner', 'local')} | {fault} "
                     f"| {r['exit']} | {r['outcome'] or '-'} | {r['cycle_s']:.2f} | {r.get('day_s', 0):.2f} "
                     f"| {steps} | "
                     f"{r['remote_objects']} | {r['remote_bytes'] / 1e6:.2f} | {r['cache_bytes'] / 1e6:.2f} | "
                     f"{r['tags']} | {r['prs']} | {r['comments']} | {r['records']} | {r['alive']} | {r['repairs']} |")
    return "\n".join(lines) + "\n"


def chart(rows: list[dict], path: Path) -> None:
    os.environ.setdefault("MPLBACKEND", "Agg")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    days = [r["day"] for r in rows]
    fig, axes = plt.subplots(2, 2, figsize=(13, 8), constrained_layout=True)
    ax = axes[0][0]
    ax.plot(days, [r["cycle_s"] for r in rows], "k-", label="cycle")
    for s in STEPS:
        ax.plot(days, [r["steps"].get(s, float("nan")) for r in rows], label=s, linewidth=0.8)
    for r in rows:
        if r["fault"]:
            ax.axvline(r["day"], color="red", alpha=0.25)
    ax.set_title("wall time per step (s); red: a fault that day")
    ax.legend(fontsize=7, ncol=2)
    ax = axes[0][1]
    ax.plot(days, [r["remote_bytes"] / 1e6 for r in rows], label="remote MB")
    ax.plot(days, [r["cache_bytes"] / 1e6 for r in rows], label="cache MB")
    ax.set_title("storage (MB)")
    ax.legend(fontsize=7)
    ax = axes[1][0]
    for key in ("remote_objects", "tags", "prs", "comments", "records"):
        ax.plot(days, [r[key] for r in rows], label=key)
    ax.set_title("counts")
    ax.legend(fontsize=7)
    ax = axes[1][1]
    ax.step(days, [r["alive"] for r in rows], where="mid", label="runner jobs alive after the cycle")
    ax.step(days, [r["repairs"] for r in rows], where="mid", label="repairs made")
    outcomes = sorted({r["outcome"] or f"failed ({r['exit']})" for r in rows})
    ax2 = ax.twinx()
    ax2.scatter(days, [outcomes.index(r["outcome"] or f"failed ({r['exit']})") for r in rows], s=8, c="grey")
    ax2.set_yticks(range(len(outcomes)), outcomes, fontsize=7)
    ax.set_title("alive, repairs; gate decision (dots)")
    ax.legend(fontsize=7, loc="upper left")
    for a in axes.flat:
        a.set_xlabel("day")
    tmp = path.with_name(path.name + ".tmp.png")
    fig.savefig(tmp, dpi=90)
    plt.close(fig)
    os.replace(tmp, path)
