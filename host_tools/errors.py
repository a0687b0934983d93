"""Error types shared by every command.

The CLI maps them to exit codes: BadInput -> 2 (bad usage or bad input, one-line reason on stderr),
HushmicError -> 1 (any other failure). Never let a traceback reach the user for these.
"""


class HushmicError(Exception):
    """A failure that is not the user's input: exit 1."""

    exit_code = 1


class BadInput(HushmicError):
    """Bad usage, a bad file, a bad config value: exit 2."""

    exit_code = 2
