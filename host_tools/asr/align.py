"""Forced alignment with pocketsphinx: re-time a recogniser's words (Whisper's are loose, median error ~110 ms) to
within tens of milliseconds, so that redaction can bleep exactly the right audio.

The words come as normalised *items* (normalize.py), some with several readings ("1234": "twelve thirty four" or
"one two three four"); they are compiled into a JSGF grammar, so the decoder both aligns and picks the reading that
the audio supports.

Words missing from the dictionary (often the very names to hide) get a guessed pronunciation (lts.py) so that they
absorb their own audio and their neighbours stay accurate; they are flagged `aligned=False` and their span is widened
to the gap from the end of the previous aligned word to the start of the next one, so redaction fails closed.
If alignment fails altogether, the recogniser's own times are returned with every word flagged `aligned=False`.
"""
from __future__ import annotations

import re

from . import lts, sphinx_backend as sb
from .base import Word
from .normalize import items_to_words, split_span

_grammar_id = [0]


def _ensure_words(d, tokens):
    """Make sure every token has a pronunciation; return the set of tokens whose pronunciation is a guess."""
    guessed = set()
    for t in set(tokens):
        if d.lookup_word(t) is not None:
            if t in _GUESSED:
                guessed.add(t)
            continue
        pron = None
        m = re.fullmatch(r"(.+)'s", t)
        if m and d.lookup_word(m.group(1)) is not None:       # "emily's" = "emily" + Z: a real pronunciation
            pron = d.lookup_word(m.group(1)) + " Z"
        elif "'" in t and d.lookup_word(t.replace("'", "")) is not None:
            pron = d.lookup_word(t.replace("'", ""))
        if pron is None:
            pron = lts.guess(t)
            guessed.add(t)
            _GUESSED.add(t)
        d.add_word(t, pron, True)
    return guessed


_GUESSED: set = set()


def _jsgf(items):
    parts = []
    for it in items:
        reads = [" ".join(r) for r in it.readings]
        parts.append(reads[0] if len(reads) == 1 else "( " + " | ".join(reads) + " )")
    return "#JSGF V1.0;\ngrammar utt;\npublic <utt> = " + " ".join(parts) + " ;\n"


def _match(items, segs):
    """Choose a reading per item so that the concatenation equals the decoded word sequence; None if impossible."""
    words = [s[0] for s in segs]
    memo = {}

    def go(k, p):
        if k == len(items):
            return [] if p == len(words) else None
        key = (k, p)
        if key in memo:
            return memo[key]
        res = None
        for r_i, r in enumerate(items[k].readings):
            if words[p:p + len(r)] == r:
                rest = go(k + 1, p + len(r))
                if rest is not None:
                    res = [r_i] + rest
                    break
        memo[key] = res
        return res

    return go(0, 0)


def align(pcm, items, rate=16000, offset=0.0):
    """Return Words (one per token) re-timed by forced alignment, `offset` seconds added to every time."""
    if not items:
        return []
    fallback = [Word(w.word, w.t0 + offset, w.t1 + offset, w.confidence, False) for w in items_to_words(items)]
    if not sb.available():
        return fallback
    if rate != 16000:
        from ..audio_io import resample
        pcm = resample(pcm, rate, 16000)
    d = sb.decoder("align")
    tokens = [t for it in items for r in it.readings for t in r]
    with sb.decoder_lock():
        guessed = _ensure_words(d, tokens)
        _grammar_id[0] += 1
        name = f"utt{_grammar_id[0]}"
        try:
            d.add_jsgf_string(name, _jsgf(items))
            d.activate_search(name)
            sb.decode(d, sb._pcm_bytes(pcm))
            hyp = d.hyp()
            segs = []
            if hyp is not None:
                for s in d.seg():
                    w = s.word
                    if not w or w[0] in "<[+":
                        continue
                    segs.append((sb._ALT.sub("", w), s.start_frame, s.end_frame))
        except (RuntimeError, ValueError, KeyError):
            return fallback
        finally:
            try:
                d.remove_search(name)
            except Exception:
                pass
    choice = _match(items, segs) if segs else None
    if choice is None:
        return fallback
    out, p = [], 0
    for k, it in enumerate(items):
        for tok in it.readings[choice[k]]:
            _w, f0, f1 = segs[p]
            p += 1
            out.append(Word(tok, round(f0 * sb.FRAME_S + offset, 3), round((f1 + 1) * sb.FRAME_S + offset, 3),
                            it.confidence, tok not in guessed))
    _widen_unaligned(out, offset, offset + len(pcm) / 16000.0)
    return out


RELIABLE_CONFIDENCE = 0.5


def _widen_unaligned(words, start, end):
    """Unaligned words span from the end of the previous reliably aligned word to the start of the next one.
    A neighbour is reliable when it was aligned with a dictionary pronunciation AND the recogniser was confident
    in it: a low-confidence word next to a name is often a fragment of that name ("okonkwo" -> "a kenquil") and
    its aligned span may hold part of the name's audio."""
    n = len(words)
    # a short word sandwiched between unaligned words is most likely a piece of the same unknown name
    # ("priyanka okonkwo" -> "priyanka a kenquil"): treat it as unaligned too
    for i in range(1, n - 1):
        if words[i].aligned and not words[i - 1].aligned and not words[i + 1].aligned:
            words[i].aligned = False

    def reliable(w):
        return w.aligned and w.confidence >= RELIABLE_CONFIDENCE

    for i, w in enumerate(words):
        if w.aligned:
            continue
        prev = next((words[j] for j in range(i - 1, -1, -1) if reliable(words[j])), None)
        nxt = next((words[j] for j in range(i + 1, n) if reliable(words[j])), None)
        w.t0 = round(min(w.t0, prev.t1 if prev else start), 3)
        w.t1 = round(max(w.t1, nxt.t0 if nxt else end), 3)


__all__ = ["align", "split_span"]
