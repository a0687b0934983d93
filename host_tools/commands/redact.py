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
    p.add_argument("wav", metavar="FILE.wav", help="PCM16 WAV file")
    p.add_argument("-o", "--out", required=True, metavar="OUT.wav",
                   help="where to write the redacted audio (a new path or a regular file; never the input or the store)")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.add_argument("--margin-ms", type=float, default=100.0, help="safety margin around each PII word (default 100)")
    p.add_argument("--mode", choices=["tone", "silence"], default="tone", help="replace PII audio by a tone or silence")
    p.add_argument("--backend", default=None, help="ASR backend (see hushmic transcribe --help)")
    p.add_argument("--audit", action="store_true", help="print the audit record on stderr")


def run(args):
    import json

    import numpy as np

    from .. import audio_io
    from ..cli import emit_json, say
    from ..redact import apply_tags, audit_record, redact_audio, redact_text

    if args.margin_ms < 0 or args.margin_ms > 2000:
        raise BadInput(f"--margin-ms {args.margin_ms:g}: must be between 0 and 2000")
    from ..outputs import check_output

    check_output(args.out, inputs=[args.wav], what="redacted audio")  # before minutes of ASR, not after
    x, rate, ch = audio_io.read_wav(args.wav)
    if ch > 1:
        x = x.astype(np.int32).mean(axis=1).astype(np.int16)
    if len(x) == 0:
        raise BadInput(f"{args.wav}: the WAV file holds no audio")
    from .. import asr  # imported lazily: the ASR backends are heavy

    transcript = asr.transcribe_file(args.wav, backend=args.backend)
    words = list(transcript.words)
    text = " ".join(w.word for w in words)
    spans = redact_text(text)
    out, audio_spans = redact_audio(x, rate, words, spans, margin_ms=args.margin_ms, mode=args.mode)
    audio_io.write_wav(args.out, out, rate)
    redacted = apply_tags(text, [{"start": a["start"], "end": a["end"], "type": a["type"]} for a in audio_spans]
                          + [s for s in spans])
    if args.audit:
        say(json.dumps(audit_record(spans, audio_spans)))
    if args.json:
        emit_json({"backend": transcript.backend, "text": text, "redacted": redacted, "margin_ms": int(args.margin_ms) if float(args.margin_ms).is_integer() else args.margin_ms,
                   "spans": [{"type": a["type"], "t0": a["t0"], "t1": a["t1"], "start": a["start"], "end": a["end"]}
                             for a in audio_spans],
                   **({"asr_warning": transcript.warning} if getattr(transcript, "warning", None) else {})})
    else:
        say(f"backend: {transcript.backend}; {len(audio_spans)} stretch(es) redacted -> {args.out}")
        sys.stdout.write(redacted + "\n")
    return 0
