"""Review bundles: redacted audio and redacted transcripts that identify no one, for human reviewers.

A bundle is a directory:

    OUT/
      manifest.json        what the bundle is, and one entry per utterance (below)
      README.txt           for the reviewer: what was removed, what the [TYPE] tags mean
      audio/<id>.wav       redacted audio (optionally voice-disguised), 16 kHz mono PCM16, RIFF with fmt + data only

Built by whitelist, never by copying and deleting: each item carries only a fresh random id (`secrets`, unrelated to any
store id), a random session pseudonym (fresh per bundle, so two bundles cannot be joined), the redacted text, the
duration, the truncated flag and the redaction types with their times. Nothing from the hello fields (firmware,
profile, device serial, MAC), no board or port name, no host or user name, no paths, no store ids, no segment numbers,
no timestamps finer than the UTC day (and `dates=False` drops even the day). WAVs are decoded and re-encoded, so no
chunk of the stored file survives; file modification times are set to midnight UTC of the export day. Raw audio is
never read: utterances without redacted audio go out as text only. As a second line of defence, any identifier the
store knows (serials, MACs, board names, host and user name) that still appears in a transcript is replaced by [ID].
Items are listed in random order. The consent statement stays in the local store's export log; the bundle says only
that consent was affirmed.
"""
import datetime as _dt
import getpass
import json
import os
import re
import secrets
import shutil
import socket
from pathlib import Path

import numpy as np

from .audio_io import read_wav, write_wav
from .errors import BadInput, HushmicError
from .outputs import check_output
from .store import Store, audit_categories, audit_spans, private_umask

FORMAT = "hushmic-review/1"
ENTITY_TYPES = ("PERSON", "PHONE", "EMAIL", "ADDRESS", "POSTCODE", "CREDIT_CARD", "BANK_ACCOUNT", "SSN", "ID_NUMBER",
                "DATE_OF_BIRTH", "AGE", "DEVICE_ID", "MEDICAL", "PASSWORD", "LOCATION")
_TRIVIAL_CONSENT = {"yes", "y", "ok", "okay", "true", "1", "i agree", "agree", "consent", "i consent", "sure", "fine"}
_TAG = re.compile(r"\[([A-Z_]{1,32})\]")

README = """hushmic review bundle ({format})

Each entry of manifest.json ("items") is one utterance: a random id, a random session pseudonym (utterances with the
same pseudonym come from one recording session of this bundle), the transcript, and audio/<id>.wav when redacted audio
exists ("audio": null means text only).

Personal data has been removed before you get this bundle:
  - in the transcript, each redacted stretch is a tag such as [PERSON] or [PHONE];
  - in the audio, the same stretches are silenced or replaced by a tone ("redactions" gives their type and time);
  - ids are random and do not link back to any device, person or other bundle; dates are given to the day at most.
{disguise}
If you still hear or read something that identifies a person, do not note or share it: report the item id so the
redaction can be fixed.
"""


def check_consent(text):
    """The consent statement must be explicit: a sentence saying who agreed to what, not a bare 'yes'."""
    t = (text or "").strip()
    if not t:
        raise BadInput("a review export needs --consent \"STATEMENT\": say who agreed to human review of these "
                       "recordings, e.g. --consent \"all speakers agreed to human review of their redacted speech\"")
    if t.lower().strip(".! ") in _TRIVIAL_CONSENT or len(t.split()) < 3 or len(t) < 12:
        raise BadInput("--consent needs an explicit statement (at least three words saying who agreed to what), "
                       f"not {t!r}")
    return t


def _day(ts):
    return _dt.datetime.fromtimestamp(ts, _dt.timezone.utc).strftime("%Y-%m-%d")


def _midnight(day):
    return _dt.datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=_dt.timezone.utc).timestamp()


