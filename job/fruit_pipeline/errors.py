"""Exceptions the CLI turns into a one-line message and an exit code."""


class PipelineError(Exception):
    """A failure the user can act on; the message is one line, shown without a traceback."""

    exit_code = 1


class UsageError(PipelineError):
    """Bad command line or configuration (exit 2)."""

    exit_code = 2
