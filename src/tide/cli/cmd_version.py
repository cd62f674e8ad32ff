def register(p):
    pass


def run(args):
    import platform
    import sys

    from tide import __version__

    print(f"tide {__version__}\nPython {sys.version.split()[0]} on {platform.platform()}")
    return 0
