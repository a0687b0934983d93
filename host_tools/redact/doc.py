"""Tokenised text with the helpers every recognizer shares: number runs, spelled codes, value slots after cues."""
import functools
import re
import unicodedata
from dataclasses import dataclass

from .lexicon import (AFTER_POSSESSIVE, CORRECTIONS, DIGIT_HOMOPHONES, DIGIT_WORDS, FILLERS, FUNCTION_WORDS, HESITATIONS,
                      LETTER_NAMES, LETTERS, MONTHS, NATO, NUMBER_JOINERS, ORDINALS, POSSESSIVES, REPEATERS, SCALES, TEENS, TENS,
                      UNITS, VALUE_STOP)
from .numbers import is_number_word, spoken_groups

_TOKEN = re.compile(r"\S+")
# words of a restart inside a number ("let me start again", "scratch that", "i mean")
_RESTART = frozenset("i mean wrong that's it's start again over scratch that redo rather correction let me".split())
_DIGITS_SEP = re.compile(r"\+?\d[\d().\-/]*\d")
_STRIP = re.compile(r"^[^\w@']+|[^\w@']+$")
# Typed text (redact-text) is not only ASCII. Every dash or minus sign inside a written number is a hyphen
# ("555\u2013867\u20135309"); invisible format characters inside a word are dropped: zero-width spaces and joiners,
# soft hyphens, byte-order marks, and the bidirectional marks that phones put around copied numbers ("\u202a+1 555 ...");
# other apostrophes are "'"; NFKC makes full-width letters and digits plain. Offsets still point into the original text.
_APOSTROPHES = frozenset("\u2018\u2019\u02bc\uff07")
_MINUSES = frozenset("\u2212\u2796\u02d7\u2043")  # minus signs that Unicode does not file as dashes (Pd)


@functools.lru_cache(maxsize=1024)
def _fold_char(c):
    if c in _APOSTROPHES:
        return "'"
    cat = unicodedata.category(c)
    if cat == "Pd" or c in _MINUSES:
        return "-"
    return "" if cat == "Cf" else c


def fold(w):
    """A non-ASCII token in the form the lexicon and the number reader expect (see the comment above _APOSTROPHES)."""
    return unicodedata.normalize("NFKC", "".join(map(_fold_char, w))).lower()


# a pronoun or article right after a spelled code is not part of it ("... zero four i said", "... nine a day")
_NOT_CODE_AFTER_I = frozenset("and please thanks thank okay ok so then".split())
_HESITATION_INDEX = {}
for _h in sorted(HESITATIONS, key=len, reverse=True):
    _HESITATION_INDEX.setdefault(_h[0], []).append(_h)
_MAX_HESITATION = 8  # tokens of hesitation between two groups of one number


_SUBJECTS = {"i": "work", "we": "work", "they": "work", "he": "works", "she": "works"}
_NUMBERISH = frozenset(DIGIT_WORDS) | frozenset(TEENS) | frozenset(TENS)
# after a plural heard for "X is"/"X's", what shows the speaker meant the possessive: "my numbers SEVEN ...",
# "my birthdays MARCH ninth", "my names JOHN"
_PLURAL_CUE_NEXT = {"number's": _NUMBERISH, "son's": _NUMBERISH, "husband's": _NUMBERISH, "birthday's": MONTHS | frozenset(ORDINALS) | {"the", "on", "is"},
                    "email's": frozenset(), "password's": frozenset()}


def _hear_cues(words):
    """Put back cue words that a recogniser misheard, where the neighbours show which word was meant (in place).

    "my sun is five" -> son; "i worked at X" -> work; "i leave in grand rapids" -> live (not before a time: "i leave
    in ten minutes", "in the morning", "in april"); "my numbers seven ..." -> number's; "my birthdays march ninth"
    -> birthday's. One token for one token, so offsets stay; no other word is touched."""
    n = len(words)
    for k in range(1, n):
        w, p = words[k], words[k - 1]
        nx = words[k + 1] if k + 1 < n else ""
        if p in POSSESSIVES and w in AFTER_POSSESSIVE:
            r = AFTER_POSSESSIVE[w]
            need = _PLURAL_CUE_NEXT.get(r)
            if need is None or nx in need or (r == "name's" and nx and nx not in FUNCTION_WORDS and
                                               nx not in ("are", "were")):
                words[k] = r
        elif w == "worked" and p in _SUBJECTS and nx in ("at", "in", "for", "on"):
            words[k] = _SUBJECTS[p]
        elif w == "leave" and p in ("i", "we", "they") and nx in ("in", "on", "near") and k + 2 < n:
            after = words[k + 2]
            if after and after not in FUNCTION_WORDS and after not in UNITS and after not in MONTHS and \
                    not is_number_word(after) and after not in ("a", "an", "the", "few", "couple", "half") and \
                    not after.endswith("day"):
                words[k] = "live"


@dataclass(frozen=True)
class Result:
    """One recognizer finding: token range [i, j), entity type, score."""
    i: int
    j: int
    type: str
    score: float
    source: str = ""


