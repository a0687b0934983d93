"""What every recognizer shares: the `Recognizer` interface, the sentence `Context`, cue -> value slots
(`CueValueRecognizer` and the value readers `value_after`, `date_run`, `words_value`), and `cue_type_before`.

Each recognizer reads a `Doc` and returns `Result`s (token range, type, score). Cue words raise the score; a value
that a cue introduces is redacted even when it is not a valid number (ASR garbles digits), and check digits (Luhn)
only add confidence. The rules describe how people speak ("my number is ...", "card ending in ...", "b as in boy"),
not any particular sentence.
"""
import re

from ..doc import Result
from ..lexicon import (DIGIT_WORDS, FUNCTION_WORDS, KNOWLEDGE_CUES, MEDIA_CUES, MEDICAL_GENERAL_CUES, MONTHS,
                       ORDINALS, PERSONAL_MARKERS, SCALES, TEENS, TENS, VALUE_STOP)
from ..numbers import luhn_ok


ENTITY_TYPES = ("PERSON", "PHONE", "EMAIL", "ADDRESS", "POSTCODE", "CREDIT_CARD", "BANK_ACCOUNT", "SSN", "ID_NUMBER",
                "DATE_OF_BIRTH", "AGE", "DEVICE_ID", "MEDICAL", "PASSWORD", "LOCATION")

# words that may sit between a cue and its value: "my card number IS", "account ENDING IN", "pin IT'S", "code: "
LINKS = frozenset("""is are was were 's it's its it be falls fall would should will to of number numbers no num ending ends end
in with on as the currently now just that's thats being set change changed reset update updated new
here goes reads read":" : - = like um uh er""".split())


def tup(s):
    return tuple(s.split())


# adverbs people put inside a cue phrase: "we JUST moved to", "i CURRENTLY live in", "i'm STILL at"
CUE_ADVERBS = frozenset("""just recently finally currently actually now still also really already originally nights days
weekends mornings evenings remotely mostly usually part full time""".split())


def match_loose(doc, i, phrase):
    """End index of `phrase` matched at token i with cue adverbs allowed between its words, else None."""
    if doc.w(i) != phrase[0]:
        return None
    k = i + 1
    for p in phrase[1:]:
        while doc.w(k) in CUE_ADVERBS and doc.w(k) != p and k - i < len(phrase) + 3:
            k += 1
        if doc.w(k) != p:
            return None
        k += 1
    return k


class Recognizer:
    """Base: `analyze(doc, ctx)` -> list of Result. `entity` names the type it finds."""
    entity = ""
    name = ""

    def analyze(self, doc, ctx):  # pragma: no cover - interface
        raise NotImplementedError


_KNOWLEDGE_PHRASES = (" tell me about ", " how tall is ", " how old is ", " how rich is ", " net worth ", " married to ",
                      " look up ", " search for ", " google ", " wikipedia ", " information about ", " facts about ")


_BOOKING_NEXT = frozenset("a an it me us the my our for in under them him her".split())
_FIRST_PERSON = frozenset("i i'm i've i'd i'll im my mine we we're our".split())


class Context:
    """Sentence-level facts shared by recognizers (computed once per text)."""
    __slots__ = ("media", "knowledge", "personal", "general_health", "results")

    def __init__(self, doc):
        ws = doc.wordset
        media = ws & MEDIA_CUES
        if media == {"book"} and any(w == "book" and doc.w(k + 1) in _BOOKING_NEXT for k, w in enumerate(doc.words)):
            media = ()  # "book it under the name ...", "book a table": the verb, not a book
        self.media = bool(media)
        j = " " + " ".join(doc.words) + " "
        first_person = bool(ws & _FIRST_PERSON)
        self.knowledge = (bool(ws & KNOWLEDGE_CUES) or any(p in j for p in _KNOWLEDGE_PHRASES)) and not first_person
        self.personal = bool(ws & PERSONAL_MARKERS)
        self.general_health = bool(ws & MEDICAL_GENERAL_CUES) or doc.w(0) in ("what", "what's", "whats", "how",
                                                                              "is", "are", "can", "does", "do")
        self.results = []


