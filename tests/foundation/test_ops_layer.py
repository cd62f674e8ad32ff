"""Issue 21 item 3: operations are callable without a terminal (the rule of scripts/check_ops.py,
which ``make lint`` runs)."""

from __future__ import annotations

import os
import runpy

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHECK = runpy.run_path(os.path.join(ROOT, "scripts", "check_ops.py"))


def test_issue21_ops_never_parse_print_or_prompt():
    assert CHECK["check"](ROOT) == []


@pytest.mark.parametrize("source, what", [
    ("import argparse\n", "imports argparse"),
    ("from argparse import Namespace\n", "imports from argparse"),
    ("from rich.console import Console\n", "imports from rich.console"),
    ("def f():\n    import getpass\n", "imports getpass"),
    ("print('x')\n", "uses print()"),
    ("def f(say=print):\n    pass\n", "uses print()"),
    ("x = input('? ')\n", "uses input()"),
    ("import sys\nsys.stdout.write('x')\n", "uses sys.stdout"),
    ("import sys\nsys.stderr.write('x')\n", "uses sys.stderr"),
    ("import sys\nok = sys.stdin.isatty()\n", "uses sys.stdin"),
    ("from sys import stdout\n", "imports sys.stdout"),
])
def test_issue21_check_ops_flags_each_use_of_the_terminal(source, what):
    found = CHECK["violations_in"](source, "m.py")
    assert len(found) == 1 and found[0].endswith(what), found


def test_issue21_check_ops_leaves_typed_operations_alone():
    source = ("import sys\nfrom collections.abc import Callable\n\n"
              "def op(say: Callable[[str], None] = lambda line: None) -> list[str]:\n"
              "    say('working')\n    return [sys.executable]\n")
    assert CHECK["violations_in"](source, "m.py") == []


def test_issue21_check_ops_reports_a_stale_allowance(tmp_path, monkeypatch):
    ops = tmp_path / "src" / "tide" / "ops"
    ops.mkdir(parents=True)
    (ops / "clean.py").write_text("def op() -> int:\n    return 1\n")
    (ops / "loud.py").write_text("print('x')\n")
    monkeypatch.setitem(CHECK["ALLOWED"], "src/tide/ops/clean.py", "test")
    problems = CHECK["check"](str(tmp_path))
    assert any(p.startswith("src/tide/ops/loud.py:1:") for p in problems), problems
    assert any("clean.py: listed in ALLOWED" in p for p in problems), problems
