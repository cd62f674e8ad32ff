"""WARNING and ERROR lines go to stderr, as dvc's logger writes them: stdout stays the command's result
(what a script or `--json` reader parses). A lint over the source, and the case that broke it: `repro`
of a frozen stage printed dvc's warning on stdout."""

from __future__ import annotations

import ast
import pathlib

import tide

SRC = pathlib.Path(tide.__file__).parent
# `say` of a queued experiment writes that experiment's log (`tide exp logs`), not a terminal
SAY_IS_A_LOG = {"ops/exp_queue.py"}


def _leading_text(node: ast.AST) -> str:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
        return str(node.values[0].value)
    return ""


def _offences(tree: ast.AST, rel: str) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and node.args and isinstance(node.func, ast.Name)):
            continue
        if not _leading_text(node.args[0]).startswith(("WARNING", "ERROR")):
            continue
        name = node.func.id
        if name == "print" and not any(k.arg == "file" for k in node.keywords):
            found.append(f"{rel}:{node.lineno}: print() of a WARNING/ERROR line without file=sys.stderr")
        elif name == "say" and rel not in SAY_IS_A_LOG:
            found.append(f"{rel}:{node.lineno}: say() of a WARNING/ERROR line (use the warn callback)")
    return found


def test_warning_and_error_lines_are_never_written_to_stdout():
    offences = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        offences += _offences(ast.parse(path.read_text(), str(path)), rel)
    assert offences == []


def test_the_lint_sees_both_shapes():
    bad = ast.parse('print(f"WARNING: {x}")\nsay("ERROR: y")\nprint("WARNING: z", file=sys.stderr)\nsay("fine")\n')
    assert len(_offences(bad, "ops/x.py")) == 2
    assert len(_offences(bad, "ops/exp_queue.py")) == 1


def test_frozen_stage_warning_of_repro_is_on_stderr(repo_dir, tide):
    (repo_dir / "s").write_text("a\n")
    (repo_dir / "dvc.yaml").write_text("stages:\n  s:\n    cmd: cp s o\n    deps: [s]\n    outs: [o]\n"
                                       "    frozen: true\n")
    r = tide("repro", cwd=repo_dir, check=False)
    assert r.returncode != 0  # a frozen stage whose output is missing fails, as dvc's
    assert "is frozen" in r.stderr and "is frozen" not in r.stdout
    assert "Verifying outputs in frozen stage: 's'" in r.stdout