# ====================================================================== cue -> value slots
class CueValueRecognizer(Recognizer):
    """A cue phrase ("routing number", "pin", "imei") followed, after link words, by a value.

    modes: "num" (a number run; spoken homophones of digits allowed), "code" (letters, NATO words and digits),
    "words" (a free value such as a password: words and numbers up to a stop word), "date" (a spoken date)."""

    def __init__(self, entity, cues, mode="num", score=0.9, max_links=4, neg_before=()):
        self.entity = entity
        self.name = f"{entity.lower()}_cue"
        self.mode = mode
        self.score = score
        self.max_links = max_links
        self.neg_before = frozenset(neg_before)
        self.cues = {}
        for c in cues:
            t = tup(c)
            self.cues.setdefault(t[0], []).append(t)
        for k in self.cues:
            self.cues[k].sort(key=len, reverse=True)

    def find_cues(self, doc):
        out = []
        if doc.wordset.isdisjoint(self.cues):
            return out
        for i, w in enumerate(doc.words):
            cands = self.cues.get(w, ())
            if not cands and w.endswith("'s"):  # "my card's last four are ..."
                b = w[:-2]
                cands = [t for t in self.cues.get(b, ()) if len(t) == 1]
                if cands and not (self.neg_before and doc.w(i - 1) in self.neg_before):
                    out.append((i, i + 1))
                continue
            for t in cands:
                if doc.phrase_at(i, t):
                    if self.neg_before and doc.w(i - 1) in self.neg_before:
                        break
                    out.append((i, i + len(t)))
                    break
        return out

    def analyze(self, doc, ctx):
        res = []
        for ci, cj in self.find_cues(doc):
            v = value_after(doc, cj, self.mode, self.max_links)
            if v and self.mode == "words" and doc.w(v[1]) in ("is", "are", "was") and v[1] - v[0] <= 2:
                # "the code TO THE GATE is 7373": what followed the cue was a qualifier, the value comes after "is"
                v2 = value_after(doc, v[1] + 1, self.mode, self.max_links)
                if v2:
                    v = v2
            if not v:
                # "the code FOR THE FRONT DOOR is ...", "the card THAT ends with ...": a few words, then a link verb
                k = cj
                while k < doc.n and k - cj < 6 and doc.words[k] not in _GAP_STOP:
                    if doc.words[k] in _LINK_VERBS and k > cj:
                        v = value_after(doc, k + 1 if doc.w(k + 1) not in ("with", "in") else k + 2, self.mode,
                                        self.max_links)
                        break
                    k += 1
            if v:
                i, j = v
                score = self.score
                if self.mode in ("num", "code") and luhn_ok(doc.digits(i, j)):
                    score = min(1.0, score + 0.05)
                res.append(Result(i, j, self.entity, score, self.name))
        return res


def value_after(doc, k, mode, max_links=4):
    """Token range of the value that follows a cue ending at k (after up to max_links link words), or None."""
    start = k
    links = 0
    verb = False
    while start < doc.n and links < max_links:
        w = doc.words[start]
        if w == "plus" and mode in ("num", "words") and doc.is_core(start + 1, homophones=True):
            j = doc.run(start + 1, letters=False, homophones=True, gap=1)
            return (start, j)
        if w in ("four", "three", "two", "five", "six") and doc.w(start - 1) in ("last", "first") and \
                doc.w(start + 1) in ("digits", "numbers", "of", "are", "is", "were"):
            start += 1  # "my card's last four are ..."
            links += 1
            continue
        if mode in ("num", "code") and doc.is_core(start, letters=(mode == "code"), homophones=True):
            # a homophone ("to", "for") starts the value only when more number follows it
            if w not in ("to", "too", "for") or doc.is_core(start + 1, mode == "code", True):
                break
        if mode == "date" and w == "the" and _dateish(doc.w(start + 1)):
            break
        if w in ("a", "i") and mode in ("code", "words") and doc.is_core(start + 1, letters=True, homophones=True,
                                                                          nato=False):
            break  # a spelled value that starts with the letter a: "my password is a r four eight"
        if w in LINKS or w in ("my", "your", "his", "her", "our", "their", "a", "an", "last", "four", "digits",
                               "first") or (w in ("code", "pin", "password", "date", "id", "number") and
                                            doc.w(start + 1) in LINKS):
            # "the last four digits are", "my card ending in": skip, but "four" only when more number follows
            if w == "four" and not (doc.w(start + 1) in ("digits", "of", "are", "is")):
                break
            verb = verb or w in _LINK_VERBS or w in ("to", ":", "as", "be", "=", "like")
            start += 1
            links += 1
            continue
        break
    if start >= doc.n:
        return None
    if mode == "num":
        j = doc.run(start, letters=False, homophones=True, gap=1)
        if j == start:
            # a spelled code where digits were expected is still the value
            j = doc.run(start, letters=True, homophones=True, nato=False, gap=1)
            if j - start < 2:
                return None
        return (start, j)
    if mode == "code":
        j = doc.run(start, letters=True, homophones=True, gap=1)
        if j == start:
            return None
        # a code must carry at least one digit or be at least three letters long
        return (start, j)
    if mode == "date":
        return date_run(doc, start)
    if mode == "words":
        if not verb and start > k and not doc.is_core(start, letters=False, homophones=True):
            return None  # "the security code ON THE BACK is ...": let the link-verb search find the value
        return words_value(doc, start)
    return None


