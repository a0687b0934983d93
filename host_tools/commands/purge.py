"""`hushmic purge`: apply the retention policy to the local store (rows and WAV files)."""
from ..cli import emit_json, say
from ..store import DEFAULT_MAX_AGE_DAYS, Store, add_store_arguments

NAME = "purge"
HELP = f"delete stored utterances older than the retention age (default {DEFAULT_MAX_AGE_DAYS} days), or all"
ORDER = 61
DESCRIPTION = f"""Delete stored utterances, their WAV files and the sessions left empty.

  hushmic purge                     apply the retention policy: older than {DEFAULT_MAX_AGE_DAYS} days
  hushmic purge --older-than 7      older than 7 days (0 = everything recorded until now)
  hushmic purge --all               everything
  hushmic purge --dry-run --json    only count what would go

Deleted database rows are overwritten (SQLite secure_delete). Files are unlinked; on SSDs and copy-on-write file systems
that does not guarantee the blocks are gone: use full-disk encryption for that."""


def _days(v):
    import argparse
    try:
        d = float(v)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of days: {v!r}") from None
    if d < 0 or d != d:
        raise argparse.ArgumentTypeError("days must be >= 0")
    return d


def add_arguments(p):
    g = p.add_mutually_exclusive_group()
    g.add_argument("--older-than", type=_days, metavar="DAYS", default=None,
                   help=f"delete what is older than DAYS (default: the retention age, {DEFAULT_MAX_AGE_DAYS})")
    g.add_argument("--all", action="store_true", help="delete every session and utterance")
    p.add_argument("--dry-run", action="store_true", help="count, delete nothing")
    add_store_arguments(p)
    p.add_argument("--json", action="store_true", help="JSON on stdout")


def run(args):
    with Store(args.store) as st:
        r = st.purge(older_than_days=args.older_than, all=args.all, dry_run=args.dry_run)
    if args.json:
        emit_json(r)
    else:
        verb = "would delete" if r["dry_run"] else "deleted"
        scope = "everything" if r["all"] else f"older than {r['older_than_days']:g} days"
        say(f"purge ({scope}): {verb} {r['utterances']} utterance(s), {r['sessions']} session(s), "
            f"{r['files']} file(s), {r['bytes'] / 1e6:.1f} MB")
    return 0
