"""Text of the retrain readiness check (``tide retrain --check``, ``tide doctor``, the refusals of
``tide retrain`` and ``tide ci init``): every finding with the line that fixes it."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from tide.ops.readiness import Readiness


def lines(r: Readiness, what: str = "tide retrain") -> list[str]:
    facts = dict(r.facts)
    if r.ready:
        found = ", ".join(f"{k} {v}" for k, v in r.facts if k != "root")
        return [f"Ready: {what} can run in {facts.get('root', '.')}" + (f" ({found})" if found else "") + "."]
    n = len(r.findings)
    out = [f"Not ready for {what}: {n} thing{'s' if n != 1 else ''} to fix (apply the lines in this order):"]
    for i, f in enumerate(r.findings, 1):
        out.append(f"  {i}. {f.key}: {f.problem}")
        out.append(f"       {f.fix}")
    merged = r.tide_yaml()
    if sum(1 for f in r.findings if f.set) > 1:
        from tide.ops.readiness import yaml_line

        out.append("  The tide.yaml lines above together:")
        out += [f"       {yaml_line({k: v})}" for k, v in merged.items()]
    return out


def text(r: Readiness, what: str = "tide retrain") -> str:
    return "\n".join(lines(r, what))
