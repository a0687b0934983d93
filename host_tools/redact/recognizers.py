"""One recognizer per entity type, behind a registry (the shape of Presidio's RecognizerRegistry).

Each recognizer reads a `Doc` and returns `Result`s (token range, type, score). Cue words raise the score; a value
that a cue introduces is redacted even when it is not a valid number (ASR garbles digits), and check digits (Luhn)
only add confidence. The rules describe how people speak ("my number is ...", "card ending in ...", "b as in boy"),
not any particular sentence.
"""
import re

from .doc import Doc, Result
from .lexicon import (BRANDS, DIGIT_WORDS, FILLERS, PLACE_NAMES, EMAIL_JOINERS, EMAIL_PROVIDERS, EMAIL_TLDS, EMERGENCY_NUMBERS, FUNCTION_WORDS,
                      KNOWLEDGE_CUES, LETTERS, MATH_WORDS, MEDIA_CUES, MEDICAL_GENERAL_CUES, MEDICAL_HEADS,
                      MEDICAL_PHRASES, MEDICAL_TERMS, MONTHS, NATO, NONPERSONAL_NUMBER_OWNERS, ORDINALS,
                      PERSONAL_MARKERS, RELATIONS, SCALES, STREET_TYPES, TEENS, TENS, TITLES, UNIT_WORDS, UNITS,
                      US_STATES, VALUE_STOP)
from .names import english_words, first_names, last_names
from .numbers import is_number_word, luhn_ok

ENTITY_TYPES = ("PERSON", "PHONE", "EMAIL", "ADDRESS", "POSTCODE", "CREDIT_CARD", "BANK_ACCOUNT", "SSN", "ID_NUMBER",
                "DATE_OF_BIRTH", "AGE", "DEVICE_ID", "MEDICAL", "PASSWORD", "LOCATION")

# words that may sit between a cue and its value: "my card number IS", "account ENDING IN", "pin IT'S", "code: "
LINKS = frozenset("""is are was were 's it's its it be falls fall would should will to of number numbers no num ending ends end
in with on as the currently now just that's thats being set change changed reset update updated new
here goes reads read":" : - = like um uh er""".split())


def _tup(s):
    return tuple(s.split())


class Recognizer:
    """Base: `analyze(doc, ctx)` -> list of Result. `entity` names the type it finds."""
    entity = ""
    name = ""

    def analyze(self, doc, ctx):  # pragma: no cover - interface
        raise NotImplementedError


_KNOWLEDGE_PHRASES = (" tell me about ", " how tall is ", " how old is ", " how rich is ", " net worth ", " married to ",
                      " look up ", " search for ", " google ", " wikipedia ", " information about ", " facts about ")


_FIRST_PERSON = frozenset("i i'm i've i'd i'll im my mine we we're our".split())


class Context:
    """Sentence-level facts shared by recognizers (computed once per text)."""
    __slots__ = ("media", "knowledge", "personal", "general_health", "results")

    def __init__(self, doc):
        ws = doc.wordset
        self.media = bool(ws & MEDIA_CUES)
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
            t = _tup(c)
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
_DATE_EXTRA = frozenset("the of slash dash and oh".split())


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
def _cue_type_before(doc, i, window=7):
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
_PHONE_VERBS = frozenset("call dial ring phone text sms whatsapp save add reach contact at on is".split())


class DigitSequenceRecognizer(Recognizer):
    """Long digit-by-digit numbers are identifiers whatever surrounds them (phones, cards, accounts, IMEIs).

    A run of >= 7 digits read in >= 3 groups is redacted without any cue; a cardinal ("one million") is a quantity.
    Shorter runs right after a calling verb ("call four five six seven") are phone numbers, except emergency numbers."""
    entity = "PHONE"
    name = "digit_sequence"

    def analyze(self, doc, ctx):
        if not doc.has_numbers():
            return []
        res = []
        i = 0
        while i < doc.n:
            j = doc.run(i)
            if j == i:
                i += 1
                continue
            digits = doc.digits(i, j)
            groups = doc.groups(i, j)
            prev = doc.w(i - 1)
            nonpersonal = bool(set(doc.words[max(0, i - 3):i]) & NONPERSONAL_NUMBER_OWNERS) and not (
                set(doc.words[max(0, i - 3):i]) & {"phone", "card", "account", "social", "cell", "mobile"})
            after = doc.w(j)
            quantity = after in UNITS or after in MATH_WORDS or prev in MATH_WORDS
            written = any(doc.words[k].isdigit() and len(doc.words[k]) >= 7 for k in range(i, j))
            if len(digits) >= 7 and (groups >= 3 or written) and not nonpersonal and not (quantity and groups <= 3):
                t = _cue_type_before(doc, i) or self._by_shape(digits)
                score = 0.75 + (0.1 if luhn_ok(digits) else 0.0)
                res.append(Result(i, j, t, score, self.name))
            elif prev in ("call", "dial", "ring", "phone", "text") and len(digits) >= 3 and \
                    digits not in EMERGENCY_NUMBERS and not quantity and groups >= 3:
                res.append(Result(i, j, "PHONE", 0.7, self.name))
            i = j
        return res

    @staticmethod
    def _by_shape(d):
        if len(d) == 15 and luhn_ok(d) and d[:2] in ("35", "86", "01", "99", "49", "44"):
            return "DEVICE_ID"
        if 13 <= len(d) <= 19:
            return "CREDIT_CARD"
        return "PHONE"


_UK_POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}$")
_CODE_NEG = frozenset("flight gate seat platform terminal channel room table row track episode season chapter page "
                      "version model size vitamin interstate route highway bus train".split())


