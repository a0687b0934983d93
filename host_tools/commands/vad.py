"""`hushmic vad FILE.wav [--json]`: the board's VAD and endpointer, run from the firmware source in the VM."""
from ..cli import emit_json, say
from ..errors import BadInput
from ..vad_runner import FRAME, FRAME_MS, VadStream, runs, validate_settings

NAME = "vad"
HELP = "run the on-chip voice activity detector (firmware source, MicroPython VM) over a WAV file"
DESCRIPTION = """Runs firmware/vad.py and firmware/endpoint.py inside the MicroPython VM over a 16-bit PCM WAV of any
length (streamed through the VM block by block). Other rates and stereo are converted to 16 kHz mono first, the same
way `hushmic transcribe` converts them; frames are 10 ms of the 16 kHz signal.

With --json prints one object on stdout:
  {"frame_ms": 10, "frames": "0101...", "sent": "0011...", "segments": [[start, end], ...],
   "preroll_ms": N, "hangover_ms": N}
frames = the detector per 10 ms frame (after hysteresis); sent = what the board would transmit
(pre-roll, hangover, minimum and maximum length included); segments = runs of 1 in sent, seconds, end exclusive."""
ORDER = 40


def add_arguments(p):
    p.add_argument("wav", metavar="FILE.wav", help="16-bit PCM WAV (other rates and stereo are converted to 16 kHz mono)")
    p.add_argument("--json", action="store_true", help="print the result as one JSON object on stdout")
    p.add_argument("--sensitivity", type=int, default=5, metavar="N",
                   help="0 (fewest false alarms) .. 9 (most sensitive); default 5")
    p.add_argument("--preroll-ms", type=int, default=None, metavar="MS",
                   help="pre-roll, 250..2000 ms (default: the firmware's, firmware/endpoint.py)")
    p.add_argument("--hangover-ms", type=int, default=None, metavar="MS",
                   help="hangover, 0..2000 ms (default: the firmware's)")


def run(args):
    validate_settings(args.sensitivity, args.preroll_ms, args.hangover_ms)
    from ..longfile import Progress, WavStream

    src = WavStream(args.wav)
    if src.rate != 16000 or src.channels != 1:
        say(f"{args.wav}: {src.rate} Hz, {src.channels} channel(s): converted to 16000 Hz mono for the VAD")
    prog = Progress(f"vad {args.wav}", src.duration)
    fs, ss = [], []
    with VadStream(sensitivity=args.sensitivity, preroll_ms=args.preroll_ms, hangover_ms=args.hangover_ms) as vs:
        done = 0
        for _, x16 in src.blocks():
            f, s = vs.feed(x16)
            fs.append(f)
            ss.append(s)
            done += len(x16)
            prog.update(done / 16000)
        f, s = vs.finish()
        fs.append(f)
        ss.append(s)
    prog.close()
    frames, sent_bits = "".join(fs), "".join(ss)
    if src.frames and not frames and not done:
        raise BadInput(f"{args.wav}: the WAV file holds no audio")
    segs = [[round(a * FRAME_MS / 1000, 2), round(b * FRAME_MS / 1000, 2)] for a, b in runs(sent_bits)]
    out = {"frame_ms": FRAME_MS, "frames": frames, "sent": sent_bits, "segments": segs,
           "preroll_ms": vs.settings["preroll_ms"], "hangover_ms": vs.settings["hangover_ms"]}
    if args.json:
        emit_json(out)
    else:
        n = len(frames)
        speech = frames.count("1")
        sent = sent_bits.count("1")
        say(f"{args.wav}: {n} frames ({n * FRAME / 16000:.2f} s), speech {speech} frames "
            f"({100 * speech / max(n, 1):.1f} %), sent {sent} frames in {len(segs)} segment(s) "
            f"[kernel {vs.kernel}, pre-roll {out['preroll_ms']} ms, hangover {out['hangover_ms']} ms]")
        for a, b in segs:
            say(f"  {a:8.2f} - {b:8.2f} s")
    return 0
