"""E-mail addresses in spoken form: "john dot smith at gmail dot com"."""

from ..doc import Result
from ..lexicon import EMAIL_JOINERS, EMAIL_PROVIDERS, EMAIL_TLDS, FUNCTION_WORDS, RELATIONS, VALUE_STOP
from ..names import english_words
from ..numbers import is_number_word
from .base import Recognizer


_EMAIL_STOP = FUNCTION_WORDS | VALUE_STOP | frozenset(
    "email e-mail mail address contact send report message write reply forward cc bcc is me at".split())


_SENDING = frozenset("send sent email e-mail mail forward cc bcc reply write contact reach".split())
_NOT_LOCAL = frozenset("me us him her them you it is at email mail address was are be".split())


class EmailRecognizer(Recognizer):
    """"john dot smith at gmail dot com": a local part, "at", and a domain that ends in a known TLD after "dot" or is
    a known mail provider. The local part runs back over names, letters, number words and dot/underscore."""
    entity = "EMAIL"
    name = "email"

    def analyze(self, doc, ctx):
        res = []
        for a, w in enumerate(doc.words):
            if "@" in w and "." in w:
                res.append(Result(a, a + 1, "EMAIL", 0.95, self.name))
                continue
            if doc.w(a + 1) == "dot" and len(w) >= 4 and w.isalnum() and w not in english_words() and \
                    not is_number_word(w) and w not in EMAIL_PROVIDERS and \
                    _SENDING & set(doc.words[max(0, a - 6):a]):
                # "send the report to jashmitadoutlook dot com": the recogniser ran the address together
                end = self._domain(doc, a)
                if end is not None and end > a + 1:
                    res.append(Result(a, end, "EMAIL", 0.9, self.name))
                    continue
            if w not in ("at", "@") or a == 0:
                continue
            d_end = self._domain(doc, a + 1)
            if d_end is None:
                continue
            start = self._local(doc, a)
            if start is None:
                prev = doc.words[a - 1]
                if " dot " in " " + " ".join(doc.words[a + 1:d_end]) + " " and prev.isalpha() and \
                        prev not in _NOT_LOCAL:
                    start = a - 1  # "hello at samjones dot co dot uk": the domain is evidence enough
                else:
                    continue
            res.append(Result(start, d_end, "EMAIL", 0.9, self.name))
        return res

    @staticmethod
    def _domain(doc, k):
        j = k
        saw_dot = False
        end = None
        while j < doc.n and j - k < 8:
            w = doc.words[j]
            if w in ("dot", "period", "point") and j + 1 < doc.n:
                saw_dot = True
                j += 1
                continue
            if len(w) == 1 and j + 1 < doc.n and doc.words[j + 1] not in VALUE_STOP and \
                    doc.words[j + 1] not in FUNCTION_WORDS:
                j += 1  # a provider split by the recogniser: "a cloud" (icloud), "g mail", "e mail"
                continue
            if w in FUNCTION_WORDS and w not in EMAIL_TLDS or w in VALUE_STOP and w not in EMAIL_TLDS:
                break
            if saw_dot and w in EMAIL_TLDS:
                end = j + 1
            j += 1
            if j - k == 1 and w in EMAIL_PROVIDERS and end is None:
                end = j
        if end is None:
            return None
        # a provider alone ("at gmail") needs nothing more; otherwise a dot and a TLD were required above
        return end

    @staticmethod
    def _local(doc, a):
        k = a - 1
        words = 0
        start = None
        while k >= 0 and a - k <= 8:
            w = doc.words[k]
            if w in EMAIL_JOINERS:
                k -= 1
                continue
            if is_number_word(w) and w not in ("a",):
                start = k
                k -= 1
                continue
            if w in ("a", "i") and (start is None or len(doc.words[start]) == 1) and k > 0 and \
                    len(doc.words[k - 1]) == 1 and doc.words[k - 1].isalpha():
                start = k  # a spelled local part: "d r o s s i at outlook dot com"
                k -= 1
                continue
            if w in ("a", "i") and start is not None and (k == 0 or doc.words[k - 1] in _EMAIL_STOP):
                start = k  # an initial: "a kowalski at outlook dot com"
                k -= 1
                break
            if w in _EMAIL_STOP or w in RELATIONS:
                break
            if len(w) == 1 or w.isalnum():
                words += 1
                if words > 3 and not (len(w) == 1):
                    break
                start = k
                k -= 1
                continue
            break
        if start is not None and doc.words[start] in EMAIL_JOINERS:
            start += 1
        return start