class SpelledCodeRecognizer(Recognizer):
    """Letters and digits spelled out together ("k z r zero four", "l s one four a p") are codes: IDs, plates,
    postcodes. Context-free; UK postcodes are recognised by their shape."""
    entity = "ID_NUMBER"
    name = "spelled_code"

    def analyze(self, doc, ctx):
        res = []
        i = 0
        while i < doc.n:
            w = doc.words[i]
            if w in ("a", "i") or not doc.is_core(i, letters=True, nato=False):
                i += 1
                continue
            j = doc.run(i, letters=True, nato=False)
            if j == i:
                i += 1
                continue
            code = doc.code(i, j)
            letters = sum(1 for k in range(i, j) if len(doc.words[k]) == 1 and doc.words[k] in LETTERS)
            ndig = sum(c.isdigit() for c in code)
            if set(doc.words[max(0, i - 3):i]) & _CODE_NEG:
                i = j
                continue
            if _UK_POSTCODE.match(code):
                res.append(Result(i, j, "POSTCODE", 0.8, self.name))
            elif letters >= 1 and ndig >= 3 and len(code) >= 5:
                res.append(Result(i, j, _cue_type_before(doc, i) or "ID_NUMBER", 0.7, self.name))
            i = j
        return res


# ====================================================================== e-mail
_EMAIL_STOP = FUNCTION_WORDS | VALUE_STOP | frozenset(
    "email e-mail mail address contact send report message write reply forward cc bcc is me at".split())


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


