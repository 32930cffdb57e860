"""The one error a host raises when it cannot start (a taken port, say): its message is
printed as one line and the process exits with status 2."""


class StartupError(RuntimeError):
    """The service could not start; the message says why."""
