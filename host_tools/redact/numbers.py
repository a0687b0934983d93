"""Spoken numbers -> digit strings.

Handles the ways people say numbers to a voice assistant:
- digit by digit ("five five five"), with "oh"/"o"/"zero"/"nought" for 0;
- "double seven", "triple zero";
- cardinals ("thirty four", "two hundred and six", "two thousand ten", "twenty one hundred");
- years and grouped pairs ("nineteen eighty five" -> 1985, "twenty oh five" -> 2005);
- digits already written as digits ("555", "5551234");
- fillers inside the number ("five uh five") are skipped;
- self-corrections ("four one two, no, sorry, four one three") keep the corrected digits.

`spoken_digits(words)` returns the digit string; `spoken_value(words)` the integer. `is_number_word(w)` tells which
tokens can belong to a number. `text2num` was measured and left: it gives no token offsets, reads "oh"/"double" as
words, and joins "zero two" into "02" inside sequences (docs in the redaction report).
"""
from .lexicon import (CORRECTIONS, DIGIT_HOMOPHONES, DIGIT_WORDS, FILLERS, NUMBER_JOINERS, REPEATERS, SCALES,
                      TEENS, TENS)

# A clear bound: no real number has more digits than this (an IBAN has 34). Longer digit strings are still read
# (spoken_digits), but have no integer value (spoken_value -> None) and a cardinal stops growing ("one hundred hundred
# hundred ..." starts new groups), so 5,000 number words never reach Python's int/str conversion limit.
MAX_VALUE_DIGITS = 100
_MAX_VALUE = 10 ** MAX_VALUE_DIGITS

_UNITS = {w: v for w, v in DIGIT_WORDS.items() if v > 0 and w not in ("oh", "o")}


def is_digit_token(w):
    return w.isdigit()


def is_number_word(w, homophones=False):
    """A token that can be part of a spoken number by itself (not fillers or joiners)."""
    return (w in DIGIT_WORDS or w in TEENS or w in TENS or w in SCALES or w in REPEATERS or w.isdigit()
            or (homophones and w in DIGIT_HOMOPHONES))


def _small(ws, i, homophones):
    """Parse 0..99 at ws[i]: tens [unit] | teen | digit word | digit token. -> (string, value, next index) or None."""
    if i >= len(ws):
        return None
    w = ws[i]
    if w in TENS:
        v = TENS[w]
        if i + 1 < len(ws) and ws[i + 1] in _UNITS:
            return v + _UNITS[ws[i + 1]], i + 2
        return v, i + 1
    if w in TEENS:
        return TEENS[w], i + 1
    if w in DIGIT_WORDS:
        return DIGIT_WORDS[w], i + 1
    if homophones and w in DIGIT_HOMOPHONES:
        return DIGIT_HOMOPHONES[w], i + 1
    return None


def _is_digit_word(ws, i, homophones):
    return i < len(ws) and (ws[i] in DIGIT_WORDS or (homophones and ws[i] in DIGIT_HOMOPHONES))


def _group(ws, i, homophones):
    """One spoken group at ws[i] -> (digit string, next index) or None.

    A group is a digit token, "double/triple X", or a cardinal up to the millions. After "hundred", a single digit word
    that is itself followed by another digit word is NOT folded in ("eight hundred five five five" is 800 555, but
    "one hundred five" is 105): that is how phone numbers are read out.
    """
    w = ws[i]
    if w.isdigit():
        return w, i + 1
    if w in REPEATERS:
        n = REPEATERS[w]
        if i + 1 < len(ws):
            if ws[i + 1].isdigit() and len(ws[i + 1]) == 1:
                return ws[i + 1] * n, i + 2
            if _is_digit_word(ws, i + 1, homophones):
                d = DIGIT_WORDS.get(ws[i + 1], DIGIT_HOMOPHONES.get(ws[i + 1]))
                return str(d) * n, i + 2
        return None
    total, j = 0, i
    cur = _small(ws, j, homophones)
    if cur is None:
        if w in SCALES:  # bare "hundred"/"thousand" ("a hundred")
            return str(SCALES[w]), i + 1
        return None
    val, j = cur
    if ws[i] in ("oh", "o", "zero", "nought", "naught", "nil"):
        return "0", j
    seen_scale = False
    while j < len(ws) and ws[j] in SCALES and total + val * SCALES[ws[j]] < _MAX_VALUE:
        scale = SCALES[ws[j]]
        j += 1
        seen_scale = True
        if scale == 100:
            val *= 100
        else:
            total += val * scale
            val = 0
        k = j + 1 if (j < len(ws) and ws[j] == "and" and j + 1 < len(ws) and _small(ws, j + 1, homophones)) else j
        nxt = _small(ws, k, homophones) if k < len(ws) else None
        if nxt is None:
            continue
        # "eight hundred five five five": a lone digit word followed by another digit word starts a new group
        if ws[k] in DIGIT_WORDS and _is_digit_word(ws, k + 1, homophones):
            break
        if ws[k] in ("oh", "o", "zero", "nought", "naught", "nil"):
            break
        if k + 1 < len(ws) and ws[k + 1] in SCALES:  # "two thousand three hundred"
            v2, j2 = nxt
            val, j = v2, j2
            continue
        v2, j = nxt
        val += v2
    total += val
    if not seen_scale:
        return str(val), j
    return str(total), j


def spoken_groups(words, homophones=False):
    """Split a spoken number run into groups: list of (digit string, first word index, end word index).

    Fillers and joiners are skipped; a correction word yields the marker ("<fix>", i, i + 1).
    Unknown words are skipped too (the caller decides what belongs to a run)."""
    ws = [w.lower() for w in words]
    out, i = [], 0
    while i < len(ws):
        w = ws[i]
        if w in FILLERS or w in NUMBER_JOINERS or w == "and":
            i += 1
            continue
        if w in CORRECTIONS or (w == "i" and i + 1 < len(ws) and ws[i + 1] == "mean"):
            out.append(("<fix>", i, i + 1))
            i += 2 if w == "i" else 1
            continue
        g = _group(ws, i, homophones) if is_number_word(w, homophones) else None
        if g is None:
            i += 1
            continue
        s, j = g
        out.append((s, i, j))
        i = j
    return out


def spoken_digits(words, homophones=False):
    """The digit string a speaker meant: "oh seven double four" -> "0744"; corrections keep the corrected digits."""
    segs, cur = [], ""
    for s, _, _ in spoken_groups(words, homophones):
        if s == "<fix>":
            segs.append(cur)
            cur = ""
        else:
            cur += s
    segs.append(cur)
    result = segs[0]
    for seg in segs[1:]:
        if not seg:
            continue
        if len(seg) <= len(result):
            result = result[: len(result) - len(seg)] + seg
        else:
            result = seg
    return result


def spoken_value(words, homophones=False):
    """Integer value of a spoken number ("two hundred thirty four" -> 234, "nineteen eighty five" -> 1985), or None
    (no number, or more than MAX_VALUE_DIGITS digits)."""
    d = spoken_digits(words, homophones)
    return int(d) if d and len(d) <= MAX_VALUE_DIGITS else None


def count_groups(words):
    return sum(1 for s, _, _ in spoken_groups(words) if s != "<fix>")


def luhn_ok(digits):
    """Luhn check (cards, IMEI). Raises confidence only; never required."""
    if not digits.isdigit() or len(digits) < 12:
        return False
    total = 0
    for k, ch in enumerate(reversed(digits)):
        d = int(ch)
        if k % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0
