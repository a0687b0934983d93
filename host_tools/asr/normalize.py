"""Spoken-form normalisation of written ASR output (Whisper) into the form of `../shared/eval/pii/README.md`.

    "Call 555-1234."          -> call five five five one two three four
    "john.smith@gmail.com"    -> john dot smith at gmail dot com
    "I'm 42, born in 1985"    -> i'm forty two born in nineteen eighty five
    "KZR04"                   -> k z r zero four

Each written word comes with its time span. The text is cut into *items*, each tied to the character range of the
written text it came from, so every spoken token maps back to the written word(s) and their times. An item may have
several plausible readings ("1234": "twelve thirty four" or "one two three four"); the forced aligner chooses the one
that fits the audio (see align.py), and without it the first reading is used.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from . import numbers as num
from .base import Word


@dataclass
class Item:
    readings: list            # list of token lists, most likely first; [] readings never occur (items are dropped)
    c0: int                   # character range in the joined written text
    c1: int
    t0: float = 0.0
    t1: float = 0.0
    confidence: float = 1.0
    sources: list = field(default_factory=list)   # indices of the written words it came from


ABBREV = {
    "dr": ["doctor"], "mr": ["mister"], "mrs": ["missus"], "ms": ["miss"], "st": ["street"], "ave": ["avenue"],
    "apt": ["apartment"], "no": ["number"], "blvd": ["boulevard"], "rd": ["road"], "jr": ["junior"], "sr": ["senior"],
    "etc": ["etcetera"], "vs": ["versus"], "a.m": ["a", "m"], "p.m": ["p", "m"], "e.g": ["for", "example"],
    "i.e": ["that", "is"], "u.s": ["u", "s"], "u.k": ["u", "k"], "mt": ["mount"], "ft": ["feet"], "lb": ["pounds"],
    "lbs": ["pounds"], "oz": ["ounces"], "km": ["kilometers"], "kg": ["kilograms"],
}
ABBREV_ALT = {"dr": ["drive"], "st": ["saint"], "no": ["no"]}
ABBREV_NEED_DOT = {"no", "st", "ms", "ft", "lb", "oz", "mt"}   # only when written with the period ("No." not "no")
SYMBOLS = {"&": ["and"], "+": ["plus"], "=": ["equals"], "%": ["percent"], "@": ["at"], "#": ["number"]}
CURRENCY = {"$": ("dollars", "cents"), "£": ("pounds", "pence"), "€": ("euros", "cents")}
EMAIL_SEP = {"@": "at", ".": "dot", "_": "underscore", "-": "dash", "+": "plus"}

_TRANS = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-",
                        "\u2212": "-", "\u00a0": " "})
_LEAD = "\"'([{<\u00bf\u00a1*"
_TRAIL = "\"'.,!?;:)]}>\u2026*"


def _ascii(s):
    # one character in, one character out, so offsets stay valid
    out = []
    for ch in s:
        if ord(ch) < 128:
            out.append(ch)
        else:
            base = unicodedata.normalize("NFKD", ch)
            base = "".join(b for b in base if ord(b) < 128 and not unicodedata.combining(b))
            out.append(base[:1] if len(base) >= 1 and base[:1].isalnum() else (ch if ch in "£€" else " "))
    return "".join(out)


def _letters_ok(tok):
    return bool(tok) and re.fullmatch(r"[a-z]+(?:'[a-z]+)*", tok) is not None


def _words(text):
    """A plain word -> tokens: lowercase, apostrophes kept inside words, other characters split."""
    toks = []
    for part in re.split(r"[^A-Za-z']+", text):
        part = part.strip("'").lower()
        if part:
            toks.append(part)
    return toks


class _Emitter:
    def __init__(self):
        self.items = []

    def add(self, readings, c0, c1):
        readings = [r for r in readings if r]
        if readings:
            self.items.append(Item(readings=readings, c0=c0, c1=c1))

    def one(self, toks, c0, c1):
        self.add([toks], c0, c1)


def _alnum(em, s, off):
    """A run of letters and digits such as 'KZR04', 'peter40', 'X6301155', 'MLA', 'hello'."""
    runs = [(m.group(), m.start()) for m in re.finditer(r"[A-Za-z]+|[0-9]+", s)]
    has_digit = any(r[0].isdigit() for r, _ in runs)
    has_alpha = any(r[0].isalpha() for r, _ in runs)
    code_like = has_digit and has_alpha and (sum(len(r) for r, _ in runs if r[0].isdigit()) >= 3
                                             or any(r.isupper() and len(r) <= 3 for r, _ in runs if r[0].isalpha()))
    for r, p in runs:
        a, b = off + p, off + p + len(r)
        if r.isdigit():
            if code_like:
                for i, ch in enumerate(r):
                    em.add([num.digits(ch)] + ([["oh"]] if ch == "0" else []), a + i, a + i + 1)
            else:
                em.add(num.readings(r), a, b)
        elif (r.isupper() and len(r) >= 2 and (len(r) <= 5 or code_like)) or (code_like and len(r) <= 3):
            for i, ch in enumerate(r):            # spelled letters: one item per letter, so each has its own time
                em.one([ch.lower()], a + i, a + i + 1)
        else:
            low = r.lower()
            em.one(["okay"] if low == "ok" else [low], a, b)


def _number_like(em, s, off):
    """Written numbers: returns True when `s` was handled."""
    m = re.fullmatch(r"([$£€])(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?([kmb]n?)?", s, re.I)
    if m:
        cur, whole, cents, mult = m.groups()
        unit, sub = CURRENCY[cur]
        n = int(whole.replace(",", ""))
        words = num.cardinal(n)
        if mult:
            words += [{"k": "thousand", "m": "million", "b": "billion"}[mult[0].lower()]]
        reads = []
        if cents and int(cents):
            c = int(cents.ljust(2, "0"))
            reads = [words + [unit] + num.cardinal(c) + [sub], words + num.cardinal(c),
                     words + [unit, "and"] + num.cardinal(c) + [sub], words + [unit] + num.cardinal(c)]
        else:
            reads = [words + [unit], words]
        em.add(reads, off, off + len(s))
        return True
    m = re.fullmatch(r"(\d+(?:\.\d+)?)%", s)
    if m:
        _number_like(em, m.group(1), off)
        em.one(["percent"], off + len(s) - 1, off + len(s))
        return True
    m = re.fullmatch(r"(\d{1,2}):(\d{2})", s)
    if m:
        h, mm = int(m.group(1)), int(m.group(2))
        if mm == 0:
            reads = [num.cardinal(h), num.cardinal(h) + ["o'clock"], num.cardinal(h) + ["hundred"]]
        elif mm < 10:
            reads = [num.cardinal(h) + ["oh", num.ONES[mm]], num.cardinal(h) + ["zero", num.ONES[mm]]]
        else:
            reads = [num.cardinal(h) + num.cardinal(mm)]
        em.add(reads, off, off + len(s))
        return True
    m = re.fullmatch(r"(\d+)(st|nd|rd|th)", s, re.I)
    if m:
        em.one(num.ordinal(int(m.group(1))), off, off + len(s))
        return True
    m = re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?", s)
    if m:
        whole, _, frac = s.partition(".")
        toks = num.cardinal(int(whole.replace(",", "")))
        if frac:
            toks += ["point"] + num.digits(frac)
        em.one(toks, off, off + len(s))
        return True
    m = re.fullmatch(r"(\d{1,2})[.:](\d{2})", s)
    if m and 1 <= int(m.group(1)) <= 12 and int(m.group(2)) < 60:
        # "7.30": a British-style time or a decimal; the aligner chooses the reading the audio supports
        h, mm = int(m.group(1)), int(m.group(2))
        time_r = (num.cardinal(h) + (["oh", num.ONES[mm]] if 0 < mm < 10 else num.cardinal(mm) if mm else []))
        dec = num.cardinal(h) + ["point"] + num.digits(m.group(2))
        em.add([time_r, dec, num.cardinal(h) + ["point"] + num.cardinal(mm), dec[:-1] + (["oh"] if m.group(2)[-1] == "0" else dec[-1:])],
               off, off + len(s))
        return True
    m = re.fullmatch(r"(\d+)\.(\d+)", s)
    if m and len(m.group(1)) <= 3:
        em.add(num.readings(m.group(1)), off, off + len(m.group(1)))
        p = off + len(m.group(1))
        em.one(["point"], p, p + 1)
        for i, ch in enumerate(m.group(2)):
            em.one(num.digits(ch), p + 1 + i, p + 2 + i)
        return True
    if re.fullmatch(r"\+?\d+(?:[-./]\d+)+", s):
        # phone numbers, codes, dates written with separators: every group digit by digit
        for mm in re.finditer(r"\d+", s):
            for i, ch in enumerate(mm.group()):
                a = off + mm.start() + i
                em.add([num.digits(ch)] + ([["oh"]] if ch == "0" else []), a, a + 1)
        return True
    if re.fullmatch(r"\d+", s):
        if len(s) >= 5:   # long digit strings: one item per digit, so each digit gets its own time
            for i, ch in enumerate(s):
                em.add([num.digits(ch)] + ([["oh"]] if ch == "0" else []), off + i, off + i + 1)
        else:
            em.add(num.readings(s), off, off + len(s))
        return True
    return False


def _email_or_domain(em, s, off):
    is_email = "@" in s and re.fullmatch(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+", s) is not None
    is_domain = (not is_email and re.fullmatch(r"(?:[A-Za-z0-9\-]*[A-Za-z][A-Za-z0-9\-]*\.)+[A-Za-z]{2,6}", s)
                 is not None and not re.fullmatch(r"(?:[A-Za-z]\.)+[A-Za-z]", s))
    is_domain = is_domain or (s.startswith(".") and re.fullmatch(r"\.[A-Za-z]{2,6}", s) is not None)
    if not (is_email or is_domain):
        return False
    for m in re.finditer(r"[A-Za-z0-9]+|[@._+\-]", s):
        t = m.group()
        a, b = off + m.start(), off + m.end()
        if t in EMAIL_SEP:
            em.one([EMAIL_SEP[t]], a, b)
        else:
            _alnum(em, t.lower() if not re.fullmatch(r"[A-Z]{2,5}", t) else t, a)
    return True


def _chunk(em, s, off):
    """One whitespace-free chunk of written text at character offset `off`."""
    # strip leading/trailing punctuation, but keep a period that belongs to an abbreviation
    i, j = 0, len(s)
    while i < j and s[i] in _LEAD:
        i += 1
    while j > i and s[j - 1] in _TRAIL:
        j -= 1
    core = s[i:j]
    if not core:
        return
    low = core.lower()
    dotted = j < len(s) and s[j] == "."
    if low.rstrip(".") in ABBREV and (dotted or "." in low or low not in ABBREV_NEED_DOT):
        reads = [ABBREV[low.rstrip(".")]] + [[a] for a in ABBREV_ALT.get(low.rstrip("."), [])]
        em.add(reads, off + i, off + j + (1 if dotted else 0))
        return
    if re.fullmatch(r"-\d+", core):   # "555" "-1234": the continuation of a digit group
        for k, ch in enumerate(core[1:]):
            a = off + i + 1 + k
            em.add([num.digits(ch)] + ([["oh"]] if ch == "0" else []), a, a + 1)
        return
    if re.fullmatch(r"(?:[A-Za-z]\.)+[A-Za-z]?", core):   # "U.S.A", "p.m" spelled with periods
        for m in re.finditer(r"[A-Za-z]", core):
            em.one([m.group().lower()], off + i + m.start(), off + i + m.end())
        return
    if _email_or_domain(em, core, off + i):
        return
    if _number_like(em, core, off + i):
        return
    # split on hyphens, slashes and symbols; handle each piece
    for m in re.finditer(r"[A-Za-z0-9']+(?:[.:,][0-9]+)*%?|[$£€][0-9][0-9,.]*[kmbKMB]?n?|[&+=%@#]", core):
        t = m.group()
        a = off + i + m.start()
        if t in SYMBOLS:
            em.one(SYMBOLS[t], a, a + 1)
        elif _number_like(em, t, a):
            continue
        elif re.search(r"[0-9]", t):
            _alnum(em, t.replace("'", ""), a)
        else:
            w = t.strip("'")
            if not w:
                continue
            if re.fullmatch(r"[A-Z]{2,5}", w):   # "MLA" spelled, or "PIN"/"NASA" said as a word
                low = w.lower()
                reads = [list(low)] + ([[low]] if re.search(r"[aeiouy]", low) and len(low) >= 3 else [])
                if low == "ok":
                    reads = [["okay"], ["o", "k"]]
                em.add(reads, a, a + len(w))
                continue
            toks = _words(w)
            if toks == ["ok"]:
                toks = ["okay"]
            if toks:
                em.one(toks, a, a + len(t))


def normalize_text(text):
    """Spoken form of a written string (no times): a list of tokens, using each item's first reading."""
    items = normalize_words([(text, 0.0, 1.0, 1.0)])
    return [t for it in items for t in it.readings[0]]