_LINK_VERBS = frozenset("is are was were 's ends ending end it's reads says".split())
_GAP_STOP = frozenset("and but so or because then please".split())
_DATE_EXTRA = frozenset("the of slash dash and oh on".split())  # "nineteen seventy nine ON april second"


_DATE_WORDS = frozenset("""monday tuesday wednesday thursday friday saturday sunday christmas xmas eve day new year's
halloween thanksgiving easter valentine's independence""".split())


def _dateish(w):
    return (w in MONTHS or w in _DATE_WORDS or w in ORDINALS or w in TENS or w in TEENS or w in DIGIT_WORDS or w in SCALES
            or w.isdigit() or re.fullmatch(r"\d+(st|nd|rd|th)", w) is not None)


def date_run(doc, i, max_len=10):
    """Spoken date at i: "the twenty seventh of february nineteen fifty", "october twenty first", "nineteen eighty"."""
    while doc.w(i) in ("on", "in", "next", "this") and _dateish(doc.w(i + 1)) or doc.w(i) in ("next", "this") and \
            doc.w(i + 1) in _DATE_WORDS:
        i += 1
    if doc.w(i) == "the" and _dateish(doc.w(i + 1)):
        i_the = i
    else:
        i_the = None
    j = i if i_the is None else i + 1
    last = j
    while j < doc.n and j - i < max_len:
        w = doc.words[j]
        if _dateish(w):
            j += 1
            last = j
            continue
        if w in _DATE_EXTRA and j + 1 < doc.n and _dateish(doc.words[j + 1]):
            j += 1
            continue
        break
    if last == (i if i_the is None else i + 1):
        return None
    while last - 1 > i and doc.words[last - 1] in _DATE_EXTRA:
        last -= 1
    return (i, last)


def words_value(doc, i, max_tokens=6):
    """A free value (a password, a maiden name): tokens up to a stop word; a number run counts as one token."""
    j = i
    count = 0
    while j < doc.n and count < max_tokens:
        w = doc.words[j]
        if j > i and w in ("i", "a") and not doc.is_core(j + 1, letters=True, homophones=True, nato=False):
            break  # "the code is six six nine four I think", "... A bit long"
        if doc.is_core(j, letters=True, homophones=True, nato=False):
            j = max(doc.run(j, letters=True, homophones=True, nato=False), j + 1)
            count += 1
            continue
        if w in VALUE_STOP and not (j == i and w not in ("and", "so", "but", "please")):
            break
        if j == i and w in FUNCTION_WORDS and w not in ("i", "my", "all") and not (
                w == "a" and doc.is_core(j + 1, letters=True, homophones=True, nato=False)):
            break
        j += 1
        count += 1
    return (i, j) if j > i else None


# ====================================================================== context-free numbers
def cue_type_before(doc, i, window=7):
    """The entity type that a cue within `window` tokens before i points at, else None."""
    ws = doc.words[max(0, i - window):i]
    joined = " " + " ".join(ws) + " "
    for needle, t in _LOOKBACK:
        if needle in joined:
            return t
    return None


_LOOKBACK = [
    (" card ", "CREDIT_CARD"), (" visa ", "CREDIT_CARD"), (" mastercard ", "CREDIT_CARD"), (" amex ", "CREDIT_CARD"),
    (" routing ", "BANK_ACCOUNT"), (" account ", "BANK_ACCOUNT"), (" iban ", "BANK_ACCOUNT"),
    (" sort code ", "BANK_ACCOUNT"), (" social ", "SSN"), (" ssn ", "SSN"), (" imei ", "DEVICE_ID"),
    (" i m e i ", "DEVICE_ID"), (" serial ", "DEVICE_ID"), (" passport ", "ID_NUMBER"), (" license ", "ID_NUMBER"),
    (" licence ", "ID_NUMBER"), (" member ", "ID_NUMBER"), (" policy ", "ID_NUMBER"), (" zip ", "POSTCODE"),
    (" postcode ", "POSTCODE"), (" phone ", "PHONE"), (" number ", "PHONE"), (" call ", "PHONE"), (" text ", "PHONE"),
    (" cell ", "PHONE"), (" mobile ", "PHONE"),
]
