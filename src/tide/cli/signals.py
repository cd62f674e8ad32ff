"""Signals for commands that own something to tear down (a runner, a machine, a copy)."""


def sigterm_interrupts() -> None:
    """SIGTERM (``queue kill``, ``queue stop --kill``, ``kill``, a service manager, a CI job's cancel) unwinds
    like Ctrl-C: the run is stopped and its runner torn down before the process ends. Once: a second SIGTERM
    is ignored, so it cannot cut the teardown short (SIGKILL still can; the queue's sweep and the machines'
    deadline tags cover that)."""
    import signal

    def interrupt(signum, frame):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
