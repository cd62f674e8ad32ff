"""Signals for commands that own something to tear down (a runner, a machine, a copy)."""


def sigterm_interrupts() -> None:
    """SIGTERM (``queue kill``, ``queue stop --kill``, ``kill``, a service manager, a CI job's cancel) unwinds
    like Ctrl-C: the run is stopped and its runner torn down before the process ends. After the first
    interrupt of either kind (Ctrl-C or SIGTERM) a SIGTERM is ignored, so it cannot cut the teardown short:
    ``exp run --run-all`` sends its workers SIGTERM right after the Ctrl-C that reached them too, and under
    load that SIGTERM landed inside the worker's teardown and left the runner's job running. A second Ctrl-C
    still interrupts (the user's choice); SIGKILL always can (the queue's sweep and the machines' deadline
    tags cover that)."""
    import signal

    def interrupt(signum, frame):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if signum == signal.SIGINT:
            signal.signal(signal.SIGINT, signal.default_int_handler)
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # not when Ctrl-C is ignored (nohup &)
        signal.signal(signal.SIGINT, interrupt)
