"""``tide root``: the repository's root, relative to the current directory (as ``dvc root`` prints it)."""


def register(p):
    pass


def run(args):
    import os

    from tide.cli.output import repo

    print(os.path.relpath(repo().root))
    return 0
