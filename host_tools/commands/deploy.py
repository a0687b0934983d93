"""`hushmic deploy`: put the firmware (as .mpy for the board's architecture) and a board profile on a board."""
import contextlib
import sys
import tempfile
import wave
from pathlib import Path

from ..cli import emit_json, say
from ..errors import BadInput

NAME = "deploy"
ORDER = 60
HELP = "deploy the firmware and a board profile to a board (mpremote, .mpy, verified by hash, idempotent)"
DESCRIPTION = """Deploy the hushmic app to a board that already runs MicroPython (`hushmic flash` installs MicroPython).

  hushmic deploy --port /dev/ttyACM0 [--profile devkitc1_ics43434]
  hushmic deploy --port /dev/ttyACM0 --dry-run        # the plan: files, sizes, SHA-256, arch; touches nothing
  hushmic deploy --sim                                  # a throwaway simulated board, end to end

If the app is running it is asked to leave to the REPL first (it ignores Ctrl-C). The board itself says which
architecture its .mpy files need (ESP32-S3: xtensawin; the simulated board: the host's). Every file is checked by
SHA-256 computed on the board; unchanged files are not copied, so a second deploy copies nothing. Stale app files
are removed, the modules are imported on the board to prove they load from .mpy, and the board is reset and must
answer a hello. Without --profile the board keeps its current profile (or gets devkitc1_inmp441)."""


def add_arguments(p):
    where = p.add_mutually_exclusive_group()
    where.add_argument("--port", metavar="PORT", help="the board's serial port (the DevKitC-1's native USB port)")
    where.add_argument("--sim", action="store_true", help="deploy to a fresh simulated board (a self-test)")
    p.add_argument("--profile", metavar="NAME|FILE",
                   help="board profile: a name in boards/esp32_s3/ or a .json path (default: keep the board's)")
    p.add_argument("--arch", choices=("auto", "host", "xtensawin"), default="auto",
                   help="mpy-cross target: auto asks the board (default)")
    p.add_argument("--dry-run", action="store_true",
                   help="print the plan and change nothing (no file written, no reset; the app is not stopped)")
    p.add_argument("--json", action="store_true", help="print the result as one JSON object on stdout")


def _silent_wav(path, seconds=1.0):
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(b"\x00\x00" * int(16000 * seconds))


def _print_plan(res):
    say(f"arch: {res.arch} ({res.arch_source})")
    say(f"profile: {res.profile} ({res.profile_source})")
    for f in res.files:
        say(f"  {f.action:5s} {f.name:22s} {f.size:7d} B  sha256 {f.sha256[:16]}")
    for n in res.removed:
        say(f"  remove {n}")


def run(args):
    from .. import deploy as dep

    if not args.port and not args.sim:
        raise BadInput("give the board's port with --port PORT (e.g. /dev/ttyACM0; `hushmic devices` lists them), "
                       "or --sim for a simulated board")
    if args.profile is not None:  # validate before touching any board
        dep.check_profile(dep.profile_path(args.profile).read_bytes(), args.profile)
    sim = None
    try:
        if args.sim:
            from ..sim.launcher import SimBoard

            tmp = Path(tempfile.mkdtemp(prefix="hushmic-deploy-sim-"))
            _silent_wav(tmp / "silence.wav")
            sim = SimBoard(tmp / "silence.wav", fast=True, workdir=tmp / "board")
            port = sim.start()
            say(f"simulated board on {port}")
        else:
            port = args.port
        with contextlib.redirect_stdout(sys.stderr):  # stdout carries only the JSON (mpremote may print)
            res = dep.deploy(port, profile=args.profile, arch=args.arch, dry_run=args.dry_run,
                             throwaway=bool(args.sim), say=say)
    finally:
        if sim is not None:
            sim.stop()
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)
    if args.dry_run:
        say("dry run: nothing was changed")
        _print_plan(res)
    else:
        say(f"deployed to {res.port}: {res.copied} copied, {res.skipped} unchanged, {len(res.removed)} removed, "
            f"arch {res.arch}, {res.timings.get('total_s')} s")
    if args.json:
        emit_json(res.as_dict())
    return 0
