"""`hushmic doctor`: bring-up check of one board (the logic is in hushmic.doctor)."""
import math
import sys
import tempfile
from pathlib import Path

from ..cli import emit_json, say
from ..errors import BadInput

NAME = "doctor"
ORDER = 7
HELP = "check a board end to end: port, hello, VAD kernel, heap, link, mic, mute switch, LED"
DESCRIPTION = """Check a new board, one step at a time, and say exactly what to fix.

  hushmic doctor --port /dev/ttyACM0          with the board on your desk: it asks you to count aloud, to flip the
                                              mute switch and whether the LED shows the right colour
  hushmic doctor --port /dev/ttyACM0 --yes    no questions (the mute and LED checks are then not done)
  hushmic doctor --sim [FILE.wav] --json      on the simulated board (it flips its own switch)

Checks: port, hello (firmware, protocol, MicroPython/.mpy, platform, profile, mic), vad_kernel, fault, ping,
stream (bytes/s, frames/s, sequence gaps, CRC errors, the board's drops/overruns/tx_dropped/slow_writes), heap, mic
(not zero, peak dBFS), mute (the switch, no audio after it, mic_silent), led. Each prints ok / warn / FAIL and, when
not ok, the fix. Exit 0 without a FAIL, 1 with one. Nothing is changed on the board; its stream is stopped at the end."""


def add_arguments(p):
    where = p.add_mutually_exclusive_group()
    where.add_argument("--port", metavar="PORT", help="the board's serial port (its native USB port)")
    where.add_argument("--sim", nargs="?", const="", default=None, metavar="FILE.wav",
                       help="check a simulated board fed from FILE.wav (default: the bundled demo recording)")
    p.add_argument("--json", action="store_true", help="one JSON object with every check on stdout")
    p.add_argument("--yes", "--non-interactive", dest="yes", action="store_true",
                   help="ask nothing (the mute and LED checks need a person, so they are skipped on a real board)")
    p.add_argument("--seconds", type=float, default=5.0, metavar="N",
                   help="how long to stream for the link and mic checks (default 5)")


def _tty_ask(question):
    """Ask on the terminal even when stdout is redirected (--json > file): /dev/tty, else stdin."""
    try:
        with open("/dev/tty", "r+") as tty:
            tty.write(question)
            tty.flush()
            line = tty.readline()
            if not line:
                raise EOFError
            return line
    except OSError:
        sys.stderr.write(question)
        sys.stderr.flush()
        return input()


def _interactive():
    try:
        return sys.stdin.isatty() and sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def run(args):
    from .. import doctor

    if args.port is None and args.sim is None:
        raise BadInput("give the board's port with --port PORT (see `hushmic devices`), or --sim [FILE.wav]")
    if not (math.isfinite(args.seconds) and 1.0 <= args.seconds <= 60.0):
        raise BadInput("--seconds must be between 1 and 60")
    report = doctor.Report(args.port or "", args.sim is not None)
    width = 10

    def on_result(r):
        say(doctor.format_result(r, width))

    def progress(msg):
        say(f"doctor: {msg}...")

    try:
        if args.sim is not None:
            _run_sim(args, report, on_result, progress)
        else:
            if args.yes or not _interactive():
                bench = doctor.Bench()
                if not args.yes:
                    say("doctor: no terminal to ask questions on: running as with --yes")
            else:
                bench = doctor.PersonBench(say, _tty_ask)
            doctor.run_doctor(args.port, bench, seconds=args.seconds, on_result=on_result, progress=progress,
                              report=report)
    except KeyboardInterrupt:
        report.interrupted = True
        say("doctor: interrupted (the board's stream is stopped)")
        if args.json:
            emit_json(report.as_dict())
        return 130
    c = report.counts()
    verdict = "FAIL: fix the first FAIL above, then run doctor again" if report.failed else (
        "the board is ready" + (" (see the warnings)" if c["warn"] else ""))
    say(f"doctor: {c['ok']} ok, {c['warn']} warn, {c['FAIL']} FAIL, {c['skip']} not checked: {verdict}")
    if args.json:
        emit_json(report.as_dict())
    return report.exit_code


def _run_sim(args, report, on_result, progress):
    from .. import audio_io, doctor, paths
    from ..sim.launcher import vm_path

    wav = args.sim or str(paths.DATA_DIR / "demo.wav")
    x = audio_io.read_wav_strict(wav)  # BadInput (exit 2) for a file that is not 16 kHz mono PCM16
    if len(x) < audio_io.RATE * args.seconds:
        raise BadInput(f"{wav}: {len(x) / audio_io.RATE:.1f} s of audio, shorter than --seconds {args.seconds:g}")
    vm_path()  # a clear error where the simulated board cannot run
    with tempfile.TemporaryDirectory(prefix="hushmic-doctor-") as tmp:
        with doctor.sim_board(wav, Path(tmp)) as sb:
            report.port = sb.port
            progress(f"simulated board on {wav}")
            doctor.run_doctor(sb.port, doctor.SimBench(sb), seconds=args.seconds, on_result=on_result,
                              progress=progress, report=report)