def _walk_strings(obj):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _walk_strings(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from _walk_strings(v)
    elif obj is not None and not isinstance(obj, bool):
        yield str(obj)


def known_identifiers(store, sessions):
    """Strings the store or this computer know that must never reach a bundle (used to scrub transcripts)."""
    ids = set()
    for s in sessions:
        ids.add(str(s["board"]))
        ids.update(_walk_strings(s.get("info")))
        ids.update(_walk_strings(s.get("stats")))
    ids.add(str(store.root))
    ids.add(str(Path.home()))
    # short or purely numeric strings (rate 16000, frame_ms 10, "0.1") are not identifying and would over-scrub
    ids = {i for i in ids if len(i) >= 4 and not re.fullmatch(r"[\d.\s:-]*", i)}
    for fn in (socket.gethostname, getpass.getuser):  # these, however short, are identifying
        try:
            v = fn()
        except Exception:  # noqa: BLE001 - no user name in some containers
            continue
        if v and len(v) >= 2:
            ids.add(v)
            ids.add(v.split(".")[0])
    return sorted(ids, key=len, reverse=True)


def _scrub(text, idents):
    if not text:
        return text
    out = text
    for ident in idents:
        pat = re.compile(r"(?<![\w])" + re.escape(ident) + r"(?![\w])", re.IGNORECASE)
        out = pat.sub("[ID]", out)
    return out


def _redactions(audit):
    """Types and times (rounded to 10 ms) from an audit record, nothing else; without times, one {"type"} per
    counted entity. Type names other than the 15 entity types become OTHER, so a type field can never carry a value."""
    def typ(t):
        return t if t in ENTITY_TYPES else "OTHER"
    timed = audit_spans(audit)
    if timed:
        return [{"type": typ(t), "t0": round(t0, 2), "t1": round(t1, 2)} for t, t0, t1 in timed]
    out = []
    for t, n in sorted(audit_categories(audit).items()):
        out += [{"type": typ(t)}] * max(0, min(int(n), 1000))
    return out


def _safe_text(text):
    """Tags other than the known types become [OTHER], so a tag can never carry a value."""
    if text is None:
        return None
    return _TAG.sub(lambda m: m.group(0) if m.group(1) in ENTITY_TYPES or m.group(1) == "ID" else "[OTHER]", text)


def _new_pseudonym(prefix, used, nbytes=8):
    while True:
        p = prefix + secrets.token_hex(nbytes)
        if p not in used:
            used.add(p)
            return p


def export_review(store: Store, out_dir, consent: str, session_ids=None, disguise=False, dates=True) -> dict:
    """Write a review bundle to `out_dir` (must not exist, or be empty). Returns a summary of counts."""
    consent = check_consent(consent)
    # a new or empty directory, not a symlink, not inside the store (whose cleanup would delete it)
    out = check_output(out_dir, stores=[None, store.root], kind="dir", what="bundle")
    if session_ids:
        sessions = [store.session(sid) for sid in session_ids]
        seen, uniq = set(), []
        for s in sessions:
            if s["id"] not in seen:
                seen.add(s["id"])
                uniq.append(s)
        sessions = uniq
    else:
        sessions = [store.session(s["id"]) for s in store.sessions()]
    sessions = [s for s in sessions if s["utterances"]]
    if not sessions:
        raise BadInput("nothing to export: no stored utterances" + (" in those sessions" if session_ids else ""))
    idents = known_identifiers(store, sessions)
    today = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d")

    if disguise:
        from . import disguise as dz

    parent = out.parent if str(out.parent) else Path(".")
    with private_umask():
        parent.mkdir(parents=True, exist_ok=True)
    tmp = parent / f".tmp-export-{secrets.token_hex(6)}"
    used = set()
    items = []
    session_entries = []
    try:
        with private_umask():
            tmp.mkdir()
            (tmp / "audio").mkdir()
        for s in sessions:
            spn = _new_pseudonym("s-", used, 4)
            params = None
            if disguise:
                f0 = None
                for u in s["utterances"]:
                    if u["redacted_wav"] and os.path.exists(u["redacted_wav"]):
                        f0 = dz.estimate_f0(read_wav(u["redacted_wav"])[0])
                        if f0:
                            break
                params = dz.random_params(f0=f0)
            n_items = 0
            for u in s["utterances"]:
                iid = _new_pseudonym("", used, 8)
                audio_rel = None
                wav = u.get("redacted_wav")  # never u["raw_wav"]
                if wav and os.path.exists(wav):
                    x, rate, ch = read_wav(wav)
                    if ch != 1:
                        x = x.astype(np.int32).mean(axis=1).astype(np.int16)
                    if params:
                        x = dz.disguise(x, **params)
                    audio_rel = f"audio/{iid}.wav"
                    with private_umask():
                        write_wav(tmp / audio_rel, x, rate)
                text = _safe_text(_scrub(u.get("text"), idents))
                items.append({"id": iid, "session": spn, "audio": audio_rel, "text": text,
                              "duration": round(float(u["end"]) - float(u["start"]), 2),
                              "truncated": bool(u["truncated"]), "redactions": _redactions(u.get("audit"))})
                n_items += 1
            entry = {"id": spn, "items": n_items}
            if dates:
                entry["day"] = _day(s["started"])
            session_entries.append(entry)
        items.sort(key=lambda it: it["id"])  # random ids: random order
        session_entries.sort(key=lambda e: e["id"])
        n_audio = sum(1 for it in items if it["audio"])
        manifest = {
            "format": FORMAT,
            "exported": today if dates else None,
            "consent": "affirmed by the exporter; the statement is kept by the exporter, not in this bundle",
            "disguise": ({"method": "pitch shift (WSOLA + resampling) and formant shift (cepstral envelope warp)",
                          "parameters": "random per session, not recorded"} if disguise else None),
            "counts": {"items": len(items), "with_audio": n_audio, "text_only": len(items) - n_audio,
                       "sessions": len(session_entries)},
            "sessions": session_entries,
            "items": items,
        }
        with private_umask():
            (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=True) + "\n")
            (tmp / "README.txt").write_text(README.format(
                format=FORMAT,
                disguise=("  - the voices are disguised (pitch and formants shifted by a random amount per session);\n"
                          "    words should stay intelligible, but do not try to undo it.\n") if disguise else ""))
        stamp = _midnight(today)
        for dp, dns, fns in os.walk(tmp):
            for f in fns:
                with open(Path(dp) / f, "rb+") as fh:
                    os.fsync(fh.fileno())
                os.utime(Path(dp) / f, (stamp, stamp))
            os.utime(dp, (stamp, stamp))
        if out.exists():
            out.rmdir()
        os.rename(tmp, out)
        os.utime(out, (stamp, stamp))
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    store.record_export(today, consent, len(items), disguise)
    return {"items": len(items), "with_audio": n_audio, "text_only": len(items) - n_audio,
            "sessions": len(session_entries), "disguise": bool(disguise)}