class Doc:
    __slots__ = ("text", "starts", "ends", "words", "n", "_runs", "wordset", "_nf", "_nf_before")

    def __init__(self, text):
        self.text = text
        self.starts, self.ends, self.words = [], [], []
        for m in _TOKEN.finditer(text):
            w = m.group().lower()
            if not w.isascii():
                w = fold(w)
            if not w.isalnum():
                w = _STRIP.sub("", w)
                if _DIGITS_SEP.fullmatch(w):  # written digits from a recogniser that formats numbers: 555-123-4567
                    w = re.sub(r"\D", "", w)
            self.starts.append(m.start())
            self.ends.append(m.end())
            self.words.append(w)
        self.n = len(self.words)
        _hear_cues(self.words)
        self.wordset = frozenset(self.words + [w[:-2] for w in self.words if w.endswith("'s")])
        self._runs = {}
        self._nf = None
        self._nf_before = None

    def w(self, i):
        return self.words[i] if 0 <= i < self.n else ""

    def has_numbers(self):
        """Does any token carry a number (a number word or digits)? Lets number-only recognizers skip the rest."""
        return any(is_number_word(w) for w in self.wordset)

    def prevs(self, i, n):
        """The n words before i, nearest last, skipping fillers ("i'm uh thirty five"): a tuple, padded with ""."""
        if self._nf is None:
            self._nf, self._nf_before = [], []
            for w in self.words:
                self._nf_before.append(len(self._nf))
                if w and w not in FILLERS:
                    self._nf.append(w)
            self._nf_before.append(len(self._nf))
        k = self._nf_before[i] if i < self.n else self._nf_before[self.n]
        got = tuple(self._nf[max(0, k - n):k])
        return ("",) * (n - len(got)) + got

    # ------------------------------------------------------------ number / code runs
    def is_core(self, i, letters=False, homophones=False, nato=True):
        """Can token i carry digits (or letters, for codes) by itself?"""
        w = self.w(i)
        if not w:
            return False
        if w in ("oh", "o"):
            # "oh" is zero only next to another number word ("oh seven", "five oh five")
            if self._num_near(i) or (letters and w == "o"):
                return True
            if letters:  # inside a spelled code "oh" is a zero next to letters too ("c eight p oh")
                for k in (i - 1, i + 1):
                    v = self.w(k)
                    if (len(v) == 1 and v in LETTERS) or v in NATO:
                        return True
            return False
        if w in REPEATERS:
            return self.is_core(i + 1, letters, homophones, nato) and self.w(i + 1) not in REPEATERS
        if w.isdigit() or w in DIGIT_WORDS or w in TEENS or w in TENS or w in SCALES:
            return True
        if homophones and w in DIGIT_HOMOPHONES:
            # a homophone counts only between other number words ("four six for nine")
            return self._plain_num(i - 1) or self._plain_num(i + 1)
        if letters:
            if len(w) == 1 and w in LETTERS:
                return True
            if nato and (w in NATO or w in LETTER_NAMES):
                return True
            if re.fullmatch(r"[a-z0-9]+", w) and any(c.isdigit() for c in w):
                return True  # "4b", "a12"
        return False

    def _plain_num(self, i):
        w = self.w(i)
        return bool(w) and (w.isdigit() or w in DIGIT_WORDS and w not in ("oh", "o") or w in TEENS or w in TENS)

    def _num_near(self, i):
        """Is there a real number word next to token i, looking past fillers, pauses and other "oh"s?"""
        for step in (-1, 1):
            k = i + step
            for _ in range(4):
                w = self.w(k)
                if not (0 <= k < self.n):
                    break
                if w.isdigit() or (w in DIGIT_WORDS and w not in ("oh", "o")) or w in TEENS or w in TENS or \
                        w in REPEATERS:
                    return True
                if w in ("oh", "o") or w in FILLERS or not w:
                    k += step
                    continue
                break
        return False

    def run(self, i, letters=False, homophones=False, nato=True, gap=0):
        """End index of the number (or code) run starting at token i; i itself when token i is not a core token.

        Fillers, joiners ("dash"), "and" inside a cardinal, self-corrections ("no sorry", "i mean") and spelling aids
        ("b as in boy") belong to the run when more of the number follows them. `gap` allows that many unknown tokens
        between core tokens (a garbled digit inside a number that a cue introduced)."""
        key = (i, letters, homophones, nato, gap)
        if key in self._runs:
            return self._runs[key]
        j, last, gaps = i, i, gap
        if not self.is_core(i, letters, homophones, nato):
            self._runs[key] = i
            return i
        while j < self.n:
            if self.words[j] == "one" and self.w(j + 1) in ("sec", "second", "moment", "minute") and last - i >= 2:
                h = self._hesitation_end(j)  # "six zero four ONE SEC five zero": not the digit one
                if h > j + 1 and self.is_core(h, letters, homophones, nato):
                    j = h
                    continue
            if self.is_core(j, letters, homophones, nato):
                j += 1
                last = j
                continue
            w = self.words[j]
            if last - i >= 2:
                # "six one seven, hold on, four four two, let me check, ...": the number goes on after a hesitation
                h = self._hesitation_end(j)
                if h > j and self.is_core(h, letters, homophones, nato) and \
                        not (self.w(h) in ("one",) and self.w(h + 1) in ("sec", "second", "moment")):
                    j = h
                    continue
            # "seven k and d four four one": in a code with letters, "and" is the letter n misheard
            if letters and w == "and" and any(len(self.words[k]) == 1 and self.words[k] in LETTERS
                                              for k in range(i, j)) and self.is_core(j + 1, letters, homophones, nato):
                j += 1
                last = j
                continue
            # spelling aid: "b as in boy"
            if letters and w == "as" and self.w(j + 1) == "in" and j + 2 < self.n and last == j:
                j += 3
                last = j
                continue
            skip = 0
            if not w or w in FILLERS or w in NUMBER_JOINERS or w in CORRECTIONS or w in ("and", "then", "like",
                                                                                          "point", "dot"):
                skip = 1  # an empty word is a pause written as punctuation ("five five ... one two")
            elif w == "i" and self.w(j + 1) == "mean":
                skip = 2
            elif w == "let" and self.w(j + 1) == "me":
                skip = 2
            elif w in ("that's", "thats", "it's", "its", "is") and self.w(j + 1) in CORRECTIONS | {"wrong"}:
                skip = 1
            if skip:
                # look ahead past more fillers/corrections for a core token
                k = j + skip
                while k < self.n and k - j < 6 and (self.words[k] in FILLERS or self.words[k] in CORRECTIONS
                                                   or self.words[k] in _RESTART or not self.words[k]):
                    k += 1
                if w == "and" and not (self.w(j - 1) in SCALES or self.w(j - 1) in ("hundred", "thousand")):
                    break
                if self.is_core(k, letters, homophones, nato):
                    j = k
                    continue
                break
            if gaps > 0 and self.is_core(j + 1, letters, homophones, nato) and not w in ("and", "or", "at", "is"):
                gaps -= 1
                j += 1
                continue
            break
        if letters:
            last = self.code_end(i, last)
        self._runs[key] = last
        return last

    def runs(self):
        """(start, end) of each number run, left to right, each read once (linear in the text's length)."""
        i = 0
        while i < self.n:
            j = self.run(i)
            if j == i:
                i += 1
                continue
            yield i, j
            i = j

    def code_end(self, i, last):
        """End of a spelled code [i, last) without a trailing pronoun "i" or article "a" ("... zero four I said")."""
        while last - 1 > i and last < self.n and (
                self.words[last - 1] == "i" and self.words[last] not in _NOT_CODE_AFTER_I or
                self.words[last - 1] == "a" and self.words[last] not in FUNCTION_WORDS | VALUE_STOP):
            last -= 1
        return last

    def _hesitation_end(self, j):
        """Index after a stretch of hesitation phrases, fillers and pauses starting at j (at most _MAX_HESITATION
        tokens); j itself when there is none."""
        k = j
        while k < self.n and k - j < _MAX_HESITATION:
            w = self.words[k]
            if not w or w in FILLERS:
                k += 1
                continue
            for h in _HESITATION_INDEX.get(w, ()):
                if tuple(self.words[k:k + len(h)]) == h and k + len(h) - j <= _MAX_HESITATION:
                    k += len(h)
                    break
            else:
                break
        return k

    def digits(self, i, j, homophones=False):
        return "".join(s for s, _, _ in spoken_groups(self.words[i:j], homophones) if s != "<fix>")

    def code(self, i, j):
        """Compact alphanumeric string for a spelled code run ("l s one four a p" -> "LS14AP")."""
        out = []
        ws = self.words[i:j]
        k = 0
        while k < len(ws):
            w = ws[k]
            if is_number_word(w, True) or w in ("oh", "o") and k > 0:
                m = k
                while m < len(ws) and (is_number_word(ws[m], True) or ws[m] in ("oh", "o", "and")):
                    m += 1
                out.append("".join(s for s, _, _ in spoken_groups(ws[k:m], True) if s != "<fix>"))
                k = m
                continue
            if len(w) == 1 and w in LETTERS:
                out.append(w.upper())
            elif w in NATO:
                out.append(NATO[w].upper())
            elif w in LETTER_NAMES:
                out.append(LETTER_NAMES[w].upper())
            elif w.isalnum() and any(c.isdigit() for c in w):
                out.append(w.upper())
            k += 1
        return "".join(out)

    def groups(self, i, j):
        return sum(1 for s, _, _ in spoken_groups(self.words[i:j]) if s != "<fix>")

    def phrase_at(self, i, phrase):
        """Does the tuple `phrase` match the words at i?"""
        return tuple(self.words[i:i + len(phrase)]) == phrase
