"""`hushmic redact FILE.wav --out OUT.wav [--json] [--margin-ms 100] [--mode tone|silence] [--backend ...]`."""
import sys

from ..errors import BadInput

NAME = "redact"
HELP = "transcribe a WAV offline and remove personal data from the transcript and the audio"
DESCRIPTION = """Transcribe FILE.wav offline, find personal data in the transcript, and write OUT.wav with every PII
word bleeped (--mode tone, the default) or silenced (--mode silence), with --margin-ms of safety on each side
(default 100). OUT.wav has the input's length and sample rate (stereo is mixed down to mono).

Fails closed: a PII word the recogniser could not time is bleeped from the end of the previous timed word to the
start of the next, and a low-confidence stretch right after a PII cue ("my number is ...") is bleeped too.

--json prints {"backend", "text", "redacted", "margin_ms", "spans": [{"type", "t0", "t1", "start", "end"}, ...]}
(t0/t1 in seconds; start/end are character offsets into text). Without --json the redacted transcript is printed.
--audit also prints the audit record (categories, counts and times, never values) on stderr."""
ORDER = 46


def add_arguments(p):
    from ..batch import add_batch_arguments

    p.add_argument("wav", metavar="FILE.wav", nargs="+",
                   help="PCM16 WAV file (several files or folders with --out-dir)")
    p.add_argument("-o", "--out", default=None, metavar="OUT.wav",
                   help="where to write the redacted audio (a new path or a regular file; never the input or the store)")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.add_argument("--margin-ms", type=float, default=100.0, help="safety margin around each PII word (default 100)")
    p.add_argument("--mode", choices=["tone", "silence"], default="tone", help="replace PII audio by a tone or silence")
    p.add_argument("--backend", default=None, help="ASR backend (see hushmic transcribe --help)")
    p.add_argument("--audit", action="store_true", help="print the audit record on stderr")
    add_batch_arguments(p)


def run(args):
    import json

    from ..cli import emit_json, say

    if args.margin_ms < 0 or args.margin_ms > 2000:
        raise BadInput(f"--margin-ms {args.margin_ms:g}: must be between 0 and 2000")
    from ..outputs import check_output

    from ..batch import batch_mode, run_batch

    if batch_mode(args, single_out=args.out):
        summary = run_batch("redact", args.wav, args.out_dir,
                            {"backend": args.backend, "margin_ms": args.margin_ms, "mode": args.mode},
                            jobs=args.jobs, scheduler=args.scheduler, say=say)
        if args.json:
            emit_json(summary)
        return 1 if summary["failed"] else 0
    if args.out is None:
        raise BadInput("give --out OUT.wav (one file) or --out-dir OUT (several)")
    args.wav = args.wav[0]
    check_output(args.out, inputs=[args.wav], what="redacted audio")  # before minutes of ASR, not after
    from ..longfile import Progress, WavStream, asr_warning, make_pipeline, process_file

    src = WavStream(args.wav)   # exit 2 for an unreadable file before the models load
    pipe = make_pipeline(args.backend, margin_ms=args.margin_ms)
    res = process_file(args.wav, pipe, out=args.out, mode=args.mode,
                       progress=Progress(f"redact {args.wav}", src.duration))
    if res.errors:
        for e in res.errors:
            say(f"warning: {e}")
    if args.audit:
        say(json.dumps(res.audit()))
    say(f"{args.wav}: {res.summary_line()} -> {args.out}")
    if args.json:
        out = res.json_redact()
        warning = asr_warning(args.backend, res.backend)
        if warning:
            out["asr_warning"] = warning
        emit_json(out)
    else:
        say(f"backend: {res.backend}")
        sys.stdout.write(res.json_redact()["redacted"] + "\n")
    return 0
