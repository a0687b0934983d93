"""`hushmic plot SESSION|FILE.wav -o out.png`: waveform, VAD segments, mute periods and redacted spans in one PNG."""
from pathlib import Path

from ..cli import emit_json, say
from ..errors import BadInput
from ..store import add_store_arguments

NAME = "plot"
HELP = "draw a PNG of a stored session or a WAV file: waveform, VAD segments, mute periods, redacted spans"
ORDER = 63
DESCRIPTION = """Draw one picture of a stored session or a WAV file.

  hushmic plot SESSION_ID -o session.png           from the local store (utterances, truncation, mutes, redactions)
  hushmic plot FILE.wav -o file.png                 runs the firmware VAD in the MicroPython VM over the file
  hushmic plot FILE.wav --mute 2:4 --spans redact.json -o file.png
                                                    also mute periods, and the spans of `hushmic redact --json`

Needs matplotlib, an optional extra: pip install 'hushmic[plot]'. The PNG is written privately (0600)."""


def _mutes(text):
    import argparse
    out = []
    for part in (text or "").split(","):
        if not part.strip():
            continue
        a, sep, b = part.partition(":")
        try:
            a, b = float(a), float(b)
        except ValueError:
            raise argparse.ArgumentTypeError(f"mute periods are A:B[,C:D...] in seconds, not {text!r}") from None
        if not sep or b <= a or a < 0:
            raise argparse.ArgumentTypeError(f"bad mute period {part!r}: need 0 <= A < B")
        out.append((a, b))
    return out


def add_arguments(p):
    p.add_argument("target", metavar="SESSION|FILE.wav", help="a session id (or unique prefix) or a WAV file")
    p.add_argument("-o", "--out", required=True, metavar="OUT.png", help="PNG to write")
    p.add_argument("--mute", type=_mutes, default=[], metavar="A:B[,C:D...]", help="mute periods to draw (WAV only)")
    p.add_argument("--spans", metavar="REDACT.json", default=None,
                   help="redacted spans to draw (WAV only): the output of `hushmic redact FILE.wav --json`")
    p.add_argument("--no-vad", action="store_true", help="WAV only: do not run the VAD")
    add_store_arguments(p)
    p.add_argument("--json", action="store_true", help="print a summary of the layers as JSON on stdout")


def run(args):
    from .. import plot
    from ..outputs import check_output

    plot.require_matplotlib()  # exit 1 with one line before any work
    check_output(args.out, inputs=[args.target, args.spans], stores=[None, args.store], what="picture")
    t = Path(args.target)
    is_wav = t.suffix.lower() == ".wav" or t.is_file()
    if is_wav:
        tl = plot.wav_timeline(args.target, mutes=args.mute, spans_json=args.spans, vad=not args.no_vad)
    else:
        if args.mute or args.spans:
            raise BadInput("--mute and --spans are for WAV files; a session's are read from the store")
        from ..store import Store
        with Store(args.store) as st:
            tl = plot.session_timeline(st, args.target)
    plot.render(tl, args.out)
    summary = dict(tl.summary(), out=args.out)
    if args.json:
        emit_json(summary)
    else:
        say(f"wrote {args.out}: {summary['duration']:.1f} s, {summary['segments']} VAD segment(s)"
            f" ({summary['truncated']} truncated), {summary['mutes']} mute period(s), "
            f"{summary['redacted_spans']} redacted span(s)")
        for n in tl.notes:
            say(f"  note: {n}")
    return 0
