"""The promotion gate: is the candidate measurably better than the model in production?

Rules come from ``tide.yaml`` (:class:`tide.core.settings.GateSettings`): a primary metric with
its direction and minimum improvement, guard metrics that may not get worse by more than a stated
amount, and, when both models' per-example predictions on the same rows are available, a paired
bootstrap confidence interval of the candidate-minus-production improvement. With predictions the
candidate passes only when the whole interval lies above the minimum improvement; without them,
the point difference of the metrics files must.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import itemgetter

from tide.core.settings import GateSettings, MetricRule

Row = tuple[str, str]  # (label, prediction)


def _binary_counts(rows: Sequence[Row], positive: str) -> tuple[int, int, int]:
    tp = sum(1 for y, p in rows if y == positive and p == positive)
    fp = sum(1 for y, p in rows if y != positive and p == positive)
    fn = sum(1 for y, p in rows if y == positive and p != positive)
    return tp, fp, fn


def _precision(rows: Sequence[Row], pos: str) -> float:
    tp, fp, _ = _binary_counts(rows, pos)
    return tp / (tp + fp) if tp + fp else 0.0


def _recall(rows: Sequence[Row], pos: str) -> float:
    tp, _, fn = _binary_counts(rows, pos)
    return tp / (tp + fn) if tp + fn else 0.0


def _f1(rows: Sequence[Row], pos: str) -> float:
    tp, fp, fn = _binary_counts(rows, pos)
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


METRICS: dict[str, Callable[[Sequence[Row], str], float]] = {
    "accuracy": lambda rows, pos: sum(1 for y, p in rows if y == p) / len(rows),
    "error": lambda rows, pos: sum(1 for y, p in rows if y != p) / len(rows),
    "precision": _precision,
    "recall": _recall,
    "f1": _f1,
}


@dataclass(frozen=True)
class Interval:
    low: float
    high: float
    confidence: float
    samples: int
    rows: int


@dataclass(frozen=True)
class RuleResult:
    metric: str
    role: str                      # primary | guard
    candidate: float | None
    production: float | None
    improvement: float | None      # in the rule's direction: > 0 is better
    interval: Interval | None
    passed: bool
    reason: str


@dataclass(frozen=True)
class Decision:
    promote: bool
    reasons: tuple[str, ...]
    results: tuple[RuleResult, ...]
    compared_with: str | None      # production version, None when the stage was empty


def improvement(rule: MetricRule, cand: float, prod: float) -> float:
    return cand - prod if rule.direction == "higher" else prod - cand


def paired_bootstrap(metric: str, cand: Sequence[Row], prod: Sequence[Row], rule: MetricRule,
                     samples: int, confidence: float, seed: int, positive: str = "1") -> Interval:
    """Percentile interval of improvement(metric(cand[idx]) - metric(prod[idx])) over resampled rows;
    ``cand[i]`` and ``prod[i]`` are the two models' predictions on the same example."""
    fn = METRICS[metric]
    n = len(cand)
    rng = random.Random(seed)
    # the indices rng.randrange(n) would draw, without its per-call checks (3x faster, same numbers:
    # tests/retrain/test_gate.py compares with randrange)
    bits, getrandbits = n.bit_length(), rng.getrandbits
    diffs = []
    for _ in range(samples):
        idx = []
        for _ in range(n):
            r = getrandbits(bits)
            while r >= n:
                r = getrandbits(bits)
            idx.append(r)
        pick = itemgetter(*idx)
        c, p = (pick(cand), pick(prod)) if n > 1 else ([cand[idx[0]]], [prod[idx[0]]])
        diffs.append(improvement(rule, fn(c, positive), fn(p, positive)))
    diffs.sort()
    alpha = (1 - confidence) / 2
    lo = diffs[max(0, int(alpha * samples))]
    hi = diffs[min(samples - 1, int((1 - alpha) * samples) - 1)]
    return Interval(round(lo, 6), round(hi, 6), confidence, samples, n)


