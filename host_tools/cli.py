"""The `hushmic` command line.

Every sub-command is a module in `hushmic.commands` that defines
    NAME = "vad"                       # the sub-command's name
    HELP = "one line for the command list"
    def add_arguments(parser): ...     # argparse arguments
    def run(args) -> int: ...          # exit code
Modules are discovered, so adding a command touches no shared file.

Conventions (docs/cli.md): machine output is JSON on stdout and nothing else goes there; human messages go to stderr.
Exit 0 success, 2 bad usage or bad input (one-line reason on stderr), 1 any other failure.
"""
import argparse
import importlib
import json
import pkgutil
import sys

from . import __version__, commands
from .errors import HushmicError


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse's own usage errors: exit 2 with one line
        self.print_usage(sys.stderr)
        self.exit(2, f"hushmic: error: {message}\n")


def _finite(obj):
    if isinstance(obj, float) and (obj != obj or obj in (float("inf"), float("-inf"))):
        return None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


def emit_json(obj):
    """Write one JSON object as one line on stdout and flush (used for --json outputs and event streams).

    Always strict JSON: a NaN or infinite number (which Python would print as NaN / Infinity) becomes null."""
    try:
        text = json.dumps(obj, separators=(", ", ": "), allow_nan=False)
    except ValueError:
        text = json.dumps(_finite(obj), separators=(", ", ": "), allow_nan=False)
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def say(msg):
    """A human message: stderr, never stdout."""
    print(msg, file=sys.stderr, flush=True)


def table_hint():
    """After a table on stderr: if stdout is redirected (`hushmic sessions > f`), say where the data is."""
    if not sys.stdout.isatty():
        say("(tables are for people and go to stderr; add --json to get this list on stdout)")


def _command_modules():
    mods = []
    for info in pkgutil.iter_modules(commands.__path__):
        if info.name.startswith("_"):
            continue
        mod = importlib.import_module(f"{commands.__name__}.{info.name}")
        if hasattr(mod, "NAME") and hasattr(mod, "run"):
            mods.append(mod)
    return sorted(mods, key=lambda m: getattr(m, "ORDER", 50))


def build_parser():
    p = _Parser(
        prog="hushmic",
        description="hushmic: a private microphone. The board streams only speech; this computer transcribes it "
        "offline and redacts personal data from text and audio. Nothing uses the network.",
        epilog="Run `hushmic demo` for a tour on the simulated board. `hushmic COMMAND --help` explains each command.",
    )
    p.add_argument("--version", action="version", version=f"hushmic {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for mod in _command_modules():
        sp = sub.add_parser(mod.NAME, help=mod.HELP, description=getattr(mod, "DESCRIPTION", mod.HELP),
                            formatter_class=argparse.RawDescriptionHelpFormatter)
        mod.add_arguments(sp)
        sp.set_defaults(_run=mod.run)
    return p


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args._run(args) or 0)
    except HushmicError as e:
        say(f"hushmic {args.command}: {e}")
        return e.exit_code
    except KeyboardInterrupt:
        say("interrupted")
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
