"""`hushmic vad FILE.wav [--json]`: the board's VAD and endpointer, run from the firmware source in the VM."""
from ..audio_io import read_wav_strict
from ..cli import emit_json, say
from ..vad_runner import FRAME, FRAME_MS, run_vad, runs, validate_settings

NAME = "vad"
HELP = "run the on-chip voice activity detector (firmware source, MicroPython VM) over a WAV file"
DESCRIPTION = """Runs firmware/vad.py and firmware/endpoint.py inside the MicroPython VM over a 16 kHz mono 16-bit WAV.

With --json prints one object on stdout:
  {"frame_ms": 10, "frames": "0101...", "sent": "0011...", "segments": [[start, end], ...],
   "preroll_ms": N, "hangover_ms": N}
frames = the detector per 10 ms frame (after hysteresis); sent = what the board would transmit
(pre-roll, hangover, minimum and maximum length included); segments = runs of 1 in sent, seconds, end exclusive."""
ORDER = 40


def add_arguments(p):
    p.add_argument("wav", metavar="FILE.wav", help="16 kHz mono 16-bit PCM WAV")
    p.add_argument("--json", action="store_true", help="print the result as one JSON object on stdout")
    p.add_argument("--sensitivity", type=int, default=5, metavar="N",
                   help="0 (fewest false alarms) .. 9 (most sensitive); default 5")
    p.add_argument("--preroll-ms", type=int, default=None, metavar="MS",
                   help="pre-roll, 250..2000 ms (default: the firmware's, firmware/endpoint.py)")
    p.add_argument("--hangover-ms", type=int, default=None, metavar="MS",
                   help="hangover, 0..2000 ms (default: the firmware's)")


def run(args):
    validate_settings(args.sensitivity, args.preroll_ms, args.hangover_ms)
    x = read_wav_strict(args.wav)
    res = run_vad(x, sensitivity=args.sensitivity, preroll_ms=args.preroll_ms, hangover_ms=args.hangover_ms)
    segs = [[round(a * FRAME_MS / 1000, 2), round(b * FRAME_MS / 1000, 2)] for a, b in runs(res.sent)]
    out = {"frame_ms": FRAME_MS, "frames": res.frames, "sent": res.sent, "segments": segs,
           "preroll_ms": res.settings["preroll_ms"], "hangover_ms": res.settings["hangover_ms"]}
    if args.json:
        emit_json(out)
    else:
        n = len(res.frames)
        speech = res.frames.count("1")
        sent = res.sent.count("1")
        say(f"{args.wav}: {n} frames ({n * FRAME / 16000:.2f} s), speech {speech} frames "
            f"({100 * speech / max(n, 1):.1f} %), sent {sent} frames in {len(segs)} segment(s) "
            f"[kernel {res.kernel}, pre-roll {out['preroll_ms']} ms, hangover {out['hangover_ms']} ms]")
        for a, b in segs:
            say(f"  {a:8.2f} - {b:8.2f} s")
    return 0
