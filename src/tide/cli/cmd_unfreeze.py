"""``tide unfreeze TARGET...``: the opposite of ``tide freeze``."""

from tide.cli import cmd_freeze


def register(p):
    cmd_freeze.register(p)


def run(args):
    return cmd_freeze.run(args, frozen=False)
