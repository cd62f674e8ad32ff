"""Issue 27: divergence N55 that the differential tester found (seed 61601, sequence 142): a failed command takes
back the ``.gitignore`` entries it added, as dvc's ``scm_context`` does (``repro``, ``add``, ``move``, ``stage add
--run``, the imports; not ``commit``, which dvc does not run under it). dvc.lock, .dvc files and the workspace are
not reverted. tide kept ``/o1d`` after a ``repro`` whose second stage failed. The rule is
``tide.workspace.gitignore.IgnoreJournal``: ``gitignore.add`` writes only under an open journal (checked below)."""

from __future__ import annotations

import ast
import os
import subprocess

import pytest

from tests.foundation.conftest import ToolRepo

BLOCK_HELLO = "mkdir -p .dvc/cache/files/md5 && touch .dvc/cache/files/md5/b1"  # "hello\n" is b1946...: its object
# cannot be written (the prefix directory is a file), so storing it fails mid-command


def _gitignore(r: ToolRepo) -> bytes | None:
    try:
        with open(r.p(".gitignore"), "rb") as f:
            return f.read()
    except FileNotFoundError:
        return None


def _after(both, *steps, files=True) -> tuple:
    """Each tool's (exit status != 0 of the last step, .gitignore, files) after the shell/tool steps, the same
    in both (``files=False``: the files are not compared)."""
    seen = {}
    for r in both:
        rc = 0
        for step in steps:
            if isinstance(step, str):
                r.sh(step)
            else:
                rc = r.t(*step, check=False).returncode
        seen[r.name] = (rc != 0, _gitignore(r), r.ls() if files else None)
    assert seen["tide"] == seen["dvc"], seen
    return seen["tide"]


REPRO = """stages:
  s0:
    cmd: echo p > pre
    outs: [pre]
  s1:
    cmd: mkdir -p o1d && cp 'with space' o1d/f
    deps: ['with space']
    outs: [o1d]
  s3:
    cmd: cat o2 > o3
    deps: [o2]
    outs: [o3]
"""


def test_issue27_n55_failed_repro_takes_back_the_entries_it_added_only(both):
    failed, gi, files = _after(
        both, "printf 'no newline' > 'with space'; echo x > x", ("add", "-q", "x"),
        "printf '/pre\\n' >> .gitignore", f"cat > dvc.yaml <<'EOF'\n{REPRO}EOF", ("repro",))
    # s0 and s1 ran (their outputs and lock entries stay), s3 failed: /o1d is taken back, /x and /pre
    # were there before
    assert failed and gi == b"/x\n/pre\n" and {"o1d", "pre", "dvc.lock"} <= set(files)
    # -k goes on after the failure and fails at the end: every entry of the run is taken back too
    failed, gi, _ = _after(both, "rm -rf o1d pre dvc.lock .gitignore", ("repro", "-k"))
    assert failed and gi is None


def test_issue27_n55_failed_add_of_two_targets_leaves_no_entry(both):
    failed, gi, files = _after(both, f"echo other > a; echo hello > b; {BLOCK_HELLO}", ("add", "a", "b"))
    assert failed and gi is None and files == ["a", "a.dvc", "b"]


def test_issue27_n55_failed_commit_keeps_its_entries_as_dvc(both):
    yaml = "stages:\n  s1:\n    cmd: echo other > o1\n    outs: [o1]\n  s2:\n    cmd: echo hello > o2\n    outs: [o2]\n"
    failed, gi, _ = _after(both, f"cat > dvc.yaml <<'EOF'\n{yaml}EOF\necho other > o1; echo hello > o2; {BLOCK_HELLO}",
                           ("commit", "-f"), files=False)
    # dvc's commit is not under scm_context. (Not compared: dvc writes dvc.lock once all of its stages are
    # committed, none here; tide writes s1's entry before s2 fails.)
    assert failed and gi == b"/o1\n/o2\n"


def test_issue27_n55_failed_move_and_stage_add_run(both):
    # move: the old entry is removed, the new one written then taken back; the old .dvc file stays (dvc's order)
    failed, gi, files = _after(both, "echo hello > f", ("add", "-q", "--no-commit", "f"),
                               f"rm -rf .dvc/cache; {BLOCK_HELLO}", ("move", "f", "g"))
    assert failed and gi is None and files == ["f.dvc", "g"]
    # stage add --run: the entry the add wrote goes when the run fails; the stage stays in dvc.yaml
    failed, gi, files = _after(both, "rm -rf .dvc/cache f.dvc g",
                               ("stage", "add", "-n", "s", "-o", "out", "--run", "false"))
    assert failed and gi is None and files == ["dvc.yaml"]


