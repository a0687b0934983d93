"""`hushmic sessions` lists the sessions in the local store; `hushmic sessions show ID` shows one with its utterances."""
import time

from ..cli import emit_json, say
from ..store import Store, add_store_arguments

NAME = "sessions"
HELP = "list the sessions in the local store, or show one (`sessions show ID`)"
ORDER = 60
DESCRIPTION = """List the sessions in the local store (newest last), or show one session with its utterances.

  hushmic sessions                 a table on stderr (for people; save the list with --json)
  hushmic sessions --json          one JSON object on stdout: {"store": ..., "sessions": [...]}
  hushmic sessions show ID --json  the session with its utterances (a unique id prefix of 4+ characters is enough)
  hushmic sessions ID              the same as `sessions show ID`

Transcripts in the store are already redacted. The hello fields shown here (device serial and the like) stay on this
computer: `hushmic export` never copies them."""


def add_arguments(p):
    p.add_argument("action", nargs="?", default="list", metavar="list|show|ID",
                   help="list (default), show ID, or a session id alone (= show ID)")
    p.add_argument("id", nargs="?", help="session id (or a unique prefix of 4+ characters) for `show`")
    add_store_arguments(p)
    p.add_argument("--json", action="store_true", help="JSON on stdout")


def _when(t):
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(t)) if t else "-"


def _board(s):
    info = s.get("info") or {}
    prof = info.get("profile") or ""
    return f"{s['board']}" + (f" ({prof})" if prof else "")


def run(args):
    from ..cli import table_hint
    from ..errors import BadInput
    if args.action not in ("list", "show"):
        if args.id is not None:
            raise BadInput(f"unexpected arguments {args.action!r} {args.id!r}: use `sessions`, `sessions show ID` "
                           "or `sessions ID`")
        args.action, args.id = "show", args.action
    if args.action == "show" and not args.id:
        raise BadInput("`sessions show` needs a session id")
    if args.action == "list" and args.id:
        raise BadInput(f"unexpected argument {args.id!r} (did you mean `sessions show {args.id}`?)")
    with Store(args.store) as st:
        if args.action == "list":
            ss = st.sessions()
            if args.json:
                emit_json({"store": str(st.root), "sessions": ss})
                return 0
            if not ss:
                say(f"no sessions in {st.root}")
                return 0
            say(f"{'id':<12}  {'started':<16}  {'ended':<16}  {'utts':>4}  {'speech':>7}  {'keep':<8}  board")
            for s in ss:
                say(f"{s['id']:<12}  {_when(s['started']):<16}  {_when(s['ended']):<16}  {s['utterances']:>4}  "
                    f"{s['speech_s']:>6.1f}s  {s['keep']:<8}  {_board(s)}")
            say(f"{len(ss)} session(s) in {st.root}")
            table_hint()
            return 0
        s = st.session(args.id)
        if args.json:
            emit_json(s)
            return 0
        say(f"session {s['id']}  board {_board(s)}  keep={s['keep']}")
        say(f"  started {_when(s['started'])}  ended {_when(s['ended'])}  "
            f"{len(s['utterances'])} utterance(s), {s['speech_s']:.1f} s of speech")
        for k, v in sorted((s.get("info") or {}).items()):
            say(f"  {k}: {v}")
        for m in s.get("mutes") or []:
            say(f"  muted {m[0]:.2f}–{'end' if m[1] is None else f'{m[1]:.2f}'} s")
        for u in s["utterances"]:
            audio = "raw+redacted" if u["raw_wav"] and u["redacted_wav"] else \
                    "redacted" if u["redacted_wav"] else "raw" if u["raw_wav"] else "text only"
            flag = " TRUNCATED" if u["truncated"] else ""
            say(f"  [{u['segment']:>3}] {u['start']:8.2f}–{u['end']:8.2f} s  {u['id']}  {audio}{flag}")
            if u["text"]:
                say(f"        {u['text']}")
        return 0
