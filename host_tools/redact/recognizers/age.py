"""The age of a specific person: "i'm thirty two", "my son is five", "she turns eight"."""

from ..doc import Result
from ..lexicon import MATH_WORDS, MONTHS, RELATIONS, UNITS
from ..names import english_words, first_names
from .base import Recognizer


_AGE_SUBJECT = frozenset("i'm im he's she's hes shes they're".split())
_AGE_NEG_NEXT = UNITS | MATH_WORDS | frozenset("away behind ahead late early short over under out of for on at in "
                                               "to percent points blocks stops floors feet foot step block stop "
                                               "floor level point more less too".split())


_POSS = frozenset("my our his her their your".split())
# "my LITTLE brother", "our YOUNGEST", "my BABY sister"
_REL_ADJ = frozenset("little big older younger oldest youngest eldest elder baby middle twin step new best ex".split())
_HEDGES = frozenset("nearly almost about just only barely already still now over under like exactly".split())
_AGE_AT_NEXT = frozenset("i i'm i've i'd he she he's she's we my his her you you're".split())
_DECADES = frozenset("teens twenties thirties forties fifties sixties seventies eighties nineties".split())
_FRACTIONS = [tuple(f.split()) for f in ("and a half", "and a quarter", "and three quarters", "and a bit")]


class AgeRecognizer(Recognizer):
    """"i'm thirty two years old", "my son is five", "she turns eight", "a sixty five year old woman"."""
    entity = "AGE"
    name = "age"

    def analyze(self, doc, ctx):
        res = []
        if not doc.wordset.isdisjoint(_DECADES):
            self._decades(doc, res)
        if not doc.has_numbers():
            return res
        for i, j in doc.runs():
            val = doc.digits(i, j)
            if not val or not val.isdigit() or len(val) > 3 or int(val) > 125 or doc.groups(i, j) > 2:
                continue
            nxt, nxt2 = doc.w(j), doc.w(j + 1)
            if nxt in ("years", "year", "yrs", "yr", "months", "month", "weeks", "week") and nxt2 in (
                    "old", "of", "olds", "sold", "ol", "older", "young") or nxt in ("year-old", "years-old"):
                if nxt2 == "of" and doc.w(j + 2) != "age":
                    continue
                res.append(Result(i, j, "AGE", 0.85, self.name))
                continue
            h = i
            while doc.w(h - 1) in _HEDGES and h - i > -2:
                h -= 1  # "she's NEARLY eleven", "he's ONLY two", "i'm ALMOST forty"
            p5, p4, p3, p2, p1 = doc.prevs(h, 5)
            if p2 == "law" and p3 == "in" and p4 in RELATIONS:
                p3, p2 = p5, p4  # "my sister in law is fifty"
            later = nxt == "in" and (nxt2 in MONTHS or nxt2 in ("the", "a")) and p1 in ("be", "turn", "turns")
            if nxt in UNITS or nxt in MATH_WORDS or (nxt in _AGE_NEG_NEXT and p1 not in ("turns", "turned",
                                                                                          "turning", "turn") and not later):
                continue  # ... but "i'll be sixty IN JUNE" is an age
            if p1 in _AGE_SUBJECT or (p1 == "am" and p2 == "i") or (p1 == "is" and p2 in ("he", "she")):
                res.append(Result(i, j, "AGE", 0.75, self.name))
            elif i == 1 and doc.words[0] == "at" and 13 <= int(val) <= 110 and nxt in _AGE_AT_NEXT:
                res.append(Result(i, j, "AGE", 0.7, self.name))  # "at forty five i'm starting to run"
            elif p1 == "turn" and (p2 in RELATIONS or _looks_name(p2)):
                res.append(Result(i, j, "AGE", 0.8, self.name))  # "my twins turn five on sunday"
            elif p1 in ("turns", "turned", "turning", "aged", "age", "ages") or p1 == "turn" and p2 in (
                    "i", "we", "you", "they", "will", "to", "i'll", "he'll", "she'll", "gonna", "she", "he") or (p1 == "be" and (
                    p2 in ("i'll", "he'll", "she'll", "ill") or p2 in ("will", "gonna", "to") and p3 in _AGE_SUBJECT
                    | {"i", "he", "she", "going", "we"})):
                res.append(Result(i, j, "AGE", 0.8, self.name))
            elif p1 in ("is", "was", "'s", "are", "were") and (p2 in RELATIONS or p2 in ("age",) or _looks_name(p2)):
                if p2 in ("age",) or p2 in RELATIONS and (p3 in _POSS or p3 in _REL_ADJ and p4 in _POSS):
                    res.append(Result(i, j, "AGE", 0.8, self.name))
                elif _looks_name(p2):
                    res.append(Result(i, j, "AGE", 0.65, self.name))
            elif p1 in ("is", "'s") and p2 in ("who", "that") and set(doc.prevs(i, 6)) & RELATIONS:
                res.append(Result(i, j, "AGE", 0.7, self.name))  # "my daughter, who is seven, ..."
            elif p1.endswith("'s") and p1[:-2] in RELATIONS and p2 in ("my", "our", "his", "her"):
                res.append(Result(i, j, "AGE", 0.8, self.name))
        return [self._fraction(doc, r) for r in res]

    @staticmethod
    def _decades(doc, res):
        """"i'm in my forties", "she's in her early thirties", "he's mid twenties": an age given by its decade."""
        for i, w in enumerate(doc.words):
            if w not in _DECADES:
                continue
            a = i - 1 if doc.w(i - 1) in ("early", "mid", "late") else i
            p2, p1 = doc.w(a - 2), doc.w(a - 1)
            if p1 in _POSS and p2 == "in" or p1 in _AGE_SUBJECT or p1 == "in" and doc.w(a - 2) in _AGE_SUBJECT:
                res.append(Result(a, i + 1, "AGE", 0.75, "age"))

    @staticmethod
    def _fraction(doc, r):
        """"seventy AND A HALF", "six and three quarters": the fraction is part of the age."""
        for t in _FRACTIONS:
            if doc.phrase_at(r.j, t):
                return Result(r.i, r.j + len(t), r.type, r.score, r.source)
        return r


def _looks_name(w):
    return bool(w) and w in first_names() and w not in english_words()
