"""cli/signals.sigterm_interrupts: the first interrupt of either kind unwinds as KeyboardInterrupt, and a
SIGTERM after it is ignored so it cannot cut the teardown short (the ``exp run --run-all`` Ctrl-C race: the
command SIGTERMs its workers right after the Ctrl-C that reached them too)."""

from __future__ import annotations

import subprocess
import sys

import pytest

SCRIPT = """
import os, signal, sys, time
from tide.cli.signals import sigterm_interrupts
signal.signal(signal.SIGINT, signal.default_int_handler)  # a terminal's process (a background launcher ignores it)
sigterm_interrupts()
try:
    os.kill(os.getpid(), getattr(signal, sys.argv[1]))
    time.sleep(5)
    print("not interrupted")
except KeyboardInterrupt:
    os.kill(os.getpid(), signal.SIGTERM)  # the second signal arrives during the teardown
    time.sleep(0.2)
    print("teardown done")
"""


@pytest.mark.parametrize("first", ["SIGINT", "SIGTERM"])
def test_a_sigterm_after_the_first_interrupt_does_not_cut_the_teardown_short(first):
    p = subprocess.run([sys.executable, "-c", SCRIPT, first], capture_output=True, text=True, timeout=30)
    assert p.stdout.strip() == "teardown done", (p.stdout, p.stderr)
