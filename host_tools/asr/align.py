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


DIGITS = ("zero", "oh", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
# Whisper often drops or merges a repeated digit ("five five five" -> "55"). Forcing the audio onto a text with a
# digit missing drags every later word by up to a second. Such a misfit shows up as words aligned far from where
# Whisper heard them; the utterance is then decoded again with a grammar that allows ONE optional extra digit after
# each digit, and the audio decides (an extra digit found this way is added to the transcript).
_DIGIT_RULE = "<digit> = " + " | ".join(DIGITS) + " ;\n"
ANOMALY_S = 0.6   # an aligned word this far from where the recogniser put it is not trusted
MIN_HEARD_S = 0.05


def _is_digit_item(it):
    return all(r and all(t in DIGITS for t in r) for r in it.readings)


def _jsgf(items, extra_digits):
    parts = []
    for it in items:
        reads = [" ".join(r) for r in it.readings]
        parts.append(reads[0] if len(reads) == 1 else "( " + " | ".join(reads) + " )")
        if extra_digits and _is_digit_item(it):
            parts.append("[ <digit> ]")
    return "#JSGF V1.0;\ngrammar utt;\n" + _DIGIT_RULE + "public <utt> = " + " ".join(parts) + " ;\n"


def _match(items, segs):
    """Choose a reading per item (and any extra digit after a digit item) so that the concatenation equals the
    decoded word sequence. Returns [(reading index, extra digit or None)] per item, or None if impossible."""
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
            if words[p:p + len(r)] != r:
                continue
            q = p + len(r)
            rest = go(k + 1, q)
            if rest is not None:
                res = [(r_i, None)] + rest
                break
            if _is_digit_item(items[k]) and q < len(words) and words[q] in DIGITS:
                rest = go(k + 1, q + 1)
                if rest is not None:
                    res = [(r_i, words[q])] + rest
                    break
        memo[key] = res
        return res

    return go(0, 0)


def _decode(d, pcm, items, extra_digits):
    """One constrained decode: the non-filler segments [(word, first frame, last frame)], or None."""
    _grammar_id[0] += 1
    name = f"utt{_grammar_id[0]}"
    try:
        d.add_jsgf_string(name, _jsgf(items, extra_digits))
        d.activate_search(name)
        sb.decode(d, sb._pcm_bytes(pcm))
        if d.hyp() is None:
            return None
        return [(sb._ALT.sub("", s.word), s.start_frame, s.end_frame) for s in d.seg()
                if s.word and s.word[0] not in "<[+"]
    except (RuntimeError, ValueError, KeyError):
        return None
    finally:
        try:
            d.remove_search(name)
        except Exception:
            pass


def _build(items, segs, guessed, offset, check_times=True):
    """Words from a decode; None if the decode does not match the items. Also the number of anomalies."""
    choice = _match(items, segs) if segs else None
    if choice is None:
        return None, None
    out, p, anomalies = [], 0, 0
    for k, it in enumerate(items):
        r_i, extra = choice[k]
        toks = list(it.readings[r_i]) + ([extra] if extra else [])
        heard = split_span(toks, it.t0, it.t1, it.confidence)
        for n_tok, tok in enumerate(toks):
            _w, f0, f1 = segs[p]
            p += 1
            t0, t1 = f0 * sb.FRAME_S, (f1 + 1) * sb.FRAME_S
            ok = tok not in guessed
            conf = it.confidence if not (extra and n_tok == len(toks) - 1) else it.confidence * 0.5
            h = heard[n_tok]
            # (a zero-length span means the recogniser itself could not time the word: nothing to compare with)
            if check_times and it.t1 - it.t0 >= MIN_HEARD_S and (abs(t0 - h.t0) > ANOMALY_S or abs(t1 - h.t1) > ANOMALY_S):
                anomalies += 1
                ok = False                       # the aligner and the recogniser disagree: keep both spans
                t0, t1 = min(t0, it.t0), max(t1, it.t1)
            out.append(Word(tok, round(t0 + offset, 3), round(t1 + offset, 3), conf, ok))
    return out, anomalies


def align(pcm, items, rate=16000, offset=0.0, check_times=None, _widen=True):
    """Return Words (one per token) re-timed by forced alignment, `offset` seconds added to every time.

    Safety nets, all failing closed (aligned=False): words with guessed pronunciations; aligned words further than
    ANOMALY_S from where the recogniser heard them (their span becomes the union of both); and, if the alignment
    fails altogether, every word with the recogniser's own times (check_times=False, or items without times, e.g.
    a known text, skip the comparison with the recogniser's times). When anomalies show up and the text has digits,
    a second decode lets one extra digit follow each digit (Whisper drops repeated digits: "555" -> "55")."""
    if not items:
        return []
    fallback = [Word(w.word, w.t0 + offset, w.t1 + offset, w.confidence, False) for w in items_to_words(items)]
    if not sb.available():
        return fallback
    if rate != 16000:
        from ..audio_io import resample
        pcm = resample(pcm, rate, 16000)
    if check_times is None:
        check_times = any(it.t1 > 0 for it in items)
    d = sb.decoder("align")
    tokens = [t for it in items for r in it.readings for t in r] + list(DIGITS)
    with sb.decoder_lock():
        guessed = _ensure_words(d, tokens)
        out, anomalies = _build(items, _decode(d, pcm, items, False), guessed, offset, check_times)
        if (out is None or anomalies) and any(_is_digit_item(it) for it in items):
            out2, anomalies2 = _build(items, _decode(d, pcm, items, True), guessed, offset, check_times)
            if out2 is not None and (out is None or anomalies2 < anomalies):
                out, anomalies = out2, anomalies2
    if out is None:
        out = _align_halves(pcm, items, offset, check_times)
        if out is None:
            return fallback
    if _widen:
        _widen_unaligned(out, offset, offset + len(pcm) / 16000.0, {w.word for w in out} & guessed)
    return out


MIN_SPLIT_ITEMS = 4  # a failed alignment of at least this many items is retried as two halves


def _align_halves(pcm, items, offset, check_times):
    """A failed alignment, retried as two halves cut at the longest pause the recogniser heard near the middle, so one
    misheard word ("nine thousand eight hundred" for "nine eight") costs its own half, not the whole turn. Each half is
    aligned on its own stretch of audio (and split again if it fails); a half that cannot be aligned keeps the
    recogniser's times, unaligned. None when the items cannot be split (too few, or no times to cut at)."""
    n = len(items)
    if n < MIN_SPLIT_ITEMS or not all(it.t1 > 0 for it in items):
        return None
    lo, hi = n // 4, n - n // 4
    cut = max(range(max(1, lo), min(n - 1, hi) + 1), key=lambda k: items[k].t0 - items[k - 1].t1)
    at = max(0.0, (items[cut - 1].t1 + items[cut].t0) / 2.0)
    a = int(round(at * 16000))
    if a <= 0 or a >= len(pcm):
        return None
    left = align(pcm[:a], _shift(items[:cut], 0.0), offset=offset, check_times=check_times, _widen=False)
    right = align(pcm[a:], _shift(items[cut:], at), offset=offset + at, check_times=check_times, _widen=False)
    return left + right


def _shift(items, dt):
    if not dt:
        return list(items)
    import dataclasses
    return [dataclasses.replace(it, t0=max(0.0, it.t0 - dt), t1=max(0.0, it.t1 - dt)) for it in items]


RELIABLE_CONFIDENCE = 0.5


def _widen_unaligned(words, start, end, guessed=frozenset()):
    """Unaligned words span from the end of the previous reliably aligned word to the start of the next one.
    A neighbour is reliable when it was aligned with a dictionary pronunciation AND the recogniser was confident
    in it: a low-confidence word next to a name is often a fragment of that name ("okonkwo" -> "a kenquil") and
    its aligned span may hold part of the name's audio."""
    n = len(words)
    # a word sandwiched between two words with guessed pronunciations is most likely a piece of the same unknown
    # name ("priyanka okonkwo" -> "priyanka a kenquil"): treat it as unaligned too
    sandwiched = [i for i in range(1, n - 1) if words[i].aligned and words[i - 1].word in guessed
                  and words[i + 1].word in guessed and not words[i - 1].aligned and not words[i + 1].aligned]
    for i in sandwiched:
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
