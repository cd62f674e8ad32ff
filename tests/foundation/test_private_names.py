"""No tide module uses another module's private name (scripts/check_private.py, which ``make lint`` runs):
a name shared between modules is public in its owner, so the owner knows others depend on it."""

from __future__ import annotations

import os
import runpy
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "scripts", "check_private.py")
CHECK = runpy.run_path(SCRIPT)


def test_no_module_uses_another_modules_private_names():
    p = subprocess.run([sys.executable, SCRIPT], capture_output=True, text=True)
    assert p.returncode == 0 and p.stderr == "", p.stderr


def test_check_private_flags_imports_and_module_attributes_but_not_aliases():
    is_module = {"tide.core.settings", "tide.pipeline.metrics"}.__contains__
    source = ("from tide.ops.push import _raise\n"
              "from tide.core import settings as S\n"
              "import tide.pipeline.metrics as m\n"
              "from tide.storage.errors import translate as _translate\n"
              "from . import _local\n"
              "S._typed(1)\nm._flat(2)\nS.typed(3)\nx = _translate\n")
    found = CHECK["violations_in"](source, "m.py", is_module)
    assert [f.split(": ", 1)[1] for f in found] == [
        "from tide.ops.push import _raise", "tide.core.settings._typed", "tide.pipeline.metrics._flat"], found
