"""`hushmic export --review --consent STATEMENT OUT/`: a review bundle that identifies no one."""
from ..cli import emit_json, say
from ..errors import BadInput
from ..store import Store, add_store_arguments

NAME = "export"
HELP = "write a review bundle (redacted audio + transcripts under random ids) for human reviewers"
ORDER = 62
DESCRIPTION = """Write a review bundle for human reviewers: redacted audio and redacted transcripts under random ids.

  hushmic export --review --consent "all speakers agreed to human review of their redacted speech" OUT/
  hushmic export --review --consent "..." --session ID --session ID2 --disguise OUT/

The bundle holds no device serial or MAC, no board or host or user name, no paths, no store ids and no time finer
than the UTC day (--no-dates drops the day too). WAVs are re-encoded with only the fmt and data chunks. Raw audio is
never exported; utterances stored without redacted audio go out as text only. --disguise shifts pitch and formants by
a random amount per session (see docs/store.md for what that does and does not defeat).

--consent is required: a statement of who agreed to what (at least three words). It is kept in the local store's
export log, not in the bundle. OUT must not exist or must be empty."""


def add_arguments(p):
    p.add_argument("out", metavar="OUT", help="bundle directory to create (must not exist, or be empty)")
    p.add_argument("--review", action="store_true", help="a review bundle (the only kind; required)")
    p.add_argument("--consent", metavar="STATEMENT", default=None,
                   help="required: who agreed to human review, e.g. \"all speakers agreed to human review\"")
    p.add_argument("--session", action="append", metavar="ID", default=None,
                   help="export this session (repeatable; default: every session)")
    p.add_argument("--disguise", action="store_true", help="disguise voices (pitch + formant shift, random per session)")
    p.add_argument("--no-dates", action="store_true", help="leave out even the day of each session and of the export")
    add_store_arguments(p)
    p.add_argument("--json", action="store_true", help="JSON summary on stdout")


def run(args):
    from ..export import check_consent, export_review
    if not args.review:
        raise BadInput("say what to export: --review (a bundle for human reviewers) is the only kind")
    check_consent(args.consent)  # refuse before touching the store
    with Store(args.store) as st:
        r = export_review(st, args.out, args.consent, session_ids=args.session, disguise=args.disguise,
                          dates=not args.no_dates)
    if args.json:
        emit_json(dict(r, out=args.out))
    else:
        say(f"review bundle written to {args.out}: {r['items']} utterance(s) from {r['sessions']} session(s), "
            f"{r['with_audio']} with audio, {r['text_only']} text only" + (", voices disguised" if r["disguise"] else ""))
    return 0
