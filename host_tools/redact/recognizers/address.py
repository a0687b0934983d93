"""Street addresses (house number, street, type, unit, city) and the postcode after them; the
"my address is ..." and "zip code ..." cue slots.
"""

from ..doc import Result
from ..lexicon import (FUNCTION_WORDS, LETTERS, MATH_WORDS, ORDINALS, PLACE_NAMES, STREET_TYPES, TENS, UNITS,
                       UNIT_WORDS, US_STATES, VALUE_STOP)
from ..names import english_words
from ..numbers import is_number_word
from .base import CueValueRecognizer, Recognizer, cue_type_before


def cue_recognizers():
    """Cue slots of postcodes and addresses."""
    R = CueValueRecognizer
    return [
        R("POSTCODE", ["zip", "zip code", "zipcode", "postcode", "post code", "postal code"], "code", 0.9),
        R("ADDRESS", ["address", "home address", "billing address", "shipping address", "mailing address",
                      "delivery address", "street address", "postal address", "new address"], "words", 0.8,
          neg_before={"email", "e-mail", "mac", "ip", "web", "website", "wallet", "bitcoin", "crypto", "return"}),
    ]


_NAME_BLOCK = FUNCTION_WORDS | VALUE_STOP | UNITS | MATH_WORDS | frozenset("zip postcode postal".split())


_ARTICLES_PREPS = frozenset("the a an to in on at of and or for from my your by with into per".split())


class AddressRecognizer(Recognizer):
    """House number + street name + street type [+ unit] [+ city/state]; a zip right after it is a POSTCODE."""
    entity = "ADDRESS"
    name = "address"

    def analyze(self, doc, ctx):
        res = []
        eng = english_words()
        for b in range(doc.n):
            # "p o box 4412", "po box", "post office box"
            if doc.words[b] == "box" and (doc.w(b - 1) in ("po", "p.o") or doc.prevs(b, 2) in (("p", "o"),
                                                                                            ("post", "office"))):
                a0 = b - (1 if doc.w(b - 1) in ("po", "p.o") else 2)
                j = doc.run(b + 1, letters=True, nato=False)
                if j > b + 1:
                    res.append(Result(a0, j, "ADDRESS", 0.9, self.name))
        i = 0
        while i < doc.n:
            j = doc.run(i, letters=False)
            if j == i:
                i += 1
                continue
            # a letter right after the house number ("twelve b baker street")
            hj = j
            if len(doc.w(hj)) == 1 and doc.w(hj) in LETTERS and doc.w(hj) not in ("a", "i"):
                hj += 1
            t = self._street_type(doc, hj)
            if t is None or len(doc.digits(i, j)) > 6:
                i = j
                continue
            end = t + 1
            # unit: "suite six a", "apartment four b", "unit eleven"
            if doc.w(end) in UNIT_WORDS or doc.w(end) == "#":
                u = doc.run(end + 1, letters=True, nato=False)
                if u > end + 1:
                    end = u
            # city / state: proper nouns (not dictionary words) or state names, up to three; also after "in"
            # ("forty two elm street IN springfield")
            c0 = end + 1 if doc.w(end) == "in" else end
            c = c0
            while c < doc.n and c - c0 < 3:
                w = doc.words[c]
                if w in US_STATES or w in PLACE_NAMES or (w not in eng and w not in _NAME_BLOCK and not is_number_word(w)
                                      and not w.endswith("'s")):
                    c += 1
                    continue
                if w not in _NAME_BLOCK and doc.w(c + 1) in US_STATES:  # "savannah georgia"
                    c += 2
                    continue
                if w in ("new", "north", "south", "west", "east", "saint", "st", "san", "los", "las", "fort") and \
                        c + 1 < doc.n and doc.words[c + 1] not in eng:
                    c += 1
                    continue
                break
            if c > c0:
                end = c
            # a city that is also a word ("savannah", "reading") before a zip code or at the end of the utterance
            k = end
            while k < doc.n and k - end < 2 and doc.words[k].isalpha() and doc.words[k] not in _NAME_BLOCK and \
                    doc.words[k] not in UNIT_WORDS and not is_number_word(doc.words[k]):
                k += 1
            if k > end and (k == doc.n or len(doc.digits(k, doc.run(k))) in (5, 9)):
                end = k
            # ASR can split a house number with a stray letter ("four k two elm street" for "forty two"): the
            # number before the letter belongs to the address too, or part of the house number stays readable
            a0 = i
            while a0 >= 2 and len(doc.w(a0 - 1)) == 1 and doc.w(a0 - 1) in LETTERS and \
                    doc.w(a0 - 1) not in ("a", "i") and doc.is_core(a0 - 2):
                a0 -= 2
                while a0 >= 1 and doc.is_core(a0 - 1):
                    a0 -= 1
            score = 0.9 if cue_type_before(doc, a0, 4) != "PHONE" else 0.8
            res.append(Result(a0, end, "ADDRESS", score, self.name))
            # zip right after
            z = end
            if doc.w(z) in ("zip", "postcode", "postal"):
                while doc.w(z) in ("zip", "code", "postcode", "postal", "is"):
                    z += 1
            zj = doc.run(z)
            if zj > z and len(doc.digits(z, zj)) in (5, 9):
                res.append(Result(z, zj, "POSTCODE", 0.85, self.name))
            i = max(end, j)
        return res

    @staticmethod
    def _street_type(doc, j):
        """Index of a street-type word within 1-4 name tokens after j, else None."""
        k = j
        names = 0
        while k < doc.n and k - j <= 4:
            w = doc.words[k]
            if w in STREET_TYPES and names >= 1:
                return k
            if w in STREET_TYPES and names == 0 and doc.w(k + 1) in STREET_TYPES:
                return None  # "a two way street"
            if w in _NAME_BLOCK and w not in ("saint", "st", "old", "new") and not (
                    doc.w(k + 1) in STREET_TYPES and w not in _ARTICLES_PREPS and w not in UNITS and names == 0):
                return None  # ... but "still road", "root road" are streets
            if is_number_word(w) and not (w in TENS and doc.w(k + 1) in ORDINALS):
                return None
            names += 1
            k += 1
        return None
