"""Promotion records: the gate's decision and its evidence, as JSON files and as markdown.

A record holds the model, data and evaluation-set hashes, the metrics with their intervals, the
code commit, the time, whether ``--force`` overrode the gate, and the deploy result. Records are
written to ``<gate.records>/<artifact>/<version>.json`` (atomically); the assignment tag of a
promoted version carries the same JSON below GTO's one-line message.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field

from tide.core.fsutil import atomic_write_text
from tide.core.paths import config_path
from tide.core.redact import redact
from tide.registry.gate import Decision


@dataclass(frozen=True)
class DeployResult:
    kind: str            # command | copy | none
    ok: bool
    detail: str


@dataclass(frozen=True)
class PromotionRecord:
    artifact: str
    version: str
    stage: str
    outcome: str                     # promoted | rejected | forced | deploy-failed | dry-run
    forced: bool
    reasons: tuple[str, ...]
    production: str | None
    code_commit: str
    model_hash: str | None
    data_hash: str | None
    eval_hash: str | None
    time: str
    metrics: tuple[dict, ...] = ()
    deploy: DeployResult | None = None
    tag: str | None = None
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["reasons"] = list(self.reasons)
        d["metrics"] = list(self.metrics)
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False) + "\n"

    def markdown(self) -> str:
        from tide.core.markup import md_text as t  # names, reasons and deploy output are not tide's: escaped

        lines = [
            f"### Promotion gate: {t(self.outcome)} "
            f"({t(self.artifact)} {t(self.version)} → {t(self.stage)})",
            "",
            f"Compared with production: {t(self.production) if self.production else 'none (empty stage)'}",
            "",
        ]
        if self.metrics:
            lines += ["| metric | role | candidate | production | improvement | interval | passed |",
                      "|---|---|---|---|---|---|---|"]
            for m in self.metrics:
                iv = m.get("interval")
                ivs = "-"
                if iv:
                    ivs = f"[{iv['low']:+.4f}, {iv['high']:+.4f}] ({iv['confidence']:.0%}, {iv['rows']} rows)"
                lines.append(
                    f"| {t(m['metric'])} | {t(m['role'])} | {_f(m['candidate'])} | {_f(m['production'])} | "
                    f"{_f(m['improvement'], True)} | {t(ivs)} | {'yes' if m['passed'] else 'no'} |"
                )
            lines.append("")
        lines += [f"- {t(r)}" for r in self.reasons]
        if self.forced:
            lines.append("- the gate was overridden with --force")
        if self.deploy is not None:
            lines.append(f"- deploy ({t(self.deploy.kind)}): {'ok' if self.deploy.ok else 'FAILED'}: "
                         f"{t(self.deploy.detail)}")
        lines += ["", f"_Evidence: model {t((self.model_hash or '-')[:12])} · data {t((self.data_hash or '-')[:12])} · "
                      f"evaluation set {t((self.eval_hash or '-')[:12])} · code {t(self.code_commit[:8])} · "
                      f"{t(self.time)}_"]
        return "\n".join(lines) + "\n"


def _f(v, signed: bool = False) -> str:
    if v is None:
        return "-"
    return f"{v:+.4f}" if signed else f"{v:.4f}"


def metrics_of(decision: Decision) -> tuple[dict, ...]:
    out = []
    for r in decision.results:
        d = asdict(r)
        out.append(d)
    return tuple(out)


def record_path(root: str, records_dir: str, artifact: str, version: str) -> str:
    base = config_path(root, records_dir, "gate.records")  # never outside the repository
    return os.path.join(base, artifact.replace(":", "="), f"{version}.json")


def write(root: str, records_dir: str, rec: PromotionRecord) -> str:
    path = record_path(root, records_dir, rec.artifact, rec.version)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    atomic_write_text(path, redact(rec.to_json()))  # a record never holds a secret (core/redact.py)
    return path


def read(path: str) -> dict:
    with open(path, encoding="utf-8") as f:
        return json.load(f)