# ====================================================================== addresses, postcodes, locations
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
            # city / state: proper nouns (not dictionary words) or state names, up to three
            c = end
            while c < doc.n and c - end < 3:
                w = doc.words[c]
                if w in US_STATES or (w not in eng and w not in _NAME_BLOCK and not is_number_word(w)
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
            score = 0.9 if _cue_type_before(doc, a0, 4) != "PHONE" else 0.8
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


_LOC_CONNECT = frozenset("of on in at near the de la".split())
_GENERIC_PLACES = frozenset("""home work school bed lunch dinner breakfast the a my office gym store shop mall bank
airport station park beach library church pharmacy supermarket restaurant bar pub cafe hotel movies cinema party
house apartment flat car doctor's dentist's doctors dentist hospital clinic game concert meeting""".split())


def _placeish(doc, v, loose=False):
    """Does the value look like a named place (a proper noun, a number, a street word; with `loose`, also any two
    content words: "canary wharf") rather than "on fire" or "great"?"""
    eng = english_words()
    content = [doc.words[k] for k in range(v[0], v[1]) if doc.words[k] not in ("the", "a", "an")]
    if loose and len(content) >= 2:
        return True
    return any(w not in eng or is_number_word(w) or w in STREET_TYPES for w in content)


def place_value(doc, i, max_len=9):
    """A place name after a location cue: tokens up to a stop word; "of/on/in/at" join two place words
    ("saint mary's hospital on fifth street")."""
    while doc.w(i) in ("near", "by", "on", "at", "in", "off") and i + 1 < doc.n:
        i += 1  # "my school is NEAR the park": the preposition is not part of the place
    j = i
    last = i
    while j < doc.n and j - i < max_len:
        w = doc.words[j]
        if w in _LOC_CONNECT and j + 1 < doc.n and doc.words[j + 1] not in VALUE_STOP and \
                doc.words[j + 1] not in FUNCTION_WORDS | {"the"}:
            if j == i and w != "the":
                break
            j += 1
            continue
        if w == "the" and j + 1 < doc.n:
            j += 1
            continue
        if j == i and w in ("my", "our", "his", "her") and doc.w(j + 1).endswith("'s"):
            j += 1  # "i'm at my mom's place on elm street"
            continue
        if w == "and" and j > i and "corner" in doc.words[i:j] and j + 1 < doc.n and \
                doc.words[j + 1] not in VALUE_STOP:
            j += 1  # "the corner of fifth and main"
            continue
        if w in VALUE_STOP or w in FUNCTION_WORDS or w in UNITS and not w == "st":
            break
        j += 1
        last = j
    if last == i:
        return None
    k = i
    while k < last and doc.words[k] in ("the", "a", "my", "our", "an"):
        k += 1
    if last - k <= 1 and (k == last or doc.words[k] in _GENERIC_PLACES):
        return None
    return (i, last)


_MY_PLACES = frozenset("""office gym school house home apartment flat dorm hotel work job workplace studio shop store
church clinic campus building condo cabin farm practice company business restaurant bakery salon college university
daycare nursery kindergarten""".split())
_WHERE_I = [_tup(c) for c in ("where i live", "where we live", "where i work", "where i'm staying", "where i am",
                                "where i'm", "where we are", "where we're staying", "where my office is",
                                "where my kids go to school", "where i grew up", "where i'm from")]


class LocationRecognizer(Recognizer):
    """Places tied to the speaker or someone they know: "i live in ...", "i'm at ...", "my office is on ...",
    "my kids go to ...", "at home in ...". Places in general requests ("weather in boston") are left alone."""
    entity = "LOCATION"
    name = "location"
    CUES = [_tup(c) for c in """
i live in|i live on|i live near|i live at|i live by|i'm living in|i am living in|we live in|we live on|we live near|
we live at|they live in|he lives in|she lives in|he lives on|she lives on|lives in|live in|living in|
i reside in|i reside at|i'm at|i am at|im at|we're at|we are at|i'm staying at|i'm staying in|i am staying at|
we're staying at|staying at|i work at|i work in|i work for|i work on|i'm working at|i work near|she works at|
he works at|works at|my office is in|my office is on|my office is at|my office is near|our office is in|
my work is in|my work is at|my job is at|my job is in|my school is|i study at|i go to school at|i'm a student at|
i teach at|i grew up in|i grew up on|i'm from|i am from|i come from|originally from|we moved to|i moved to|
i just moved to|my hometown is|my house is on|my house is in|my house is near|our house is on|my home is in|
my home is on|my apartment is on|my apartment is in|my flat is in|at home in|my home in|my house in|back home in|
i'm in|i am in|i'm currently in|i am currently in|i'm near|pick me up at|pick me up from|come get me at|
i'm currently at|i am currently at|i'm now at|i'm still at|i'm right outside|i'm outside|i am outside|we're outside|
i'm inside|i'm by|i'm right by|we're in|we are in|we're near|my hotel is|our hotel is|my hotel is in|my hotel is at|
i'm staying in|we're staying in|my office is|my workplace is|i'm based in|we're based in|i'm located at|
i'm located in|lives at|lives near|lives on|studies at|studies in|study at|teaches at|
stays at|i'm parked outside|parked outside|parked at|parked on|i'm waiting at|i'm waiting outside|waiting outside|
i'm standing at|i'm standing outside|i'm stuck at|i'm stuck on|
meet me at|i'm parked at|i'm parked on|i'm outside|born in|go to|goes to|attend|attends|i'm staying near
""".replace("\n", "").split("|") if c.strip()]

    def _after_cues(self, doc, res):
        """Cues after the place: "the weather in leeds where i live"; "i'm a nurse at X" (a job, then "at")."""
        if "where" in doc.wordset:
            for i, w in enumerate(doc.words):
                if w == "where" and any(doc.phrase_at(i, t) for t in _WHERE_I):
                    for k in range(i - 1, max(-1, i - 6), -1):
                        if doc.words[k] in ("in", "at", "near", "on"):
                            if k + 1 < i:
                                res.append(Result(k + 1, i, "LOCATION", 0.8, self.name))
                            break
                        if doc.words[k] in VALUE_STOP or doc.words[k] in FUNCTION_WORDS and doc.words[k] != "the":
                            break
        eng = english_words()
        for i in range(1, doc.n - 3):
            # "my gym is on elm street", "our office is in the fenwick tower"
            if doc.words[i - 1] in ("my", "our") and doc.words[i] in _MY_PLACES and doc.words[i + 1] in ("is", "'s") \
                    and doc.words[i + 2] in ("on", "in", "at", "near", "by", "off"):
                v = place_value(doc, i + 3)
                if v and _placeish(doc, v, loose=True) and not (is_number_word(doc.words[v[0]]) and v[1] - v[0] <= 2 and
                                                    doc.w(v[1]) not in STREET_TYPES):
                    res.append(Result(v[0], v[1], "LOCATION", 0.8, self.name))
        for i in range(1, doc.n - 2):
            # "visiting my mom in tampa": where a relative is or lives
            if doc.words[i] in RELATIONS and doc.words[i - 1] in ("my", "our", "his", "her") and \
                    doc.words[i + 1] in ("in", "at", "near", "from") and doc.words[i + 2] not in eng and \
                    doc.words[i + 2] not in FUNCTION_WORDS and not is_number_word(doc.words[i + 2]):
                v = place_value(doc, i + 2)
                if v:
                    res.append(Result(v[0], v[1], "LOCATION", 0.8, self.name))
        for i in range(doc.n - 3):
            if doc.words[i] in ("i'm", "im") and doc.words[i + 1] in ("a", "an") and doc.words[i + 3] in ("at", "in"):
                v = place_value(doc, i + 4)
                if v and doc.words[i + 2].isalpha() and doc.words[i + 2] not in FUNCTION_WORDS:
                    res.append(Result(v[0], v[1], "LOCATION", 0.8, self.name))

    def __init__(self):
        self.by_first = {}
        for t in self.CUES:
            self.by_first.setdefault(t[0], []).append(t)
        for k in self.by_first:
            self.by_first[k].sort(key=len, reverse=True)

    def analyze(self, doc, ctx):
        res = []
        self._after_cues(doc, res)
        if doc.wordset.isdisjoint(self.by_first):
            return res
        eng = english_words()
        for i, w in enumerate(doc.words):
            for t in self.by_first.get(w, ()):
                if not doc.phrase_at(i, t):
                    continue
                k = i + len(t)
                if t[-1] in ("go", "goes", "attend", "attends") or t in (("go", "to"), ("goes", "to")):
                    # "my kids go to X", "my daughter attends X": only with a person before
                    before = set(doc.words[max(0, i - 3):i])
                    if not (before & RELATIONS or before & {"i", "we"}):
                        break
                    if doc.w(k) in ("bed", "sleep", "work", "the", "a"):
                        if doc.w(k) != "the":
                            break
                if t in (("i'm", "in"), ("i", "am", "in"), ("born", "in")):
                    # "i'm in a meeting" is not a place: need a proper noun
                    if doc.w(k) in eng or doc.w(k) in FUNCTION_WORDS or is_number_word(doc.w(k)):
                        break
                if t[-1] == "outside" and doc.w(k) in ("of", "at"):
                    v = place_value(doc, k + 1)
                else:
                    v = place_value(doc, k)
                if v and (t[-1] in ("is", "attend", "attends") or t[0] in ("my", "our") and "is" in t) and \
                        not _placeish(doc, v, loose=t[-1] not in ("is", "attend", "attends")):
                    break  # "my school is great", "my house is on fire"
                if v:
                    # a time after "at" is not a place ("i'm at five")
                    if is_number_word(doc.words[v[0]]) and (v[1] - v[0]) <= 2 and doc.w(v[1]) not in STREET_TYPES:
                        break
                    res.append(Result(v[0], v[1], "LOCATION", 0.88, self.name))
                break
        return res


# ====================================================================== age
_AGE_SUBJECT = frozenset("i'm im he's she's hes shes they're".split())
_AGE_NEG_NEXT = UNITS | MATH_WORDS | frozenset("away behind ahead late early short over under out of for on at in "
                                               "to percent points blocks stops floors feet foot step block stop "
                                               "floor level point more less too".split())


class AgeRecognizer(Recognizer):
    """"i'm thirty two years old", "my son is five", "she turns eight", "a sixty five year old woman"."""
    entity = "AGE"
    name = "age"

    def analyze(self, doc, ctx):
        if not doc.has_numbers():
            return []
        res = []
        for i in range(doc.n):
            j = doc.run(i)
            if j == i or (i > 0 and doc.run(i - 1) > i):
                continue
            val = doc.digits(i, j)
            if not val or not val.isdigit() or int(val) > 125 or doc.groups(i, j) > 2:
                continue
            nxt, nxt2 = doc.w(j), doc.w(j + 1)
            if nxt in ("years", "year", "yrs", "yr", "months", "month", "weeks", "week") and nxt2 in (
                    "old", "of", "olds") or nxt in ("year-old", "years-old"):
                if nxt2 == "of" and doc.w(j + 2) != "age":
                    continue
                res.append(Result(i, j, "AGE", 0.85, self.name))
                continue
            p3, p2, p1 = doc.prevs(i, 3)
            if nxt in UNITS or nxt in MATH_WORDS or (nxt in _AGE_NEG_NEXT and p1 not in ("turns", "turned",
                                                                                          "turning")):
                continue
            if p1 in _AGE_SUBJECT or (p1 == "am" and p2 == "i") or (p1 == "is" and p2 in ("he", "she")):
                res.append(Result(i, j, "AGE", 0.75, self.name))
            elif p1 in ("turns", "turned", "turning", "aged", "age", "ages") or p1 == "turn" and p2 in (
                    "i", "we", "you", "they", "will", "to", "i'll", "he'll", "she'll", "gonna", "she", "he") or (p1 == "be" and (
                    p2 in ("i'll", "he'll", "she'll", "ill") or p2 in ("will", "gonna", "to") and p3 in _AGE_SUBJECT
                    | {"i", "he", "she", "going", "we"})):
                res.append(Result(i, j, "AGE", 0.8, self.name))
            elif p1 in ("is", "was", "'s", "are", "were") and (p2 in RELATIONS or p2 in ("age",) or _looks_name(p2)):
                if p2 in ("age",) or p2 in RELATIONS and p3 in ("my", "our", "his", "her", "their", "your"):
                    res.append(Result(i, j, "AGE", 0.8, self.name))
                elif _looks_name(p2):
                    res.append(Result(i, j, "AGE", 0.65, self.name))
            elif p1 in ("is", "'s") and p2 in ("who", "that") and set(doc.prevs(i, 6)) & RELATIONS:
                res.append(Result(i, j, "AGE", 0.7, self.name))  # "my daughter, who is seven, ..."
            elif p1.endswith("'s") and p1[:-2] in RELATIONS and p2 in ("my", "our", "his", "her"):
                res.append(Result(i, j, "AGE", 0.8, self.name))
        return res


def _looks_name(w):
    return bool(w) and w in first_names() and w not in english_words()


# ====================================================================== medical
_MED_SUFFIXES = ("itis", "osis", "emia", "aemia", "oma", "pathy", "algia", "ectomy", "otomy", "plasty", "plegia",
                 "iasis", "orrhea", "phobia")
_NOT_MED_SUFFIXED = frozenset("""diploma aroma sympathy empathy apathy telepathy antipathy nostalgia diagnosis
prognosis osmosis symbiosis hypnosis metamorphosis oklahoma tacoma sonoma academia bohemia dichotomy
apotheosis""".split())
_MED_NOT_MODIFIER = frozenset("has have had got with from for diagnosed suffering suffers treated getting "
                               "developed been being".split())
_MED_SLOT_BEFORE = frozenset("refill renew take taking took prescribed on".split())
_MED_SLOT_AFTER = frozenset("prescription prescriptions medication medications meds pills tablets inhaler dose "
                            "injection injections shot shots refill capsules drops cream patch".split())


class MedicalRecognizer(Recognizer):
    """Conditions, medications and treatments attributed to a person ("i have migraines", "peter has asthma",
    "refill my metformin", "diagnosed with ..."). General questions ("symptoms of the flu") are left alone."""
    entity = "MEDICAL"
    name = "medical"
    OPEN_CUES = [_tup(c) for c in ("diagnosed with", "suffering from", "suffer from", "suffers from", "treated for",
                                   "treatment for my", "recovering from", "allergic to", "tested positive for",
                                   "being treated for", "medication for my", "medicine for my", "prescribed")]
    PHRASES = [_tup(p) for p in MEDICAL_PHRASES]
    PHRASE_INDEX, OPEN_INDEX = {}, {}
    for _p in PHRASES:
        PHRASE_INDEX.setdefault(_p[0], []).append(_p)
    for _p in OPEN_CUES:
        OPEN_INDEX.setdefault(_p[0], []).append(_p)

    def analyze(self, doc, ctx):
        eng, fn = english_words(), first_names()
        strong_personal = bool(doc.wordset & {"i", "my", "me", "i'm", "i've", "im", "ive", "he", "she", "his", "her",
                                               "he's", "she's", "diagnosed", "has", "have", "our", "their", "got"})
        if not strong_personal and not any(r.type == "PERSON" for r in ctx.results):
            return []
        if ctx.general_health and not (doc.wordset & {"my", "i", "i'm", "i've", "im", "ive", "has", "his", "her", "he",
                                                       "she"}):
            return []
        res = []
        i = 0
        while i < doc.n:
            w = doc.words[i]
            hit = None
            for p in self.PHRASE_INDEX.get(w, ()):
                if doc.phrase_at(i, p):
                    hit = (i, i + len(p))
                    break
            if hit is None:
                opened = None
                for c in self.OPEN_INDEX.get(w, ()):
                    if doc.phrase_at(i, c):
                        # "diagnosed with X", "allergic to X": whatever follows is the condition
                        k = i + len(c)
                        while doc.w(k) in ("a", "an", "the", "my", "some"):
                            k += 1
                        opened = place_value(doc, k, max_len=4)
                        break
                if opened:
                    res.append(Result(opened[0], opened[1], "MEDICAL", 0.8, self.name))
                    i = opened[1]
                    continue
                if hit is None and w in ("have", "has", "had", "got") and doc.w(i - 1) not in ("what", "do", "does"):
                    k = i + 1
                    while doc.w(k) in ("severe", "mild", "chronic", "bad"):
                        k += 1
                    b = doc.w(k)[:-2] if doc.w(k).endswith("'s") else doc.w(k)
                    if b and b.isalpha() and b not in eng and b not in fn and b not in FUNCTION_WORDS and \
                            not is_number_word(b) and len(b) > 2 and b not in BRANDS:
                        res.append(Result(k, k + 1, "MEDICAL", 0.6, self.name))
                        i = k + 1
                        continue
                if hit is None and w in _MED_SLOT_BEFORE and doc.w(i + 1) not in FUNCTION_WORDS and (
                        w != "on" or doc.w(i - 1) in ("i'm", "im", "am", "he's", "she's", "been", "started", "is",
                                                      "was", "stay", "stayed", "still")):
                    # "refill my X", "take my X", "i'm on X": an unknown word there is a medication
                    k = i + 1
                    while doc.w(k) in ("my", "his", "her", "the", "some", "more"):
                        k += 1
                    b = doc.w(k)
                    if b and b.isalpha() and (b in MEDICAL_TERMS or b not in eng and b not in fn and b not in BRANDS
                                              and b.rstrip("s") not in BRANDS) and not is_number_word(b):
                        res.append(Result(k, k + 1, "MEDICAL", 0.7, self.name))
                        i = k + 1
                        continue
                if hit is None and w in _MED_SLOT_AFTER and i > 0:
                    b = doc.words[i - 1]
                    if b.isalpha() and b not in eng and b not in fn and not is_number_word(b) and b not in BRANDS and \
                            doc.w(i - 2) in ("my", "his", "her", "their", "our", "the", "a"):
                        res.append(Result(i - 1, i, "MEDICAL", 0.7, self.name))
                        i += 1
                        continue
                if hit is None and len(w) > 6 and w.endswith(_MED_SUFFIXES) and w not in _NOT_MED_SUFFIXED:
                    hit = (i, i + 1)  # "tonsillitis", "scoliosis", "carcinoma", "neuropathy", "mastectomy"
                if hit is None and w in MEDICAL_TERMS:
                    hit = (i, i + 1)
                    if w in ("allergy", "allergies", "intolerance"):
                        a0 = i
                        while a0 > 0 and i - a0 < 2 and doc.words[a0 - 1] not in FUNCTION_WORDS and \
                                doc.words[a0 - 1] not in VALUE_STOP and not any(r.i <= a0 - 1 < r.j for r in
                                                                                 ctx.results if r.type == "PERSON"):
                            a0 -= 1
                        hit = (a0, i + 1)
                if hit is None and w in MEDICAL_HEADS and i > 0 and doc.words[i - 1] not in FUNCTION_WORDS and \
                        doc.words[i - 1] not in VALUE_STOP and w not in ("attack", "attacks", "condition", "failure"):
                    hit = (i - 1, i + 1)
            if hit:
                a, b = hit
                if doc.words[b - 1] in MEDICAL_HEADS or doc.words[b - 1] in ("cancer", "diabetes", "tumor", "tumour"):
                    # "lung cancer", "stage four lung cancer", "type two diabetes": fold modifiers and qualifiers in
                    while a > 0 and hit[1] - a < 5:
                        p = doc.words[a - 1]
                        if is_number_word(p) and doc.w(a - 2) in ("stage", "type", "grade", "level", "class"):
                            a -= 2
                            continue
                        if p in FUNCTION_WORDS or p in VALUE_STOP or p in RELATIONS or is_number_word(p) or \
                                any(r.i <= a - 1 < r.j for r in ctx.results if r.type == "PERSON") or \
                                p in _MED_NOT_MODIFIER:
                            break
                        a -= 1
                res.append(Result(a, b, "MEDICAL", 0.75, self.name))
                i = b
                continue
            i += 1
        return res


# ====================================================================== person
_CONTACT_VERBS = frozenset("call text message msg email e-mail ring phone facetime tell remind ask invite meet contact "
                           "ping dm notify congratulate visit pay venmo thank greet page calling texting messaging "
                           "emailing phoning ringing telling reminding asking inviting paying thanking".split())
# social verbs: "i'm meeting siobhan", "seeing kevin tonight"; a place name after them is a place ("visiting paris")
_SOCIAL_VERBS = frozenset("meeting seeing visiting met saw visited meets sees visits".split())
_NAME_INTRO = [_tup(c) for c in ("this is", "my name is", "my name's", "name is", "name's", "i'm", "i am", "im",
                                 "call me", "it's", "its", "speaking with", "talking to", "talk to", "speak to",
                                 "speak with", "message from", "call from", "text from", "email from", "meeting with",
                                 "lunch with", "dinner with", "coffee with", "appointment with", "meet with",
                                 "chat with", "date with", "call with", "message to", "text to", "email to",
                                 "letter to", "note to", "reply to", "respond to", "send it to", "send this to",
                                 "forward this to", "forward it to", "save as", "as", "and", "with", "from", "to", "for",
                                 "add", "send", "write to", "write", "named", "called", "whose name is", "say hi to",
                                 "say hello to", "wish", "happy birthday to", "happy birthday", "last name is",
                                 "surname is", "first name is", "family name is", "middle name is", "spelled",
                                 "spelt", "last name's", "surname's", "first name's")]
_NOT_NAME = FUNCTION_WORDS | RELATIONS | VALUE_STOP | UNITS | MONTHS | MEDIA_CUES | BRANDS | FILLERS | frozenset(
    """monday tuesday wednesday thursday friday saturday sunday morning afternoon evening night noon midnight
    everyone everybody back home work office mom dad god siri alexa google cortana lights light music timer alarm
    reminder list contacts contact number phone email message text call someone somebody people
    dear hi hey hello yes yeah okay mister doctor""".split())
_POSSESSED = frozenset("birthday birthdays number phone cell email address house home place party wedding mom dad "
                       "mother father wife husband kids son daughter car appointment flight bday gift present "
                       "anniversary office room school graduation funeral contact contacts details info account card password pin".split())
_CONTRACTIONS = frozenset("it's that's what's who's where's there's here's let's he's she's how's when's why's today's "
                          "tomorrow's tonight's everyone's somebody's someone's one's mom's dad's".split())


# first names that are also dictionary words, but whose word sense is rare in speech ("peter out", "a jenny")
NAME_OVER_WORD = frozenset("""peter harry jimmy ken tony jerry terry barry larry gary eddie billy bobby johnny jenny
abby betty kitty nancy timothy stan molly polly dolly sally jill jackie andy benny danny lenny kenny teddy freddy
ricky nicky micky vicky tommy bridget carol""".split())
_SUBJECT_VERBS = frozenset("""has had is was needs needed wants wanted said says called texted asked told likes loves
hates can can't cannot will won't should must just also doesn't didn't isn't wasn't gets got takes took""".split())
_FOR_OBJECTS = frozenset("""gift present card table reservation appointment ticket tickets message note flowers cake
party surprise something anything room seat it this one""".split())
_FROM_OBJECTS = frozenset("""message messages text texts email emails call calls letter note gift present package
voicemail voicemails anything news card it this""".split())
_BUSINESS = frozenset("""pizza pizzeria diner garage bakery cafe restaurant grill bar pub shop store salon auto
plumbing hardware market deli tavern kitchen bistro burgers tacos bbq barbershop cleaners pharmacy clinic dental
florist boutique motors tire tires liquor wine steakhouse sushi noodles inn hotel motel spa gym fitness""".split())
_PLACE_PREFIX = frozenset("san santa st saint fort ft port mount mt lake new north south east west los las el la de "
                          "del port upper lower".split())
_PLACE_SUFFIX = frozenset("city county beach springs falls valley heights park hills island islands bay harbor "
                          "village town township hole creek river lake mountain mountains canyon station airport "
                          "street road avenue boulevard lane drive".split())
_SAYING_VERBS = frozenset("said says called texted asked told wants wanted needs needed likes loves hates".split())
_PERSON_VERBS = frozenset("has had needs needed wants wanted said says called texted asked told likes loves hates "
                          "gets got takes took".split())
# words that follow a name in a command without being a surname ("call kevin back", "text sarah tonight")
_SURNAME_BLOCK = frozenset("""back later now again right away instead first then quickly asap real please too also
maybe tomorrow tonight today morning afternoon evening night weekend mobile cell work home office speaker
speakerphone video voice direct directly immediately soon anyway yet still next last monday tuesday wednesday
thursday friday saturday sunday know""".split())
_NAME_NEVER = frozenset("home office work everyone everybody someone somebody back mobile cell".split())
_CONTACT_BOOK = frozenset("contacts contact phonebook favorites favourites".split())
_GIVING = frozenset("send sent give gave message text email write forward reply say talk speak ship deliver mail "
                    "post hand pass introduce".split())


class PersonRecognizer(Recognizer):
    """Private people's names.

    A name is a word from the census first-name or surname lists, or (right after a strong cue such as "call",
    "my name is", "this is") any word that is not an ordinary English word. Names that are also ordinary words
    ("grace", "will") need such a cue; names that are not ("emily", "kevin") count anywhere except in media and
    knowledge requests ("play songs by taylor swift") and after place prepositions ("weather in austin").
    A following surname is folded in; "robert's" keeps its possessive; titles are not part of the span."""
    entity = "PERSON"
    name = "person"

    def __init__(self):
        self.intro = {}
        for t in _NAME_INTRO:
            self.intro.setdefault(t[-1], []).append(t)

    def analyze(self, doc, ctx):
        fn, ln, eng = first_names(), last_names(), english_words()
        res = []
        taken = set()

        def base(w):
            return w[:-2] if w.endswith("'s") else w

        def strongish(w):  # acceptable right after a strong cue
            b = base(w)
            if not b or len(b) < 2 or w in _CONTRACTIONS or is_number_word(b):
                return False
            if b in FUNCTION_WORDS or b in VALUE_STOP or b in RELATIONS or b in TITLES or b in FILLERS or \
                    b in CUE_WORDS or b in _NAME_NEVER:
                return False
            # a census first name wins over the softer exclusions (months, units, brands): "call august", "jan's"
            if (b in _NOT_NAME or b in NATO) and b not in fn:
                return False
            return b in fn or b in ln or b not in eng

        def bare(w):  # acceptable with no cue at all
            b = base(w)
            if w in _NOT_NAME or b in _NOT_NAME or w in _CONTRACTIONS or (b in eng and b not in NAME_OVER_WORD):
                return False
            if b in PLACE_NAMES:
                return False
            return fn.get(b, 10 ** 9) <= 1500

        def surname(w):
            b = base(w)
            if w in _NOT_NAME or b in _NOT_NAME or is_number_word(b) or b in MONTHS or len(b) < 2 or \
                    b in _SURNAME_BLOCK or b in _SUBJECT_VERBS:
                return False
            if b in eng:
                return b in ln  # "brad moon", "maude shoemaker"; adverbs and verbs are blocked above
            return b.isalpha() or "'" in b

        def extend(i):
            j = i + 1
            if doc.words[i].endswith("'s"):
                return j
            while j < doc.n and j - i < 3 and surname(doc.words[j]):
                j += 1
                if doc.words[j - 1].endswith("'s"):
                    return j
            if len(doc.w(j)) == 1 and doc.w(j) in LETTERS and len(doc.w(j + 1)) == 1 and doc.w(j + 1) in LETTERS:
                j = max(j, doc.run(j, letters=True, nato=False))  # "anna k o w a l s k a"
            return j

        def add(i, score, why):
            if i in taken:
                return None
            j = extend(i)
            if doc.words[j - 1].endswith("'s") and doc.w(j) in _BUSINESS or doc.w(j) in _BUSINESS and \
                    doc.w(j) not in _POSSESSED:
                return None  # a business the user calls: "call joe's pizza", "call tony's garage"
            for k in range(i, j):
                taken.add(k)
            res.append(Result(i, j, "PERSON", score, why))
            return j

        media = ctx.media or ctx.knowledge
        for i, w in enumerate(doc.words):
            if i in taken or not w:
                continue
            strong = False
            p2, p1 = doc.prevs(i, 2)
            # titles: "doctor fischer", "mrs chen"
            if p1 in TITLES and p1 not in ("father", "sister") or p1 in ("mr", "mrs", "ms"):
                strong = True
            elif p1 in _CONTACT_VERBS and not (media and p1 in ("tell",)):
                strong = True
            elif p1 in _SOCIAL_VERBS and base(w) not in PLACE_NAMES and not media:
                strong = True
            elif p1 in RELATIONS and p2 in ("my", "our", "his", "her", "their", "your") and p1 not in (
                    "office", "home", "work", "school", "team", "support", "family"):
                b = base(w)
                strong = b not in eng or b in NAME_OVER_WORD or (
                    fn.get(b, 10 ** 9) <= 1000 and b not in _SUBJECT_VERBS and b not in ("rose", "may", "will"))
            elif (i == 0 or p1 in ("and", "but", "so", "because", "that", "since", "if")) and \
                    doc.w(i + 1) in _SUBJECT_VERBS and (base(w) in fn or base(w) not in eng) and not (
                    base(w) in PLACE_NAMES and doc.w(i + 1) not in _PERSON_VERBS):
                if base(w) in fn:
                    strong = True
                else:
                    # an unknown word before a verb is a person only with a person's verb or a health term after it
                    # ("xiomara has lupus", "zainab said ..."), not "covid is spreading" or "ebay has a sale"
                    nxt = set(doc.words[i + 1:i + 6])
                    strong = doc.w(i + 1) in _SAYING_VERBS or (doc.w(i + 1) in ("has", "had", "is", "was") and bool(
                        nxt & (MEDICAL_TERMS | MEDICAL_HEADS)))
            elif w.endswith("'s") and doc.w(i + 1) in _POSSESSED:
                strong = True
            elif w.endswith("s") and doc.w(i + 1) in _POSSESSED and w[:-1] in fn and w[:-1] not in eng and \
                    w not in fn:
                strong = True  # "olivias birthday": a possessive written without the apostrophe
            else:
                for t in self.intro.get(p1, ()):
                    if doc.prevs(i, len(t)) == t:
                        if t[-1] in ("i'm", "i", "am", "im", "it's", "its") and (doc.w(i + 1) in ("years", "year")):
                            break
                        if t in (("and",), ("with",), ("from",), ("to",), ("for",), ("as",), ("add",), ("send",),
                                 ("write",)):
                            # weak intros: need a name-list word, and "and" only after a person
                            if t == ("and",) and not (i - 2 in taken):
                                break
                            if t == ("as",) and "save" not in doc.wordset and "add" not in doc.wordset:
                                break
                            if t == ("for",) and doc.w(i - 2) not in _FOR_OBJECTS:
                                break
                            if t == ("from",) and doc.w(i - 2) not in _FROM_OBJECTS:
                                break
                            b = base(w)
                            contactish = (t == ("and",) or t == ("as",) or t == ("add",) and doc.wordset & _CONTACT_BOOK
                                          or t == ("to",) and doc.wordset & _GIVING)
                            if b not in fn and b not in ln and not (contactish and b not in eng):
                                break
                            if t[-1] in ("to", "from", "with", "for") and b in eng and b not in fn:
                                break
                            if t == ("to",) and not (doc.wordset & _GIVING) and not (
                                    surname(doc.w(i + 1)) and doc.w(i + 1) not in eng and b not in PLACE_NAMES):
                                break
                        if t[-1] in ("i'm", "am", "im", "it's", "its") and (base(w) in eng and base(w) not in fn):
                            break
                        strong = True
                        break
            if strong and media and p1 not in _CONTACT_VERBS and p1 not in TITLES:
                strong = w in fn and w not in eng and not ctx.knowledge
            if strong and len(w) == 1 and w in LETTERS and (len(doc.w(i + 1)) == 1 or doc.w(i + 1) in NATO):
                # a spelled name: "my last name is s m i t h"
                j = doc.run(i, letters=True)
                if j - i >= 2:
                    res.append(Result(i, j, "PERSON", 0.85, "person_spelled"))
                    taken.update(range(i, j))
                    continue
            if strong and strongish(w):
                add(i, 0.85, "person_cue")
                continue
            if media:
                continue
            if bare(w):
                if p1 in _PLACE_PREFIX or doc.w(i + 1) in _PLACE_SUFFIX:
                    continue  # "san jose", "jackson hole", "virginia beach"
                # "weather in austin", "flights to paris": a place, unless a surname follows
                j = extend(i)
                if p1 in ("in", "near", "to", "from", "at", "of", "around", "via", "for", "about", "by", "into") and (
                        j == i + 1 or not all(doc.words[k] in ln and doc.words[k] not in US_STATES
                                              for k in range(i + 1, j))):
                    continue
                add(i, 0.7, "person_name_list")
        return res


# ====================================================================== registry
def _cue_recognizers():
    R = CueValueRecognizer
    return [
        R("PHONE", ["phone number", "phone", "number", "cell", "cell number", "cell phone", "mobile", "mobile number",
                    "telephone", "telephone number", "landline", "contact number", "home number", "work number",
                    "fax", "fax number", "whatsapp", "call me at", "call me on", "reach me at", "reach me on",
                    "text me at", "text me on", "extension", "digits"], "num", 0.85,
          neg_before=NONPERSONAL_NUMBER_OWNERS | {"wrong", "what's", "whats"}),
        R("CREDIT_CARD", ["card number", "card", "credit card", "debit card", "visa", "mastercard", "master card",
                          "amex", "american express", "discover card", "card ending in", "expiry", "expiry date",
                          "expiration", "expiration date", "expires", "exp date", "valid thru", "valid through"],
          "num", 0.9, neg_before={"sim", "memory", "sd", "gift", "library", "birthday", "report", "greeting"}),
        R("BANK_ACCOUNT", ["account number", "account", "acct", "routing number", "routing", "sort code", "iban",
                           "i b a n", "bank account", "checking account", "savings account", "aba", "a b a",
                           "bsb", "transit number", "swift code", "bic"], "code", 0.9),
        R("SSN", ["social security number", "social security", "social", "ssn", "s s n", "social insurance number",
                  "sin number", "tax file number", "tin"], "num", 0.9),
        R("ID_NUMBER", ["national insurance number", "national insurance", "n i number", "ni number",
                        "passport number", "passport", "driver's license number", "driver's license",
                        "drivers license", "driving licence", "driving license", "driver's licence",
                        "license number", "licence number", "license plate", "licence plate", "plate number", "plate",
                        "number plate", "registration number", "registration", "reg number", "reg", "member id",
                        "member number", "membership number", "membership id", "insurance id", "insurance number",
                        "policy number", "medical record number", "medical record", "mrn", "patient id",
                        "patient number", "nhs number", "health card number", "medicare number", "medicaid number",
                        "vin", "v i n", "vehicle identification number", "id number", "i d number", "id", "i d",
                        "tax id", "ein", "employee id", "employee number", "student id", "student number",
                        "badge number", "customer number", "customer id", "library card number", "green card number",
                        "visa number", "case number", "claim number", "permit number", "voter id", "group number"],
          "code", 0.9),
        R("DEVICE_ID", ["serial number", "serial", "serial no", "s n", "imei", "i m e i", "imei number",
                        "mac address", "mac", "m a c address", "device id", "device serial", "udid", "meid", "esn",
                        "hardware id", "product key", "imsi", "iccid", "sim number"], "code", 0.9),
        R("POSTCODE", ["zip", "zip code", "zipcode", "postcode", "post code", "postal code"], "code", 0.9),
        R("ADDRESS", ["address", "home address", "billing address", "shipping address", "mailing address",
                      "delivery address", "street address", "postal address", "new address"], "words", 0.8,
          neg_before={"email", "e-mail", "mac", "ip", "web", "website", "wallet", "bitcoin", "crypto", "return"}),
        R("ID_NUMBER", ["username", "user name", "login", "login name", "user id", "handle", "screen name",
                        "gamertag", "account name"], "words", 0.8),
        R("DEVICE_ID", ["ip address", "ip", "i p address", "ip number"], "code", 0.85),
        R("MEDICAL", ["blood type", "blood group"], "words", 0.8),
        R("PASSWORD", ["digits on the back", "three digits on the back", "numbers on the back", "back of the card",
                       "security question", "security questions", "secret question", "password", "passcode", "passphrase", "pass code", "pin", "pin number", "pin code",
                       "door code", "garage code", "gate code", "alarm code", "entry code", "access code",
                       "lock code", "lockbox code", "safe code", "keypad code", "security code", "verification code",
                       "one time code", "cvv", "cvc", "c v v", "c v c", "cvv2", "code", "combination",
                       "wifi password", "wi-fi password", "maiden name", "mother's maiden name",
                       "security answer", "secret answer", "security question answer", "first pet's name",
                       "first pet was", "passwords"], "words", 0.85,
          neg_before={"promo", "discount", "coupon", "zip", "area", "country", "dress", "source", "qr", "bar",
                      "postal", "post", "sort", "swift", "country", "morse", "da", "tax"}),
        R("DATE_OF_BIRTH", ["birthday", "birthday's", "bday", "b day", "born", "born on", "born in", "date of birth",
                            "d o b", "dob", "birth date", "birthdate", "day of birth"], "date", 0.9),
    ]


def default_registry():
    return [
        *_cue_recognizers(),
        DigitSequenceRecognizer(),
        SpelledCodeRecognizer(),
        EmailRecognizer(),
        AddressRecognizer(),
        LocationRecognizer(),
        AgeRecognizer(),
        PersonRecognizer(),
        MedicalRecognizer(),  # last: uses the PERSON results for attribution
    ]


def analyze(text, registry=None):
    """Run every recognizer; return (doc, results)."""
    doc = Doc(text)
    ctx = Context(doc)
    for r in registry or _REGISTRY:
        found = r.analyze(doc, ctx)
        ctx.results.extend(found)
    return doc, ctx.results


_REGISTRY = default_registry()
# cue words are never names ("the mac address", "pin")
CUE_WORDS = frozenset(t[0] for r in _REGISTRY if isinstance(r, CueValueRecognizer) for t in
                      (tt for lst in r.cues.values() for tt in lst) if len(t[0]) > 1)
_NOT_NAME |= CUE_WORDS


_AUDIO_PERSON_CUES = [_tup(c) for c in ("my name is", "my name's", "this is", "call", "text", "message", "tell",
                                        "email", "contact", "remind", "ask", "invite")]
_AUDIO_EMAIL_CUES = [_tup(c) for c in ("email is", "email address is", "e-mail is", "email me at", "mail me at")]
_AUDIO_AGE_CUES = [_tup(c) for c in ("i'm", "i am", "years old")]


def cue_positions(text):
    """(token index right after a PII cue, type) for every cue in `text`: where a value is expected.

    Audio redaction uses it to bleep a low-confidence stretch after a cue even when no value was recognised."""
    doc = Doc(text)
    out = []
    for r in _REGISTRY:
        if isinstance(r, CueValueRecognizer):
            out.extend((cj, r.entity) for _, cj in r.find_cues(doc))
    loc = next(r for r in _REGISTRY if isinstance(r, LocationRecognizer))
    for i, w in enumerate(doc.words):
        for t in loc.by_first.get(w, ()):
            if doc.phrase_at(i, t):
                out.append((i + len(t), "LOCATION"))
                break
        for cues, typ in ((_AUDIO_PERSON_CUES, "PERSON"), (_AUDIO_EMAIL_CUES, "EMAIL")):
            for t in cues:
                if t[0] == w and doc.phrase_at(i, t):
                    out.append((i + len(t), typ))
                    break
    return sorted(set(out))
