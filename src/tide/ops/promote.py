"""``tide model promote``: run the promotion gate for a registered version, deploy, assign the stage.

Order: evaluate the gate (metrics and per-example predictions of both versions, read at their
commits), write the promotion record, deploy, and only when the deploy succeeded create the
stage-assignment tag. A failed deploy leaves the previous production assignment in place, and the
record says why. ``--force`` skips the gate's verdict (not the deploy) and says so in the record.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from tide.core import settings as S
from tide.core.errors import FileFormatError, MissingError, TideError, UsageError
from tide.pipeline.revfs import RevReader
from tide.registry import records
from tide.registry.gate import Decision, Row, evaluate
from tide.registry.records import PromotionRecord
from tide.registry.registry import Registry
from tide.workspace.repo import Repo

Say = Callable[[str], None]


@dataclass(frozen=True)
class PromoteRequest:
    name: str
    stage: str = "prod"
    version: str | None = None
    dry_run: bool = False
    force: bool = False
    links: tuple[tuple[str, str], ...] = ()  # kept in the record's ``extra`` (retrain: its PR's address)


@dataclass(frozen=True)
class Evidence:
    metrics: dict | None
    predictions: dict[str, Row] | None
    model_hash: str | None
    data_hash: str | None
    eval_hash: str | None


def parse_predictions(text: str, where: str) -> dict[str, Row]:
    """``row,label,prediction`` CSV (a header row naming those columns) -> {row: (label, prediction)}."""
    reader = csv.DictReader(io.StringIO(text))
    need = {"row", "label", "prediction"}
    if reader.fieldnames is None or not need <= set(reader.fieldnames):
        raise FileFormatError(f"{where}: predictions need the columns row,label,prediction")
    out: dict[str, Row] = {}
    for rec in reader:
        key = rec["row"].strip()
        if key in out:
            raise FileFormatError(f"{where}: row '{key}' appears twice")
        out[key] = (rec["label"].strip(), rec["prediction"].strip())
    return out


def eval_set_hash(preds: dict[str, Row]) -> str:
    h = hashlib.md5()
    for k in sorted(preds):
        h.update(f"{k},{preds[k][0]}\n".encode())
    return h.hexdigest()


def _out_hash(reader: RevReader, root: str, rel: str | None) -> str | None:
    if not rel:
        return None
    path = os.path.normpath(os.path.join(root, rel))
    for out in reader.outs():
        if out.abspath == path:
            return out.md5
    return None


def gather(repo: Repo, commit: str, gate: S.GateSettings, reg: S.RegistrySettings) -> Evidence:
    reader = RevReader(repo, commit)
    raw = reader.read_text(os.path.join(repo.root, gate.metrics))
    metrics = None
    if raw is not None:  # every format `tide metrics show` reads, by the same reader
        from tide.pipeline.metrics import metrics_mapping

        metrics = metrics_mapping(raw, gate.metrics, f"{commit[:7]}:{gate.metrics}")
    preds = None
    if gate.predictions:
        text = reader.read_text(os.path.join(repo.root, gate.predictions))
        if text is not None:
            preds = parse_predictions(text, f"{commit[:7]}:{gate.predictions}")
    return Evidence(metrics, preds, _out_hash(reader, repo.root, reg.path), _out_hash(reader, repo.root, reg.data),
                    eval_set_hash(preds) if preds else None)


def model_file(repo: Repo, commit: str, reg: S.RegistrySettings, md5: str | None) -> str:
    """A local path holding the model of ``commit``: the workspace file when it is that version,
    else the cache object."""
    if not reg.path:
        raise UsageError("tide.yaml: set registry.path (the model file) to deploy it")
    ws = os.path.join(repo.root, reg.path)
    if md5 and os.path.isfile(ws):
        res = repo.hasher.hash_path(ws)
        if res.md5 == md5:
            return ws
    if md5 and repo.cache.exists(md5):
        return repo.cache.path(md5)
    if md5 is None and os.path.isfile(ws):
        return ws
    raise MissingError(f"the model of {commit[:7]} ({reg.path}) is not in the cache; run 'tide pull' first")


def promote(repo: Repo, req: PromoteRequest, say: Say = lambda line: None) -> PromotionRecord:
    from tide.ops.deploy import deploy

    if repo.git is None:
        raise UsageError("the model registry needs git (this repository has no git)")
    st = S.load(repo.root)
    gate, reg_cfg, dep = S.gate_settings(st), S.registry_settings(st), S.deploy_settings(st)
    registry = Registry(repo.git)
    art = registry.artifact(req.name)
    version = req.version or art.latest
    if version is None or version not in art.versions or not art.versions[version].active:
        raise UsageError(f"'{req.name}' has no registered version {version or '(none)'} to promote")
    production = art.stage(req.stage)
    if production == version:
        raise UsageError(f"{req.name} {version} is in stage '{req.stage}' already")
    commit = art.versions[version].commit
    cand = gather(repo, commit, gate, reg_cfg)
    if cand.metrics is None:
        raise MissingError(f"no metrics file '{gate.metrics}' at {version} ({commit[:7]}); see gate.metrics")
    prod = gather(repo, art.versions[production].commit, gate, reg_cfg) if production else None
    decision = evaluate(gate, cand.metrics, prod.metrics if prod else None, cand.predictions,
                        prod.predictions if prod else None, production)
    if prod is not None and prod.metrics is None:
        decision = Decision(False, (f"production {production} has no metrics file '{gate.metrics}'",),
                            decision.results, production)
    outcome = "promoted" if decision.promote else ("forced" if req.force else "rejected")
    rec = PromotionRecord(
        artifact=req.name, version=version, stage=req.stage, outcome="dry-run" if req.dry_run else outcome,
        forced=req.force and not decision.promote, reasons=decision.reasons, production=production,
        code_commit=commit, model_hash=cand.model_hash, data_hash=cand.data_hash, eval_hash=cand.eval_hash,
        time=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), metrics=records.metrics_of(decision),
        extra={"would_promote": decision.promote} if req.dry_run else dict(req.links),
    )
    if req.dry_run:
        return rec
    if outcome == "rejected":
        records.write(repo.root, gate.records, rec)
        return rec
    if dep.configured:
        path = model_file(repo, commit, reg_cfg, cand.model_hash)
        say(f"deploying {req.name} {version} ...")
        result = deploy(repo.root, dep, path, req.name, version, req.stage, env=dict(repo.env.values),
                        file_name=os.path.basename(reg_cfg.path or path))
    else:
        result = records.DeployResult("none", True, "no deploy step configured (tide.yaml: deploy)")
    rec = replace(rec, deploy=result)
    if not result.ok:
        rec = replace(rec, outcome="deploy-failed",
                      reasons=rec.reasons + (f"deploy failed; {production or 'nothing'} stays in '{req.stage}'",))
        records.write(repo.root, gate.records, rec)
        return rec
    body = json.dumps(rec.to_dict(), sort_keys=False)
    message = f"Assigning stage {req.stage} to artifact {req.name} version {version}\n\ntide-promotion: {body}\n"
    try:
        created = registry.assign(req.name, version, req.stage, message=message)
    except TideError:
        records.write(repo.root, gate.records, replace(rec, outcome="assign-failed"))
        raise
    rec = replace(rec, tag=created.tag)
    records.write(repo.root, gate.records, rec)
    return rec