def normalize_words(words):
    """`words`: written words in order as (text, start, end, probability), e.g. faster-whisper's words (whose text
    starts with a space when it begins a new word). Returns Items with times interpolated by character position
    inside the written words they came from."""
    pieces, spans = [], []
    pos = 0
    for text, t0, t1, p in words:
        # words without a leading space stay glued to the previous one ("555" "-1234", "mail" ".com")
        t = _ascii(str(text).translate(_TRANS))
        pieces.append(t)
        spans.append((pos, pos + len(t), float(t0), float(max(t1, t0)), float(p)))
        pos += len(t)
    S = "".join(pieces)
    em = _Emitter()
    for m in re.finditer(r"\S+", S):
        _chunk(em, m.group(), m.start())
    for it in em.items:
        it.sources = [k for k, (a, b, *_r) in enumerate(spans) if a < it.c1 and b > it.c0]
        it.t0 = _time_at(spans, S, it.c0, start=True)
        it.t1 = _time_at(spans, S, it.c1, start=False)
        if it.t1 < it.t0:
            it.t1 = it.t0
        probs = [spans[k][4] for k in it.sources]
        it.confidence = min(probs) if probs else 0.0
    return em.items


def _time_at(spans, S, c, start):
    """Time at character position `c`: linear inside the written word that holds it (over its non-space
    characters). A position on the boundary between two words belongs to the next word for a start, to the previous
    word for an end."""
    for k, (a, b, t0, t1, _p) in enumerate(spans):
        if not (a <= c <= b) or b == a:
            continue
        if c == b and start and k + 1 < len(spans):
            continue
        a2 = a + len(S[a:b]) - len(S[a:b].lstrip())    # skip the word's leading spaces
        if c <= a2:
            return t0
        return t0 + (t1 - t0) * (c - a2) / (b - a2)
    return spans[-1][3] if spans else 0.0


def items_to_words(items, choice=None):
    """Words (each a single token) from items, using reading `choice[k]` of item k (default the first), splitting
    each item's time span among its tokens in proportion to their lengths."""
    out = []
    for k, it in enumerate(items):
        toks = it.readings[choice[k] if choice else 0]
        out.extend(split_span(toks, it.t0, it.t1, it.confidence))
    return out


def split_span(toks, t0, t1, conf, aligned=True):
    total = sum(len(t) for t in toks) or 1
    pos, out = 0, []
    for t in toks:
        a = t0 + (t1 - t0) * pos / total
        pos += len(t)
        out.append(Word(t, round(a, 3), round(t0 + (t1 - t0) * pos / total, 3), conf, aligned))
    return out
