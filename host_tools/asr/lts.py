"""A crude English letter-to-sound guesser for words missing from pocketsphinx's dictionary (often names).

It is not meant to be right; it gives the aligner a phone string of about the right length, so that the word's audio
is absorbed by the word itself and its neighbours keep accurate times. The word is then still flagged
`aligned=False`, and its span widened to the gap between its aligned neighbours (fail closed).
"""
import re

_MULTI = [
    ("tion", "SH AH N"), ("sion", "ZH AH N"), ("tch", "CH"), ("sch", "SH"), ("igh", "AY"), ("eigh", "EY"),
    ("ough", "OW"), ("augh", "AO"),
    ("sh", "SH"), ("ch", "CH"), ("th", "TH"), ("ph", "F"), ("wh", "W"), ("ck", "K"), ("ng", "NG"), ("qu", "K W"),
    ("gh", ""), ("ee", "IY"), ("ea", "IY"), ("oo", "UW"), ("ou", "AW"), ("ow", "OW"), ("ai", "EY"), ("ay", "EY"),
    ("ei", "EY"), ("ey", "IY"), ("ie", "IY"), ("oa", "OW"), ("oi", "OY"), ("oy", "OY"), ("au", "AO"), ("aw", "AO"),
    ("ew", "UW"), ("er", "ER"), ("ir", "ER"), ("ur", "ER"), ("ar", "AA R"), ("or", "AO R"), ("dg", "JH"),
]
_SINGLE = {"a": "AE", "e": "EH", "i": "IH", "o": "AA", "u": "AH", "b": "B", "d": "D", "f": "F", "g": "G",
           "h": "HH", "j": "JH", "k": "K", "l": "L", "m": "M", "n": "N", "p": "P", "q": "K", "r": "R", "s": "S",
           "t": "T", "v": "V", "w": "W", "x": "K S", "z": "Z"}
VOWELS = set("aeiouy")


def guess(word: str) -> str:
    w = re.sub(r"[^a-z]", "", word.lower())
    if not w:
        return "AH"
    if w.startswith("kn") or w.startswith("wr"):
        w = w[1:]
    if len(w) > 3 and w.endswith("e") and w[-2] not in VOWELS and w[-2] != "l":
        w = w[:-1]   # silent final e
    phones, i = [], 0
    while i < len(w):
        if i + 1 < len(w) and w[i] == w[i + 1] and w[i] not in VOWELS:
            i += 1   # doubled consonant
            continue
        for pat, ph in _MULTI:
            if w.startswith(pat, i):
                if pat == "gh" and i == 0:
                    ph = "G"
                if ph:
                    phones.append(ph)
                i += len(pat)
                break
        else:
            c = w[i]
            if c == "c":
                phones.append("S" if i + 1 < len(w) and w[i + 1] in "eiy" else "K")
            elif c == "y":
                phones.append("Y" if i == 0 else ("IY" if i == len(w) - 1 else "IH"))
            elif c == "g" and i + 1 < len(w) and w[i + 1] in "ei" and i > 0:
                phones.append("JH")
            else:
                phones.append(_SINGLE.get(c, ""))
            i += 1
    out = " ".join(p for p in phones if p)
    return out or "AH"