def pair_rows(cand: dict[str, Row], prod: dict[str, Row]) -> tuple[list[Row], list[Row]] | None:
    """The two prediction sets on the same rows with the same labels, or None if they differ."""
    if set(cand) != set(prod) or not cand:
        return None
    keys = sorted(cand)
    if any(cand[k][0] != prod[k][0] for k in keys):
        return None
    return [cand[k] for k in keys], [prod[k] for k in keys]


def evaluate(cfg: GateSettings, cand_metrics: dict, prod_metrics: dict | None,
             cand_preds: dict[str, Row] | None = None, prod_preds: dict[str, Row] | None = None,
             production: str | None = None) -> Decision:
    if cfg.primary is None:
        return Decision(False, ("no primary metric configured in tide.yaml (gate.primary)",), (), production)
    if prod_metrics is None:
        val = _num(cand_metrics.get(cfg.primary.metric))
        res = RuleResult(cfg.primary.metric, "primary", val, None, None, None, True, "no model in this stage yet")
        return Decision(True, ("no model in production yet: the first candidate is promoted",), (res,), None)
    paired = pair_rows(cand_preds, prod_preds) if cand_preds is not None and prod_preds is not None else None
    results = [_primary(cfg, cand_metrics, prod_metrics, paired)]
    results += [_guard(g, cand_metrics, prod_metrics) for g in cfg.guards]
    reasons = tuple(r.reason for r in results if not r.passed) or (results[0].reason,)
    if cand_preds is not None and prod_preds is not None and paired is None:
        reasons += ("predictions are not on the same evaluation rows: no paired interval",)
    return Decision(all(r.passed for r in results), reasons, tuple(results), production)


def _num(v) -> float | None:
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


def _primary(cfg: GateSettings, cm: dict, pm: dict, paired) -> RuleResult:
    rule = cfg.primary
    c, p = _num(cm.get(rule.metric)), _num(pm.get(rule.metric))
    if c is None or p is None:
        return RuleResult(rule.metric, "primary", c, p, None, None, False,
                          f"primary metric '{rule.metric}' is missing from the "
                          f"{'candidate' if c is None else 'production'} metrics")
    imp = round(improvement(rule, c, p), 6)
    interval = None
    if paired is not None and rule.metric in METRICS:
        interval = paired_bootstrap(rule.metric, paired[0], paired[1], rule, cfg.samples, cfg.confidence, cfg.seed)
        ok = interval.low > rule.min_improvement
        pct = f"{cfg.confidence:.0%}"
        reason = (f"{rule.metric}: improvement {imp:+.4f}, {pct} interval [{interval.low:+.4f}, {interval.high:+.4f}]"
                  f" {'clears' if ok else 'does not clear'} the minimum {rule.min_improvement:+.4f}")
    else:
        ok = imp > rule.min_improvement
        reason = (f"{rule.metric}: {c:.4f} vs {p:.4f} in production, improvement {imp:+.4f} "
                  f"{'exceeds' if ok else 'does not exceed'} the minimum {rule.min_improvement:+.4f}")
    return RuleResult(rule.metric, "primary", c, p, imp, interval, ok, reason)


def _guard(rule: MetricRule, cm: dict, pm: dict) -> RuleResult:
    c, p = _num(cm.get(rule.metric)), _num(pm.get(rule.metric))
    if c is None or p is None:
        return RuleResult(rule.metric, "guard", c, p, None, None, False, f"guard metric '{rule.metric}' is missing")
    imp = round(improvement(rule, c, p), 6)
    ok = -imp <= rule.max_worsening + 1e-12
    reason = (f"guard {rule.metric}: {c:.4f} vs {p:.4f}, "
              f"{'within' if ok else 'worse than'} the allowed worsening {rule.max_worsening:.4f}")
    return RuleResult(rule.metric, "guard", c, p, imp, None, ok, reason)