# -- the journal itself (no dvc) --------------------------------------------------------------------------------

@pytest.fixture
def journal_repo(tmp_path):
    from tide.core.git import Git
    from tide.workspace.gitignore import IgnoreJournal

    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    return IgnoreJournal(str(tmp_path)), Git(str(tmp_path)), tmp_path


def test_issue27_n55_journal_nests_and_keeps_what_was_there(journal_repo):
    from tide.workspace import gitignore

    j, git, root = journal_repo
    gi = root / ".gitignore"
    gi.write_text("# mine\n/old")  # no final newline: made "\n" on the way, as dvc's append does
    p = [str(root / n) for n in ("old", "a", "b", "c")]
    with pytest.raises(RuntimeError, match="outside a command's journal"):
        gitignore.add(j, [p[1]], git)
    assert gi.read_text() == "# mine\n/old"
    with pytest.raises(ValueError), j.command():
        gitignore.add(j, [p[0], p[1]], git)  # /old is there: not recorded
        with j.command():  # an inner scope that succeeds: its entry goes with the outer failure
            gitignore.add(j, [p[2]], git)
        with pytest.raises(OSError), j.command():  # one that fails takes back its own only
            gitignore.add(j, [p[3]], git)
            assert gi.read_text().endswith("/c\n")
            raise OSError
        assert gi.read_text() == "# mine\n/old\n/a\n/b\n"
        raise ValueError
    assert gi.read_text() == "# mine\n/old\n"
    with pytest.raises(KeyboardInterrupt), j.command():  # Ctrl-C/SIGTERM take nothing back (as dvc)
        gitignore.add(j, [p[1]], git)
        raise KeyboardInterrupt
    with pytest.raises(ValueError), j.command(take_back=False):  # commit's policy
        gitignore.add(j, [p[2]], git)
        raise ValueError
    assert gi.read_text() == "# mine\n/old\n/a\n/b\n"
    os.unlink(gi)
    with pytest.raises(ValueError), j.command():  # a .gitignore the command created goes with its last entry
        gitignore.add(j, [p[3]], git)
        raise ValueError
    assert not gi.exists()


def _journal_scopes(tree: ast.AST) -> tuple[set[int], dict[str, ast.AST]]:
    """(ids of the nodes inside ``with ....ignore_journal.command(...)``, the module's functions by name)."""
    inside: set[int] = set()
    funcs: dict[str, ast.AST] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            funcs[node.name] = node
        if isinstance(node, ast.With) and any("ignore_journal.command" in ast.unparse(i.context_expr)
                                              for i in node.items):
            inside |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    return inside, funcs


WRITERS = {"add", "commit", "move", "registry_import", "registry_import_url", "repro", "stage"}


def test_issue27_n55_every_op_writing_gitignore_entries_runs_under_the_journal():
    """Each call of ``gitignore.add`` lies inside ``with repo.ignore_journal.command()``, or in a function of
    its module called only from inside one. A new op that writes entries must be added to ``WRITERS`` (and
    get a failure test above): gitignore.add refuses to write outside a journal at run time too."""
    import tide

    src = os.path.dirname(tide.__file__)
    writers = set()
    for d, _, files in os.walk(src):
        for f in files:
            if not f.endswith(".py") or f == "gitignore.py":
                continue
            with open(os.path.join(d, f), encoding="utf-8") as fh:
                tree = ast.parse(fh.read())
            calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and ast.unparse(n.func) == "gitignore.add"]
            if not calls:
                continue
            writers.add(f[:-3])
            inside, funcs = _journal_scopes(tree)
            for call in calls:
                owner = next(fn for fn in funcs.values() if any(n is call for n in ast.walk(fn)))
                if id(call) in inside:
                    continue
                uses = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and ast.unparse(n.func) == owner.name]
                assert uses and all(id(u) in inside for u in uses), f"{f}: gitignore.add outside the journal"
    assert writers == WRITERS
